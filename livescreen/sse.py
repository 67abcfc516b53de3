"""Server-Sent Events fed from worker threads and written from an event loop.

Events are put by request handlers running on worker threads and read by the dev server's
event-stream writers, which run on its event loop: an open event stream must not hold a thread
while it waits. ``Inbox`` is a thread-safe FIFO that can be read both ways (``get`` blocks a
thread; ``next_event`` awaits on a loop); ``EventStream`` turns one inbox into SSE chunks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
from collections.abc import Callable
from typing import Any

Event = tuple[str, dict[str, Any]]


class Inbox(queue.Queue[Event]):
    """A ``queue.Queue`` of events that also wakes coroutines waiting on other threads' loops."""

    def __init__(self) -> None:
        super().__init__()
        self._wakers: set[Callable[[], None]] = set()
        self._wakers_lock = threading.Lock()

    def put(self, item: Event, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        with self._wakers_lock:
            wakers = list(self._wakers)
        for wake in wakers:
            wake()

    async def next_event(self, timeout: float, stop: asyncio.Event | None = None) -> Event | None:
        """The next event, or None after ``timeout`` seconds or once ``stop`` is set."""
        loop = asyncio.get_running_loop()
        arrived = asyncio.Event()

        def wake() -> None:
            # RuntimeError: the loop has closed, so nobody is waiting any more
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(arrived.set)

        with self._wakers_lock:
            self._wakers.add(wake)
        try:
            deadline = loop.time() + timeout
            while True:
                try:
                    return self.get_nowait()
                except queue.Empty:
                    pass
                remaining = deadline - loop.time()
                if remaining <= 0 or (stop is not None and stop.is_set()):
                    return None
                arrived.clear()
                waits = [asyncio.ensure_future(arrived.wait())]
                if stop is not None:
                    waits.append(asyncio.ensure_future(stop.wait()))
                try:
                    await asyncio.wait(waits, timeout=remaining, return_when="FIRST_COMPLETED")
                finally:
                    for waiting in waits:
                        waiting.cancel()
        finally:
            with self._wakers_lock:
                self._wakers.discard(wake)


class EventStream:
    """Events as SSE from the inbox opened on the first read; ends after an event named in
    ``final_events``, or when the consumer closes it (its socket went away). An inbox that
    cannot be opened ends the stream at once. While no event comes, a keep-alive comment is
    sent every ``keepalive`` seconds (read when the stream is built) and ``on_idle`` is called.

    Read it as an iterator on a thread, or with ``next_chunk`` on an event loop, where waiting
    for the next event holds no thread.
    """

    def __init__(
        self,
        open_inbox: Callable[[], Inbox | None],
        close_inbox: Callable[[Inbox], None],
        *,
        keepalive: float,
        on_idle: Callable[[], object] = lambda: None,
        final_events: frozenset[str] = frozenset({"ended"}),
    ) -> None:
        self._keepalive = keepalive
        self._on_idle = on_idle
        self._final_events = final_events
        self._open_inbox = open_inbox
        self._close_inbox = close_inbox
        self._inbox: Inbox | None = None
        self._started = False
        self._finished = False

    def _first_chunk(self) -> bytes | None:
        self._started = True
        self._inbox = self._open_inbox()
        if self._inbox is None:
            self._finished = True
            return None
        return b"retry: 2000\n: connected\n\n"

    def _chunk_for(self, event: Event | None) -> bytes:
        if event is None:
            self._on_idle()
            return b": keep-alive\n\n"
        name, data = event
        if name in self._final_events:
            self.close()
        return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> bytes:
        if not self._started:
            first = self._first_chunk()
            if first is not None:
                return first
        if self._finished or self._inbox is None:
            raise StopIteration
        try:
            event: Event | None = self._inbox.get(timeout=self._keepalive)
        except queue.Empty:
            event = None
        return self._chunk_for(event)

    async def next_chunk(self, stop: asyncio.Event | None = None) -> bytes | None:
        """The next chunk to send, or None when the stream is over (or ``stop`` is set)."""
        if not self._started:
            first = self._first_chunk()
            if first is not None:
                return first
        if self._finished or self._inbox is None or (stop is not None and stop.is_set()):
            self.close()
            return None
        event = await self._inbox.next_event(self._keepalive, stop)
        if event is None and stop is not None and stop.is_set():
            self.close()
            return None
        return self._chunk_for(event)

    def close(self) -> None:
        """Stop the stream and release its inbox (idempotent)."""
        self._started = True
        self._finished = True
        inbox, self._inbox = self._inbox, None
        if inbox is not None:
            self._close_inbox(inbox)
