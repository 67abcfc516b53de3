"""A page's inbox: events fed from any thread and read from an event loop.

Events are put by the hub, the chat room and request handlers (on worker threads or on the
loop) and read by the dev server's page sockets (``devserver.page_socket``), which run on its
event loop: an open subscription must not hold a thread while it waits. ``Inbox`` is a
thread-safe FIFO that can be read both ways (``get`` blocks a thread; ``next_event`` awaits on
a loop). The subscription that reads one is ``devserver.channels.Channel``.
"""

from __future__ import annotations

import asyncio
import contextlib
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
