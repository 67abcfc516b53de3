"""Room participants: connecting with an access token, publishing, leaving, subscribe rules.

Clients join a Room through the Video SDK, not the REST API; the emulator plays that part with
``connect_participant`` (the caller has checked the token), ``publish_track`` and
``disconnect_participant``. The REST API reads participants, disconnects one
(``Status=disconnected``, the only update Twilio accepts) and reads or replaces a participant's
subscribe rules (Track Subscriptions API), validated as Twilio documents for error 53215.
Each change is reported to the room's StatusCallback: ``participant-connected``,
``participant-disconnected``, ``track-added``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from livescreen.twilio_emulator.errors import ApiError, invalid, missing, not_found
from livescreen.twilio_emulator.resources import Participant, Room, iso, new_sid

Params = Mapping[str, str]

PARTICIPANT_STATUSES = ("connected", "disconnected")
TRACK_KINDS = ("audio", "video", "data")
RULE_TYPES = ("include", "exclude")
RULE_KEYS = frozenset({"type", "all", "publisher", "track", "kind", "priority"})
RULE_PRIORITIES = ("low", "standard", "high")
MAX_RULES = 20
LIST_PARAMS = frozenset({"PageSize", "Page", "PageToken"})


def room_full() -> ApiError:
    """What a client connecting to a full Room is told (Twilio Video error 53105)."""
    return ApiError(400, 53105, "Room contains too many Participants")


def room_not_found(name: str) -> ApiError:
    return ApiError(404, 53106, f"Room not found: {name}")


def invalid_rules(reason: str) -> ApiError:
    return ApiError(400, 53215, f"Invalid Subscribe Rule(s): {reason}")


def refuse_unknown(params: Params, allowed: Iterable[str]) -> None:
    """Twilio answers 400 to a parameter its API reference does not list."""
    known = frozenset(allowed)
    for name in params:
        if name not in known:
            raise ApiError(400, 20001, f"Unknown parameter {name}")


def check_rules(raw: str | None) -> list[dict[str, Any]]:
    """The subscribe rules in ``Rules``, or ``ApiError`` 53215 naming what is wrong."""
    if raw is None or raw == "":
        raise missing("Rules")
    try:
        rules = json.loads(raw)
    except ValueError:
        raise invalid_rules("Rules must be a JSON array") from None
    if not isinstance(rules, list):
        raise invalid_rules("Rules must be a JSON array")
    if not rules:
        raise invalid_rules("an empty set of rules is not allowed")
    if len(rules) > MAX_RULES:
        raise invalid_rules(f"at most {MAX_RULES} rules are allowed")
    for rule in rules:
        if not isinstance(rule, dict):
            raise invalid_rules("every rule must be a JSON object")
        unknown = set(rule) - RULE_KEYS
        if unknown:
            raise invalid_rules(f"unknown field {sorted(unknown)[0]!r}")
        if rule.get("type") not in RULE_TYPES:
            raise invalid_rules("every rule needs a type, include or exclude")
        if "all" in rule:
            if rule["all"] is not True or set(rule) != {"type", "all"}:
                raise invalid_rules("'all' must be true and go with 'type' alone")
        elif not set(rule) & {"publisher", "track", "kind"}:
            raise invalid_rules("a rule must name all, a publisher, a track or a kind")
        if "kind" in rule and rule["kind"] not in TRACK_KINDS:
            raise invalid_rules("kind must be audio, video or data")
        if "priority" in rule and rule["priority"] not in RULE_PRIORITIES:
            raise invalid_rules("priority must be low, standard or high")
        for key in ("publisher", "track"):
            if key in rule and not isinstance(rule[key], str):
                raise invalid_rules(f"{key} must be a string")
    return rules


class ParticipantsMixin:
    """The participant half of ``EmulatorState`` (which supplies these attributes)."""

    account_sid: str
    lock: threading.RLock
    rooms: dict[str, Room]
    clock: Callable[[], float]

    def room(self, name_or_sid: str, path: str) -> Room:  # pragma: no cover - in the state
        raise NotImplementedError

    def _room_in_progress(self, name: str) -> Room | None:  # pragma: no cover - in the state
        raise NotImplementedError

    def _room_event(self, room: Room, event: str, **extra: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def _tracks_changed(self, room: Room) -> None:  # pragma: no cover - RecordingsMixin
        raise NotImplementedError

    # -- what clients do (the SDK's side) -----------------------------------------------------

    def connect_participant(self, room_name_or_sid: str, identity: str) -> Participant:
        """``identity`` connects to the in-progress room its token grants.

        A full room refuses with 53105; a room that is not in progress with 53106 (rooms are
        created through the REST API only; client-side room creation is off). A second
        connection with an identity already in the room replaces the first, as Twilio does.
        """
        with self.lock:
            room = self.rooms.get(room_name_or_sid) or self._room_in_progress(room_name_or_sid)
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
            self._room_event(room, "participant-connected", **_about(participant))
            return participant

    def publish_track(self, participant_sid: str, kind: str, name: str = "") -> str:
        """A connected participant publishes a track; returns its ``MT`` SID."""
        if kind not in TRACK_KINDS:
            raise invalid("TrackKind", kind, TRACK_KINDS)
        with self.lock:
            room, participant = self._find(participant_sid)
            if participant.status != "connected" or room.status != "in-progress":
                raise ApiError(400, 53204, "Participant is not connected")
            track_sid = new_sid("MT")
            participant.tracks[track_sid] = (kind, name or track_sid)
            self._tracks_changed(room)
            self._room_event(
                room,
                "track-added",
                **_about(participant),
                TrackSid=track_sid,
                TrackKind=kind,
                TrackName=name or track_sid,
            )
            return track_sid

    def participant_leaves(self, participant_sid: str) -> None:
        """The client disconnects by itself (tab closed, network lost)."""
        with self.lock:
            room, participant = self._find(participant_sid)
            if participant.status == "connected":
                self._leave(room, participant)

    def subscribed_publishers(self, participant_sid: str) -> set[str]:
        """Identities whose tracks ``participant_sid`` receives under its subscribe rules.

        Rules apply in order, a later one overriding an earlier one (include/exclude by
        ``all``, ``publisher``, ``kind``, ``track``); the result is per publisher: one whose
        every track is excluded is not in it.
        """
        with self.lock:
            room, participant = self._find(participant_sid)
            found: set[str] = set()
            for other in room.connected():
                if other.sid == participant.sid:
                    continue
                tracks = list(other.tracks.values()) or [("", "")]
                rules = participant.subscribe_rules
                if any(_subscribed(rules, other.identity, kind, name) for kind, name in tracks):
                    found.add(other.identity)
            return found

    # -- the REST API -------------------------------------------------------------------------

    def list_participants(self, room_sid: str, path: str, params: Params) -> list[Participant]:
        refuse_unknown(
            params, LIST_PARAMS | {"Status", "Identity", "DateCreatedAfter", "DateCreatedBefore"}
        )
        room = self.room(room_sid, path)
        status = params.get("Status") or None
        if status is not None and status not in PARTICIPANT_STATUSES:
            raise invalid("Status", status, PARTICIPANT_STATUSES)
        identity = params.get("Identity") or None
        after = params.get("DateCreatedAfter") or None
        before = params.get("DateCreatedBefore") or None
        found = [
            p
            for p in room.participants.values()
            if status in (None, p.status)
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
            raise invalid("Status", status, ("disconnected",))
        if participant.status == "connected":
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
        if participant.status != "connected":
            raise ApiError(400, 53204, "Participant is not connected")
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

    def _leave(self, room: Room, participant: Participant) -> None:
        now = self.clock()
        participant.status = "disconnected"
        participant.end_time = participant.updated = now
        self._tracks_changed(room)
        self._room_event(
            room,
            "participant-disconnected",
            **_about(participant),
            ParticipantDuration=str(int(now - participant.created)),
        )


def _about(participant: Participant) -> dict[str, str]:
    return {
        "ParticipantSid": participant.sid,
        "ParticipantIdentity": participant.identity,
        "ParticipantStatus": participant.status,
    }


def _subscribed(rules: list[dict[str, Any]], publisher: str, kind: str, track: str) -> bool:
    subscribed = False
    for rule in rules:
        matches = rule.get("all") is True or (
            rule.get("publisher", publisher) == publisher
            and rule.get("kind", kind) == kind
            and rule.get("track", track) == track
        )
        if matches:
            subscribed = rule["type"] == "include"
    return subscribed
