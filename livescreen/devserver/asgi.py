"""The ASGI interface (https://asgi.readthedocs.io/) as uvicorn calls the dev server's app, and
what the app reads of a connection's scope: its headers and the address it comes from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def headers(scope: Scope) -> list[tuple[str, str]]:
    """The request's headers, as text, in the order they came."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]


def peer(scope: Scope) -> str:
    """The address the connection comes from (never taken from a header)."""
    client = scope.get("client")
    return str(client[0]) if client else "127.0.0.1"
