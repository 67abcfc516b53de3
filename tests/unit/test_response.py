"""``Response``: the object a function hands to ``callback`` to control the HTTP answer."""

from __future__ import annotations

import json

import pytest

from livescreen.runtime import Response


def test_structured_body_is_sent_as_json_with_a_json_content_type() -> None:
    # GIVEN a response whose body is a dict
    response = Response({"live": True, "viewers": [1, 2]})

    # WHEN it is encoded
    body = response.encoded_body()

    # THEN the client receives JSON and is told so
    assert json.loads(body) == {"live": True, "viewers": [1, 2]}
    assert response.header("Content-Type") == "application/json"


def test_string_body_is_plain_text_unless_a_type_was_set() -> None:
    plain = Response("hello")
    html = Response("<p>hi</p>").append_header("Content-Type", "text/html")

    assert plain.encoded_body() == b"hello"
    assert plain.header("content-type") == "text/plain; charset=utf-8"
    assert html.encoded_body() == b"<p>hi</p>"
    assert html.header("content-type") == "text/html"


def test_bytes_body_is_sent_untouched_and_none_is_empty() -> None:
    assert Response(b"\x00\x01wasm").encoded_body() == b"\x00\x01wasm"
    assert Response().encoded_body() == b""


def test_setters_chain_and_headers_are_case_insensitive() -> None:
    # GIVEN a response built with the Twilio-style chainable setters
    response = (
        Response()
        .set_status_code(201)
        .set_body({"ok": True})
        .append_header("X-Thing", "a")
        .append_header("x-thing", "b")
    )

    # THEN every value is kept under one name, in order
    assert response.status_code == 201
    assert response.headers["x-thing"] == ["a", "b"]
    assert response.header("X-THING") == "a,b"


def test_set_headers_replaces_headers_but_keeps_cookies() -> None:
    response = Response(headers={"X-Old": "1"}).set_cookie("theme", "dark")

    response.set_headers({"X-New": "2"})

    assert response.header("x-old") is None
    assert response.header("x-new") == "2"
    assert response.cookies == ["theme=dark"]


def test_cookies_replace_by_name_and_removal_expires_the_cookie() -> None:
    response = Response()
    response.set_cookie("sid", "one", ["HttpOnly", "Secure"])
    response.set_cookie("sid", "two", ["HttpOnly"])
    response.set_cookie("lang", "en")
    response.remove_cookie("lang")

    assert response.cookies == ["sid=two; HttpOnly", "lang=; Max-Age=0"]


@pytest.mark.parametrize("status", [99, 600, -1])
def test_a_status_outside_http_range_is_refused(status: int) -> None:
    with pytest.raises(ValueError, match="between 100 and 599"):
        Response().set_status_code(status)
