"""``handle_event``: API Gateway HTTP API (2.0) and REST API (1.0) events in, responses out."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from livescreen.config import ConfigError, Settings
from livescreen.runtime.api_gateway import handle_event
from livescreen.runtime.invocation import GENERIC_ERROR
from livescreen.runtime.loader import FunctionRegistry

ECHO = """
def handler(context, event, callback):
    fields = {k: v for k, v in event.items() if k != "request"}
    callback(None, {"fields": fields, "cookies": event["request"]["cookies"],
                    "accept": event["request"]["headers"].get("accept")})
"""

COOKIES = """
from livescreen.runtime import Response

def handler(context, event, callback):
    response = Response({"ok": True}).append_header("X-Tag", "a").append_header("X-Tag", "b")
    response.set_cookie("sid", "abc", ["HttpOnly", "Secure"]).set_cookie("lang", "en")
    callback(None, response)
"""

PIXEL = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
BINARY = f"""
from livescreen.runtime import Response

def handler(context, event, callback):
    callback(None, Response({PIXEL!r}).append_header("Content-Type", "image/png"))
"""

SETTINGS = Settings({}, "test")


@pytest.fixture
def registry(functions_dir: Path, write_function: Callable[[str, str], Path]) -> FunctionRegistry:
    write_function("echo.py", ECHO)
    write_function("cookies.py", COOKIES)
    write_function("pixel.py", BINARY)
    return FunctionRegistry(functions_dir)


def v2_event(
    *,
    body: str | None = None,
    content_type: str = "application/json",
    is_base64: bool = False,
    raw_query: str = "",
    cookies: list[str] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event as API Gateway documents it."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/echo",
        "rawQueryString": raw_query,
        "headers": {"content-type": content_type, "host": "api.example.test", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.test",
            "http": {
                "method": method,
                "path": "/echo",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.1",
                "userAgent": "test",
            },
            "requestId": "r-1",
            "stage": "$default",
        },
        "isBase64Encoded": is_base64,
    }
    if body is not None:
        event["body"] = body
    if cookies:
        event["cookies"] = cookies
    return event


def v1_event(
    *,
    body: str | None = None,
    content_type: str = "application/json",
    is_base64: bool = False,
    multi_headers: dict[str, list[str]] | None = None,
    multi_query: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A REST API proxy (payload 1.0) event as API Gateway documents it."""
    multi = {"Content-Type": [content_type], **(multi_headers or {})}
    return {
        "resource": "/echo",
        "path": "/echo",
        "httpMethod": "POST",
        "headers": {k: v[-1] for k, v in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in (multi_query or {}).items()} or None,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": {"requestId": "r-1", "identity": {"sourceIp": "203.0.113.1"}},
        "body": body,
        "isBase64Encoded": is_base64,
    }


def call(event: dict[str, Any], registry: FunctionRegistry, name: str = "echo") -> dict[str, Any]:
    return handle_event(event, registry, name, lambda: SETTINGS)


def echoed(response: dict[str, Any]) -> Any:
    assert response["statusCode"] == 200, response
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


def test_v2_json_body(registry: FunctionRegistry) -> None:
    response = call(v2_event(body='{"password": "pw", "n": 1}'), registry)

    assert response["headers"]["content-type"] == "application/json"
    assert echoed(response)["fields"] == {"password": "pw", "n": 1}


def test_v2_form_body(registry: FunctionRegistry) -> None:
    event = v2_event(
        body="password=p%26w&tag=a&tag=b", content_type="application/x-www-form-urlencoded"
    )

    assert echoed(call(event, registry))["fields"] == {"password": "p&w", "tag": ["a", "b"]}


def test_v2_base64_body(registry: FunctionRegistry) -> None:
    body = base64.b64encode(b'{"session": "s-1"}').decode()

    assert echoed(call(v2_event(body=body, is_base64=True), registry))["fields"] == {
        "session": "s-1"
    }


def test_v2_repeated_query_keys_and_headers(registry: FunctionRegistry) -> None:
    # API Gateway joins repeated headers with commas; rawQueryString keeps every key
    event = v2_event(raw_query="tag=a&tag=b&x=1", headers={"accept": "text/html,application/json"})

    data = echoed(call(event, registry))

    assert data["fields"] == {"tag": ["a", "b"], "x": "1"}
    assert data["accept"] == "text/html,application/json"


def test_v2_cookies_list(registry: FunctionRegistry) -> None:
    data = echoed(call(v2_event(cookies=["sid=abc", "theme=dark"]), registry))

    assert data["cookies"] == {"sid": "abc", "theme": "dark"}


def test_v1_json_form_and_base64_bodies(registry: FunctionRegistry) -> None:
    as_json = v1_event(body='{"a": "1"}')
    as_form = v1_event(body="a=2", content_type="application/x-www-form-urlencoded")
    as_b64 = v1_event(body=base64.b64encode(b'{"a": "3"}').decode(), is_base64=True)

    assert echoed(call(as_json, registry))["fields"] == {"a": "1"}
    assert echoed(call(as_form, registry))["fields"] == {"a": "2"}
    assert echoed(call(as_b64, registry))["fields"] == {"a": "3"}


def test_v1_repeated_headers_query_keys_and_cookie_header(registry: FunctionRegistry) -> None:
    event = v1_event(
        multi_headers={"Accept": ["text/html", "application/json"], "Cookie": ["sid=abc; x=1"]},
        multi_query={"tag": ["a", "b"]},
    )

    data = echoed(call(event, registry))

    assert data["fields"] == {"tag": ["a", "b"]}
    assert data["accept"] == "text/html, application/json"
    assert data["cookies"] == {"sid": "abc", "x": "1"}


def test_v2_response_puts_cookies_in_the_cookies_list(registry: FunctionRegistry) -> None:
    response = call(v2_event(), registry, "cookies")

    assert response["statusCode"] == 200
    assert response["cookies"] == ["sid=abc; HttpOnly; Secure", "lang=en"]
    assert response["headers"]["x-tag"] == "a,b"
    assert "set-cookie" not in response["headers"]


def test_v1_response_uses_multi_value_headers_with_set_cookie(registry: FunctionRegistry) -> None:
    response = call(v1_event(), registry, "cookies")

    assert response["statusCode"] == 200
    assert "headers" not in response
    assert response["multiValueHeaders"]["x-tag"] == ["a", "b"]
    assert response["multiValueHeaders"]["set-cookie"] == ["sid=abc; HttpOnly; Secure", "lang=en"]
    assert json.loads(response["body"]) == {"ok": True}


@pytest.mark.parametrize("make_event", [v2_event, v1_event], ids=["v2", "v1"])
def test_a_binary_body_goes_out_base64(
    registry: FunctionRegistry, make_event: Callable[..., dict[str, Any]]
) -> None:
    response = call(make_event(), registry, "pixel")

    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == PIXEL


def test_an_unknown_function_is_a_404_in_the_event_format(registry: FunctionRegistry) -> None:
    v2 = call(v2_event(), registry, "missing")
    v1 = call(v1_event(), registry, "missing")

    assert v2["statusCode"] == v1["statusCode"] == 404
    assert json.loads(v2["body"]) == {"error": "No function named 'missing'"}
    assert "multiValueHeaders" in v1


def test_an_event_from_elsewhere_is_a_400(registry: FunctionRegistry) -> None:
    response = call({"Records": [{"eventSource": "aws:s3"}]}, registry)

    assert response["statusCode"] == 400
    assert "Unsupported event" in json.loads(response["body"])["error"]


def test_a_settings_failure_is_a_generic_500_and_logged(
    registry: FunctionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="livescreen")

    def broken_settings() -> Settings:
        raise ConfigError("Missing required setting PARAMETER_PATH")

    response = handle_event(v2_event(), registry, "echo", broken_settings)

    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"error": GENERIC_ERROR}
    assert "PARAMETER_PATH" in caplog.text


def test_a_function_file_that_does_not_import_is_a_generic_500_and_logged(
    registry: FunctionRegistry,
    write_function: Callable[[str, str], Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="livescreen")
    write_function("broken.py", "def handler(context, event, callback)\n    pass\n")

    response = call(v2_event(), registry, "broken")

    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"error": GENERIC_ERROR}
    assert "cannot load function broken" in caplog.text
    assert "SyntaxError" in caplog.text
