"""The live stage as last read from IVS, kept for a few seconds so viewers cost no lookups."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from livescreen.providers.base import ProviderError
from livescreen.providers.ivs.stages import LiveStage

Clock = Callable[[], float]


class LiveStageCache:
    """The live stage as last read from IVS, refreshed at most once per ``ttl`` seconds.

    One thread refreshes while the others wait for its answer (single flight), so a burst of
    viewers costs one lookup. A failed lookup is remembered for ``ttl`` too: while IVS is
    throttling us, viewers get the last known stage (or the error) without adding calls.
    """

    def __init__(self, lookup: Callable[[], LiveStage | None], ttl: float, clock: Clock) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._value: LiveStage | None = None
        self._error: ProviderError | None = None
        self._expires_at = -math.inf

    def get(self) -> LiveStage | None:
        with self._lock:
            now = self._clock()
            if now >= self._expires_at:
                try:
                    self._value, self._error = self._lookup(), None
                except ProviderError as exc:
                    self._error = exc
                self._expires_at = now + self._ttl
            if self._error is not None and self._value is None:
                raise self._error
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._expires_at = -math.inf
