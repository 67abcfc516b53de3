"""Count an IVS stream's audience from IVS's own participant records.

IVS sends EventBridge no event when a viewer joins or leaves a stage: the ``IVS Stage Update``
events are about publishing only (Participant Published, Unpublished, Publish Error, Replication
Started/Stopped), and a viewer only subscribes. But IVS keeps a record of every participant of
a stage session, viewers included, and the stage API reads it:

- ``ListParticipants(stageArn, sessionId)``: each participant's ``participantId``, ``userId``,
  ``state`` (``CONNECTED`` | ``DISCONNECTED``) and ``firstJoinTime``, up to 100 a page;
- ``ListParticipantEvents(stageArn, sessionId, participantId)``: its ``JOINED`` / ``LEFT`` / ...
  events, each with its ``eventTime``.

``count_audience`` reads the session's participants (at most ``MAX_PAGES`` pages), skips the
host's ``userId``, asks ``ListParticipantEvents`` when a disconnected viewer left (only for a
leave this container has not counted yet), and feeds the stream store every join and leave in
time order, so the store's current and peak numbers come out as they were. The store counts
each participant id once, so running twice, or in two containers, counts nothing twice.

IVS allows 5 calls a second per operation and account (not adjustable); a run makes at most one
call every ``CALL_INTERVAL`` seconds and stops asking IVS once its time ``budget`` is spent (or
the page bound is reached): a viewer whose leave was not read then stays counted as watching,
and the stream's end closes the session (``StreamStore.stream_ended``). Only the stage's session
that is counted (the active one, or the one an event names) is read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from livescreen.store import StreamStore

logger = logging.getLogger(__name__)

#: ListParticipants pages read per run at most (100 participants a page).
MAX_PAGES = 20
PAGE_SIZE = 100
#: ListParticipantEvents pages read per participant at most.
MAX_EVENT_PAGES = 3
#: Seconds between two IVS calls of one run: 4 a second, under IVS's 5 TPS per operation.
CALL_INTERVAL = 0.25
#: Stage sessions whose counted joins and leaves a container remembers.
REMEMBERED_SESSIONS = 16


@dataclass
class _Session:
    joined: set[str] = field(default_factory=set)
    left: set[str] = field(default_factory=set)


class CountedViewers:
    """What this container has already applied to the store, per stage session (bounded), so
    a run skips the store writes and the IVS calls an earlier run made. Thread-safe."""

    def __init__(self, sessions: int = REMEMBERED_SESSIONS) -> None:
        self._limit = sessions
        self._sessions: OrderedDict[tuple[str, str], _Session] = OrderedDict()
        self._lock = threading.Lock()

    def session(self, stage_arn: str, session_id: str) -> _Session:
        key = (stage_arn, session_id)
        with self._lock:
            found = self._sessions.pop(key, None) or _Session()
            self._sessions[key] = found
            while len(self._sessions) > self._limit:
                self._sessions.popitem(last=False)
            return found


@dataclass(frozen=True)
class AudienceCount:
    """What one run saw and changed."""

    viewers: int = 0
    joins: int = 0
    leaves: int = 0
    #: the page bound or the time budget stopped it before it read everything
    incomplete: bool = False


class _Pacer:
    """One IVS call at a time, ``interval`` apart, none started past ``deadline``."""

    def __init__(
        self,
        interval: float,
        budget: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._deadline = clock() + budget
        self._next = clock()

    def ready(self) -> bool:
        """Wait for the next call's turn; False (no wait) when it would start past the budget."""
        now = self._clock()
        start = max(now, self._next)
        if start > self._deadline:
            return False
        if start > now:
            self._sleep(start - now)
        self._next = start + self._interval
        return True


def count_audience(
    client: Any,
    store: StreamStore,
    *,
    stream_id: str,
    stage_arn: str,
    session_id: str,
    host_identity: str,
    budget: float,
    counted: CountedViewers | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> AudienceCount:
    """Count the session's viewers into ``stream_id`` (see the module docstring).

    Raises what the IVS client or the store raises; the callers log it and go on.
    """
    pacer = _Pacer(CALL_INTERVAL, budget, clock, sleep)
    seen = (counted or CountedViewers()).session(stage_arn, session_id)
    # (each call written out: tests/stack/ivs_calls.py reads the IVS calls from the source)
    listing = _Pages(
        lambda **params: client.list_participants(**params),
        pacer,
        MAX_PAGES,
        stageArn=stage_arn,
        sessionId=session_id,
        maxResults=PAGE_SIZE,
    )
    viewers = {  # by id: a participant listed twice (pages shifting meanwhile) is one
        p["participantId"]: p
        for page in listing
        for p in page.get("participants", [])
        if p.get("userId") != host_identity and p.get("participantId") and p.get("firstJoinTime")
    }
    complete = listing.complete
    changes: list[tuple[float, int, str]] = []  # (time, 0 leave | 1 join, participant)
    for pid, viewer in viewers.items():
        if pid not in seen.joined:
            changes.append((_seconds(viewer["firstJoinTime"]), 1, pid))
        if viewer.get("state") != "DISCONNECTED" or pid in seen.left:
            continue
        # once over budget no call is made: the session stays open, the stream's end closes it
        events = _Pages(
            lambda **params: client.list_participant_events(**params),
            pacer,
            MAX_EVENT_PAGES,
            stageArn=stage_arn,
            sessionId=session_id,
            participantId=pid,
            maxResults=PAGE_SIZE,
        )
        left = [
            _seconds(e["eventTime"])
            for page in events
            for e in page.get("events", [])
            if e.get("name") == "LEFT" and e.get("eventTime")
        ]
        if left:
            changes.append((max(left), 0, pid))  # the last time it left
        complete = complete and events.complete
    joins = leaves = 0
    for at, kind, pid in sorted(changes):
        if kind:
            joins += store.viewer_joined(stream_id, pid, at=at)
            seen.joined.add(pid)
        else:
            leaves += store.viewer_left(stream_id, pid, at=at)
            seen.left.add(pid)
    if not complete:
        logger.info("audience of %s counted in part (bound or time budget reached)", stage_arn)
    return AudienceCount(len(viewers), joins, leaves, incomplete=not complete)


class _Pages:
    """The pages of one IVS list call, at most ``limit``, each call paced; ``complete`` says
    afterwards whether the last page was reached."""

    def __init__(
        self, call: Callable[..., dict[str, Any]], pacer: _Pacer, limit: int, **params: Any
    ) -> None:
        self._call = call
        self._pacer = pacer
        self._limit = limit
        self._params = params
        self.complete = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        params = dict(self._params)
        for _ in range(self._limit):
            if not self._pacer.ready():
                return
            page = self._call(**params)
            yield page
            token = page.get("nextToken")
            if not token:
                self.complete = True
                return
            params["nextToken"] = token


def _seconds(value: datetime | str) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.timestamp()
