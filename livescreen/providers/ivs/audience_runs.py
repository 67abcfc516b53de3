"""When the IVS code counts an audience, how long it may take, and that a count never stops
what runs it.

A count reads IVS's records (``audience.read_audience``) while the stage exists, then, after
the stage is deleted, writes them to the store (``audience.apply_audience``): the provider's
``stop_stream`` and the stage-events handler around their DeleteStage, the reaper around each
stage it deletes, and the host's live numbers (``IvsProvider.refresh_audience``, no delete) at
most once per room and ``RoomAudience`` interval. ``read_quietly`` and ``apply_quietly`` log
any failure of IVS or the store and return: the stage is deleted and the host answered all the
same (cost safety first).

Both steps end by a deadline the caller sets (``read_deadline``, ``apply_deadline``) so that the
DeleteStage after the read, and the stream's end after the apply, still fit in the function's
timeout: a read starts an IVS call only if one call's worst case (``worst_call_seconds``: two
attempts of ``UPSTREAM_TIMEOUT``) ends by its deadline, and when too little time is left it
makes none. What was not read or written waits for a later count or the stream's end.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from livescreen.config import Settings
from livescreen.providers.ivs.audience import (
    AudienceCount,
    AudienceRead,
    CountedViewers,
    apply_audience,
    read_audience,
)
from livescreen.providers.ivs.client import error_code
from livescreen.providers.ivs.stages import StageSummary
from livescreen.store import StreamStore, get_stream_store

logger = logging.getLogger(__name__)

#: rooms a ``Throttle`` remembers before it forgets them all
_ROOMS = 32
#: what ``worst_call_seconds`` assumes without settings: two attempts of the default 4 s
DEFAULT_CALL_LIMIT = 8.0
#: /stream_stop's timeout (template.yaml). A stop's count may start IVS calls for
#: ``STOP_READ_WINDOW`` seconds, none that could end later than the DeleteStage, the apply and
#: the stream's end need; it writes to the store for ``STOP_APPLY_SECONDS`` at most, leaving
#: ``STOP_END_SECONDS`` for the endpoint to end the stream.
STOP_SECONDS = 29.0
STOP_READ_WINDOW = 4.0
STOP_APPLY_SECONDS = 3.0
STOP_END_SECONDS = 4.0
#: A live refresh answers a poll: IVS calls start for ``REFRESH_READ_WINDOW`` seconds at most
#: (each ending within its worst case), store writes for ``REFRESH_APPLY_SECONDS``.
REFRESH_READ_WINDOW = 3.0
REFRESH_APPLY_SECONDS = 2.0


def worst_call_seconds(settings: Settings) -> float:
    """The longest one IVS call can take: two attempts of ``UPSTREAM_TIMEOUT`` (``make_client``)."""
    return 2.0 * settings.get_int("UPSTREAM_TIMEOUT", minimum=1, maximum=60)


def read_deadline(
    now: float, *, window: float, call_limit: float, time_left: float, after: float
) -> float:
    """When a read's IVS calls must all have ended: calls may start for ``window`` seconds
    (each then takes up to ``call_limit``), and ``after`` seconds of the ``time_left`` stay
    for what follows (the DeleteStage, the apply, the stream's end)."""
    return now + min(window + call_limit, time_left - after)


def apply_deadline(now: float, *, window: float, time_left: float, after: float) -> float:
    """When an apply starts no more writes: ``window`` seconds from ``now``, leaving ``after``
    of the ``time_left``."""
    return now + min(window, time_left - after)


def remaining_time(context: Any) -> Callable[[], float] | None:
    """The seconds the Lambda context says are left, or None (no such context)."""
    millis = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(millis):
        return None
    return lambda: float(millis()) / 1000.0


def read_quietly(
    client: Any,
    *,
    stage_arn: str,
    session_id: str,
    host_identity: str,
    deadline: float,
    call_limit: float,
    counted: CountedViewers,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> AudienceRead | None:
    """``read_audience``, or None when it failed (logged, never raised)."""
    try:
        return read_audience(
            client,
            stage_arn=stage_arn,
            session_id=session_id,
            host_identity=host_identity,
            deadline=deadline,
            call_limit=call_limit,
            counted=counted,
            clock=clock,
            sleep=sleep,
        )
    except Exception as exc:  # counting must never keep a stage billing or fail the host
        logger.warning(
            "could not read the audience of IVS stage %s: %s", stage_arn, error_code(exc) or exc
        )
        return None


def apply_quietly(
    store: StreamStore | None,
    read: AudienceRead | None,
    *,
    stream_id: str | None,
    final: bool,
    deadline: float,
    counted: CountedViewers,
    clock: Callable[[], float] = time.time,
) -> AudienceCount | None:
    """``apply_audience`` (nothing without a store, a stream or a read), or None when it failed
    (logged, never raised)."""
    if store is None or read is None or stream_id is None:
        return None
    try:
        return apply_audience(
            store,
            read,
            stream_id=stream_id,
            final=final,
            deadline=deadline,
            counted=counted,
            clock=clock,
        )
    except Exception as exc:  # the stage is deleted (or lives on) either way
        logger.warning("could not count the audience of stream %s: %s", stream_id, exc)
        return None


def store_or_none(settings: Settings) -> StreamStore | None:
    """The stream store, or None when it is off or misconfigured (logged): counting must never
    keep a stage billing."""
    try:
        return get_stream_store(settings)
    except Exception as exc:
        logger.warning("the stream store is unavailable: %s", exc)
        return None


def end_quietly(store: StreamStore | None, stream: str | None, *, at: float) -> None:
    """End ``stream`` in the store at ``at``; a failure is only logged (the stage is gone either
    way, and a later end closes what this left open)."""
    if store is None or stream is None:
        return
    try:
        store.stream_ended(stream, at=at)
    except Exception as exc:
        logger.warning("could not end stream %s: %s", stream, exc)


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
        self.call_limit = worst_call_seconds(settings)
        self._interval = interval
        self._counted = CountedViewers()
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def read_before_stop(
        self, client: Any, stage: StageSummary, *, began: float
    ) -> AudienceRead | None:
        """The stop's read (``began``: when the stop began), leaving the DeleteStage its time."""
        now = self._clock()
        return self.read(
            client,
            stage,
            deadline=read_deadline(
                now,
                window=STOP_READ_WINDOW,
                call_limit=self.call_limit,
                time_left=STOP_SECONDS - (now - began),
                after=self.call_limit + STOP_APPLY_SECONDS + STOP_END_SECONDS,
            ),
        )

    def apply_after_stop(self, room: str, read: AudienceRead | None, *, began: float) -> None:
        """The stop's final apply, once the stage is deleted."""
        now = self._clock()
        deadline = apply_deadline(
            now,
            window=STOP_APPLY_SECONDS,
            time_left=STOP_SECONDS - (now - began),
            after=STOP_END_SECONDS,
        )
        self.apply(room, read, final=True, deadline=deadline)

    def refresh(self, client: Any, room: str, stage: StageSummary) -> None:
        """A live count: a viewer gone whose leave was not read waits for a later one."""
        # no stage is deleted after: a poll that ran out of time would only fail
        read = self.read(
            client, stage, deadline=self._clock() + REFRESH_READ_WINDOW + self.call_limit
        )
        self.apply(room, read, final=False, deadline=self._clock() + REFRESH_APPLY_SECONDS)

    def read(self, client: Any, stage: StageSummary, *, deadline: float) -> AudienceRead | None:
        """Read the stage's active session, or None: nobody connected, no store, or a failure
        (logged)."""
        if not stage.active_session_id or self._store() is None:
            return None
        return read_quietly(
            client,
            stage_arn=stage.arn,
            session_id=stage.active_session_id,
            host_identity=self._host_identity,
            deadline=deadline,
            call_limit=self.call_limit,
            counted=self._counted,
            clock=self._clock,
            sleep=self._sleep,
        )

    def apply(self, room: str, read: AudienceRead | None, *, final: bool, deadline: float) -> None:
        """Write ``read`` into the stream ``room`` (failures logged)."""
        if read is not None:
            apply_quietly(
                self._store(),
                read,
                stream_id=room,
                final=final,
                deadline=deadline,
                counted=self._counted,
                clock=self._clock,
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

    def _store(self) -> StreamStore | None:
        return store_or_none(self._settings)
