"""The ``twilio`` provider with ``TWILIO_AUDIENCE=live``: a Video room, composed into Twilio Live.

(``TWILIO_AUDIENCE=video``, the default, is ``twilio_video.TwilioVideoProvider``, a subclass
that shares the room creation and the REST layer; ``create_provider`` picks one.)

The host publishes into a Video room; a MediaProcessor running the ``video-composer-v1``
extension joins the room and renders it into a PlayerStreamer; viewers play that with a token
carrying a PlaybackGrant. Twilio retired Live (MediaProcessor, PlayerStreamer, PlaybackGrant)
on 2023-11-30 and twilio-python >= 9.0.3 has no ``twilio.rest.media``, so Media v1 is called
through the client's generic request method, and its 404 becomes a ``ProviderUnavailableError``
that names the working alternatives.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from livescreen.config import ConfigError, Settings
from livescreen.providers.base import (
    AudienceGrant,
    HostGrant,
    ProviderError,
    ProviderUnavailableError,
    StreamState,
)
from livescreen.providers.twilio.playback import Grant, PlaybackGrantCache
from livescreen.providers.twilio.rest import RetryPolicy, TwilioApiError, TwilioRest
from livescreen.providers.twilio.room_events import (
    ROOM_NAME,
    ROOM_PREFIX,
    callback_url,
    ends_stream,
)
from livescreen.providers.twilio.timestamps import parse_time

if TYPE_CHECKING:
    from twilio.rest import Client

log = logging.getLogger(__name__)

VIDEO = "https://video.twilio.com/v1"
MEDIA = "https://media.twilio.com/v1"
#: Twilio's Rooms resource calls ``Type`` a legacy parameter: "the only available Room type is
#: group". Go and peer-to-peer rooms remain only for accounts that used them before 2024-10-21,
#: and small group rooms are legacy too; none of them can record or take subscribe rules.
ROOM_TYPE = "group"
LEGACY_ROOM_TYPES = ("go", "peer-to-peer", "group-small")
#: Minutes a room stays open when nobody joins it (the host joins once the screen is picked),
#: and once everyone has left it (a new stream gets a new room). Twilio allows 1..60 and
#: defaults to 5 for both.
UNUSED_ROOM_TIMEOUT = 3
EMPTY_ROOM_TIMEOUT = 1
#: What tells a room ``/host_token`` created from one a client's ``connect()`` made
#: (``_is_own_room``): Create Room parameter -> the Room resource's property.
OWN_ROOM_FIELDS = {
    "StatusCallback": "status_callback",
    "UnusedRoomTimeout": "unused_room_timeout",
    "EmptyRoomTimeout": "empty_room_timeout",
    "MaxParticipants": "max_participants",
}
EXTENSION = "video-composer-v1"
COMPOSER_IDENTITY = "live-stream"
RESOLUTION = "1280x720"
#: Lifetime of a viewer's access token: long enough to connect, no longer.
AUDIENCE_TOKEN_TTL = 60

RETIRED_MESSAGE = (
    "The 'twilio' provider cannot stream: Twilio retired Twilio Live (MediaProcessor, "
    "PlayerStreamer, PlaybackGrant) on 2023-11-30 and its API now answers 404. "
    "Set STREAM_PROVIDER=ivs to stream with Amazon IVS, or STREAM_PROVIDER=local for "
    "development on one machine."
)


def room_of(processor: dict[str, Any]) -> str | None:
    """The Video room name in a MediaProcessor's extension context, if any."""
    try:
        context = json.loads(processor.get("extension_context") or "{}")
    except ValueError:
        return None
    room = context.get("room") if isinstance(context, dict) else None
    name = room.get("name") if isinstance(room, dict) else None
    return name if isinstance(name, str) else None


def composer_of(processor: dict[str, Any]) -> str | None:
    """The identity the composer joins its room with (it names the app that started it)."""
    try:
        context = json.loads(processor.get("extension_context") or "{}")
    except ValueError:
        return None
    identity = context.get("identity") if isinstance(context, dict) else None
    return identity if isinstance(identity, str) else None


def outputs_of(processor: dict[str, Any]) -> list[str]:
    """The PlayerStreamer SIDs a MediaProcessor renders into."""
    try:
        context = json.loads(processor.get("extension_context") or "{}")
    except ValueError:
        return []
    outputs = context.get("outputs") if isinstance(context, dict) else None
    return [sid for sid in outputs or [] if isinstance(sid, str)]


def room_type_of(settings: Settings) -> str:
    """``ROOM_TYPE``: ``group``, the only room type Twilio offers; a legacy one is refused."""
    room_type = settings["ROOM_TYPE"].strip().lower()
    if room_type == ROOM_TYPE:
        return room_type
    if room_type in LEGACY_ROOM_TYPES:
        raise ConfigError(
            f"Setting ROOM_TYPE={room_type} is a room type Twilio no longer offers: group is the "
            "only room type of Twilio Video today (its legacy types are left only to accounts "
            "that used them before, and this app needs a group room to record and to keep "
            "viewers silent). Set ROOM_TYPE=group, or remove the setting."
        )
    raise ConfigError(f"Setting ROOM_TYPE must be group, got {room_type!r}")


class TwilioProvider:
    """See the module docstring. One instance per process; safe to share between threads."""

    name = "twilio"

    def __init__(
        self, settings: Settings, client: Client, *, retry: RetryPolicy | None = None
    ) -> None:
        self.account_sid = settings.require("ACCOUNT_SID")
        self.api_key_sid = settings.require("API_KEY_SID")
        self._api_key_secret = settings.require("API_KEY_SECRET")
        self.room_type = room_type_of(settings)
        self.host_identity = settings["HOST_IDENTITY"]
        self.host_token_ttl = settings.get_int("HOST_TOKEN_TTL", minimum=60, maximum=86400)
        self.max_duration = settings.get_int("MAX_DURATION", minimum=60, maximum=90000)
        self.grant_ttl = settings.get_int("PLAYBACK_GRANT_TTL", minimum=5, maximum=60)
        self.room_events_url = callback_url(settings)
        # Live resources carry no tags; the composer's identity marks this app's streams, so
        # two stacks on one Twilio account never hand out each other's stream.
        self.composer_identity = f"{settings['APP_TAG']}-{COMPOSER_IDENTITY}"[:128]
        self.rest = TwilioRest(client, retry)
        self._start_lock = threading.Lock()
        self.playback = PlaybackGrantCache(
            self._find_live_streamer,
            self._create_playback_grant,
            lookup_ttl=settings.get_int("LIVE_LOOKUP_TTL", minimum=0, maximum=60),
            grant_ttl=self.grant_ttl,
        )

    # -- host ---------------------------------------------------------------------------

    def create_host_grant(self) -> HostGrant:
        from twilio.jwt.access_token import AccessToken
        from twilio.jwt.access_token.grants import VideoGrant

        room = f"{ROOM_PREFIX}{secrets.token_hex(8)}"
        data = {"UniqueName": room, "Type": self.room_type, **self._room_settings()}
        try:
            created = self.rest.call("POST", f"{VIDEO}/Rooms", data=data, idempotent=False)
        except TwilioApiError as error:
            if error.maybe_done:
                # The room may exist although the answer was lost: we know its name, close it.
                self._complete_room_quietly(room)
            raise
        self._room_created(created)
        token = AccessToken(
            self.account_sid,
            self.api_key_sid,
            self._api_key_secret,
            identity=self.host_identity,
            ttl=self.host_token_ttl,
            grants=[VideoGrant(room=room)],
        )
        return HostGrant(room=room, token=token.to_jwt())

    def _room_settings(self) -> dict[str, str]:
        """The Create Room parameters of every room of this app, besides its name and type."""
        # A room disconnects its participants after MaxParticipantDuration (default 4 h, at
        # most 24 h): keep the host (and the composer) in it for as long as the stream may run.
        participant_seconds = min(max(self.max_duration, 600), 86400)
        data = {
            "MaxParticipantDuration": str(participant_seconds),
            "UnusedRoomTimeout": str(UNUSED_ROOM_TIMEOUT),
            "EmptyRoomTimeout": str(EMPTY_ROOM_TIMEOUT),
            **self._room_limits(),
        }
        if self.room_events_url:
            # Twilio reports the host leaving: the stream stops even if the page never says so.
            data.update(StatusCallback=self.room_events_url, StatusCallbackMethod="POST")
        return data

    def _is_own_room(self, room: dict[str, Any]) -> bool:
        """Whether a Room resource is one ``/host_token`` created: named as this app names rooms,
        and carrying the room events URL (when set), timeouts and ``MaxParticipants`` it was
        created with.

        Where the account has Twilio's client-side ("ad-hoc") room creation on (a Video
        setting in the Console), a client's ``connect()`` to a name with no room in progress
        (ours ended unused) makes a new room of that name with the account's defaults: no status
        callback, 5-minute timeouts, the largest ``MaxParticipants``. Such a room is not
        this app's: nothing reports on it, and viewers in it would be unchecked.
        """
        name = room.get("unique_name")
        if not isinstance(name, str) or not ROOM_NAME.fullmatch(name):
            return False
        settings = self._room_settings()
        return all(
            str(room.get(field)) == settings[param]
            for param, field in OWN_ROOM_FIELDS.items()
            if param in settings
        )

    def _room_limits(self) -> dict[str, str]:
        """Extra Create Room parameters (none here: the composer and the host)."""
        return {}

    def _room_created(self, room: dict[str, Any]) -> None:
        """Called with Twilio's answer once the host's room exists, before the host joins."""

    def start_stream(self, room: str) -> StreamState:
        with self._start_lock:  # one start at a time in this process
            if self._processors_for(room):
                return StreamState(room=room, live=True, started_now=False)
            self._require_room_in_progress(room)
            streamer_sid = self._create_streamer()
            processor_sid = self._create_processor(room, streamer_sid)
            # Another container may have started this room at the same moment.
            started_now = self._keep_one_processor(room, processor_sid)
        self.playback.clear()
        if started_now:
            log.info("Stream started for room %s", room)
        return StreamState(room=room, live=True, started_now=started_now)

    def _create_streamer(self) -> str:
        asked_at = time.time()
        try:
            streamer = self._media(
                "POST",
                "/PlayerStreamers",
                data={"MaxDuration": self.max_duration},
                idempotent=False,
            )
        except TwilioApiError as error:
            if error.maybe_done:
                self._end_unclaimed_streamers(since=asked_at)
            raise
        return str(streamer["sid"])

    def _create_processor(self, room: str, streamer_sid: str) -> str:
        """Compose ``room`` into the streamer; on any failure, end whatever this start made."""
        try:
            processor = self._media(
                "POST",
                "/MediaProcessors",
                data={
                    "Extension": EXTENSION,
                    "ExtensionContext": json.dumps(
                        {
                            "room": {"name": room},
                            "identity": self.composer_identity,
                            "outputs": [streamer_sid],
                            "resolution": RESOLUTION,
                        }
                    ),
                    "MaxDuration": self.max_duration,
                },
                idempotent=False,
            )
        except ProviderError as error:
            if isinstance(error, TwilioApiError) and error.maybe_done:
                # It may have been created although the answer was lost: find it by its room.
                self._end_room_processors_quietly(room)
            self._end_quietly("PlayerStreamers", streamer_sid)
            raise
        if processor.get("status") not in ("started", None):
            # Twilio took the request but the composer could not join (the room has ended).
            self._end_quietly("MediaProcessors", str(processor["sid"]))
            self._end_quietly("PlayerStreamers", streamer_sid)
            raise ProviderError(
                f"The room {room} has ended; go live again to get a new room", status=409
            )
        return str(processor["sid"])

    def _keep_one_processor(self, room: str, mine: str) -> bool:
        """End all but the first-created composer of ``room``; True if ``mine`` is the one kept.

        Two containers starting one room at once each see their own composer, and the later
        one sees both: every start that sees several keeps the same one (the oldest, then the
        smallest SID) and ends the others, so exactly one stream survives.
        """
        try:
            running = self._processors_for(room)
        except ProviderError:
            return True  # ours runs; a duplicate (if any) is ended by the start that sees it
        if len(running) <= 1:
            return True
        running.sort(key=lambda p: (str(p.get("date_created") or ""), str(p.get("sid"))))
        for extra in running[1:]:
            log.warning("Room %s had a second composer %s: ending it", room, extra.get("sid"))
            self._end_processor_quietly(extra)
        return running[0].get("sid") == mine

    def stop_stream(self, room: str) -> StreamState:
        try:
            processors = self._processors_for(room)
        except ProviderUnavailableError:
            processors = None  # Live is gone: nothing can be streaming; still release the room
        for processor in processors or []:
            # Streamers first: if this stop fails half way, the composer is still "started",
            # so the next stop (or the room's callback, or cleanup) finds both again.
            for streamer_sid in outputs_of(processor):
                self._end("PlayerStreamers", streamer_sid)
            self._end("MediaProcessors", processor["sid"])
        self._complete_room(room)
        if processors is not None:
            self._end_late_composers(room)
        self.playback.clear()
        log.info("Stream stopped for room %s", room)
        return StreamState(room=room, live=False)

    def _end_late_composers(self, room: str) -> None:
        """End composers a start in another container made between our list and the completion.

        Twilio creates a composer either before the room was completed (this second list sees
        it) or after (it cannot join and fails), so nothing started can outlive the stop.
        """
        try:
            late = self._processors_for(room)
        except ProviderError:
            log.error("Could not check room %s for a late composer: run `livescreen cleanup`", room)
            return
        for processor in late:
            log.warning("A start raced the stop of room %s: ending its composer", room)
            self._end_processor_quietly(processor)

    def handle_room_event(self, event: str, room: str, identity: str) -> bool:
        """Stop ``room``'s stream if a Twilio room event says its host left; True if stopped."""
        if not ends_stream(event, room, identity, self.host_identity):
            return False
        log.info("Room %s reported %s: stopping its stream", room, event)
        self.stop_stream(room)
        return True

    # -- audience -------------------------------------------------------------------------

    def audience_grant(self) -> AudienceGrant:
        from twilio.jwt.access_token import AccessToken
        from twilio.jwt.access_token.grants import PlaybackGrant

        grant = self.playback.current()
        if grant is None:
            return AudienceGrant(token=None)
        token = AccessToken(
            self.account_sid,
            self.api_key_sid,
            self._api_key_secret,
            identity=secrets.token_hex(8),
            ttl=AUDIENCE_TOKEN_TTL,
            grants=[PlaybackGrant(grant=grant)],
        )
        return AudienceGrant(token=token.to_jwt())

    def _find_live_streamer(self) -> str | None:
        """The PlayerStreamer of this app's live stream: one list call, whatever the audience."""
        page = self._media(
            "GET",
            "/MediaProcessors",
            params={"Status": "started", "PageSize": 50},
            idempotent=True,
        )
        for processor in page.get("media_processors") or []:
            outputs = outputs_of(processor)
            if composer_of(processor) == self.composer_identity and outputs:
                return outputs[0]
        return None

    def _create_playback_grant(self, streamer_sid: str) -> Grant | None:
        try:
            answer = self._media(
                "POST",
                f"/PlayerStreamers/{streamer_sid}/PlaybackGrant",
                data={"Ttl": self.grant_ttl},
                idempotent=False,
            )
        except TwilioApiError as error:
            if error.http_status in (400, 404):  # ended since the lookup
                return None
            raise
        grant = answer.get("grant")
        if not isinstance(grant, dict):
            raise ProviderError("Twilio returned a PlaybackGrant without a grant")
        return grant

    # -- Twilio calls ---------------------------------------------------------------------

    def _media(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        idempotent: bool,
    ) -> dict[str, Any]:
        """A Media v1 call; a 404 on a collection means Twilio Live is gone."""
        try:
            return self.rest.call(
                method, f"{MEDIA}{path}", params=params, data=data, idempotent=idempotent
            )
        except TwilioApiError as error:
            if error.not_found and path.count("/") == 1:
                raise ProviderUnavailableError(RETIRED_MESSAGE) from None
            raise

    def _processors_for(self, room: str) -> list[dict[str, Any]]:
        try:
            found = self.rest.pages(
                f"{MEDIA}/MediaProcessors",
                "media_processors",
                {"Status": "started", "PageSize": 100},
            )
            return [p for p in found if room_of(p) == room]
        except TwilioApiError as error:
            if error.not_found:
                raise ProviderUnavailableError(RETIRED_MESSAGE) from None
            raise

    def _require_room_in_progress(self, room: str) -> None:
        try:
            answer = self.rest.call("GET", f"{VIDEO}/Rooms/{quote(room)}", idempotent=True)
        except TwilioApiError as error:
            if not error.not_found:
                raise
            answer = {}
        if answer.get("status") != "in-progress":
            raise ProviderError(
                f"The room {room} has ended; go live again to get a new room", status=409
            )

    def _end(self, collection: str, sid: str) -> None:
        try:
            self._media("POST", f"/{collection}/{sid}", data={"Status": "ended"}, idempotent=True)
        except TwilioApiError as error:
            if not error.not_found:
                raise

    def _end_quietly(self, collection: str, sid: str) -> None:
        try:
            self._end(collection, sid)
        except ProviderError:
            log.error("Could not end %s %s: end it with `livescreen cleanup`", collection, sid)

    def _end_processor_quietly(self, processor: dict[str, Any]) -> None:
        for streamer_sid in outputs_of(processor):
            self._end_quietly("PlayerStreamers", streamer_sid)
        self._end_quietly("MediaProcessors", str(processor["sid"]))

    def _end_room_processors_quietly(self, room: str) -> None:
        try:
            processors = self._processors_for(room)
        except ProviderError:
            log.error("Could not check room %s for a composer: run `livescreen cleanup`", room)
            return
        for processor in processors:
            self._end_processor_quietly(processor)

    def _end_unclaimed_streamers(self, *, since: float) -> None:
        """End PlayerStreamers created since ``since`` that no composer outputs to yet.

        A create whose answer was lost leaves a PlayerStreamer we never learnt the SID of; it
        is one of the ``created`` ones (a composer's output is ``started``). Twilio's
        timestamps are whole seconds, hence the one-second margin.
        """
        try:
            for streamer in self.rest.pages(
                f"{MEDIA}/PlayerStreamers",
                "player_streamers",
                {"Status": "created", "PageSize": 50},
                max_pages=1,
            ):
                created = parse_time(streamer.get("date_created"))
                if created is not None and created.timestamp() >= math.floor(since) - 1:
                    self._end_quietly("PlayerStreamers", str(streamer["sid"]))
        except ProviderError:
            log.error("Could not look for a PlayerStreamer left behind: run `livescreen cleanup`")

    def _complete_room_quietly(self, room: str) -> None:
        try:
            self._complete_room(room)
        except ProviderError:
            log.error("Could not complete room %s: end it with `livescreen cleanup`", room)

    def _complete_room(self, room: str) -> None:
        try:
            self.rest.call(
                "POST",
                f"{VIDEO}/Rooms/{quote(room)}",
                data={"Status": "completed"},
                idempotent=True,
            )
        except TwilioApiError as error:
            if not (error.not_found or error.code == 53112):  # gone or already completed
                raise


AUDIENCES = ("video", "live")


def create_provider(settings: Settings) -> TwilioProvider:
    """The ``twilio`` provider for ``settings`` (registry entry point).

    ``TWILIO_AUDIENCE=video`` (the default): viewers join the host's Video room
    (``twilio_video``); ``live``: the retired Twilio Live flow of this module.
    """
    from livescreen.runtime.twilio_client import make_twilio_client

    audience = settings["TWILIO_AUDIENCE"].strip().lower()
    if audience not in AUDIENCES:
        raise ConfigError(
            f"Setting TWILIO_AUDIENCE must be one of {', '.join(AUDIENCES)}, got {audience!r}"
        )
    if audience == "video":
        from livescreen.providers.twilio.video import TwilioVideoProvider

        return TwilioVideoProvider(settings, make_twilio_client(settings))
    return TwilioProvider(settings, make_twilio_client(settings))
