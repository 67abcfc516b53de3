"""The host's secrets are never taken from an address, and no answer is kept by a cache.

An address ends up in browser history, in proxy and access logs and in ``Referer`` headers. So a
``password``, ``session`` or ``device`` in the query string of any function route is a 400
that says where to send it, before anything reads the value: the right password or session
there is refused exactly like a wrong one. Each request goes through the Lambda adapter (the
dev server takes the same path).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from livescreen.config import Settings
from livescreen.devserver.invoke import FUNCTIONS_DIR, InvokeResult, invoke
from livescreen.runtime.loader import discover, load_function
from livescreen.security import password_guard

PASSWORD = "correct horse battery staple"
SETTINGS = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": PASSWORD,
        "HOST_SESSION_SECRET": "query-secrets-session-secret-0123456789abcdef",
        "RECORDING": "off",
    },
    "test",
)
ROUTES = {name: load_function(name, path).methods for name, path in discover(FUNCTIONS_DIR).items()}
SESSION_MESSAGE = (
    "Send the host session in the X-Host-Session header or the request body, never in the address"
)


def call(name: str, body: Any = None, *, method: str = "POST", **kwargs: Any) -> InvokeResult:
    return invoke(
        name, body if body is not None else {}, settings=SETTINGS, method=method, **kwargs
    )


def sign_in() -> dict[str, Any]:
    answer = call("host_token", {"password": PASSWORD})
    assert answer.status == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("session=abc", SESSION_MESSAGE),
        ("Session=abc", SESSION_MESSAGE),
        ("x-host-session=abc", SESSION_MESSAGE),
        ("name=Zoe&session=", SESSION_MESSAGE),
        (
            "password=guess",
            "Send the host password in the JSON body of a POST, never in the address",
        ),
        (
            "pass%77ord=guess",
            "Send the host password in the JSON body of a POST, never in the address",
        ),
        ("device=abc", "Send the device token in the request body, never in the address"),
    ],
)
@pytest.mark.parametrize(
    ("name", "method"),
    [(name, method) for name, methods in sorted(ROUTES.items()) for method in methods],
)
def test_a_secret_in_the_address_of_any_function_route_is_400(
    name: str, method: str, query: str, message: str
) -> None:
    answer = call(name, method=method, raw_query=query)

    assert (answer.status, answer.json()) == (400, {"error": message})
    assert answer.headers["cache-control"] == "no-store"


def test_the_right_password_in_the_address_is_refused_unchecked() -> None:
    # WHEN guesses arrive in addresses, well past the throttle's limit
    for n in range(password_guard.MAX_FAILURES * 2):
        assert call("host_token", raw_query=f"password=guess-{n}").status == 400
    # AND the right password too, on both routes that take a password
    right = f"password={quote(PASSWORD)}"
    signed_in = call("host_token", raw_query=right)
    listed = call("recordings", raw_query=right)

    # THEN none of them was checked: no session, no list, and nothing counted
    assert (signed_in.status, listed.status) == (400, 400)
    assert "session" not in signed_in.json() and "recordings" not in listed.json()
    assert password_guard.throttle.retry_after("127.0.0.1") == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_right_session_in_the_address_starts_nothing_and_lists_nothing(method: str) -> None:
    session = sign_in()["session"]
    query = f"session={quote(session)}"

    started = call("stream_start", raw_query=query)
    listed = call("recordings", method=method, raw_query=query)
    chat = call("chat_token", raw_query=query)

    assert [started.status, listed.status, chat.status] == [400, 400, 400]
    assert call("audience_token").json()["token"] is None  # the stream never went live
    # the same session in the header is accepted
    assert call("stream_start", headers={"X-Host-Session": session}).json()["live"] is True
    assert call("stream_stop", raw_query=query).status == 400
    assert call("audience_token").json()["token"] is not None  # ...and was not stopped


def test_other_query_fields_still_reach_the_functions() -> None:
    # recording_media's signed link lives in the address (a <video src> cannot send a body)
    answer = call("recording_media", method="GET", raw_query="id=nope&expires=1&sig=x")

    assert answer.status == 400
    assert "recording id" in answer.json()["error"]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("host_token", {"password": PASSWORD}),
        ("audience_token", {}),
        ("recordings", {"password": PASSWORD}),
        ("host_token", {"password": "wrong"}),
    ],
)
def test_token_answers_are_never_stored_by_a_cache(name: str, body: dict[str, str]) -> None:
    answer = call(name, body)

    assert answer.headers["cache-control"] == "no-store"


def test_stream_answers_are_never_stored_by_a_cache() -> None:
    session = sign_in()["session"]

    for name in ("stream_start", "stream_stop"):
        assert call(name, {"session": session}).headers["cache-control"] == "no-store"
