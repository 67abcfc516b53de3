"""Room participants: connecting with an access token, publishing, reconnecting, leaving.

Clients join a Room through the Video SDK, not the REST API; the emulator plays that part with
``connect_participant`` (the caller has checked the token), ``publish_track``,
``participant_reconnecting``/``participant_reconnected`` (a network blip: the participant keeps
its place, its SID and its seat, as the spec's ``reconnecting`` status says) and
``participant_leaves``. The REST API lists participants (``connected`` ones unless a ``Status``
is asked for, as the spec says of in-progress rooms), disconnects one (``Status=disconnected``,
the only update Twilio accepts: anything else is 53209) and reads or replaces a participant's
subscribe rules (``subscribe_rules.py``); rules for a participant who left are refused with
53204, "Participant not found". Each change is reported to the room's StatusCallback:
``participant-connected``, ``participant-disconnected``, ``track-added`` (Twilio's room events
have no reconnecting event).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from twilio_emulator.errors import ApiError, invalid, missing, not_found
from twilio_emulator.params import Params, refuse_unknown
from twilio_emulator.resources import Participant, Room, iso, new_sid
from twilio_emulator.subscribe_rules import TRACK_KINDS, check_rules, subscribed

#: The spec's ``room_participant_enum_status``
PARTICIPANT_STATUSES = ("connected", "disconnected", "reconnecting")
#: A Room SID (the spec's pattern): a client naming one never creates a room.
ROOM_SID = re.compile(r"^RM[0-9a-fA-F]{32}$")
LIST_PARAMS = frozenset(
    {"Status", "Identity", "DateCreatedAfter", "DateCreatedBefore", "PageSize", "Page", "PageToken"}
)


def room_full() -> ApiError:
    """What a client connecting to a full Room is told (Twilio Video error 53105)."""
    return ApiError(400, 53105, "Room contains too many Participants")


def room_not_found(name: str) -> ApiError:
    return ApiError(404, 53106, f"Room not found: {name}")


def participant_not_found(sid: str) -> ApiError:
    """Twilio Video error 53204: an operation on a participant no longer in the room."""
    return ApiError(404, 53204, f"Participant not found: {sid}")


class ParticipantsMixin:
    """The participant half of ``EmulatorState`` (which supplies these attributes)."""

    account_sid: str
    lock: threading.RLock
    rooms: dict[str, Room]
    clock: Callable[[], float]
    client_room_creation: bool

    def room(self, name_or_sid: str, path: str) -> Room:  # pragma: no cover - RoomsMixin
        raise NotImplementedError

    def _room_in_progress(self, name: str) -> Room | None:  # pragma: no cover - RoomsMixin
        raise NotImplementedError

    def ad_hoc_room(self, name: str) -> Room:  # pragma: no cover - RoomsMixin
        raise NotImplementedError

    def _room_event(
        self, room: Room, event: str, extra: Params | None = None, *, at: float | None = None
    ) -> None:  # pragma: no cover - RoomsMixin
        raise NotImplementedError

    def _tracks_changed(self, room: Room) -> None:  # pragma: no cover - RecordingsMixin
        raise NotImplementedError

    def expire(self) -> None:  # pragma: no cover - in the state
        raise NotImplementedError

    # -- what clients do (the SDK's side) -----------------------------------------------------

    def connect_participant(self, room_name_or_sid: str, identity: str) -> Participant:
        """``identity`` connects to the in-progress room its token grants.

        A name with no room in progress gets a new one, as Twilio's client-side ("ad-hoc")
        room creation does, with the account's defaults and none of what a REST-created room
        was given (``ad_hoc_room``); with ``client_room_creation`` off it is refused with 53106,
        as is a Room SID that is not in progress. A full room refuses with 53105. A second
        connection with an identity already in the room replaces the first, as Twilio does.
        """
        with self.lock:
            self.expire()
            room = self.rooms.get(room_name_or_sid) or self._room_in_progress(room_name_or_sid)
            if room is None and self.client_room_creation and not ROOM_SID.match(room_name_or_sid):
                room = self.ad_hoc_room(room_name_or_sid)
            if room is None or room.status != "in-progress":
                raise room_not_found(room_name_or_sid)
            for older in room.connected():
                if older.identity == identity:
                    self._leave(room, older)
            if len(room.connected()) >= room.max_participants:
                raise room_full()
            now = self.clock()
            participant = Participant(
                sid=new_sid("PA"),
                room_sid=room.sid,
                account_sid=self.account_sid,
                identity=identity,
                created=now,
                updated=now,
            )
            room.participants[participant.sid] = participant
            self._room_event(room, "participant-connected", _about(participant))
            return participant

    def publish_track(self, participant_sid: str, kind: str, name: str = "") -> str:
        """A connected participant publishes a track; returns its ``MT`` SID."""
        if kind not in TRACK_KINDS:
            raise invalid("TrackKind", kind, TRACK_KINDS)
        with self.lock:
            self.expire()
            room, participant = self._find(participant_sid)
            if participant.status != "connected" or room.status != "in-progress":
                raise participant_not_found(participant_sid)
            track_sid = new_sid("MT")
            participant.tracks[track_sid] = (kind, name or track_sid)
            self._tracks_changed(room)
            self._room_event(
                room,
                "track-added",
                {
                    **_about(participant),
                    "TrackSid": track_sid,
                    "TrackKind": kind,
                    "TrackName": name or track_sid,
                },
            )
            return track_sid

    def participant_reconnecting(self, participant_sid: str) -> None:
        """The client's connection drops; it is still in the room while it tries again."""
        self._set_presence(participant_sid, "connected", "reconnecting")

    def participant_reconnected(self, participant_sid: str) -> None:
        """The client is back: the same participant, connected again."""
        self._set_presence(participant_sid, "reconnecting", "connected")

    def participant_leaves(self, participant_sid: str) -> None:
        """The client disconnects by itself (tab closed, network lost for good)."""
        with self.lock:
            self.expire()
            room, participant = self._find(participant_sid)
            if participant.status != "disconnected":
                self._leave(room, participant)

    def subscribed_publishers(self, participant_sid: str) -> set[str]:
        """Identities whose tracks ``participant_sid`` receives under its subscribe rules.

        The result is per publisher: one whose every track is excluded is not in it.
        """
        with self.lock:
            room, participant = self._find(participant_sid)
            found: set[str] = set()
            for other in room.connected():
                if other.sid == participant.sid:
                    continue
                tracks = list(other.tracks.values()) or [("", "")]
                rules = participant.subscribe_rules
                if any(subscribed(rules, other.identity, kind, name) for kind, name in tracks):
                    found.add(other.identity)
            return found

    # -- the REST API -------------------------------------------------------------------------

    def list_participants(self, room_sid: str, path: str, params: Params) -> list[Participant]:
        refuse_unknown(params, LIST_PARAMS)
        room = self.room(room_sid, path)
        status = params.get("Status") or None
        if status is not None and status not in PARTICIPANT_STATUSES:
            raise invalid("Status", status, PARTICIPANT_STATUSES)
        # The default: connected participants of an in-progress room, and of a completed one
        # only disconnected participants are returned.
        if room.status != "in-progress":
            status = "disconnected" if status in (None, "disconnected") else "none"
        wanted = status or "connected"
        identity = params.get("Identity") or None
        after = params.get("DateCreatedAfter") or None
        before = params.get("DateCreatedBefore") or None
        found = [
            p
            for p in room.participants.values()
            if p.status == wanted
            and identity in (None, p.identity)
            and (after is None or (iso(p.created) or "") > after)
            and (before is None or (iso(p.created) or "") < before)
        ]
        return sorted(found, key=lambda p: (p.created, p.sid))

    def participant(self, room_sid: str, participant_sid: str, path: str) -> Participant:
        room = self.room(room_sid, path)
        participant = room.participants.get(participant_sid)
        if participant is None:
            raise not_found(path)
        return participant

    def update_participant(
        self, room_sid: str, participant_sid: str, path: str, params: Params
    ) -> Participant:
        refuse_unknown(params, {"Status"})
        room = self.room(room_sid, path)
        participant = room.participants.get(participant_sid)
        if participant is None:
            raise not_found(path)
        status = params.get("Status")
        if not status:
            raise missing("Status")
        if status != "disconnected":
            raise ApiError(400, 53209, f"Participant status is invalid: {status!r}")
        if participant.status != "disconnected":
            self._leave(room, participant)
        return participant

    def subscribe_rules(self, room_sid: str, participant_sid: str, path: str) -> Participant:
        return self.participant(room_sid, participant_sid, path)

    def update_subscribe_rules(
        self, room_sid: str, participant_sid: str, path: str, params: Params
    ) -> Participant:
        refuse_unknown(params, {"Rules"})
        participant = self.participant(room_sid, participant_sid, path)
        rules = check_rules(params.get("Rules"))
        if participant.status == "disconnected":
            raise participant_not_found(participant_sid)
        participant.subscribe_rules = rules
        participant.rules_updated = self.clock()
        return participant

    # -- helpers ------------------------------------------------------------------------------

    def _find(self, participant_sid: str) -> tuple[Room, Participant]:
        for room in self.rooms.values():
            participant = room.participants.get(participant_sid)
            if participant is not None:
                return room, participant
        raise not_found(f"/v1/Participants/{participant_sid}")

    def _set_presence(self, participant_sid: str, before: str, after: str) -> None:
        with self.lock:
            self.expire()
            _, participant = self._find(participant_sid)
            if participant.status != before:
                reason = f"Participant {participant_sid} is {participant.status}, not {before}"
                raise ApiError(400, 20001, reason)
            participant.status = after
            participant.updated = self.clock()

    def _leave(self, room: Room, participant: Participant, at: float | None = None) -> None:
        """``participant`` is disconnected as of ``at`` (now by default), and reported."""
        when = self.clock() if at is None else at
        participant.status = "disconnected"
        participant.end_time = participant.updated = when
        self._tracks_changed(room)
        self._room_event(
            room,
            "participant-disconnected",
            {**_about(participant), "ParticipantDuration": str(int(when - participant.created))},
            at=when,
        )


def _about(participant: Participant) -> dict[str, str]:
    return {
        "ParticipantSid": participant.sid,
        "ParticipantIdentity": participant.identity,
        "ParticipantStatus": participant.status,
    }
