"""The emulator's state of record and the rules Twilio applies to it.

Every operation takes the request parameters as Twilio names them (``UniqueName``,
``MaxDuration``...), validates them the way the REST API does and raises ``ApiError`` otherwise.
Time-driven transitions (``MaxDuration`` running out) are evaluated lazily against ``clock``.
A room created with a ``StatusCallback`` reports its events (``room-created``, ``room-ended``,
``participant-connected``, ``participant-disconnected``, ``track-added``) to
``on_room_event(url, method, params)`` with Twilio's parameters.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

from livescreen.twilio_emulator.compositions import CompositionsMixin, new_media_key
from livescreen.twilio_emulator.errors import ApiError, invalid, missing, not_found, out_of_range
from livescreen.twilio_emulator.participants import ParticipantsMixin, refuse_unknown
from livescreen.twilio_emulator.recording_resources import (
    Composition,
    RecordingRules,
    TrackRecording,
)
from livescreen.twilio_emulator.recordings import RecordingsMixin, parse_recording_rules
from livescreen.twilio_emulator.resources import (
    ACTIVE,
    MediaProcessor,
    PlaybackGrant,
    PlayerStreamer,
    Room,
    iso,
    new_sid,
)

ROOM_TYPES = ("go", "peer-to-peer", "group", "group-small")
ROOM_STATUSES = ("in-progress", "completed", "failed")
MAX_PARTICIPANTS = {"go": 2, "peer-to-peer": 10, "group": 50, "group-small": 4}
#: The Create Room parameters in Twilio's API reference
ROOM_CREATE_PARAMS = frozenset(
    {
        "EnableTurn",
        "Type",
        "UniqueName",
        "StatusCallback",
        "StatusCallbackMethod",
        "MaxParticipants",
        "RecordParticipantsOnConnect",
        "TranscribeParticipantsOnConnect",
        "TranscriptionsConfiguration",
        "VideoCodecs",
        "MediaRegion",
        "RecordingRules",
        "AudioOnly",
        "MaxParticipantDuration",
        "EmptyRoomTimeout",
        "UnusedRoomTimeout",
        "LargeRoom",
    }
)
ROOM_LIST_PARAMS = frozenset(
    {
        "Status",
        "UniqueName",
        "DateCreatedAfter",
        "DateCreatedBefore",
        "PageSize",
        "Page",
        "PageToken",
    }
)
PROCESSOR_STATUSES = ("started", "ended", "failed")
STREAMER_STATUSES = ("created", "started", "ended", "failed")
CALLBACK_METHODS = ("HEAD", "GET", "POST", "PATCH", "PUT", "DELETE")
EXTENSIONS = ("video-composer-v1", "video-composer-v2", "audio-mixer-v1")
DEFAULT_MAX_DURATION = 300
MAX_MAX_DURATION = 90000
DEFAULT_GRANT_TTL = 15
MAX_GRANT_TTL = 60

Params = Mapping[str, str]
#: Receives each room status callback: (StatusCallback URL, its method, form parameters).
RoomEventSink = Callable[[str, str, dict[str, str]], None]


def _integer(
    params: Params, name: str, default: int, low: int, high: int, code: int = 20001
) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise out_of_range(name, raw, low, high, code) from None
    if not low <= value <= high:
        raise out_of_range(name, raw, low, high, code)
    return value


def _choice(params: Params, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if value not in allowed:
        raise invalid(name, value, allowed)
    return value


def _callback(params: Params) -> tuple[str | None, str]:
    url = params.get("StatusCallback") or None
    if url is not None and urlparse(url).scheme not in ("http", "https"):
        raise invalid("StatusCallback", url)
    return url, _choice(params, "StatusCallbackMethod", CALLBACK_METHODS, "POST") or "POST"


def _boolean(params: Params, name: str) -> bool:
    value = params.get(name)
    if value in (None, ""):
        return False
    if value.lower() not in ("true", "false"):
        raise invalid(name, value, ("true", "false"))
    return value.lower() == "true"


def _json_object(params: Params, name: str) -> dict[str, Any]:
    raw = params.get(name)
    if not raw:
        raise missing(name)
    try:
        value = json.loads(raw)
    except ValueError:
        raise ApiError(400, 20001, f"{name} must be a JSON object") from None
    if not isinstance(value, dict):
        raise ApiError(400, 20001, f"{name} must be a JSON object")
    return value


class EmulatorState(RecordingsMixin, CompositionsMixin, ParticipantsMixin):
    """Rooms (their participants, recording rules and track recordings), compositions,
    MediaProcessors and PlayerStreamers of one account.

    Safe to use from many threads.
    """

    def __init__(
        self,
        account_sid: str,
        *,
        new_account: bool = False,
        clock: Callable[[], float] = time.time,
        on_room_event: RoomEventSink | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.new_account = new_account
        self.clock = clock
        self.on_room_event = on_room_event
        self.lock = threading.RLock()
        self.rooms: dict[str, Room] = {}
        self.media_processors: dict[str, MediaProcessor] = {}
        self.player_streamers: dict[str, PlayerStreamer] = {}
        self.recording_rules: dict[str, RecordingRules] = {}
        self.track_recordings: dict[str, TrackRecording] = {}
        self.compositions: dict[str, Composition] = {}
        #: A composition moves one status further each time it is read (see compositions.py).
        self.auto_compose = True
        #: Where composition media URLs point (the server sets its own base URL).
        self.media_base = "http://127.0.0.1"
        self.media_key = new_media_key()

    # -- time -----------------------------------------------------------------------------

    def expire(self) -> None:
        """End every MediaProcessor/PlayerStreamer whose MaxDuration has run out."""
        now = self.clock()
        resources: list[MediaProcessor | PlayerStreamer] = [
            *self.media_processors.values(),
            *self.player_streamers.values(),
        ]
        for resource in resources:
            deadline = resource.created + resource.max_duration
            if resource.status in ACTIVE and now >= deadline:
                resource.status = "ended"
                resource.ended_reason = "max-duration-exceeded"
                resource.updated = deadline

    # -- Video rooms ----------------------------------------------------------------------

    def create_room(self, params: Params) -> Room:
        refuse_unknown(params, ROOM_CREATE_PARAMS)
        room_type = params.get("Type") or "group"
        if room_type not in ROOM_TYPES:
            raise ApiError(400, 53108, f"RoomType is not valid: {room_type!r}")
        if room_type == "go" and self.new_account:
            raise ApiError(
                400, 53126, "Room type 'go' is not available for new accounts; use 'group'"
            )
        max_participants = _integer(
            params,
            "MaxParticipants",
            MAX_PARTICIPANTS[room_type],
            1,
            MAX_PARTICIPANTS[room_type],
            code=53107,
        )
        max_participant_duration = _integer(
            params, "MaxParticipantDuration", 14400, 600, 86400, code=53123
        )
        callback, callback_method = _callback(params)
        on_connect = _boolean(params, "RecordParticipantsOnConnect")
        rules = params.get("RecordingRules")
        initial_rules = parse_recording_rules(rules) if rules else None
        now = self.clock()
        sid = new_sid("RM")
        name = params.get("UniqueName") or sid
        if len(name) > 128:
            raise ApiError(400, 53101, "Room name is too long")
        if self._room_in_progress(name) is not None:
            raise ApiError(400, 53113, f"Room exists: {name} is already in progress")
        room = Room(
            sid=sid,
            account_sid=self.account_sid,
            unique_name=name,
            type=room_type,
            created=now,
            updated=now,
            max_participants=max_participants,
            max_participant_duration=max_participant_duration,
            status_callback=callback,
            status_callback_method=callback_method,
            record_participants_on_connect=on_connect,
        )
        self.rooms[sid] = room
        if initial_rules is not None:
            self.recording_rules[sid] = RecordingRules(sid, initial_rules, now, now)
        self._room_event(room, "room-created")
        return room

    def _room_in_progress(self, name: str) -> Room | None:
        for room in self.rooms.values():
            if room.unique_name == name and room.status == "in-progress":
                return room
        return None

    def room(self, name_or_sid: str, path: str) -> Room:
        room = self.rooms.get(name_or_sid) or self._room_in_progress(name_or_sid)
        if room is None:
            raise not_found(path)
        return room

    def list_rooms(self, params: Params) -> list[Room]:
        refuse_unknown(params, ROOM_LIST_PARAMS)
        status = _choice(params, "Status", ROOM_STATUSES, None)
        name = params.get("UniqueName") or None
        rooms = [
            room
            for room in self.rooms.values()
            if (status is None or room.status == status)
            and (name is None or room.unique_name == name)
        ]
        return sorted(rooms, key=lambda room: (room.created, room.sid), reverse=True)

    def update_room(self, name_or_sid: str, path: str, params: Params) -> Room:
        room = self.room(name_or_sid, path)
        refuse_unknown(params, {"Status"})
        status = params.get("Status")
        if not status:
            raise missing("Status")
        if status != "completed" or room.status != "in-progress":
            raise ApiError(
                400, 53112, "Status is invalid: only an in-progress Room can be completed"
            )
        for participant in room.connected():  # everyone is disconnected, then the room ends
            self._leave(room, participant)
        now = self.clock()
        room.status = "completed"
        room.end_time = now
        room.updated = now
        self._tracks_changed(room)  # every recording of the room is complete
        self._room_event(room, "room-ended", RoomDuration=str(int(now - room.created)))
        return room

    def disconnect_participant(self, room_name_or_sid: str, identity: str) -> None:
        """``identity`` leaves the in-progress room (tab closed, network lost); the room stays.

        Twilio's ``participant-disconnected`` callback goes to the room's StatusCallback. An
        identity that never connected through ``connect_participant`` is reported all the same
        (the Live flow's tests play a host who joined through the SDK alone).
        """
        with self.lock:
            room = self.room(room_name_or_sid, f"/v1/Rooms/{room_name_or_sid}")
            if room.status != "in-progress":
                raise ApiError(
                    400, 20001, f"Room {room.unique_name} is {room.status}: nobody is in it"
                )
            for participant in room.connected():
                if participant.identity == identity:
                    self._leave(room, participant)
                    return
            self._room_event(
                room,
                "participant-disconnected",
                ParticipantSid=new_sid("PA"),
                ParticipantIdentity=identity,
                ParticipantStatus="disconnected",
                ParticipantDuration=str(int(self.clock() - room.created)),
            )

    def _room_event(self, room: Room, event: str, **extra: str) -> None:
        if room.status_callback is None or self.on_room_event is None:
            return
        params = {
            "AccountSid": self.account_sid,
            "RoomName": room.unique_name,
            "RoomSid": room.sid,
            "RoomStatus": room.status,
            "RoomType": room.type,
            "StatusCallbackEvent": event,
            "Timestamp": iso(self.clock()) or "",
            "SequenceNumber": str(room.next_sequence),
            **extra,
        }
        room.next_sequence += 1
        self.on_room_event(room.status_callback, room.status_callback_method, params)

    # -- MediaProcessors ------------------------------------------------------------------

    def create_media_processor(self, params: Params) -> MediaProcessor:
        extension = params.get("Extension")
        if not extension:
            raise missing("Extension")
        if extension not in EXTENSIONS and urlparse(extension).scheme != "https":
            raise invalid("Extension", extension, EXTENSIONS)
        context = _json_object(params, "ExtensionContext")
        if params.get("ExtensionEnvironment"):
            _json_object(params, "ExtensionEnvironment")
        max_duration = _integer(params, "MaxDuration", DEFAULT_MAX_DURATION, 1, MAX_MAX_DURATION)
        callback, callback_method = _callback(params)
        outputs = self._outputs(extension, context)
        now = self.clock()
        processor = MediaProcessor(
            sid=new_sid("ZX"),
            account_sid=self.account_sid,
            extension=extension,
            extension_context=params["ExtensionContext"],
            created=now,
            updated=now,
            max_duration=max_duration,
            status_callback=callback,
            status_callback_method=callback_method,
            outputs=outputs,
        )
        room = context.get("room")
        room_name = room.get("name") if isinstance(room, dict) else None
        if extension.startswith("video-composer") and (
            not isinstance(room_name, str) or self._room_in_progress(room_name) is None
        ):
            # Twilio accepts the request; the extension then fails to join the room.
            processor.status = "failed"
            processor.ended_reason = "error-loading-extension"
        else:
            for sid in outputs:
                streamer = self.player_streamers[sid]
                streamer.status = "started"
                streamer.updated = now
        self.media_processors[processor.sid] = processor
        return processor

    def _outputs(self, extension: str, context: Mapping[str, Any]) -> tuple[str, ...]:
        if not extension.startswith(("video-composer", "audio-mixer")):
            return ()
        outputs = context.get("outputs")
        if not isinstance(outputs, list) or not outputs:
            raise ApiError(400, 20001, "ExtensionContext.outputs must list PlayerStreamer SIDs")
        for sid in outputs:
            streamer = self.player_streamers.get(sid) if isinstance(sid, str) else None
            if streamer is None or streamer.status not in ACTIVE:
                raise ApiError(400, 20001, f"ExtensionContext.outputs: {sid!r} is not active")
        return tuple(outputs)

    def media_processor(self, sid: str, path: str) -> MediaProcessor:
        processor = self.media_processors.get(sid)
        if processor is None:
            raise not_found(path)
        return processor

    def list_media_processors(self, params: Params) -> list[MediaProcessor]:
        status = _choice(params, "Status", PROCESSOR_STATUSES, None)
        found = [p for p in self.media_processors.values() if status in (None, p.status)]
        return _ordered(found, params)

    def end_media_processor(self, sid: str, path: str, params: Params) -> MediaProcessor:
        processor = self.media_processor(sid, path)
        _require_ended(params)
        if processor.status in ACTIVE:
            processor.status = "ended"
            processor.ended_reason = "ended-via-api"
            processor.updated = self.clock()
        return processor

    # -- PlayerStreamers ------------------------------------------------------------------

    def create_player_streamer(self, params: Params) -> PlayerStreamer:
        video = _choice(params, "Video", ("true", "false", "True", "False"), "true") or "true"
        max_duration = _integer(params, "MaxDuration", DEFAULT_MAX_DURATION, 1, MAX_MAX_DURATION)
        callback, callback_method = _callback(params)
        now = self.clock()
        streamer = PlayerStreamer(
            sid=new_sid("VJ"),
            account_sid=self.account_sid,
            created=now,
            updated=now,
            max_duration=max_duration,
            video=video.lower() == "true",
            status_callback=callback,
            status_callback_method=callback_method,
        )
        self.player_streamers[streamer.sid] = streamer
        return streamer

    def player_streamer(self, sid: str, path: str) -> PlayerStreamer:
        streamer = self.player_streamers.get(sid)
        if streamer is None:
            raise not_found(path)
        return streamer

    def list_player_streamers(self, params: Params) -> list[PlayerStreamer]:
        status = _choice(params, "Status", STREAMER_STATUSES, None)
        found = [s for s in self.player_streamers.values() if status in (None, s.status)]
        return _ordered(found, params)

    def end_player_streamer(self, sid: str, path: str, params: Params) -> PlayerStreamer:
        streamer = self.player_streamer(sid, path)
        _require_ended(params)
        if streamer.status in ACTIVE:
            streamer.status = "ended"
            streamer.ended_reason = "ended-via-api"
            streamer.updated = self.clock()
        return streamer

    def create_playback_grant(self, sid: str, path: str, params: Params) -> PlaybackGrant:
        streamer = self.player_streamer(sid, path)
        ttl = _integer(params, "Ttl", DEFAULT_GRANT_TTL, 1, MAX_GRANT_TTL)
        origin = params.get("AccessControlAllowOrigin") or None
        if streamer.status != "started":
            raise ApiError(400, 20001, f"PlayerStreamer {sid} is {streamer.status}, not started")
        now = self.clock()
        grant = PlaybackGrant(
            player_streamer_sid=sid,
            account_sid=self.account_sid,
            created=now,
            expires=now + ttl,
            grant={
                "requestCredentials": None,
                "playbackUrl": f"https://live.emulator.invalid/{sid}/{new_sid('')}.m3u8",
                "playerStreamerSid": sid,
                "accessControlAllowOrigin": origin,
            },
        )
        streamer.grants.append(grant)
        return grant

    def playback_grant(self, sid: str, path: str) -> PlaybackGrant:
        streamer = self.player_streamer(sid, path)
        if not streamer.grants:
            raise not_found(path)
        return streamer.grants[-1]

    # -- for tests --------------------------------------------------------------------------

    def running(self) -> dict[str, list[str]]:
        """SIDs of everything still billing: active processors and streamers, open rooms."""
        with self.lock:
            self.expire()
            return {
                "media_processors": [
                    p.sid for p in self.media_processors.values() if p.status in ACTIVE
                ],
                "player_streamers": [
                    s.sid for s in self.player_streamers.values() if s.status in ACTIVE
                ],
                "rooms": [r.unique_name for r in self.rooms.values() if r.status == "in-progress"],
            }


def _require_ended(params: Params) -> None:
    status = params.get("Status")
    if not status:
        raise missing("Status")
    if status != "ended":
        raise invalid("Status", status, ("ended",))


def _ordered(resources: list[Any], params: Params) -> list[Any]:
    order = _choice(params, "Order", ("asc", "desc"), "desc")
    return sorted(resources, key=lambda r: (r.created, r.sid), reverse=order == "desc")
