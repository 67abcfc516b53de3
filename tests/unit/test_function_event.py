"""The Twilio Functions ``event``: query parameters merged with the parsed body (body wins)."""

from __future__ import annotations

import pytest

from livescreen.runtime.errors import BadRequestError, UnsupportedMediaTypeError
from livescreen.runtime.function_event import MAX_BODY_BYTES, build_event
from livescreen.runtime.request import HttpRequest


def request(
    body: bytes = b"",
    content_type: str | None = "application/json",
    query: list[tuple[str, str]] | None = None,
) -> HttpRequest:
    headers = {"content-type": content_type} if content_type is not None else {}
    return HttpRequest(
        method="POST",
        path="/fn",
        headers={**headers, "x-host-session": "s"},
        query=query or [],
        cookies={"theme": "dark"},
        body=body,
        source_ip="198.51.100.7",
    )


def test_json_body_fields_become_event_keys_and_win_over_the_query() -> None:
    event = build_event(
        request(b'{"password": "from-body", "n": 3}', query=[("password", "q"), ("x", "1")])
    )

    assert event["password"] == "from-body"
    assert event["n"] == 3
    assert event["x"] == "1"


def test_the_event_carries_request_headers_and_cookies_like_twilio_and_the_source_ip() -> None:
    event = build_event(request(b"{}"))

    assert event["request"] == {
        "headers": {"content-type": "application/json", "x-host-session": "s"},
        "cookies": {"theme": "dark"},
        "sourceIp": "198.51.100.7",
        "method": "POST",
    }


def test_form_body_and_repeated_keys_become_lists() -> None:
    event = build_event(
        request(b"password=pw&tag=a&tag=b", "application/x-www-form-urlencoded; charset=utf-8")
    )

    assert event["password"] == "pw"
    assert event["tag"] == ["a", "b"]


def test_repeated_query_keys_become_lists() -> None:
    event = build_event(request(query=[("tag", "a"), ("tag", "b"), ("tag", "c")]))

    assert event["tag"] == ["a", "b", "c"]


def test_a_beacon_text_plain_json_body_is_understood() -> None:
    # navigator.sendBeacon(url, JSON.stringify({...})) sends text/plain
    event = build_event(request(b'{"session": "abc"}', "text/plain;charset=UTF-8"))

    assert event["session"] == "abc"


def test_without_content_type_json_then_form_is_tried() -> None:
    assert build_event(request(b'{"a": "1"}', None))["a"] == "1"
    assert build_event(request(b"a=2", None))["a"] == "2"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"password": ', "application/json", "not valid JSON"),
        (b'["a", "b"]', "application/json", "must be a JSON object"),
        (b"not json", "text/plain", "not valid JSON"),
        (b"42", "text/plain", "must be a JSON object"),
        (b"=&&", "application/x-www-form-urlencoded", "neither JSON nor form"),
        (b"\xff\xfe", None, "neither JSON nor form"),
    ],
)
def test_malformed_bodies_are_a_400_that_says_what_is_wrong(
    body: bytes, content_type: str | None, message: str
) -> None:
    with pytest.raises(BadRequestError, match=message):
        build_event(request(body, content_type))


def test_an_oversized_body_is_refused_before_parsing() -> None:
    body = b'{"a": "' + b"x" * MAX_BODY_BYTES + b'"}'

    with pytest.raises(BadRequestError, match="larger than"):
        build_event(request(body))


def test_an_unsupported_content_type_is_a_415_naming_the_accepted_ones() -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="application/json") as info:
        build_event(request(b"<xml/>", "application/xml"))

    assert info.value.status_code == 415


def test_an_empty_body_is_an_empty_event() -> None:
    event = build_event(request(b"  \n"))

    assert set(event) == {"request"}
