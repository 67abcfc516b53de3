"""Host sessions: signed, expiring, bound to one room; anything else is refused with a reason."""

from __future__ import annotations

import base64
import json

import pytest

from livescreen.security import host_session
from livescreen.security.host_session import InvalidSessionError, issue, verify

SECRET = "a-long-random-session-secret-0123456789"
NOW = 1_700_000_000.0


def clock(at: float = NOW) -> float:
    return at


def test_an_issued_session_verifies_for_its_room() -> None:
    token, issued = issue("livestream-1", secret=SECRET, ttl_seconds=600, now=clock)

    session = verify(token, secret=SECRET, room="livestream-1", now=clock)

    assert session == issued
    assert session.room == "livestream-1"
    assert session.expires_at == int(NOW) + 600


def test_two_sessions_for_the_same_room_differ() -> None:
    first, _ = issue("r", secret=SECRET, ttl_seconds=60, now=clock)
    second, _ = issue("r", secret=SECRET, ttl_seconds=60, now=clock)

    assert first != second


def test_a_session_signed_with_another_secret_is_refused() -> None:
    forged, _ = issue("livestream-1", secret="attacker-guess-secret", ttl_seconds=600, now=clock)

    with pytest.raises(InvalidSessionError, match="not valid"):
        verify(forged, secret=SECRET, now=clock)


def test_a_tampered_payload_is_refused() -> None:
    # GIVEN a genuine session whose claims are rewritten to live for ever
    token, _ = issue("livestream-1", secret=SECRET, ttl_seconds=60, now=clock)
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = 4_000_000_000
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    # WHEN it is presented with the original signature, THEN it is refused
    with pytest.raises(InvalidSessionError, match="not valid"):
        verify(f"{forged_payload}.{signature}", secret=SECRET, now=clock)


def test_an_expired_session_is_refused_saying_so() -> None:
    token, _ = issue("livestream-1", secret=SECRET, ttl_seconds=60, now=clock)

    verify(token, secret=SECRET, now=lambda: NOW + 59)
    with pytest.raises(InvalidSessionError, match="expired"):
        verify(token, secret=SECRET, now=lambda: NOW + 60)


def test_a_session_for_another_room_is_refused() -> None:
    token, _ = issue("livestream-1", secret=SECRET, ttl_seconds=60, now=clock)

    with pytest.raises(InvalidSessionError, match="another room"):
        verify(token, secret=SECRET, room="livestream-2", now=clock)


@pytest.mark.parametrize(
    "token",
    [None, "", 42, ["a.b"], "no-dot", ".", "a.b.c", "é.abc", "abc.é", "\x00.\x00", "%%%.???"],
)
def test_garbage_is_refused_never_crashes(token: object) -> None:
    with pytest.raises(InvalidSessionError):
        verify(token, secret=SECRET, now=clock)


def test_a_validly_signed_payload_that_is_not_a_session_is_refused() -> None:
    # Defence in depth: even with the secret, malformed claims are not accepted.
    payload = host_session.b64encode(b'["not", "claims"]')
    token = f"{payload}.{host_session.signature(SECRET, payload)}"

    with pytest.raises(InvalidSessionError, match="not valid"):
        verify(token, secret=SECRET, now=clock)
