"""Rate limits keyed by a string (a sender, a client address), for both chats.

``Buckets`` is a token bucket per key (so many at once, then one per so many seconds);
``Window`` counts events per key over a rolling window. Both take their limits on each call, so
a room whose limits are replaced keeps its counts, read time from an injectable clock, forget
the least recently used keys beyond ``max_keys`` (a forgotten key starts afresh), and are safe to
call from any thread. The defaults below are shared by the ``local`` chat room
(``chat.local.limits.ChatLimits``) and the IVS Chat message reviewer (``ivschat_review``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

Clock = Callable[[], float]

#: Each sender (one chat token) may send this many messages at once, then one per
#: ``SECONDS_PER_MESSAGE``.
SENDER_BURST = 5
SECONDS_PER_MESSAGE = 1.0
#: All the senders of one client address together may send this many at once, then one per
#: ``SECONDS_PER_ADDRESS_MESSAGE`` (two a second): a hundred tokens from one address send no
#: more than two people would, while a household sharing an address can still talk.
ADDRESS_BURST = 10
SECONDS_PER_ADDRESS_MESSAGE = 0.5
#: Keys remembered at most by default (the least recently used are forgotten first).
MAX_KEYS = 10_000


def whole_seconds(seconds: float) -> int:
    """A wait as ``Retry-After`` says it: whole seconds, at least 1."""
    return max(1, math.ceil(seconds - 1e-9))


class Buckets:
    """A token bucket per key."""

    def __init__(self, clock: Clock = time.monotonic, *, max_keys: int = MAX_KEYS) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, burst: int, seconds_per_item: float) -> float:
        """Spend one of ``key``'s allowance: 0.0 if it had one, else the seconds until it has
        (nothing is spent then)."""
        now = self._clock()
        with self._lock:
            allowance, at = self._buckets.pop(key, (float(burst), now))
            allowance = min(float(burst), allowance + (now - at) / seconds_per_item)
            if allowance >= 1.0:
                self._buckets[key] = (allowance - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (allowance, now)
                wait = (1.0 - allowance) * seconds_per_item
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            return wait

    def give_back(self, key: str) -> None:
        """Return one taken a moment ago (what was refused further on costs nothing)."""
        with self._lock:
            if key in self._buckets:
                allowance, at = self._buckets[key]
                self._buckets[key] = (allowance + 1.0, at)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


class Window:
    """At most so many events per key in any rolling window of so many seconds."""

    def __init__(self, clock: Clock = time.monotonic, *, max_keys: int = MAX_KEYS) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, limit: int, seconds: float) -> float:
        """Count one event for ``key``: 0.0 if it is within the limit, else the seconds until
        the oldest one leaves the window (nothing is counted then)."""
        now = self._clock()
        with self._lock:
            times = self._events.pop(key, None) or deque()
            while times and times[0] <= now - seconds:
                times.popleft()
            wait = 0.0
            if len(times) >= limit:
                wait = times[-limit] + seconds - now if limit > 0 else seconds
            else:
                times.append(now)
            if times:
                self._events[key] = times
            while len(self._events) > self._max_keys:
                self._events.popitem(last=False)
            return wait

    def reset(self) -> None:
        with self._lock:
            self._events.clear()
