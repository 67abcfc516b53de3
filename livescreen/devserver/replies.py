"""The dev server's HTTP answers over ASGI: a complete one, a file sent a chunk at a time, and
the 400/413 that refuses a request body (read here, within ``MAX_REQUEST_BODY``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from livescreen.devserver.asgi import Message, Receive, Scope, Send, headers
from livescreen.devserver.relays.http import FileBody

MAX_REQUEST_BODY = 1024 * 1024
#: A file answered by a relay (a local recording) is read and sent this much at a time.
FILE_CHUNK_BYTES = 256 * 1024

_JSON = "application/json"
_NO_BODY_STATUSES = (204, 304)

Headers = Iterable[tuple[str, str]]
#: Runs a blocking call on a worker thread: ``await in_thread(function, *args)``.
InThread = Callable[..., Awaitable[Any]]


class FileReply:
    """An answer whose body is read from a file while it is sent."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Headers, body: FileBody) -> None:
        self.status = status
        self.headers = list(headers)
        self.body = body


class Reply:
    """A complete answer: status, headers, body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        self.status = status
        self.headers = list(headers)
        self.body = body


def error_reply(status: int, message: str, **headers: str) -> Reply:
    """``{"error": message}`` as JSON, answered ``status`` with ``headers`` added."""
    body = json.dumps({"error": message}).encode()
    return Reply(status, [("content-type", _JSON), *headers.items()], body)


async def read_body(scope: Scope, receive: Receive) -> bytes | Reply | None:
    """The request body; the 400/413 answer for one that is malformed or too large; None when
    the client went away before sending all of it."""
    lengths = [v for k, v in headers(scope) if k == "content-length"]
    if lengths:
        try:
            length = int(lengths[0])
            if length < 0 or len(set(lengths)) > 1:
                raise ValueError(lengths)
        except ValueError:
            return error_reply(400, "Bad Content-Length")
        if length > MAX_REQUEST_BODY:
            return error_reply(413, "Body too large")
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_REQUEST_BODY:
            return error_reply(413, "Body too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_reply(send: Send, method: str, reply: Reply) -> None:
    """Send ``reply`` (no body for ``HEAD``, 204 and 304)."""
    no_body = reply.status in _NO_BODY_STATUSES
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
    raw = [(k, v) for k, v in raw if k != b"content-length"]
    if not no_body:
        raw.append((b"content-length", str(len(reply.body)).encode()))
    body = b"" if no_body or method == "HEAD" else reply.body
    await send({"type": "http.response.start", "status": reply.status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_file(
    send: Send, receive: Receive, method: str, reply: FileReply, in_thread: InThread
) -> None:
    """Send ``reply``'s file a chunk at a time (read by ``in_thread``), so that memory stays
    bounded whatever its size; stop early when the client goes away."""
    file = reply.body
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
    raw = [(k, v) for k, v in raw if k != b"content-length"]
    raw.append((b"content-length", str(file.length).encode()))
    gone = asyncio.Event()

    async def watch_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.ensure_future(watch_disconnect())
    try:
        await send({"type": "http.response.start", "status": reply.status, "headers": raw})
        if method != "HEAD":
            while not gone.is_set():
                chunk = await in_thread(file.read, FILE_CHUNK_BYTES)
                if not chunk:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        watcher.cancel()
        await in_thread(file.close)
