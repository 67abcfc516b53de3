"""When the IVS code counts an audience, and that a count never stops what runs it.

A count (``audience.count_audience``) runs where the stage still exists: the provider's
``stop_stream`` and the stage-events handler before they delete the stage, the reaper before it
deletes one, and the host's live numbers (``IvsProvider.refresh_audience``) at most once per
room and ``RoomAudience`` interval. ``count_quietly`` logs any failure of IVS or the store and
returns: the stage is deleted and the host answered all the same (cost safety first).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from livescreen.config import Settings
from livescreen.providers.ivs.audience import AudienceCount, CountedViewers, count_audience
from livescreen.providers.ivs.client import error_code
from livescreen.providers.ivs.stages import StageSummary
from livescreen.store import StreamStore, get_stream_store

logger = logging.getLogger(__name__)

#: rooms a ``Throttle`` remembers before it forgets them all
_ROOMS = 32


def count_quietly(
    client: Any,
    store: StreamStore,
    *,
    stream_id: str,
    stage_arn: str,
    session_id: str,
    host_identity: str,
    budget: float,
    counted: CountedViewers,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> AudienceCount | None:
    """``count_audience``, or None when it failed (logged, never raised)."""
    try:
        return count_audience(
            client,
            store,
            stream_id=stream_id,
            stage_arn=stage_arn,
            session_id=session_id,
            host_identity=host_identity,
            budget=budget,
            counted=counted,
            clock=clock,
            sleep=sleep,
        )
    except Exception as exc:  # counting must never keep a stage billing or fail the host
        logger.warning(
            "could not count the audience of IVS stage %s: %s", stage_arn, error_code(exc) or exc
        )
        return None


def stream_of(store: StreamStore | None, stage_arn: str) -> str | None:
    """The app's stream on this stage, or None (none recorded, or the store failed: logged)."""
    if store is None:
        return None
    try:
        return store.stream_for_media(stage_arn)
    except Exception as exc:  # the stage is deleted either way
        logger.warning("could not find the stream of IVS stage %s: %s", stage_arn, exc)
        return None


class RoomAudience:
    """The provider's counting: what its instance counted already, and at most one live refresh
    per room every ``interval`` seconds, one at a time."""

    def __init__(
        self,
        settings: Settings,
        interval: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self._host_identity = settings.require("HOST_IDENTITY")
        self._interval = interval
        self._counted = CountedViewers()
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def count(self, client: Any, room: str, stage: StageSummary, *, budget: float) -> None:
        """Count the stage's active session into the stream ``room`` (failures logged)."""
        if not stage.active_session_id:
            return  # nobody is connected: nothing new to count
        try:
            store = get_stream_store(self._settings)
        except Exception as exc:  # a misconfigured store must not keep a stage billing
            logger.warning("the stream store is unavailable: %s", exc)
            return
        if store is None:
            return
        count_quietly(
            client,
            store,
            stream_id=room,
            stage_arn=stage.arn,
            session_id=stage.active_session_id,
            host_identity=self._host_identity,
            budget=budget,
            counted=self._counted,
            clock=self._clock,
            sleep=self._sleep,
        )

    def due(self, room: str, now: float) -> bool:
        """Whether to refresh now; when True the caller must call ``done`` afterwards."""
        if not self._lock.acquire(blocking=False):
            return False  # another request is counting right now
        if now < self._next.get(room, -math.inf):
            self._lock.release()
            return False
        if len(self._next) >= _ROOMS:
            self._next.clear()
        self._next[room] = now + self._interval
        return True

    def done(self) -> None:
        self._lock.release()
