"""The rate of password guesses the throttle lets through, per ``sourceIp``, on a fake clock.

Each guess is a POST /host_token API Gateway 2.0 event answered by ``handle_event``, the path
Lambda and the dev server take; ``bench/password_guesses.py`` prints the same figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livescreen.config import Settings
from livescreen.devserver.http_api_event import build_http_api_v2_event
from livescreen.runtime.api_gateway import handle_event
from livescreen.runtime.loader import FunctionRegistry
from livescreen.security import password_guard
from livescreen.security.password_guard import MAX_FAILURES, WINDOW_SECONDS, FailureThrottle

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
PASSWORD = "the-right-host-password"
SETTINGS = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": PASSWORD,
        "HOST_SESSION_SECRET": "throttle-rate-session-secret-0123456789abcdef",
    },
    "test",
)
GUESSES_PER_ADDRESS = 60  # one a second for a minute


class Guesser:
    """Sends /host_token requests from chosen addresses while the throttle's clock is faked."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 5_000.0
        monkeypatch.setattr(password_guard, "throttle", FailureThrottle(now=lambda: self.now))
        # loaded after the swap, functions/host_token.py uses the throttle on the fake clock
        self.registry = FunctionRegistry(FUNCTIONS)

    def post(self, source_ip: str, password: str) -> int:
        event = build_http_api_v2_event(
            method="POST",
            path="/host_token",
            headers={"content-type": "application/json"},
            body=json.dumps({"password": password}).encode(),
            source_ip=source_ip,
        )
        status: int = handle_event(event, self.registry, "host_token", lambda: SETTINGS)[
            "statusCode"
        ]
        return status

    def checked_in_a_minute(self, addresses: list[str]) -> int:
        """Wrong guesses answered 401 (checked) rather than 429, one per address per second."""
        statuses: list[int] = []
        for _ in range(GUESSES_PER_ADDRESS):
            statuses += [self.post(ip, "wrong guess") for ip in addresses]
            self.now += 1.0
        assert set(statuses) <= {401, 429}
        return statuses.count(401)


@pytest.fixture
def guesser(monkeypatch: pytest.MonkeyPatch) -> Guesser:
    return Guesser(monkeypatch)


def addresses(count: int) -> list[str]:
    return [f"198.51.100.{n + 1}" for n in range(count)]


def test_one_address_gets_at_most_max_failures_guesses_checked_per_window(
    guesser: Guesser,
) -> None:
    assert guesser.checked_in_a_minute(["203.0.113.9"]) == MAX_FAILURES

    # the rest of the window: nothing more is checked
    while guesser.now < 5_000.0 + WINDOW_SECONDS - 1:
        assert guesser.post("203.0.113.9", "wrong guess") == 429
        guesser.now += 1.0

    # once the first failures leave the window, the next few are checked again, no more
    guesser.now = 5_000.0 + WINDOW_SECONDS
    assert guesser.checked_in_a_minute(["203.0.113.9"]) == MAX_FAILURES


def test_fifty_addresses_get_at_most_fifty_times_as_many(guesser: Guesser) -> None:
    crowd = addresses(50)

    assert guesser.checked_in_a_minute(crowd) == 50 * MAX_FAILURES
    assert guesser.checked_in_a_minute(crowd) == 0


def test_the_right_password_works_from_an_address_that_is_not_throttled(
    guesser: Guesser,
) -> None:
    guesser.checked_in_a_minute(addresses(50))

    assert guesser.post("198.51.100.1", PASSWORD) == 429  # a throttled guesser is refused...
    assert guesser.post("203.0.113.200", PASSWORD) == 200  # ...the host elsewhere is not
