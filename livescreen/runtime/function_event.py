"""The Twilio Functions ``event``: query parameters merged with the body (body wins).

The host's secrets are never taken from the query string: an address ends up in browser
history, proxy and access logs and ``Referer`` headers. ``refuse_secrets_in_query`` answers
400 for any function request whose address names one, before anything reads its value;
``secret_named_in`` is that check, for a route with secrets of its own (the dev server's
recording upload).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from livescreen.runtime.errors import BadRequestError, UnsupportedMediaTypeError
from livescreen.runtime.request import HttpRequest

#: Larger bodies are refused before parsing; every endpoint takes a few small fields.
MAX_BODY_BYTES = 64 * 1024

_SESSION_IN_ADDRESS = (
    "Send the host session in the X-Host-Session header or the request body, never in the address"
)
#: Fields that carry a host secret, with what to say when one is found in the query string.
SECRETS_NEVER_IN_ADDRESS: dict[str, str] = {
    "password": "Send the host password in the JSON body of a POST, never in the address",
    "session": _SESSION_IN_ADDRESS,
    "x-host-session": _SESSION_IN_ADDRESS,
    "device": "Send the device token in the request body, never in the address",
}


def secret_named_in(
    names: Iterable[str], secrets: Mapping[str, str] = SECRETS_NEVER_IN_ADDRESS
) -> str | None:
    """What to say about the first of ``names`` (an address's query parameter names) that
    ``secrets`` lists, in any letter case; None when none of them is a secret. Only the names
    are looked at: a secret's value is never read, so a right one is refused like a wrong one."""
    for name in names:
        message = secrets.get(name.lower())
        if message is not None:
            return message
    return None


def refuse_secrets_in_query(request: HttpRequest) -> None:
    """400 when the query string names a host secret (in any letter case, spaces around it
    ignored); the value is never read, so a right one is refused exactly like a wrong one."""
    message = secret_named_in(key.strip() for key, _ in request.query)
    if message is not None:
        raise BadRequestError(message)


def _collect(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Pairs to a dict; a repeated key becomes a list of its values, in order."""
    merged: dict[str, Any] = {}
    for key, value in pairs:
        if key in merged:
            existing = merged[key]
            merged[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            merged[key] = value
    return merged


def parse_body(request: HttpRequest) -> dict[str, Any]:
    body = request.body
    if not body.strip():
        return {}
    if len(body) > MAX_BODY_BYTES:
        raise BadRequestError(f"The request body is larger than {MAX_BODY_BYTES} bytes")
    content_type = request.content_type
    if content_type in ("application/json", "") or content_type.endswith("+json"):
        try:
            parsed = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            # ValueError covers JSONDecodeError and over-long integers; RecursionError, nesting.
            if content_type == "":
                return _form_or_error(body)
            raise BadRequestError(f"The request body is not valid JSON: {_reason(exc)}") from None
        if not isinstance(parsed, dict):
            raise BadRequestError("The request body must be a JSON object")
        return parsed
    if content_type == "application/x-www-form-urlencoded":
        return _form_or_error(body)
    if content_type == "text/plain":
        # navigator.sendBeacon with a string sends text/plain; accept a JSON object in it.
        try:
            parsed = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise BadRequestError(f"The request body is not valid JSON: {_reason(exc)}") from None
        if not isinstance(parsed, dict):
            raise BadRequestError("The request body must be a JSON object")
        return parsed
    raise UnsupportedMediaTypeError(
        f"Unsupported Content-Type {content_type!r}: send application/json or "
        "application/x-www-form-urlencoded"
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    return str(exc)


def _form_or_error(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
        return _collect(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        raise BadRequestError("The request body is neither JSON nor form-encoded") from None


def build_event(request: HttpRequest) -> dict[str, Any]:
    event = _collect(request.query)
    event.update(parse_body(request))
    event["request"] = {
        "headers": dict(request.headers),
        "cookies": dict(request.cookies),
        "sourceIp": request.source_ip,
        # beyond Twilio's event: lets a function refuse a secret sent in the address (GET)
        "method": request.method,
    }
    return event
