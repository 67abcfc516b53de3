"""The host password check: constant-time comparison, throttling, and the password's strength.

Repeated failures are throttled per container (API Gateway's route throttle in template.yaml is
the stack-wide limit): at most ``MAX_FAILURES`` wrong passwords are checked per bucket within
``WINDOW_SECONDS``; after that the bucket's requests are 429 without the password being looked
at. A request's bucket is

- its *device*, when it carries a valid device token: ``/host_token`` hands one to the browser
  that signed in (signed with ``HOST_SESSION_SECRET``, ``DEVICE_TTL_SECONDS`` long), and the
  host page sends it back with the password. Only someone who once knew the password holds one,
  so guesses from anyone else, whatever address they share with the host, never fill it;
- otherwise its client address, as before. A right password does not empty an address's bucket
  (someone sharing the address would get fresh guesses each time the host signs in); it empties
  a device's.

Cross-site requests never get this far (``endpoints.refuse_cross_site``), so a page on another
site cannot fill the host's buckets from the host's own browser either.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

from livescreen.security import host_session

#: Failures allowed per bucket within ``WINDOW_SECONDS`` before answers are 429.
MAX_FAILURES = 5
WINDOW_SECONDS = 300.0
#: Buckets remembered at most (oldest forgotten first), so memory stays bounded.
MAX_TRACKED_CLIENTS = 10_000
#: The shortest host password ``livescreen dev`` and ``livescreen configure`` accept.
MIN_PASSWORD_LENGTH = 12
#: How long a device token lets its browser skip its address's bucket.
DEVICE_TTL_SECONDS = 90 * 24 * 3600
#: Device buckets are named ``device:<id>``; an address never starts with this.
DEVICE_PREFIX = "device:"


def password_matches(given: str, expected: str) -> bool:
    # surrogatepass: JSON can carry a lone surrogate (\ud800); that is a mismatch, not a 500.
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def weak_password_reason(password: str) -> str | None:
    """Why ``password`` is too weak to be the host password, or None when it will do."""
    if len(password) < MIN_PASSWORD_LENGTH:
        length = f"{len(password)} character{'' if len(password) == 1 else 's'}"
        return (
            f"HOST_PASSWORD is only {length} long: use at least {MIN_PASSWORD_LENGTH} "
            "(a few random words will do)"
        )
    return None


# -- device tokens ----------------------------------------------------------------------------


def _device_signature(secret: str, payload: str) -> str:
    # "device." keeps a device token's signature from ever verifying as a host session's
    return host_session.signature(secret, f"device.{payload}")


def issue_device_token(
    *, secret: str, device_id: str | None = None, now: Callable[[], float] = time.time
) -> str:
    """A signed token naming a device (a new random one unless ``device_id`` is given)."""
    claims = {
        "v": 1,
        "dev": device_id or secrets.token_hex(12),
        "exp": int(now()) + DEVICE_TTL_SECONDS,
    }
    payload = host_session.b64encode(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_device_signature(secret, payload)}"


def device_of(token: object, *, secret: str, now: Callable[[], float] = time.time) -> str | None:
    """The device id a token names, or None when it is missing, forged, malformed or expired."""
    if not isinstance(token, str) or not token.isascii() or len(token) > 512:
        return None
    payload, dot, signature = token.partition(".")
    if not dot or not hmac.compare_digest(_device_signature(secret, payload), signature):
        return None
    try:
        claims = json.loads(host_session.b64decode(payload))
        device, expires = str(claims["dev"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    return device if expires > now() else None


# -- the throttle -----------------------------------------------------------------------------


class FailureThrottle:
    """Failures per bucket (a client address, or ``device:<id>``) within a sliding window."""

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


def bucket_for(client: str, device: str | None) -> str:
    """The throttle bucket of a request from ``client`` carrying a valid ``device`` (or none)."""
    return f"{DEVICE_PREFIX}{device}" if device else client


throttle = FailureThrottle()
