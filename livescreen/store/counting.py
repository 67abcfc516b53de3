"""Counting off the viewer's path: the dev server's audience events, applied by one thread.

The dev server's hub reports a viewer joining or leaving, a stream ending and a chat message as
they happen; the ``Counter`` stamps each with the clock, puts it on a bounded queue and returns
at once, and one daemon thread applies the events to the store in the order they came. A store
that fails is logged, never raised to whoever reported the event. A full queue (the store far
behind) drops the event and says so in the log, at most once per ``DROP_LOG_INTERVAL``: a
request never waits for counting.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from livescreen.config import Settings
from livescreen.store import StreamStore, get_stream_store

logger = logging.getLogger(__name__)

#: Events waiting to be applied before new ones are dropped.
MAX_PENDING = 10_000
#: Seconds between two "dropped" warnings.
DROP_LOG_INTERVAL = 60.0

_STOP = object()


class Counter:
    """Applies audience events to ``store`` in order, on its own thread."""

    def __init__(
        self,
        store: StreamStore,
        clock: Callable[[], float] = time.time,
        *,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.store = store
        self._clock = clock
        self._max_pending = max_pending
        # unbounded itself: the bound is ``max_pending``, checked before a put that never waits
        self._queue: queue.Queue[Any] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._dropped = 0
        self._last_drop_log: float | None = None
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._closed = False
        self._dropped_after_close = False

    # -- what the hub reports (each returns at once) ----------------------------------------

    def viewer_joined(self, stream_id: str, viewer_id: str) -> None:
        self._enqueue("viewer_joined", stream_id, viewer_id)

    def viewer_left(self, stream_id: str, viewer_id: str) -> None:
        self._enqueue("viewer_left", stream_id, viewer_id)

    def stream_ended(self, stream_id: str) -> None:
        self._enqueue("stream_ended", stream_id)

    def chat_message(self, message_id: str) -> None:
        self._enqueue("chat_message", message_id)

    # -- for tests and shutdown -------------------------------------------------------------

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every event reported so far to be applied;
        whether they were."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self) -> None:
        """Stop the thread once the events already queued are applied. A closed counter stays
        closed: later events are dropped (said once in the log), never applied by a second
        thread."""
        with self._thread_lock:
            if self._closed:
                return
            self._closed = True
            running = self._thread is not None
        if running:
            self._queue.put(_STOP)

    # -- the worker -------------------------------------------------------------------------

    def _enqueue(self, operation: str, *args: str) -> None:
        with self._thread_lock:  # (so close() cannot slip its stop between the check and put)
            closed, first_after_close = self._closed, not self._dropped_after_close
            if closed:
                self._dropped_after_close = True
            else:
                self._start()
                with self._idle:
                    full = self._pending >= self._max_pending
                    if not full:
                        self._pending += 1
                if not full:
                    self._queue.put((operation, args, self._clock()))
        if closed:
            if first_after_close:
                logger.warning(
                    "Audience counting has stopped: a %s and any later event are not counted",
                    operation,
                )
        elif full:
            self._drop(operation)

    def _drop(self, operation: str) -> None:
        now = time.monotonic()
        with self._idle:
            self._dropped += 1
            if self._last_drop_log is not None and now - self._last_drop_log < DROP_LOG_INTERVAL:
                return
            self._last_drop_log, dropped, self._dropped = now, self._dropped, 0
        logger.warning(
            "Audience counting is behind (%d events waiting): %d event(s) dropped, the last a %s",
            self._max_pending,
            dropped,
            operation,
        )

    def _start(self) -> None:
        """Start the thread if it is not running (the caller holds ``_thread_lock``)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="audience-counter", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            operation, args, at = item
            try:
                getattr(self.store, operation)(*args, at=at)
            except Exception as exc:
                logger.warning("Audience counting could not apply a %s: %s", operation, exc)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()


_lock = threading.Lock()
_counter: Counter | None = None


def counter_for(settings: Settings) -> Counter | None:
    """The process's Counter for the configured store; None with ``STREAM_STORE=off``."""
    global _counter
    store = get_stream_store(settings)
    if store is None:
        return None
    with _lock:
        if _counter is None or _counter.store is not store:
            if _counter is not None:
                _counter.close()
            _counter = Counter(store)
        return _counter


def flush_counter(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the process's Counter (if any) to apply what it was
    told: a dev server that is shutting down keeps the ends of the streams it ended."""
    with _lock:
        counter = _counter
    return counter is None or counter.flush(timeout)


def clear_counter() -> None:
    """Stop and forget the process's Counter (tests; a settings change in the dev server)."""
    global _counter
    with _lock:
        if _counter is not None:
            _counter.close()
        _counter = None
