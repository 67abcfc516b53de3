"""What Twilio does to rooms by itself as time passes, kept on the emulator's clock.

- A participant connected (or reconnecting) for the room's ``MaxParticipantDuration`` seconds
  is disconnected: ``participant-disconnected``.
- An in-progress room nobody ever joined ends ``UnusedRoomTimeout`` minutes after its creation;
  one that has been empty for ``EmptyRoomTimeout`` minutes (since its last participant left)
  ends too: ``room-ended``, exactly as a completion through the API.

Each rule takes effect at the moment it fell due, not when it is noticed: ``end_time``, the
durations and the callbacks' ``Timestamp`` say that moment, and when the clock has jumped past
several of them they apply one after another in the order they fell due (a participant
disconnected at its limit leaves a room that then times out). The state checks them before
every request and every client action; the server can also check them on a timer
(``EmulatorServer(tick_interval=...)``), so a room ends on time with nobody calling.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from twilio_emulator.resources import Participant, Room

#: A rule that fell due: (when, what it does).
Due = tuple[float, Callable[[], None]]


class RoomTimersMixin:
    """The time-driven half of ``EmulatorState`` (which supplies these attributes)."""

    rooms: dict[str, Room]

    if TYPE_CHECKING:  # supplied by the room and participant halves of the state

        def _leave(self, room: Room, participant: Participant, at: float | None = None) -> None:
            pass

        def _end_room(self, room: Room, at: float) -> None:
            pass

    def expire_rooms(self, now: float) -> None:
        """Apply every room and participant rule due by ``now``, earliest first."""
        while (due := self._next_due()) is not None and due[0] <= now:
            due[1]()

    def _next_due(self) -> Due | None:
        earliest: Due | None = None
        for room in self.rooms.values():
            if room.status != "in-progress":
                continue
            for candidate in _room_rules(room, self._leave, self._end_room):
                if earliest is None or candidate[0] < earliest[0]:
                    earliest = candidate
        return earliest


def room_deadline(room: Room) -> float:
    """When an in-progress room with nobody in it ends by itself."""
    if not room.participants:
        return room.created + room.unused_room_timeout * 60
    emptied = max(p.end_time or p.created for p in room.participants.values())
    return emptied + room.empty_room_timeout * 60


def _room_rules(
    room: Room,
    leave: Callable[[Room, Participant, float], None],
    end: Callable[[Room, float], None],
) -> list[Due]:
    present = room.connected()
    if not present:
        deadline = room_deadline(room)
        return [(deadline, partial(end, room, deadline))]
    rules: list[Due] = []
    for participant in present:
        deadline = participant.created + room.max_participant_duration
        rules.append((deadline, partial(leave, room, participant, deadline)))
    return rules
