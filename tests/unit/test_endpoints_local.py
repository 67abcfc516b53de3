"""The four endpoints, in-process through the Lambda adapter, with the ``local`` provider."""

from __future__ import annotations

import time
from typing import Any

import pytest

from livescreen.config import Settings
from livescreen.devserver.invoke import InvokeResult, invoke
from livescreen.security import host_session
from livescreen.security.password_guard import MAX_FAILURES

PASSWORD = "correct horse battery staple"
SECRET = "session-secret-for-the-endpoint-tests-0123456789"
SETTINGS = Settings(
    {"STREAM_PROVIDER": "local", "HOST_PASSWORD": PASSWORD, "HOST_SESSION_SECRET": SECRET}, "test"
)


def call(name: str, body: Any = None, **kwargs: Any) -> InvokeResult:
    return invoke(name, body if body is not None else {}, settings=SETTINGS, **kwargs)


def sign_in(client: str = "203.0.113.10") -> dict[str, Any]:
    result = call("host_token", {"password": PASSWORD}, source_ip=client)
    assert result.status == 200, result.text
    data: dict[str, Any] = result.json()
    return data


def test_a_wrong_password_is_401_invalid_password() -> None:
    result = call("host_token", {"password": "wrong"})

    assert result.status == 401
    assert result.json() == {"error": "Invalid password"}


def test_the_sixth_wrong_try_is_429_with_retry_after_even_with_the_right_password() -> None:
    attacker = "198.51.100.66"
    for _ in range(MAX_FAILURES):
        assert call("host_token", {"password": "guess"}, source_ip=attacker).status == 401

    throttled = call("host_token", {"password": PASSWORD}, source_ip=attacker)

    assert throttled.status == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert "try again in" in throttled.json()["error"]
    # another address is not affected
    assert sign_in("203.0.113.77")["provider"] == "local"


def test_forged_address_headers_do_not_escape_the_throttle() -> None:
    # GIVEN a guesser that sends a different made-up address with every try
    attacker = "198.51.100.67"
    for i in range(MAX_FAILURES):
        forged = {"x-forwarded-for": f"10.0.0.{i}", "cloudfront-viewer-address": f"10.0.1.{i}:443"}
        result = call("host_token", {"password": "guess"}, source_ip=attacker, headers=forged)
        assert result.status == 401

    # WHEN it tries again, with yet another made-up address
    forged = {"x-forwarded-for": "10.0.0.99", "cloudfront-viewer-address": "10.0.1.99:443"}
    result = call("host_token", {"password": "guess"}, source_ip=attacker, headers=forged)

    # THEN it is throttled all the same
    assert result.status == 429


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ({}, None, "Missing field 'password'"),
        ({"password": 1234}, None, "Field 'password' must be a string, got int"),
        ({"password": None}, None, "Field 'password' must be a string, got NoneType"),
        ({"password": ""}, None, "Field 'password' must not be empty"),
        ('{"password": "unterminated', "application/json", "The request body is not valid JSON"),
        ('["password"]', "application/json", "The request body must be a JSON object"),
        ('{"password": ' + "1" * 5000 + "}", "application/json", "The request body is not valid"),
        ('{"password": ' + "[" * 3000 + "]" * 3000 + "}", "text/plain", "The request body is"),
    ],
    ids=[
        "missing",
        "number",
        "null",
        "empty",
        "malformed-json",
        "not-an-object",
        "huge-number",
        "deep-nesting-beacon",
    ],
)
def test_bad_host_token_input_is_a_clear_400(
    body: Any, content_type: str | None, message: str
) -> None:
    headers = {"content-type": content_type} if content_type else None

    result = call("host_token", body, headers=headers)

    assert result.status == 400
    assert result.json()["error"].startswith(message)


def test_host_token_takes_post_only() -> None:
    result = call("host_token", method="GET")

    assert result.status == 405
    assert "POST" in result.headers["allow"]


def test_host_token_answers_with_room_token_and_a_session() -> None:
    data = sign_in()

    assert data["provider"] == "local"
    assert data["room"].startswith("livestream-")
    assert data["token"]
    assert data["signalling"] == "/local"
    assert data["sessionExpiresAt"] > time.time()
    assert host_session.verify(data["session"], secret=SECRET).room == data["room"]


@pytest.mark.parametrize("endpoint", ["stream_start", "stream_stop"])
def test_host_endpoints_without_a_session_are_401(endpoint: str) -> None:
    result = call(endpoint, {})

    assert result.status == 401
    assert "host session is required" in result.json()["error"]


@pytest.mark.parametrize("endpoint", ["stream_start", "stream_stop"])
def test_host_endpoints_with_a_forged_session_are_401(endpoint: str) -> None:
    room = sign_in()["room"]
    forged, _ = host_session.issue(room, secret="guessed-secret-xxxxxxxx", ttl_seconds=600)

    result = call(endpoint, {"session": forged})

    assert result.status == 401
    assert result.json() == {"error": "The host session is not valid: sign in again"}


@pytest.mark.parametrize("endpoint", ["stream_start", "stream_stop"])
def test_host_endpoints_with_an_expired_session_are_401(endpoint: str) -> None:
    room = sign_in()["room"]
    expired, _ = host_session.issue(
        room, secret=SECRET, ttl_seconds=60, now=lambda: time.time() - 3600
    )

    result = call(endpoint, {"session": expired})

    assert result.status == 401
    assert "expired" in result.json()["error"]


def test_a_garbage_session_is_401_not_500() -> None:
    result = call("stream_start", {"session": "é.ü"})

    assert result.status == 401


def test_the_whole_host_flow_makes_the_stream_visible_to_the_audience_and_then_not() -> None:
    # GIVEN nothing is live
    assert call("audience_token").json() == {
        "provider": "local",
        "token": None,
        "recordingsPublic": False,
    }

    # WHEN the host signs in and goes live
    host = sign_in()
    started = call("stream_start", {"session": host["session"]})

    # THEN the audience gets a token for the host's room
    assert started.status == 200, started.text
    assert started.json() == {
        "provider": "local",
        "room": host["room"],
        "live": True,
        "startedNow": True,
        "details": {"title": "Untitled stream", "description": ""},
    }
    audience = call("audience_token").json()
    assert audience["provider"] == "local"
    assert isinstance(audience["token"], str) and audience["token"]
    assert audience["room"] == host["room"]

    # WHEN the host stops
    stopped = call("stream_stop", {"session": host["session"]})

    # THEN nothing is live any more
    assert stopped.status == 200, stopped.text
    answer = stopped.json()
    summary = answer.pop("summary")
    assert answer == {"provider": "local", "room": host["room"], "live": False}
    # AND the host gets the stream's summary: over, with nobody having watched
    assert (summary["id"], summary["live"], summary["viewers"]) == (host["room"], False, 0)
    assert call("audience_token").json()["token"] is None


def test_starting_twice_starts_once() -> None:
    session = sign_in()["session"]

    first = call("stream_start", {"session": session}).json()
    second = call("stream_start", {"session": session}).json()

    assert first["startedNow"] is True
    assert second["startedNow"] is False
    assert second["live"] is True


def test_stopping_twice_is_fine() -> None:
    session = sign_in()["session"]
    call("stream_start", {"session": session})

    first = call("stream_stop", {"session": session})
    second = call("stream_stop", {"session": session})

    assert first.status == second.status == 200
    assert second.json()["live"] is False


def test_the_session_may_come_in_the_x_host_session_header() -> None:
    session = sign_in()["session"]

    result = call("stream_start", {}, headers={"X-Host-Session": session})

    assert result.status == 200, result.text
    assert result.json()["live"] is True


def test_a_beacon_stop_with_a_text_plain_body_ends_the_stream() -> None:
    session = sign_in()["session"]
    call("stream_start", {"session": session})

    # navigator.sendBeacon(url, JSON.stringify({session})) sends text/plain
    result = call(
        "stream_stop",
        f'{{"session": "{session}"}}',
        headers={"content-type": "text/plain;charset=UTF-8"},
    )

    assert result.status == 200, result.text
    assert call("audience_token").json()["token"] is None
