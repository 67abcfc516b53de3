"""Count an IVS stream's audience from IVS's own participant records: read, then apply.

IVS sends EventBridge no event when a viewer joins or leaves a stage: the ``IVS Stage Update``
events are about publishing only (Participant Published, Unpublished, Publish Error, Replication
Started/Stopped), and a viewer only subscribes. But IVS keeps a record of every participant of
a stage session, viewers included, and the stage API reads it:

- ``ListParticipants(stageArn, sessionId)``: each participant's ``participantId``, ``userId``,
  ``state`` (``CONNECTED`` | ``DISCONNECTED``) and ``firstJoinTime``, up to 100 a page;
- ``ListParticipantEvents(stageArn, sessionId, participantId)``: its ``JOINED`` / ``LEFT`` / ...
  events, each with its ``eventTime``.

A count is two steps, so that a caller can delete the stage between them (the records can only
be read while the stage exists; the store can be written after):

- ``read_audience`` reads the session's participants (at most ``MAX_PAGES`` pages), skips the
  host's ``userId``, and asks ``ListParticipantEvents`` when a disconnected viewer left (only
  for a leave this container has not counted yet). It makes at most one call every
  ``CALL_INTERVAL`` seconds (IVS allows 5 a second per operation and account, not adjustable)
  and starts a call only if that call's worst case (``call_limit``) ends by its ``deadline``;
  an IVS failure ends the read early. It returns what it found.
- ``apply_audience`` feeds the stream store those joins and leaves in time order, so the
  store's current and peak numbers come out as they were, and starts no write after its own
  ``deadline`` (the rest is left to a later count, or to the stream's end).

A viewer IVS lists as disconnected but whose leave was not read (the deadline or a failure came
first) is not counted in by a live count: counted in, it would raise the current and peak
numbers although it has gone; a later count reads when it left. The final count (``final``: the
stream is ending) counts it as joined and left at once, a viewer with no minutes watched. A
viewer still connected whose join was counted stays watching until the stream's end closes it
(``StreamStore.stream_ended``). The store counts each participant id once, so running twice, or
in two containers, counts nothing twice. Only the stage's session that is counted (the active
one, or the one an event names) is read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from livescreen.providers.ivs.client import AWS_ERRORS, error_code
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
class Viewer:
    """One viewer as IVS's records showed it."""

    joined_at: float
    #: IVS lists it as disconnected
    departed: bool = False
    #: when it last left, if that was read
    left_at: float | None = None


@dataclass(frozen=True)
class AudienceRead:
    """What ``read_audience`` found of one stage session."""

    stage_arn: str
    session_id: str
    viewers: Mapping[str, Viewer] = field(default_factory=dict)
    #: every page was read (no bound, deadline or failure stopped it)
    complete: bool = True


@dataclass(frozen=True)
class AudienceCount:
    """What one apply changed."""

    viewers: int = 0
    joins: int = 0
    leaves: int = 0
    #: the read or the apply stopped before the end (bound, deadline or failure)
    incomplete: bool = False


class _Pacer:
    """One IVS call at a time, ``interval`` apart, none that could end past ``deadline``."""

    def __init__(
        self,
        interval: float,
        deadline: float,
        call_limit: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._last_start = deadline - call_limit
        self._next = clock()

    def ready(self) -> bool:
        """Wait for the next call's turn; False (no wait) when the call could end too late."""
        now = self._clock()
        start = max(now, self._next)
        if start > self._last_start:
            return False
        if start > now:
            self._sleep(start - now)
        self._next = start + self._interval
        return True


def read_audience(
    client: Any,
    *,
    stage_arn: str,
    session_id: str,
    host_identity: str,
    deadline: float,
    call_limit: float,
    counted: CountedViewers | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> AudienceRead:
    """Read the session's viewers (see the module docstring). Every IVS call it makes has ended
    by ``deadline`` if a call takes at most ``call_limit`` seconds. An IVS failure is logged and
    ends the read: what was found before is returned, marked incomplete."""
    pacer = _Pacer(CALL_INTERVAL, deadline, call_limit, clock, sleep)
    seen = (counted or CountedViewers()).session(stage_arn, session_id)
    viewers: dict[str, Viewer] = {}
    complete = False
    try:
        # (each call written out: tests/stack/ivs_calls.py reads the IVS calls from the source)
        listing = _Pages(
            lambda **params: client.list_participants(**params),
            pacer,
            MAX_PAGES,
            stageArn=stage_arn,
            sessionId=session_id,
            maxResults=PAGE_SIZE,
        )
        for page in listing:  # by id: a participant listed twice (pages shifting) is one
            for p in page.get("participants", []):
                pid, joined = p.get("participantId"), p.get("firstJoinTime")
                if p.get("userId") != host_identity and pid and joined:
                    viewers[pid] = Viewer(_seconds(joined), p.get("state") == "DISCONNECTED")
        complete = listing.complete
        for pid, viewer in list(viewers.items()):
            if not viewer.departed or pid in seen.left:
                continue
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
            if left:  # the last time it left
                viewers[pid] = Viewer(viewer.joined_at, departed=True, left_at=max(left))
            complete = complete and events.complete
    except AWS_ERRORS as exc:
        complete = False
        logger.warning(
            "reading the audience of IVS stage %s stopped: %s", stage_arn, error_code(exc) or exc
        )
    if not complete:
        logger.info("audience of %s read in part (bound, deadline or failure)", stage_arn)
    return AudienceRead(stage_arn, session_id, viewers, complete)


def apply_audience(
    store: StreamStore,
    read: AudienceRead,
    *,
    stream_id: str,
    final: bool,
    deadline: float,
    counted: CountedViewers | None = None,
    clock: Callable[[], float] = time.time,
) -> AudienceCount:
    """Write what ``read`` found into ``stream_id`` in time order, starting no write after
    ``deadline``; ``final`` when the stream is ending (see the module docstring).

    Raises what the store raises; the callers log it and go on.
    """
    seen = (counted or CountedViewers()).session(read.stage_arn, read.session_id)
    changes: list[tuple[float, int, str]] = []  # (time, 0 leave | 1 join | 2 both, participant)
    for pid, viewer in read.viewers.items():
        if pid in seen.left:
            continue  # counted in and out already
        if viewer.departed and viewer.left_at is None:  # gone, but when was not read
            if final and pid not in seen.joined:
                changes.append((viewer.joined_at, 2, pid))
            continue  # live: a later count reads when it left
        if pid not in seen.joined:
            changes.append((viewer.joined_at, 1, pid))
        if viewer.left_at is not None:
            changes.append((viewer.left_at, 0, pid))
    joins = leaves = 0
    stopped = False
    for at, kind, pid in sorted(changes):
        if clock() >= deadline:
            stopped = True
            break
        if kind:
            joined = store.viewer_joined(stream_id, pid, at=at)
            joins += joined
            seen.joined.add(pid)
            if kind == 2 and joined:  # a join counted elsewhere stays open for the end
                leaves += store.viewer_left(stream_id, pid, at=at)
                seen.left.add(pid)
        else:
            leaves += store.viewer_left(stream_id, pid, at=at)
            seen.left.add(pid)
    if stopped:
        logger.info("audience of %s applied in part (deadline reached)", read.stage_arn)
    incomplete = stopped or not read.complete
    return AudienceCount(len(read.viewers), joins, leaves, incomplete=incomplete)


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
