"""``run_function``: the Twilio Functions callback contract, turned into an HTTP result."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from livescreen.config import ConfigError, Settings
from livescreen.providers import ProviderError
from livescreen.runtime import Response, TooManyRequestsError
from livescreen.runtime.invocation import GENERIC_ERROR, HttpResult, run_function
from livescreen.runtime.loader import FunctionSpec, Handler
from livescreen.runtime.request import HttpRequest

SETTINGS = Settings({"HOST_PASSWORD": "correct horse", "APP_TAG": "tag-1"}, "the test settings")


def run(
    handler: Handler,
    *,
    method: str = "POST",
    methods: tuple[str, ...] = ("GET", "POST"),
    body: bytes = b"",
) -> HttpResult:
    spec = FunctionSpec(
        name="fn",
        path=Path("functions/fn.py"),
        handler=handler,
        protected=False,
        methods=methods,
        mtime_ns=0,
    )
    request = HttpRequest(
        method=method,
        path="/fn",
        headers={"content-type": "application/json"},
        query=[],
        cookies={},
        body=body,
        domain_name="example.test",
    )
    return run_function(spec, request, SETTINGS)


def body_json(result: HttpResult) -> Any:
    assert result.header("content-type") == "application/json"
    return json.loads(result.body)


def test_a_string_payload_is_200_plain_text() -> None:
    result = run(lambda context, event, callback: callback(None, "hello"))

    assert result.status == 200
    assert result.header("content-type") == "text/plain; charset=utf-8"
    assert result.body == b"hello"


@pytest.mark.parametrize("payload", [{"ok": True}, [1, "two"], None], ids=["dict", "list", "none"])
def test_structured_or_absent_payload_is_200_json(payload: Any) -> None:
    result = run(lambda context, event, callback: callback(None, payload))

    assert result.status == 200
    assert body_json(result) == payload


def test_a_response_object_is_sent_exactly_as_set() -> None:
    def handler(context: Any, event: dict[str, Any], callback: Any) -> None:
        response = Response().set_status_code(201).set_body("<b>made</b>")
        response.append_header("Content-Type", "text/html").append_header("X-Id", "7")
        response.set_cookie("sid", "abc", ["HttpOnly"])
        callback(None, response)

    result = run(handler)

    assert result.status == 201
    assert result.header("content-type") == "text/html"
    assert result.header("x-id") == "7"
    assert result.cookies == ["sid=abc; HttpOnly"]
    assert result.body == b"<b>made</b>"


def test_a_callback_error_is_a_generic_500_with_the_detail_only_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="livescreen")

    result = run(lambda context, event, callback: callback(RuntimeError("db at 10.0.0.5 down")))

    assert result.status == 500
    assert body_json(result) == {"error": GENERIC_ERROR}
    assert b"10.0.0.5" not in result.body
    assert "db at 10.0.0.5 down" in caplog.text


def test_the_first_callback_wins_and_a_second_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="livescreen")

    def handler(context: Any, event: dict[str, Any], callback: Any) -> None:
        callback(None, {"n": 1})
        callback(None, {"n": 2})

    result = run(handler)

    assert body_json(result) == {"n": 1}
    assert "callback called more than once by fn" in caplog.text


def test_returning_without_calling_back_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    result = run(lambda context, event, callback: None)

    assert result.status == 500
    assert body_json(result) == {"error": GENERIC_ERROR}
    assert "fn returned without calling callback()" in caplog.text


def test_an_async_handler_is_awaited() -> None:
    async def handler(context: Any, event: dict[str, Any], callback: Any) -> None:
        await asyncio.sleep(0)
        callback(None, {"awaited": event["x"]})

    result = run(handler, body=b'{"x": 5}')

    assert body_json(result) == {"awaited": 5}


def test_an_async_handler_that_raises_an_http_error_gets_its_status() -> None:
    async def handler(context: Any, event: dict[str, Any], callback: Any) -> None:
        raise TooManyRequestsError("slow down", headers={"Retry-After": "30"})

    result = run(handler)

    assert result.status == 429
    assert body_json(result) == {"error": "slow down"}
    assert result.header("retry-after") == "30"


def test_an_http_error_becomes_its_status_and_message() -> None:
    def handler(context: Any, event: dict[str, Any], callback: Any) -> None:
        raise TooManyRequestsError("Too many wrong passwords", headers={"Retry-After": "12"})

    result = run(handler)

    assert result.status == 429
    assert body_json(result) == {"error": "Too many wrong passwords"}
    assert result.header("retry-after") == "12"


def test_a_provider_error_becomes_its_status_and_message() -> None:
    def handler(context: Any, event: dict[str, Any], callback: Any) -> None:
        raise ProviderError("Twilio Live was retired on 2023-11-30", status=503)

    result = run(handler)

    assert result.status == 503
    assert body_json(result) == {"error": "Twilio Live was retired on 2023-11-30"}


def test_an_unexpected_exception_is_a_500_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handler(context: Any, event: dict[str, Any], callback: Any) -> None:
        raise KeyError("internal-detail")

    result = run(handler)

    assert result.status == 500
    assert body_json(result) == {"error": GENERIC_ERROR}
    assert b"Traceback" not in result.body
    assert b"internal-detail" not in result.body
    assert "fn: unhandled error" in caplog.text
    assert "internal-detail" in caplog.text


def test_a_configuration_error_is_a_generic_500_logged_with_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handler(context: Any, event: dict[str, Any], callback: Any) -> None:
        raise ConfigError("Missing required setting IVS_PUBLIC_KEY_ARN")

    result = run(handler)

    assert result.status == 500
    assert body_json(result) == {"error": GENERIC_ERROR}
    assert "IVS_PUBLIC_KEY_ARN" in caplog.text


def test_options_is_204_with_allow_and_the_handler_never_runs() -> None:
    calls: list[str] = []

    result = run(
        lambda context, event, callback: calls.append("ran"), method="OPTIONS", methods=("POST",)
    )

    assert result.status == 204
    assert result.header("allow") == "POST, OPTIONS"
    assert result.body == b""
    assert calls == []


def test_a_method_the_function_does_not_take_is_405_with_allow() -> None:
    calls: list[str] = []

    result = run(
        lambda context, event, callback: calls.append("ran"), method="GET", methods=("POST",)
    )

    assert result.status == 405
    assert result.header("allow") == "POST, OPTIONS"
    assert "Method GET is not allowed on /fn" in body_json(result)["error"]
    assert calls == []


def test_a_malformed_body_is_400_before_the_handler_runs() -> None:
    calls: list[str] = []

    result = run(lambda context, event, callback: calls.append("ran"), body=b"{oops")

    assert result.status == 400
    assert "not valid JSON" in body_json(result)["error"]
    assert calls == []


def test_context_exposes_settings_as_attributes_and_names_a_missing_one() -> None:
    seen: dict[str, Any] = {}

    def handler(context: Any, event: dict[str, Any], callback: Any) -> None:
        seen.update(
            password=context.HOST_PASSWORD,
            tag=context.APP_TAG,
            room_type=context.ROOM_TYPE,
            domain=context.DOMAIN_NAME,
            path=context.PATH,
        )
        try:
            seen["unexpected"] = context.AUTH_TOKEN
        except AttributeError as exc:
            seen["missing"] = str(exc)
        callback(None, None)

    run(handler)

    assert seen == {
        "password": "correct horse",
        "tag": "tag-1",
        "room_type": "group",
        "domain": "example.test",
        "path": "/fn",
        "missing": "context.AUTH_TOKEN has no value: set AUTH_TOKEN in the test settings",
    }


def test_an_async_handler_is_awaited_even_when_an_event_loop_is_already_running() -> None:
    # GIVEN an async handler, invoked from code that is itself inside a running event loop
    async def handler(context: Any, event: dict[str, Any], callback: Any) -> None:
        await asyncio.sleep(0)
        callback(None, {"awaited": True})

    async def caller() -> HttpResult:
        return run(handler)

    # WHEN it runs (in a thread of its own, whatever loop the test runner has going)
    results: list[HttpResult] = []
    worker = threading.Thread(target=lambda: results.append(asyncio.run(caller())))
    worker.start()
    worker.join(timeout=10)
    # THEN it still completes and answers
    result = results[0]
    assert result.status == 200
    assert json.loads(result.body) == {"awaited": True}


def test_every_answer_is_no_store_unless_the_function_says_otherwise() -> None:
    plain = run(lambda context, event, callback: callback(None, {"token": "t"}))
    failed = run(lambda context, event, callback: callback("boom"))
    own = run(
        lambda context, event, callback: callback(
            None, Response("cached", headers={"Cache-Control": "public, max-age=60"})
        )
    )

    assert plain.header("cache-control") == "no-store"
    assert failed.header("cache-control") == "no-store"
    assert own.header("cache-control") == "public, max-age=60"
