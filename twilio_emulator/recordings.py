"""A room's recording rules and the track recordings they make (Video Recordings API).

What Twilio documents (https://www.twilio.com/docs/video/api/recording-rules):

- the set of recorded tracks starts empty, or with every track when the room was created with
  ``RecordParticipantsOnConnect=true``; the rules then apply in order, ``include`` adding the
  tracks a rule matches and ``exclude`` removing them; filters in one rule combine with AND;
- a ``POST`` replaces the whole list, and the rules are re-applied whenever tracks change;
- invalid rules (empty list, more than 20, ``all`` other than ``true`` or with other filters,
  no ``type``, a ``kind`` other than ``audio``/``video``, a repeated filter) are refused with
  HTTP 400 and error 53120, and the active rules stay as they were.

Each recorded track gets one ``RT`` recording, ``processing`` while it records and
``completed`` once the track stops being recorded (unpublished, excluded, its participant
left, or the room ended); data tracks are never recorded. ``fail_recording`` plays one that the
media server loses (``failed``). The Recordings resource and a room's Recordings subresource
render the same recording each in its own shape (``TrackRecording.to_json``/``room_json``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from twilio_emulator.errors import ApiError, invalid, missing, not_found
from twilio_emulator.params import Params
from twilio_emulator.recording_resources import (
    RecordingRules,
    RoomRecording,
    TrackRecording,
)
from twilio_emulator.resources import Participant, Room, iso, new_sid

RECORDING_RULE_FILTERS = frozenset({"all", "publisher", "track", "kind"})
RECORDED_KINDS = ("audio", "video")
MAX_RECORDING_RULES = 20
RECORDING_STATUSES = ("processing", "completed", "deleted", "failed")
RECORDING_LIST_PARAMS = frozenset(
    {"Status", "SourceSid", "DateCreatedAfter", "DateCreatedBefore", "PageSize", "Page"}
)
ALL_RECORDINGS_LIST_PARAMS = RECORDING_LIST_PARAMS | {"GroupingSid", "MediaType", "PageToken"}


def invalid_recording_rules(reason: str) -> ApiError:
    return ApiError(400, 53120, f"Invalid Recording Rule(s): {reason}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise invalid_recording_rules("a rule cannot repeat a filter")
    return dict(pairs)


def parse_recording_rules(raw: str | None) -> list[dict[str, Any]]:
    """The recording rules in ``raw`` (a JSON array), or ``ApiError`` 53120 naming the fault."""
    if raw is None or raw == "":
        raise missing("Rules")
    try:
        rules = json.loads(raw, object_pairs_hook=_no_duplicates)
    except ValueError:
        raise invalid_recording_rules("Rules must be a JSON array") from None
    if isinstance(rules, dict) and isinstance(rules.get("rules"), list):
        rules = rules["rules"]  # the {"rules": [...]} shape the resource itself renders
    if not isinstance(rules, list):
        raise invalid_recording_rules("Rules must be a JSON array")
    if not rules:
        raise invalid_recording_rules("an empty set of rules is not allowed")
    if len(rules) > MAX_RECORDING_RULES:
        raise invalid_recording_rules(f"at most {MAX_RECORDING_RULES} rules are allowed")
    for rule in rules:
        _check_rule(rule)
    return rules


def _check_rule(rule: object) -> None:
    if not isinstance(rule, dict):
        raise invalid_recording_rules("every rule must be a JSON object")
    if rule.get("type") not in ("include", "exclude"):
        raise invalid_recording_rules("every rule needs a type, include or exclude")
    filters = set(rule) - {"type"}
    unknown = filters - RECORDING_RULE_FILTERS
    if unknown:
        raise invalid_recording_rules(f"unknown filter {sorted(unknown)[0]!r}")
    if not filters:
        raise invalid_recording_rules("a rule must name all, a publisher, a track or a kind")
    if "all" in rule and (rule["all"] is not True or filters != {"all"}):
        raise invalid_recording_rules("'all' must be true and cannot go with another filter")
    if "kind" in rule and rule["kind"] not in RECORDED_KINDS:
        raise invalid_recording_rules("kind must be audio or video")
    for key in ("publisher", "track"):
        if key in rule and not isinstance(rule[key], str):
            raise invalid_recording_rules(f"{key} must be a string")


def _matches(
    rule: Mapping[str, Any], participant: Participant, sid: str, kind: str, name: str
) -> bool:
    if rule.get("all") is True:
        return True
    return (
        rule.get("kind", kind) == kind
        and rule.get("publisher", participant.identity) in (participant.identity, participant.sid)
        and rule.get("track", name) in (name, sid)
    )


def recorded(
    rules: Iterable[Mapping[str, Any]],
    on_connect: bool,
    participant: Participant,
    track: tuple[str, str, str],
) -> bool:
    """Whether ``track`` (SID, kind, name) of ``participant`` is in the set the rules record."""
    sid, kind, name = track
    if kind not in RECORDED_KINDS:
        return False
    chosen = on_connect
    for rule in rules:
        if _matches(rule, participant, sid, kind, name):
            chosen = rule["type"] == "include"
    return chosen


class RecordingsMixin:
    """The recording half of ``EmulatorState`` (which supplies these attributes)."""

    account_sid: str
    lock: threading.RLock
    rooms: dict[str, Room]
    clock: Callable[[], float]
    recording_rules: dict[str, RecordingRules]
    track_recordings: dict[str, TrackRecording]

    def room(self, name_or_sid: str, path: str) -> Room:  # pragma: no cover - in the state
        raise NotImplementedError

    # -- what the media server does --------------------------------------------------------

    def _tracks_changed(self, room: Room) -> None:
        """Start and stop track recordings so that they follow the room's rules."""
        now = self.clock()
        rules = self._rules_of(room).rules
        wanted: dict[str, tuple[Participant, str, str]] = {}
        if room.status == "in-progress":
            for participant in room.connected():
                for track_sid, (kind, name) in participant.tracks.items():
                    track = (track_sid, kind, name)
                    if recorded(rules, room.record_participants_on_connect, participant, track):
                        wanted[track_sid] = (participant, kind, name)
        for recording in self.track_recordings.values():
            if recording.room_sid != room.sid or recording.status != "processing":
                continue
            if wanted.pop(recording.track_sid, None) is None:
                recording.status = "completed"
                recording.ended = now
        for recording in self.room_recordings(room.sid):
            if recording.status == "failed":
                wanted.pop(recording.track_sid, None)  # lost, and not recorded again
        for track_sid, (participant, kind, name) in wanted.items():
            recording = TrackRecording(
                sid=new_sid("RT"),
                account_sid=self.account_sid,
                room_sid=room.sid,
                participant_sid=participant.sid,
                track_sid=track_sid,
                track_name=name,
                kind=kind,
                created=now,
            )
            self.track_recordings[recording.sid] = recording

    def _rules_of(self, room: Room) -> RecordingRules:
        rules = self.recording_rules.get(room.sid)
        if rules is None:
            rules = RecordingRules(room.sid, created=room.created, updated=room.created)
            if room.record_participants_on_connect:
                rules.rules = [{"type": "include", "all": True}]
            self.recording_rules[room.sid] = rules
        return rules

    def room_recordings(self, room_sid: str) -> list[TrackRecording]:
        return [r for r in self.track_recordings.values() if r.room_sid == room_sid]

    # -- the REST API ------------------------------------------------------------------------

    def get_recording_rules(self, room_sid: str, path: str) -> RecordingRules:
        return self._rules_of(self.room(room_sid, path))

    def update_recording_rules(self, room_sid: str, path: str, params: Params) -> RecordingRules:
        room = self.room(room_sid, path)
        unknown = set(params) - {"Rules"}
        if unknown:
            raise ApiError(400, 20001, f"Unknown parameter {sorted(unknown)[0]}")
        parsed = parse_recording_rules(params.get("Rules"))
        current = self._rules_of(room)
        current.rules = parsed
        current.updated = self.clock()
        self._tracks_changed(room)
        return current

    def list_room_recordings(self, room_sid: str, path: str, params: Params) -> list[RoomRecording]:
        room = self.room(room_sid, path)
        found = _filtered(self.room_recordings(room.sid), params, RECORDING_LIST_PARAMS)
        return [RoomRecording(recording) for recording in found]

    def room_recording(self, room_sid: str, sid: str, path: str) -> RoomRecording:
        room = self.room(room_sid, path)
        recording = self.track_recordings.get(sid)
        if recording is None or recording.room_sid != room.sid:
            raise not_found(path)
        return RoomRecording(recording)

    def list_recordings(self, params: Params) -> list[TrackRecording]:
        found = _filtered(list(self.track_recordings.values()), params, ALL_RECORDINGS_LIST_PARAMS)
        grouping = params.get("GroupingSid") or None
        kind = params.get("MediaType") or None
        if kind is not None and kind not in ("audio", "video", "data"):
            raise invalid("MediaType", kind, ("audio", "video", "data"))
        return [
            r
            for r in found
            if grouping in (None, r.room_sid, r.participant_sid) and kind in (None, r.kind)
        ]

    def recording(self, sid: str, path: str) -> TrackRecording:
        recording = self.track_recordings.get(sid)
        if recording is None:
            raise not_found(path)
        return recording

    def delete_recording(self, sid: str, path: str) -> None:
        recording = self.recording(sid, path)
        if recording.status == "processing":
            raise ApiError(400, 20001, f"Recording {sid} is still being recorded")
        recording.status = "deleted"

    # -- for tests --------------------------------------------------------------------------

    def fail_recording(self, sid: str) -> None:
        """The media server loses a track recording: it ends ``failed``, with no size and no
        duration, no composition uses it, and its track is not recorded again.

        A ``completed`` recording may fail too: the emulator completes a recording the moment
        its track stops, where Twilio would still be processing it.
        """
        with self.lock:
            recording = self.track_recordings.get(sid)
            if recording is None:
                raise not_found(f"/v1/Recordings/{sid}")
            if recording.status not in ("processing", "completed"):
                raise ApiError(400, 20001, f"Recording {sid} is {recording.status}")
            recording.status = "failed"
            recording.ended = None


def _filtered(
    recordings: list[TrackRecording], params: Params, allowed: frozenset[str]
) -> list[TrackRecording]:
    unknown = set(params) - allowed
    if unknown:
        raise ApiError(400, 20001, f"Unknown parameter {sorted(unknown)[0]}")
    status = params.get("Status") or None
    if status is not None and status not in RECORDING_STATUSES:
        raise invalid("Status", status, RECORDING_STATUSES)
    source = params.get("SourceSid") or None
    after = params.get("DateCreatedAfter") or None
    before = params.get("DateCreatedBefore") or None
    found = [
        r
        for r in recordings
        if status in (None, r.status)
        and source in (None, r.track_sid)
        and (after is None or (iso(r.created) or "") >= after)
        and (before is None or (iso(r.created) or "") < before)
    ]
    return sorted(found, key=lambda r: (r.created, r.sid), reverse=True)
