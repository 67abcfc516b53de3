"""The one adapter between API Gateway events and functions, used by Lambda and the dev server."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping
from typing import Any

from livescreen.config import (
    SETTINGS_UNAVAILABLE,
    ConfigError,
    Settings,
    SettingsUnavailableError,
)
from livescreen.runtime.errors import HttpError
from livescreen.runtime.invocation import GENERIC_ERROR, HttpResult, error_result, run_function
from livescreen.runtime.loader import FunctionRegistry
from livescreen.runtime.request import from_api_gateway

logger = logging.getLogger("livescreen.runtime")

_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")


def _is_text(result: HttpResult) -> bool:
    content_type = (result.header("content-type") or "").lower()
    return not result.body or content_type.startswith(_TEXT_TYPES)


def _encode_body(result: HttpResult) -> tuple[str, bool]:
    if _is_text(result):
        return result.body.decode("utf-8"), False
    return base64.b64encode(result.body).decode("ascii"), True


def to_http_api_v2(result: HttpResult) -> dict[str, Any]:
    body, is_base64 = _encode_body(result)
    response: dict[str, Any] = {
        "statusCode": result.status,
        "headers": {name: ",".join(values) for name, values in result.headers.items()},
        "body": body,
        "isBase64Encoded": is_base64,
    }
    if result.cookies:
        response["cookies"] = list(result.cookies)
    return response


def to_rest_api_v1(result: HttpResult) -> dict[str, Any]:
    body, is_base64 = _encode_body(result)
    multi = {name: list(values) for name, values in result.headers.items()}
    if result.cookies:
        multi["set-cookie"] = list(result.cookies)
    return {
        "statusCode": result.status,
        "multiValueHeaders": multi,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def handle_event(
    event: Mapping[str, Any],
    registry: FunctionRegistry,
    function_name: str,
    load_settings: Callable[[], Settings],
) -> dict[str, Any]:
    """Answer an API Gateway event with ``functions/<function_name>.py``; never raises."""
    try:
        request, version = from_api_gateway(event)
    except HttpError as exc:
        return to_http_api_v2(error_result(exc.status_code, exc.message))
    render = to_http_api_v2 if version == "2.0" else to_rest_api_v1
    try:
        spec = registry.get(function_name)
    except Exception:  # a function file that does not import (syntax error mid-edit)
        logger.exception("cannot load function %s", function_name)
        return render(error_result(500, GENERIC_ERROR))
    if spec is None:
        return render(error_result(404, f"No function named {function_name!r}"))
    try:
        settings = load_settings()
    except SettingsUnavailableError as exc:
        logger.error("settings unavailable: %s", exc)
        return render(error_result(503, SETTINGS_UNAVAILABLE, {"retry-after": "5"}))
    except ConfigError as exc:
        logger.error("configuration error: %s", exc)
        return render(error_result(500, GENERIC_ERROR))
    return render(run_function(spec, request, settings))
