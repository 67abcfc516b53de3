"""The host password check: constant-time comparison and throttling of repeated failures.

The throttle is per container and per client address (API Gateway's route throttle in
template.yaml is the stack-wide limit); it slows a guessing script to a few tries a minute.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from collections.abc import Callable

#: Failures allowed per client address within ``WINDOW_SECONDS`` before answers are 429.
MAX_FAILURES = 5
WINDOW_SECONDS = 300.0
#: Addresses remembered at most (oldest forgotten first), so memory stays bounded.
MAX_TRACKED_CLIENTS = 10_000


def password_matches(given: str, expected: str) -> bool:
    # surrogatepass: JSON can carry a lone surrogate (\ud800); that is a mismatch, not a 500.
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


class FailureThrottle:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.get(client, deque())
        cutoff = self._now() - WINDOW_SECONDS
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds the client must wait, or 0 if it may try now."""
        with self._lock:
            failures = self._recent(client)
            if len(failures) < MAX_FAILURES:
                return 0
            return max(1, int(failures[0] + WINDOW_SECONDS - self._now()) + 1)

    def record_failure(self, client: str) -> None:
        with self._lock:
            failures = self._recent(client)
            failures.append(self._now())
            self._failures.pop(client, None)
            self._failures[client] = failures
            while len(self._failures) > MAX_TRACKED_CLIENTS:
                self._failures.pop(next(iter(self._failures)))

    def record_success(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def reset(self) -> None:
        """Forget every failure (tests)."""
        with self._lock:
            self._failures.clear()


throttle = FailureThrottle()
