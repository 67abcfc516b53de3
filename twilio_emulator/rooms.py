"""Video Rooms: create, fetch, list and complete them, and the status callbacks they send.

Create Room is validated as Twilio's API reference describes it (the parameters it lists, the
``Type`` enum, ``MaxParticipants`` per type, ``MaxParticipantDuration`` 600..86400 s,
``EmptyRoomTimeout``/``UnusedRoomTimeout`` 1..60 whole minutes, a ``StatusCallbackMethod`` of
GET or POST). A room created with a ``StatusCallback`` reports ``room-created``,
``room-ended`` and its participants' events to ``on_room_event(url, method, params)`` with
Twilio's parameters. A room ends when completed through the API, or by itself on its timeouts
(``timeouts.py``): either way everyone still in it is disconnected first. A client connecting
to a name with no room in progress creates one with the account's defaults (``ad_hoc_room``,
Twilio's client-side room creation), unless the state's ``client_room_creation`` is off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from twilio_emulator.errors import ApiError, missing, not_found
from twilio_emulator.params import (
    VIDEO_CALLBACK_METHODS,
    Params,
    boolean,
    choice,
    integer,
    refuse_unknown,
    status_callback,
)
from twilio_emulator.recording_resources import RecordingRules
from twilio_emulator.recordings import parse_recording_rules
from twilio_emulator.resources import Participant, Room, iso, new_sid

#: The spec's ``room_enum_room_type``; the Rooms page calls ``Type`` legacy (``group`` only).
ROOM_TYPES = ("go", "peer-to-peer", "group", "group-small")
ROOM_STATUSES = ("in-progress", "completed", "failed")
MAX_PARTICIPANTS = {"go": 2, "peer-to-peer": 10, "group": 50, "group-small": 4}
#: ``EmptyRoomTimeout`` and ``UnusedRoomTimeout``: 1..60 whole minutes, 5 by default.
ROOM_TIMEOUT_MINUTES = (1, 60)
DEFAULT_ROOM_TIMEOUT = 5
#: ``MaxParticipantDuration``: 600..86400 seconds, 14400 (4 hours) by default.
DEFAULT_MAX_PARTICIPANT_DURATION = 14400
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

#: Receives each room status callback: (StatusCallback URL, its method, form parameters).
RoomEventSink = Callable[[str, str, dict[str, str]], None]


class RoomsMixin:
    """The room half of ``EmulatorState`` (which supplies these attributes)."""

    account_sid: str
    new_account: bool
    lock: threading.RLock
    clock: Callable[[], float]
    on_room_event: RoomEventSink | None
    rooms: dict[str, Room]
    recording_rules: dict[str, RecordingRules]

    if TYPE_CHECKING:  # supplied by the participant and recording halves of the state

        def _leave(self, room: Room, participant: Participant, at: float | None = None) -> None:
            pass

        def _tracks_changed(self, room: Room) -> None:
            pass

        def expire(self) -> None:
            pass

    # -- the REST API -------------------------------------------------------------------------

    def create_room(self, params: Params) -> Room:
        refuse_unknown(params, ROOM_CREATE_PARAMS)
        room_type = params.get("Type") or "group"
        if room_type not in ROOM_TYPES:
            raise ApiError(400, 53108, f"RoomType is not valid: {room_type!r}")
        if room_type == "go" and self.new_account:
            raise ApiError(
                400, 53126, "Room type 'go' is not available for new accounts; use 'group'"
            )
        most = MAX_PARTICIPANTS[room_type]
        max_participants = integer(params, "MaxParticipants", most, 1, most, code=53107)
        max_participant_duration = integer(
            params,
            "MaxParticipantDuration",
            DEFAULT_MAX_PARTICIPANT_DURATION,
            600,
            86400,
            code=53123,
        )
        empty_timeout, unused_timeout = (
            integer(params, name, DEFAULT_ROOM_TIMEOUT, *ROOM_TIMEOUT_MINUTES)
            for name in ("EmptyRoomTimeout", "UnusedRoomTimeout")
        )
        callback, callback_method = status_callback(params, VIDEO_CALLBACK_METHODS)
        on_connect = boolean(params, "RecordParticipantsOnConnect")
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
            empty_room_timeout=empty_timeout,
            unused_room_timeout=unused_timeout,
            status_callback=callback,
            status_callback_method=callback_method,
            record_participants_on_connect=on_connect,
        )
        self.rooms[sid] = room
        if initial_rules is not None:
            self.recording_rules[sid] = RecordingRules(sid, initial_rules, now, now)
        self._room_event(room, "room-created")
        return room

    # -- what a client's connect does (client-side room creation) -----------------------------

    def ad_hoc_room(self, name: str) -> Room:
        """A new in-progress room named ``name``, made by a client connecting to that name.

        Twilio's client-side ("ad-hoc") room creation gives it the account's default room
        settings, none of a REST-created room's: a group room of ``MAX_PARTICIPANTS``, the
        default ``MaxParticipantDuration`` and 5-minute timeouts, no StatusCallback (so no
        room event is ever reported) and nobody recorded. The caller checked
        ``client_room_creation`` and that no room of that name is in progress.
        """
        if len(name) > 128:
            raise ApiError(400, 53101, "Room name is too long")
        now = self.clock()
        room = Room(
            sid=new_sid("RM"),
            account_sid=self.account_sid,
            unique_name=name,
            type="group",
            created=now,
            updated=now,
            max_participants=MAX_PARTICIPANTS["group"],
            max_participant_duration=DEFAULT_MAX_PARTICIPANT_DURATION,
            empty_room_timeout=DEFAULT_ROOM_TIMEOUT,
            unused_room_timeout=DEFAULT_ROOM_TIMEOUT,
        )
        self.rooms[room.sid] = room
        return room

    def room(self, name_or_sid: str, path: str) -> Room:
        room = self.rooms.get(name_or_sid) or self._room_in_progress(name_or_sid)
        if room is None:
            raise not_found(path)
        return room

    def list_rooms(self, params: Params) -> list[Room]:
        refuse_unknown(params, ROOM_LIST_PARAMS)
        status = choice(params, "Status", ROOM_STATUSES, None)
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
        self._end_room(room, self.clock())
        return room

    # -- what happens to a room ----------------------------------------------------------------

    def _room_in_progress(self, name: str) -> Room | None:
        for room in self.rooms.values():
            if room.unique_name == name and room.status == "in-progress":
                return room
        return None

    def _end_room(self, room: Room, at: float) -> None:
        """Everyone still in ``room`` is disconnected, then it is completed as of ``at``."""
        for participant in room.connected():
            self._leave(room, participant, at)
        room.status = "completed"
        room.end_time = room.updated = at
        self._tracks_changed(room)  # every recording of the room is complete
        self._room_event(room, "room-ended", {"RoomDuration": str(int(at - room.created))}, at=at)

    def _room_event(
        self,
        room: Room,
        event: str,
        extra: Mapping[str, str] | None = None,
        *,
        at: float | None = None,
    ) -> None:
        """Report ``event`` (with Twilio's ``extra`` parameters) as of ``at`` (now by default)."""
        if room.status_callback is None or self.on_room_event is None:
            return
        params = {
            "AccountSid": self.account_sid,
            "RoomName": room.unique_name,
            "RoomSid": room.sid,
            "RoomStatus": room.status,
            "RoomType": room.type,
            "StatusCallbackEvent": event,
            "Timestamp": iso(self.clock() if at is None else at) or "",
            "SequenceNumber": str(room.next_sequence),
            **(extra or {}),
        }
        room.next_sequence += 1
        self.on_room_event(room.status_callback, room.status_callback_method, params)

    # -- for tests --------------------------------------------------------------------------

    def disconnect_participant(self, room_name_or_sid: str, identity: str) -> None:
        """``identity`` leaves the in-progress room (tab closed, network lost); the room stays.

        Twilio's ``participant-disconnected`` callback goes to the room's StatusCallback. An
        identity that never connected through ``connect_participant`` is reported all the same
        (the Live flow's tests play a host who joined through the SDK alone).
        """
        with self.lock:
            self.expire()
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
                {
                    "ParticipantSid": new_sid("PA"),
                    "ParticipantIdentity": identity,
                    "ParticipantStatus": "disconnected",
                    "ParticipantDuration": str(int(self.clock() - room.created)),
                },
            )
