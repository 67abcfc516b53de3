"""Runs one function for one request under the Twilio Functions contract.

``callback(error, payload)``: a ``str`` payload is 200 text/plain; a dict, list or ``None`` is
200 JSON; a ``Response`` is sent as set; an error is 500 with a generic JSON message (the detail
goes to the log, never to the client). The first call wins; a second is logged and ignored.
A handler that returns without calling back is a 500. ``HttpError`` and ``ProviderError``
raised by a handler become their own status with ``{"error": message}``.

Before anything else, a request whose query string names a host secret (``password``,
``session``...) is a 400 (``function_event.refuse_secrets_in_query``). Every answer that does
not set its own ``Cache-Control`` gets ``no-store``: answers carry tokens and sessions, or
per-request state, that no cache should keep.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from livescreen.config import ConfigError, Settings
from livescreen.errors import ProviderError
from livescreen.runtime.context import FunctionContext
from livescreen.runtime.errors import HttpError, MethodNotAllowedError, UnauthorizedError
from livescreen.runtime.function_event import build_event, refuse_secrets_in_query
from livescreen.runtime.loader import FunctionSpec
from livescreen.runtime.request import HttpRequest
from livescreen.runtime.response import Response

logger = logging.getLogger("livescreen.runtime")

GENERIC_ERROR = "Internal server error"
NO_STORE = "no-store"


@dataclass
class HttpResult:
    status: int
    headers: dict[str, list[str]] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ",".join(values) if values else None


def json_result(status: int, payload: Any, headers: dict[str, str] | None = None) -> HttpResult:
    result = HttpResult(
        status,
        {"content-type": ["application/json"]},
        body=json.dumps(payload, separators=(",", ":")).encode("utf-8"),
    )
    for name, value in (headers or {}).items():
        result.headers[name.lower()] = [value]
    return result


def error_result(status: int, message: str, headers: dict[str, str] | None = None) -> HttpResult:
    return json_result(status, {"error": message}, headers)


class _Callback:
    """The ``callback`` handed to a function; remembers the first call only."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.called = threading.Event()
        self.error: Any = None
        self.payload: Any = None

    def __call__(self, error: Any = None, payload: Any = None) -> None:
        if self.called.is_set():
            logger.warning("callback called more than once by %s; ignored", self.function_name)
            return
        self.error, self.payload = error, payload
        self.called.set()


def _payload_result(payload: Any) -> HttpResult:
    if isinstance(payload, Response):
        body = payload.encoded_body()
        return HttpResult(
            payload.status_code,
            {k: list(v) for k, v in payload.headers.items()},
            list(payload.cookies),
            body,
        )
    if isinstance(payload, str):
        return HttpResult(
            200, {"content-type": ["text/plain; charset=utf-8"]}, body=payload.encode()
        )
    return json_result(200, payload)


def _signature_is_valid(spec: FunctionSpec, request: HttpRequest, settings: Settings) -> bool:
    from livescreen.runtime.twilio_signature import validate_request

    return validate_request(request, settings)


def run_function(spec: FunctionSpec, request: HttpRequest, settings: Settings) -> HttpResult:
    """Answer ``request`` with the function ``spec``; never raises."""
    result = _answer(spec, request, settings)
    result.headers.setdefault("cache-control", [NO_STORE])
    return result


def _answer(spec: FunctionSpec, request: HttpRequest, settings: Settings) -> HttpResult:
    try:
        refuse_secrets_in_query(request)
    except HttpError as exc:
        return error_result(exc.status_code, exc.message, exc.headers)
    allow = ", ".join([*spec.methods, "OPTIONS"])
    if request.method == "OPTIONS":
        return HttpResult(204, {"allow": [allow]})
    try:
        if request.method not in spec.methods:
            raise MethodNotAllowedError(
                f"Method {request.method} is not allowed on /{spec.name}; use {allow}",
                headers={"allow": allow},
            )
        if spec.protected and not _signature_is_valid(spec, request, settings):
            raise UnauthorizedError("Missing or invalid X-Twilio-Signature")
        event = build_event(request)
        context = FunctionContext(settings, domain_name=request.domain_name, path=f"/{spec.name}")
        callback = _Callback(spec.name)
        returned = spec.handler(context, event, callback)
        if inspect.isawaitable(returned):
            _run_to_completion(returned)
    except HttpError as exc:
        return error_result(exc.status_code, exc.message, exc.headers)
    except ProviderError as exc:
        logger.warning("%s: upstream error: %s", spec.name, exc.message)
        retry = {"retry-after": str(exc.retry_after)} if exc.retry_after is not None else None
        return error_result(exc.status, exc.message, retry)
    except ConfigError as exc:
        logger.error("%s: configuration error: %s", spec.name, exc)
        return error_result(500, GENERIC_ERROR)
    except Exception:
        logger.exception("%s: unhandled error", spec.name)
        return error_result(500, GENERIC_ERROR)
    if not callback.called.is_set():
        logger.error("%s returned without calling callback()", spec.name)
        return error_result(500, GENERIC_ERROR)
    if callback.error is not None:
        logger.error("%s: callback error: %r", spec.name, callback.error)
        return error_result(500, GENERIC_ERROR)
    return _payload_result(callback.payload)


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _run_to_completion(awaitable: Any) -> None:
    """Await an async handler; in a thread whose event loop is already running, use a worker."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_await(awaitable))
        return
    failure: list[BaseException] = []

    def run_in_worker() -> None:
        try:
            asyncio.run(_await(awaitable))
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=run_in_worker, name="livescreen-async-handler")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
