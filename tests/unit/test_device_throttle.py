"""Others' wrong guesses cannot lock the host out, whatever address they share with the host.

Behind CloudFront every viewer an edge serves arrives from the edge's address, and on a LAN a
NAT can put several people behind one: a per-address throttle alone would let any of them lock
the host out for five minutes. The browser that signed in keeps a device token (``device`` in
the ``/host_token`` answer) and is throttled on its own; guesses without one stay bound to five
per address per five minutes. Each request goes through the Lambda adapter.
"""

from __future__ import annotations

from typing import Any

import pytest

from livescreen.config import Settings
from livescreen.devserver.invoke import InvokeResult, invoke
from livescreen.security import password_guard
from livescreen.security.password_guard import MAX_FAILURES, WINDOW_SECONDS, FailureThrottle

PASSWORD = "correct horse battery staple"
SECRET = "device-throttle-session-secret-0123456789abcdef"
SETTINGS = Settings(
    {"STREAM_PROVIDER": "local", "HOST_PASSWORD": PASSWORD, "HOST_SESSION_SECRET": SECRET},
    "test",
)
EDGE = "130.176.0.10"  # one CloudFront edge address, shared by the host and a guesser


class Clock:
    now = 50_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(password_guard, "throttle", FailureThrottle(now=fake))
    return fake


def host_token(body: dict[str, Any], source_ip: str = EDGE) -> InvokeResult:
    return invoke("host_token", body, settings=SETTINGS, source_ip=source_ip)


def guess_until_throttled(source_ip: str = EDGE, **extra: str) -> None:
    for n in range(MAX_FAILURES):
        assert host_token({"password": f"guess-{n}", **extra}, source_ip).status == 401
    assert host_token({"password": "one more", **extra}, source_ip).status == 429


def test_a_guesser_sharing_the_hosts_address_does_not_lock_out_a_host_who_signed_in_before(
    clock: Clock,
) -> None:
    # GIVEN the host signed in once from this browser, which kept the device token
    device = host_token({"password": PASSWORD}).json()["device"]

    # WHEN someone behind the same address guesses until the address is throttled
    guess_until_throttled()

    # THEN the host signs in at once
    again = host_token({"password": PASSWORD, "device": device})
    assert again.status == 200 and again.json()["session"]
    # AND the guesser is still refused without the password being looked at
    assert host_token({"password": PASSWORD}).status == 429


def test_guesses_without_a_valid_device_token_stay_bound_to_five_per_address(
    clock: Clock,
) -> None:
    # forged, malformed, expired-looking or a host session passed off as a device token
    session = host_token({"password": PASSWORD}, "203.0.113.9").json()["session"]
    for fake in ("forged", "eyJ2IjoxfQ.c2ln", session, "é" * 10, "x" * 5000):
        password_guard.throttle.reset()
        guess_until_throttled(device=fake)


def test_the_right_password_does_not_reopen_a_throttled_address(clock: Clock) -> None:
    # GIVEN a guesser used four of the address's five tries
    for n in range(MAX_FAILURES - 1):
        assert host_token({"password": f"guess-{n}"}).status == 401

    # WHEN the host signs in from the same address (a first sign-in: no device token yet)
    assert host_token({"password": PASSWORD}).status == 200

    # THEN the guesser does not get five fresh tries: one more fills the address's bucket
    assert host_token({"password": "guess-5"}).status == 401
    assert host_token({"password": "guess-6"}).status == 429


def test_a_device_is_throttled_on_its_own_and_forgiven_by_the_right_password(
    clock: Clock,
) -> None:
    device = host_token({"password": PASSWORD}, "203.0.113.5").json()["device"]

    # WHEN the host mistypes with the device token, five times
    guess_until_throttled("203.0.113.5", device=device)

    # THEN the device waits out the window like anyone (its failures are bounded too)...
    assert host_token({"password": PASSWORD, "device": device}, "203.0.113.5").status == 429
    clock.now += WINDOW_SECONDS + 1
    renewed = host_token({"password": PASSWORD, "device": device}, "203.0.113.5")
    assert renewed.status == 200
    # ...and a right password empties its bucket: five more tries
    for n in range(MAX_FAILURES - 1):
        answer = host_token({"password": f"typo-{n}", "device": renewed.json()["device"]})
        assert answer.status == 401


def test_the_device_token_is_renewed_for_the_same_device(clock: Clock) -> None:
    first = host_token({"password": PASSWORD}).json()["device"]
    clock.now += 10

    second = host_token({"password": PASSWORD, "device": first}).json()["device"]

    assert password_guard.device_of(second, secret=SECRET) == password_guard.device_of(
        first, secret=SECRET
    )


def test_recordings_take_the_device_token_too(clock: Clock) -> None:
    device = host_token({"password": PASSWORD}).json()["device"]
    guess_until_throttled()

    answer = invoke(
        "recordings",
        {"password": PASSWORD, "device": device},
        settings=SETTINGS.with_values(RECORDING="off"),
        source_ip=EDGE,
    )

    assert answer.status == 200 and "recordings" in answer.json()
