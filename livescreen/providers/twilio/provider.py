"""The ``twilio`` provider with ``TWILIO_AUDIENCE=live``: a Video room, composed into Twilio Live.

(``TWILIO_AUDIENCE=video``, the default, is ``video.TwilioVideoProvider``, a subclass that
shares the room creation (``room_provider``) and the REST layer; ``factory.create_provider``
picks one.)

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
import secrets
import threading
import time
from typing import TYPE_CHECKING

from livescreen.config import Settings
from livescreen.providers.base import (
    AudienceGrant,
    ProviderError,
    ProviderUnavailableError,
    StreamState,
)
from livescreen.providers.twilio.media import (
    COMPOSER_IDENTITY,
    EXTENSION,
    RESOLUTION,
    LiveMedia,
    composer_of,
    outputs_of,
)
from livescreen.providers.twilio.playback import Grant, PlaybackGrantCache
from livescreen.providers.twilio.rest import RetryPolicy, TwilioApiError
from livescreen.providers.twilio.room_event_rules import ends_stream
from livescreen.providers.twilio.room_provider import TwilioRoomProvider

if TYPE_CHECKING:
    from twilio.rest import Client

log = logging.getLogger(__name__)

#: Lifetime of a viewer's access token: long enough to connect, no longer.
AUDIENCE_TOKEN_TTL = 60


class TwilioProvider(TwilioRoomProvider):
    """See the module docstring. One instance per process; safe to share between threads."""

    def __init__(
        self, settings: Settings, client: Client, *, retry: RetryPolicy | None = None
    ) -> None:
        super().__init__(settings, client, retry=retry)
        self.media = LiveMedia(self.rest)
        # Live resources carry no tags; the composer's identity marks this app's streams, so
        # two stacks on one Twilio account never hand out each other's stream.
        self.composer_identity = f"{settings['APP_TAG']}-{COMPOSER_IDENTITY}"[:128]
        self._start_lock = threading.Lock()
        self.playback = PlaybackGrantCache(
            self._find_live_streamer,
            self._create_playback_grant,
            lookup_ttl=settings.get_int("LIVE_LOOKUP_TTL", minimum=0, maximum=60),
            grant_ttl=self.grant_ttl,
        )

    # -- stream -------------------------------------------------------------------------

    def start_stream(self, room: str) -> StreamState:
        with self._start_lock:  # one start at a time in this process
            if self.media.processors_for(room):
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
            streamer = self.media.call(
                "POST",
                "/PlayerStreamers",
                data={"MaxDuration": self.max_duration},
                idempotent=False,
            )
        except TwilioApiError as error:
            if error.maybe_done:
                self.media.end_unclaimed_streamers(since=asked_at)
            raise
        return str(streamer["sid"])

    def _create_processor(self, room: str, streamer_sid: str) -> str:
        """Compose ``room`` into the streamer; on any failure, end whatever this start made."""
        try:
            processor = self.media.call(
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
                self.media.end_room_processors_quietly(room)
            self.media.end_quietly("PlayerStreamers", streamer_sid)
            raise
        if processor.get("status") not in ("started", None):
            # Twilio took the request but the composer could not join (the room has ended).
            self.media.end_quietly("MediaProcessors", str(processor["sid"]))
            self.media.end_quietly("PlayerStreamers", streamer_sid)
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
            running = self.media.processors_for(room)
        except ProviderError:
            return True  # ours runs; a duplicate (if any) is ended by the start that sees it
        if len(running) <= 1:
            return True
        running.sort(key=lambda p: (str(p.get("date_created") or ""), str(p.get("sid"))))
        for extra in running[1:]:
            log.warning("Room %s had a second composer %s: ending it", room, extra.get("sid"))
            self.media.end_processor_quietly(extra)
        return running[0].get("sid") == mine

    def stop_stream(self, room: str) -> StreamState:
        try:
            processors = self.media.processors_for(room)
        except ProviderUnavailableError:
            processors = None  # Live is gone: nothing can be streaming; still release the room
        for processor in processors or []:
            # Streamers first: if this stop fails half way, the composer is still "started",
            # so the next stop (or the room's callback, or cleanup) finds both again.
            for streamer_sid in outputs_of(processor):
                self.media.end("PlayerStreamers", streamer_sid)
            self.media.end("MediaProcessors", processor["sid"])
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
            late = self.media.processors_for(room)
        except ProviderError:
            log.error("Could not check room %s for a late composer: run `livescreen cleanup`", room)
            return
        for processor in late:
            log.warning("A start raced the stop of room %s: ending its composer", room)
            self.media.end_processor_quietly(processor)

    def handle_room_event(self, event: str, room: str, identity: str) -> bool:
        """Stop ``room``'s stream if a Twilio room event says its host left; True if stopped."""
        if not ends_stream(event, room, identity, self.host_identity):
            return False
        log.info("Room %s reported %s: stopping its stream", room, event)
        self.stop_stream(room)
        return True

    # -- audience -------------------------------------------------------------------------

    def refresh_audience(self, room: str) -> None:
        """Nothing to do: the room's status callbacks report every join and leave."""

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
        page = self.media.call(
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
            answer = self.media.call(
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
