"""The ``twilio`` provider with ``TWILIO_AUDIENCE=video``: viewers join the host's Video room.

Twilio Video alone, no Twilio Live. The host publishes into a group room created with
``MaxParticipants`` = ``TWILIO_MAX_VIEWERS`` + 1; viewers connect to the same room with an
access token signed here (no Twilio call per viewer) and publish nothing.

State of record: Twilio. A stream is live while its room is in progress with the host
connected to it; ``stream_start`` checks exactly that (the page connects first, then goes live),
``stream_stop`` completes the room. A room of the session's name is ours only if it carries what
``/host_token`` created it with (``_is_own_room``): a host who joins after the room ended unused
makes a new one with Twilio's defaults (client-side room creation), which ``stream_start``
completes, answering 409 "go live again", and viewers are never sent to. Viewers find the live
room through one lookup per ``LIVE_LOOKUP_TTL`` per container (list in-progress rooms, then
the host's participant).

A Video access token has no subscribe-only grant, so viewers are kept from publishing by the
server, driven by the signed room status callbacks (``room_events``; ``room_event_rules`` decides):

- ``participant-connected``, not the host: its subscribe rules become "the host's tracks
  only", so whatever a viewer publishes reaches no other viewer; the host's own rules become
  "nothing", so it reaches the host neither;
- ``track-added`` by anyone but the host: that participant is disconnected;
- the host's ``participant-disconnected``, or ``room-ended``: the room is completed, which
  disconnects every viewer (the stream has ended).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from livescreen.config import Settings
from livescreen.providers.base import AudienceGrant, HostGrant, ProviderError, StreamState
from livescreen.providers.twilio.live_room import LiveRoomLookup
from livescreen.providers.twilio.provider import TwilioProvider
from livescreen.providers.twilio.recording import RoomRecorder
from livescreen.providers.twilio.rest import RetryPolicy, TwilioApiError
from livescreen.providers.twilio.room_event_rules import (
    HOST_RULES,
    KICK,
    STOP,
    room_event_action,
)
from livescreen.providers.twilio.rooms import UNUSED_ROOM_TIMEOUT, VIDEO

if TYPE_CHECKING:
    from twilio.rest import Client

log = logging.getLogger(__name__)

AUDIENCE = "video"
#: Every viewer's identity is ``viewer-<16 hex digits>``.
VIEWER_PREFIX = "viewer-"
#: A viewer's token must outlive a reconnection of the SDK (which presents it again).
VIEWER_TOKEN_TTL = 3600
#: Participants a group room holds, host included (Twilio's limit).
ROOM_CAPACITY = 50
#: Participant statuses that are still in the room: a ``reconnecting`` one (a network blip)
#: keeps its place, so the host reconnecting is still live.
PRESENT = ("connected", "reconnecting")
#: In-progress rooms of this app checked for a connected host per lookup (newest first).
MAX_CANDIDATES = 5


class TwilioVideoProvider(TwilioProvider):
    """See the module docstring. One instance per process; safe to share between threads."""

    audience = AUDIENCE

    def __init__(
        self, settings: Settings, client: Client, *, retry: RetryPolicy | None = None
    ) -> None:
        super().__init__(settings, client, retry=retry)
        self.max_viewers = settings.get_int("TWILIO_MAX_VIEWERS", minimum=1, maximum=49)
        self.max_participants = min(self.max_viewers + 1, ROOM_CAPACITY)
        self.live_room = LiveRoomLookup(
            self._find_live_room,
            ttl=settings.get_int("LIVE_LOOKUP_TTL", minimum=0, maximum=60),
        )
        self.recorder = RoomRecorder(
            self.rest, self.host_identity, enabled=settings.get_flag("RECORDING")
        )

    # -- host ---------------------------------------------------------------------------------

    def _room_limits(self) -> dict[str, str]:
        return {"MaxParticipants": str(self.max_participants), **RoomRecorder.room_params()}

    def _room_created(self, room: dict[str, Any]) -> None:
        if room.get("sid"):
            self.recorder.record_host(str(room["sid"]))

    def create_host_grant(self) -> HostGrant:
        grant = super().create_host_grant()
        return HostGrant(room=grant.room, token=grant.token, extra={"audience": AUDIENCE})

    def start_stream(self, room: str) -> StreamState:
        """The room is live once it is in progress with the host connected: check both."""
        answer = self._room(room)
        if answer.get("status") != "in-progress":
            raise ProviderError(
                f"The room {room} has ended; go live again to get a new room", status=409
            )
        if not self._is_own_room(answer):
            # Ours ended unused; the host's late connect() made a new room of that name with
            # Twilio's defaults. Close it now (it bills, and the host is in it) and start over.
            log.warning("Room %s was made by the host's connect, not by us: completing it", room)
            self._complete_room_quietly(str(answer.get("sid") or room))
            raise ProviderError(
                f"The room {room} expired while you were getting ready: nobody joined it within "
                f"{UNUSED_ROOM_TIMEOUT} minutes of signing in. Go live again to get a new room",
                status=409,
            )
        if not self._host_connected(str(answer["sid"])):
            raise ProviderError(
                f"The host is not connected to the room {room}: connect to it, then go live",
                status=409,
            )
        self.live_room.clear()
        log.info("Stream started for room %s", room)
        return StreamState(room=room, live=True, started_now=True, extra={"audience": AUDIENCE})

    def stop_stream(self, room: str) -> StreamState:
        """Complete the room: Twilio disconnects everyone in it; then compose its recording
        (``RECORDING=on``). Idempotent."""
        return self._end_room(room, None)

    def _end_room(self, room: str, room_sid: str | None) -> StreamState:
        if self.recorder.enabled and not room_sid:
            room_sid = self._room_sid_quietly(room)  # by name: only while it is in progress
        self._complete_room(room)
        self.live_room.clear()
        log.info("Stream stopped for room %s", room)
        if room_sid:
            self.recorder.compose_quietly(room_sid)
        return StreamState(room=room, live=False, extra={"audience": AUDIENCE})

    def _room_sid_quietly(self, room: str) -> str | None:
        """The SID of the room named ``room`` (in progress, or else the newest completed one)."""
        try:
            answer = self._room(room)
            if answer.get("sid"):
                return str(answer["sid"])
            page = self.rest.call(
                "GET",
                f"{VIDEO}/Rooms",
                params={"UniqueName": room, "Status": "completed", "PageSize": 1},
                idempotent=True,
            )
        except ProviderError as error:
            log.error("Could not look up room %s to compose its recording: %s", room, error)
            return None
        rooms = page.get("rooms") or []
        return str(rooms[0]["sid"]) if rooms and rooms[0].get("sid") else None

    # -- audience -----------------------------------------------------------------------------

    def audience_grant(self) -> AudienceGrant:
        from twilio.jwt.access_token import AccessToken
        from twilio.jwt.access_token.grants import VideoGrant

        room = self.live_room.current()
        if room is None:
            return AudienceGrant(token=None, extra={"audience": AUDIENCE})
        identity = f"{VIEWER_PREFIX}{secrets.token_hex(8)}"
        token = AccessToken(
            self.account_sid,
            self.api_key_sid,
            self._api_key_secret,
            identity=identity,
            ttl=VIEWER_TOKEN_TTL,
            grants=[VideoGrant(room=room)],
        )
        return AudienceGrant(
            token=token.to_jwt(),
            extra={
                "audience": AUDIENCE,
                "room": room,
                "identity": identity,
                "hostIdentity": self.host_identity,
            },
        )

    def _find_live_room(self) -> str | None:
        """The newest in-progress room of this app with the host connected, or None."""
        candidates = []
        for room in self.rest.pages(
            f"{VIDEO}/Rooms", "rooms", {"Status": "in-progress", "PageSize": 50}, max_pages=2
        ):
            # The callback URL (with room events on) tells this stack's rooms from another's,
            # and the settings tell ours from one a client's connect() made under its name.
            if self._is_own_room(room):
                candidates.append(room)
        candidates.sort(key=lambda r: str(r.get("date_created") or ""), reverse=True)
        for room in candidates[:MAX_CANDIDATES]:
            if self._host_connected(str(room["sid"])):
                return str(room["unique_name"])
        return None

    # -- room events --------------------------------------------------------------------------

    def handle_room_callback(self, event: Mapping[str, Any]) -> bool:
        """Act on one signed room status callback; True when it did something."""
        name, room, identity = (_field(event, k) for k in _EVENT_KEYS)
        action = room_event_action(name, room, identity, self.host_identity)
        if action is None:
            return False
        if action == STOP:
            log.info("Room %s reported %s: ending the stream", room, name)
            self._end_room(room, _field(event, "RoomSid") or None)
            return True
        room_sid, participant = _field(event, "RoomSid"), _field(event, "ParticipantSid")
        if not room_sid or not participant:
            return False
        path = f"{VIDEO}/Rooms/{quote(room_sid)}/Participants/{quote(participant)}"
        if action == KICK:
            log.warning("Viewer %s published a track in room %s: disconnecting it", identity, room)
            return self._unless_gone(path, path, {"Status": "disconnected"})
        rules = (
            [{"type": "exclude", "all": True}]
            if action == HOST_RULES
            else [{"type": "include", "publisher": self.host_identity}]
        )
        return self._unless_gone(path, f"{path}/SubscribeRules", {"Rules": json.dumps(rules)})

    def _unless_gone(self, participant: str, url: str, data: dict[str, str]) -> bool:
        """POST ``data`` about ``participant``; False when it has left already (nothing to do).

        Twilio documents no answer for a participant who left a moment ago (53204 is
        "Participant not found", the HTTP status unsaid): a 404 is taken as gone, and any other
        4xx but 429 is checked against the participant itself, so only a refusal about someone
        still in the room fails the webhook.
        """
        try:
            self.rest.call("POST", url, data=data, idempotent=True)
        except TwilioApiError as error:
            if error.not_found:
                return False
            status = error.http_status or 0
            if not 400 <= status < 500 or status == 429 or self._still_in_room(participant):
                raise
            log.info("Twilio answered %s for a participant who has left: nothing to do", status)
            return False
        return True

    def _still_in_room(self, participant: str) -> bool:
        try:
            answer = self.rest.call("GET", participant, idempotent=True)
        except TwilioApiError as error:
            if error.not_found:
                return False
            raise
        return answer.get("status") in PRESENT

    # -- Twilio calls -------------------------------------------------------------------------

    def _room(self, room: str) -> dict[str, Any]:
        try:
            return self.rest.call("GET", f"{VIDEO}/Rooms/{quote(room)}", idempotent=True)
        except TwilioApiError as error:
            if error.not_found:
                return {}
            raise

    def _host_connected(self, room_sid: str) -> bool:
        """Whether the host is in the room: connected, or reconnecting after a blip (Twilio
        lists one status per call; the second is asked only when the first finds nobody)."""
        for status in PRESENT:
            page = self.rest.call(
                "GET",
                f"{VIDEO}/Rooms/{quote(room_sid)}/Participants",
                params={"Status": status, "Identity": self.host_identity, "PageSize": 1},
                idempotent=True,
            )
            if page.get("participants"):
                return True
        return False


_EVENT_KEYS = ("StatusCallbackEvent", "RoomName", "ParticipantIdentity")


def _field(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""
