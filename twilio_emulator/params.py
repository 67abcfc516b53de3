"""Request parameters read the way Twilio reads them, or ``ApiError`` naming what is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

from twilio_emulator.errors import ApiError, invalid, missing, out_of_range

Params = Mapping[str, str]

#: The methods a Video StatusCallback may use (Create Room, Create Composition: GET or POST).
VIDEO_CALLBACK_METHODS = ("GET", "POST")
#: The methods Media v1 documents for its StatusCallbacks.
MEDIA_CALLBACK_METHODS = ("HEAD", "GET", "POST", "PATCH", "PUT", "DELETE")


def refuse_unknown(params: Params, allowed: Iterable[str]) -> None:
    """Twilio answers 400 to a parameter its API reference does not list."""
    known = frozenset(allowed)
    for name in params:
        if name not in known:
            raise ApiError(400, 20001, f"Unknown parameter {name}")


def integer(params: Params, name: str, default: int, low: int, high: int, code: int = 20001) -> int:
    """A whole number in ``low..high`` (``default`` when absent)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise out_of_range(name, raw, low, high, code) from None
    if not low <= value <= high:
        raise out_of_range(name, raw, low, high, code)
    return value


def choice(params: Params, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    """One of ``allowed`` (``default`` when absent)."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if value not in allowed:
        raise invalid(name, value, allowed)
    return value


def status_callback(params: Params, methods: tuple[str, ...]) -> tuple[str | None, str]:
    """``StatusCallback`` (an http(s) URL, or None) and ``StatusCallbackMethod`` (POST)."""
    url = params.get("StatusCallback") or None
    if url is not None and urlparse(url).scheme not in ("http", "https"):
        raise invalid("StatusCallback", url)
    return url, choice(params, "StatusCallbackMethod", methods, "POST") or "POST"


def boolean(params: Params, name: str, default: bool = False) -> bool:
    """``true`` or ``false`` (``default`` when absent)."""
    value = params.get(name)
    if value in (None, ""):
        return default
    if value.lower() not in ("true", "false"):
        raise invalid(name, value, ("true", "false"))
    return value.lower() == "true"


def json_object(params: Params, name: str) -> dict[str, Any]:
    raw = params.get(name)
    if not raw:
        raise missing(name)
    try:
        value = json.loads(raw)
    except ValueError:
        raise ApiError(400, 20001, f"{name} must be a JSON object") from None
    if not isinstance(value, dict):
        raise ApiError(400, 20001, f"{name} must be a JSON object")
    return value
