"""Requests and answers of the dev server's own relays (``/local`` signalling, ``/chat``).

These routes exist only in the dev server, outside the function runtime, so they share this
small toolkit instead: a route table with 404/405 answers, JSON bodies read with limits, and
``{"error": ...}`` answers for every refusal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO, TypeVar


class FileBody:
    """A body read from ``file`` (from where it stands) while it is sent, ``length`` bytes in
    all, so that a large file is never held in memory; ``file`` None: the headers only (HEAD).
    Whoever sends it closes it."""

    def __init__(self, file: BinaryIO | None, length: int) -> None:
        self.file = file
        self.length = length
        self._left = length if file is not None else 0

    def read(self, size: int) -> bytes:
        """At most ``size`` more bytes; b"" at the end (or when the file is shorter)."""
        if self.file is None or self._left <= 0:
            return b""
        data = self.file.read(min(size, self._left))
        self._left -= len(data)
        return data

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


Response = tuple[int, dict[str, str], "bytes | FileBody"]
State = TypeVar("State")
Route = Callable[[State, Mapping[str, str], Mapping[str, str], bytes], Response]

JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


class RelayError(Exception):
    """Refuse the request with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def dispatch(
    routes: Mapping[tuple[str, str], Route[State]],
    state: State,
    prefix: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    what: str,
) -> Response:
    """Answer ``method path`` from ``routes``; 404/405 for what is not there, errors as JSON."""
    route = routes.get((method.upper(), path.rstrip("/") or "/"))
    if route is None:
        allowed = [m for m, p in routes if p == path.rstrip("/")]
        if allowed:
            status, out, data = json_response(
                405, {"error": f"{method} is not allowed on {prefix}{path}"}
            )
            return status, {**out, "Allow": ", ".join(allowed)}, data
        return json_response(404, {"error": f"No {what} endpoint at {prefix}{path}"})
    try:
        return route(state, query, headers, body)
    except RelayError as exc:
        return json_response(exc.status, {"error": exc.message})


def json_object(body: bytes, max_bytes: int) -> dict[str, Any]:
    """The JSON object in ``body``, or a 400/413 that says what is wrong with it."""
    if len(body) > max_bytes:
        raise RelayError(413, f"Request body is larger than {max_bytes} bytes")
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, ValueError):
        # ValueError covers JSONDecodeError and integers longer than Python converts.
        raise RelayError(400, "Request body must be JSON") from None
    except RecursionError:
        raise RelayError(400, "Request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise RelayError(400, "Request body must be a JSON object")
    return data


def required_text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise RelayError(400, f"Missing {key!r}: a non-empty string is required")
    return value


def channel_token(message: Mapping[str, Any]) -> str:
    """The ``token`` of a channel's opening message; "" when it has none that is text."""
    token = message.get("token")
    return token if isinstance(token, str) else ""


def json_response(status: int, payload: Mapping[str, Any]) -> Response:
    return status, dict(JSON_HEADERS), json.dumps(payload).encode()
