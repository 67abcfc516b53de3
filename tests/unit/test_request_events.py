"""``HttpRequest`` read from API Gateway HTTP API (2.0) and REST API (1.0) events."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from livescreen.devserver.http_api_event import build_http_api_v2_event
from livescreen.runtime.errors import BadRequestError
from livescreen.runtime.request import from_api_gateway, parse_cookies


def v1_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "resource": "/host_token",
        "path": "/host_token",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "requestContext": {
            "requestId": "req-1",
            "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": None,
        "isBase64Encoded": False,
    }
    event.update(overrides)
    return event


def test_http_api_event_is_read_with_method_path_headers_query_and_body() -> None:
    # GIVEN the event the dev server (and API Gateway) builds for a request
    event = build_http_api_v2_event(
        method="post",
        path="/host_token",
        headers=[("Content-Type", "application/json"), ("X-Trace", "a"), ("x-trace", "b")],
        body=b'{"password": "pw"}',
        raw_query="a=1&a=2&b=",
        source_ip="198.51.100.7",
        domain_name="example.test",
    )

    # WHEN it is read
    request, version = from_api_gateway(event)

    # THEN nothing the function needs is lost
    assert version == "2.0"
    assert request.method == "POST"
    assert request.path == "/host_token"
    assert request.headers["x-trace"] == "a,b"
    assert request.content_type == "application/json"
    assert request.query == [("a", "1"), ("a", "2"), ("b", "")]
    assert request.body == b'{"password": "pw"}'
    assert request.source_ip == "198.51.100.7"
    assert request.domain_name == "example.test"
    assert request.request_id


def test_http_api_cookies_come_from_the_cookies_list() -> None:
    event = build_http_api_v2_event(
        method="GET", path="/x", headers=[("Cookie", "a=1; b=two"), ("Cookie", "c=3")]
    )

    request, _ = from_api_gateway(event)

    assert event["cookies"] == ["a=1", "b=two", "c=3"]
    assert request.cookies == {"a": "1", "b": "two", "c": "3"}


def test_binary_body_travels_base64_and_is_decoded() -> None:
    payload = bytes(range(256))
    event = build_http_api_v2_event(
        method="POST",
        path="/upload",
        headers={"content-type": "application/octet-stream"},
        body=payload,
    )

    request, _ = from_api_gateway(event)

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload
    assert request.body == payload


def test_invalid_base64_body_is_a_400() -> None:
    event = build_http_api_v2_event(method="POST", path="/x", headers={})
    event.update(body="not base64!!", isBase64Encoded=True)

    with pytest.raises(BadRequestError, match="not valid base64"):
        from_api_gateway(event)


def test_rest_api_event_keeps_repeated_headers_and_query_keys() -> None:
    event = v1_event(
        multiValueHeaders={"Accept": ["text/html", "application/json"], "X-One": ["1"]},
        headers={"Accept": "application/json", "X-One": "1", "X-Only-Single": "s"},
        multiValueQueryStringParameters={"tag": ["a", "b"], "q": ["x"]},
        queryStringParameters={"tag": "b", "q": "x"},
        body='{"k": 1}',
    )

    request, version = from_api_gateway(event)

    assert version == "1.0"
    assert request.method == "POST"
    assert request.headers["accept"] == "text/html, application/json"
    assert request.headers["x-only-single"] == "s"
    assert request.query == [("tag", "a"), ("tag", "b"), ("q", "x")]
    assert request.body == b'{"k": 1}'
    assert request.source_ip == "203.0.113.9"
    assert request.request_id == "req-1"


def test_rest_api_event_without_multi_value_fields_still_reads_query_and_cookies() -> None:
    event = v1_event(
        multiValueHeaders=None,
        headers={"Cookie": "sid=abc; theme=dark"},
        queryStringParameters={"q": "1"},
    )

    request, _ = from_api_gateway(event)

    assert request.query == [("q", "1")]
    assert request.cookies == {"sid": "abc", "theme": "dark"}


def test_rest_api_cookie_header_in_multi_value_form() -> None:
    event = v1_event(multiValueHeaders={"Cookie": ["sid=abc", " lang=en"]})

    request, _ = from_api_gateway(event)

    assert request.cookies == {"sid": "abc", "lang": "en"}


def test_an_event_that_is_not_from_api_gateway_is_refused() -> None:
    with pytest.raises(BadRequestError, match="Unsupported event"):
        from_api_gateway({"Records": []})


def test_malformed_cookie_values_are_skipped_not_fatal() -> None:
    assert parse_cookies(['bad"cookie', "ok=1"]) == {"ok": "1"}
