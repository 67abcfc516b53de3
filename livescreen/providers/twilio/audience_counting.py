"""Audience numbers from Twilio's room status callbacks: a viewer joined, left, the stream ended.

``room_events`` calls ``count_room_event`` for every signed callback, once the provider has
acted on it (stopped the room, set a viewer's rules).
A viewer is counted by its ``ParticipantSid`` (one session in the room), as of the callback's
``Timestamp``, so a late or retried callback counts the right minutes; the store counts each
participant once, so Twilio's retries cannot count twice. ``room-ended`` (or the host leaving)
ends the stream's record, which closes the sessions whose leave never arrived.

Counting never stands in the way of the callback's own work, done before it: whatever the
store raises is logged, never raised. It runs on the room callback, never on a viewer's join.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from livescreen.config import Settings
from livescreen.providers.twilio.room_event_rules import ENDED, JOINED, audience_change
from livescreen.providers.twilio.timestamps import parse_time
from livescreen.store import get_stream_store

log = logging.getLogger(__name__)


def _field(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""


def event_time(event: Mapping[str, Any], now: Callable[[], float] = time.time) -> float:
    """When the event happened: its ``Timestamp`` (ISO 8601, UTC), else now."""
    stamp = parse_time(event.get("Timestamp"))
    return now() if stamp is None else stamp.timestamp()


def count_room_event(
    settings: Settings, event: Mapping[str, Any], *, now: Callable[[], float] = time.time
) -> bool:
    """Count one room status callback into the stream store.

    True when the store took it; False for an event that changes nothing (not a viewer, not
    a room of this app, counted already, a stream never recorded, no store). Never raises: a
    failure is logged.
    """
    room = _field(event, "RoomName")
    name = _field(event, "StatusCallbackEvent")
    try:
        change = audience_change(
            name, room, _field(event, "ParticipantIdentity"), settings["HOST_IDENTITY"]
        )
        participant = _field(event, "ParticipantSid")
        if change is None or (change != ENDED and not participant):
            return False
        at = event_time(event, now)
        store = get_stream_store(settings)
        if store is None:
            return False
        if change == ENDED:
            return store.stream_ended(room, at=at) is not None
        if change == JOINED:
            return store.viewer_joined(room, participant, at=at)
        return store.viewer_left(room, participant, at=at)
    except Exception as error:  # counting must never fail the callback's own work
        log.warning("Could not count %s in room %s: %s", name, room, error)
        return False
