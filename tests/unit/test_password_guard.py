"""The host password check: constant time, and repeated failures throttled per client."""

from __future__ import annotations

import hmac
from typing import Any

import pytest

from livescreen.security import password_guard
from livescreen.security.password_guard import (
    MAX_FAILURES,
    MAX_TRACKED_CLIENTS,
    WINDOW_SECONDS,
    FailureThrottle,
    password_matches,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttle(clock: FakeClock) -> FailureThrottle:
    return FailureThrottle(now=clock)


def test_password_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(password_guard.hmac, "compare_digest", spy)

    assert password_matches("correct horse", "correct horse") is True
    assert password_matches("correct hors", "correct horse") is False
    assert calls == [
        (b"correct horse", b"correct horse"),
        (b"correct hors", b"correct horse"),
    ]


def test_unusual_passwords_are_compared_not_crashed_on() -> None:
    assert password_matches("pässwörd", "pässwörd") is True
    assert password_matches("\ud800", "pw") is False


def test_five_failures_throttle_the_client_with_a_positive_retry_after(
    throttle: FailureThrottle,
) -> None:
    for _ in range(MAX_FAILURES - 1):
        throttle.record_failure("203.0.113.1")
    assert throttle.retry_after("203.0.113.1") == 0

    throttle.record_failure("203.0.113.1")

    wait = throttle.retry_after("203.0.113.1")
    assert 0 < wait <= WINDOW_SECONDS + 1
    assert throttle.retry_after("198.51.100.2") == 0


def test_a_success_resets_the_count(throttle: FailureThrottle) -> None:
    for _ in range(MAX_FAILURES - 1):
        throttle.record_failure("c")

    throttle.record_success("c")
    throttle.record_failure("c")

    assert throttle.retry_after("c") == 0


def test_failures_older_than_the_window_no_longer_count(
    throttle: FailureThrottle, clock: FakeClock
) -> None:
    for _ in range(MAX_FAILURES):
        throttle.record_failure("c")
        clock.now += 10
    assert throttle.retry_after("c") > 0

    # the oldest failure leaves the window: four remain, so the client may try again
    clock.now = 1000.0 + WINDOW_SECONDS + 0.5

    assert throttle.retry_after("c") == 0


def test_retry_after_counts_down_as_time_passes(
    throttle: FailureThrottle, clock: FakeClock
) -> None:
    for _ in range(MAX_FAILURES):
        throttle.record_failure("c")
    first = throttle.retry_after("c")

    clock.now += 100

    assert throttle.retry_after("c") == first - 100


def test_memory_stays_bounded_and_the_oldest_client_is_forgotten(
    throttle: FailureThrottle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(password_guard, "MAX_TRACKED_CLIENTS", 3)
    for _ in range(MAX_FAILURES):
        throttle.record_failure("oldest")

    for n in range(3):
        throttle.record_failure(f"client-{n}")

    assert len(throttle._failures) == 3
    assert throttle.retry_after("oldest") == 0


def test_a_flood_of_addresses_stays_within_the_default_bound(throttle: FailureThrottle) -> None:
    for n in range(MAX_TRACKED_CLIENTS + 50):
        throttle.record_failure(f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}")

    assert len(throttle._failures) == MAX_TRACKED_CLIENTS


# -- device tokens and the password's strength --------------------------------------------------

SECRET = "device-token-secret-0123456789abcdef0123456789"


def test_a_device_token_names_its_device_until_it_expires() -> None:
    token = password_guard.issue_device_token(secret=SECRET, device_id="abc", now=lambda: 1000.0)

    assert password_guard.device_of(token, secret=SECRET, now=lambda: 1001.0) == "abc"
    expiry = 1000.0 + password_guard.DEVICE_TTL_SECONDS
    assert password_guard.device_of(token, secret=SECRET, now=lambda: expiry) is None


def test_a_new_device_token_names_a_new_random_device() -> None:
    first = password_guard.device_of(
        password_guard.issue_device_token(secret=SECRET), secret=SECRET
    )
    second = password_guard.device_of(
        password_guard.issue_device_token(secret=SECRET), secret=SECRET
    )

    assert first and second and first != second


@pytest.mark.parametrize(
    "token",
    [None, "", 42, "no-dot", "a.b", "é.é", "x" * 600],
    ids=["none", "empty", "number", "no-dot", "garbage", "non-ascii", "too-long"],
)
def test_anything_but_a_device_token_we_signed_names_no_device(token: object) -> None:
    assert password_guard.device_of(token, secret=SECRET) is None


def test_a_device_token_signed_with_another_secret_or_a_host_session_is_not_one() -> None:
    from livescreen.security import host_session

    other = password_guard.issue_device_token(secret="another-secret-0123456789abcdef0123")
    session, _ = host_session.issue("room", secret=SECRET, ttl_seconds=60)

    assert password_guard.device_of(other, secret=SECRET) is None
    assert password_guard.device_of(session, secret=SECRET) is None
    # nor is a device token a host session
    with pytest.raises(host_session.InvalidSessionError):
        host_session.verify(password_guard.issue_device_token(secret=SECRET), secret=SECRET)


@pytest.mark.parametrize(
    ("password", "weak"),
    [("a", True), ("elevenchars", True), ("twelve chars", False), ("ÄÖÜäöüßÄÖÜäö", False)],
)
def test_a_host_password_shorter_than_twelve_characters_is_weak(password: str, weak: bool) -> None:
    reason = password_guard.weak_password_reason(password)

    assert (reason is not None) is weak
    if reason:
        assert f"only {len(password)} character" in reason and "at least 12" in reason
