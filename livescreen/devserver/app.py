"""The dev server's ASGI application: assets, functions and the dev server's own relays.

Every request to ``/<function>`` becomes the same API Gateway HTTP API (2.0) event Lambda would
receive and goes through the same adapter (``runtime.api_gateway.handle_event``), on a worker
thread: handlers are synchronous. ``/local/...`` (the ``local`` provider's signalling) and
``/chat/...`` (the ``local`` chat) exist only here, and so does ``/socket``, each page's one
WebSocket (``page_socket``), which carries the events of their channels: it is served on the
event loop, so an open socket holds no thread while it waits. A relay may answer with a file (a
local recording), which is read and sent a chunk at a time.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from livescreen.asset_publisher.content_types import content_type
from livescreen.chat import chat_provider_name
from livescreen.config import Settings
from livescreen.devserver import guards, page_socket
from livescreen.devserver.channels import Channel
from livescreen.devserver.http_api_event import build_http_api_v2_event
from livescreen.devserver.relays.http import FileBody, RelayError, Response
from livescreen.runtime.api_gateway import handle_event
from livescreen.runtime.loader import FunctionRegistry

logger = logging.getLogger("livescreen.devserver")

LOCAL_PREFIX = "/local/"
CHAT_PREFIX = "/chat/"
RELAY_PREFIXES = (LOCAL_PREFIX, CHAT_PREFIX)
MAX_REQUEST_BODY = 1024 * 1024
#: A file answered by a relay (a local recording) is read and sent this much at a time.
FILE_CHUNK_BYTES = 256 * 1024
#: Requests handled on worker threads at once (function calls, asset reads, signalling posts);
#: more wait their turn in a queue, which costs no thread. None of them waits for another page.
WORKER_THREADS = 64

_JSON = "application/json"
_NO_BODY_STATUSES = (204, 304)

Headers = Iterable[tuple[str, str]]
# The ASGI interface (https://asgi.readthedocs.io/), as uvicorn calls the app.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _FileReply:
    """An answer whose body is read from a file while it is sent."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Headers, body: FileBody) -> None:
        self.status = status
        self.headers = list(headers)
        self.body = body


class _Reply:
    """A complete answer: status, headers, body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        self.status = status
        self.headers = list(headers)
        self.body = body


def _error(status: int, message: str, **headers: str) -> _Reply:
    body = json.dumps({"error": message}).encode()
    return _Reply(status, [("content-type", _JSON), *headers.items()], body)


class DevApp:
    """ASGI app serving ``assets_dir`` and ``functions``, reading settings from ``settings``."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        functions: FunctionRegistry,
        assets_dir: Path,
    ) -> None:
        self.settings = settings
        self.functions = functions
        self.assets_dir = assets_dir
        self._workers: ThreadPoolExecutor | None = None
        self._stopping: asyncio.Event | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def bind_loop(self) -> None:
        """Create the loop-bound primitives; call on the server's event loop before serving."""
        self._workers = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="livescreen-dev")
        self._stopping = asyncio.Event()

    def stop_streams(self) -> None:
        """Close every page's socket (server shutdown); call on the server's event loop."""
        if self._stopping is not None:
            self._stopping.set()

    def close(self) -> None:
        """Release the worker threads once the server has stopped."""
        if self._workers is not None:
            self._workers.shutdown(wait=False, cancel_futures=True)

    # -- ASGI -----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # a Host this server does not serve is refused; every answer gets the security headers
        guarded = await guards.guard(scope, receive, send, self.settings)
        if guarded is None:
            return
        send = guarded
        if scope["type"] == "websocket":
            stop = self._stopping
            assert stop is not None, "bind_loop() was not called"
            await page_socket.serve(scope, receive, send, self._open_channel, stop)
            return
        if scope["type"] != "http":  # the server runs with lifespan events off
            return
        method: str = scope["method"]
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._answer(scope, receive, tracked_send)
        except Exception:
            logger.exception("%s %s failed", method, scope.get("path"))
            if not started:
                await _send_reply(send, method, _error(500, "Internal server error"))

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        body = await _read_body(scope, receive)
        if body is None:  # the client went away while sending its body
            return
        if isinstance(body, _Reply):
            await _send_reply(send, method, body)
            return
        path: str = scope["path"]
        prefix = next((p for p in RELAY_PREFIXES if (path + "/").startswith(p)), None)
        if prefix is not None:
            answer = await self._in_thread(self._relay, scope, prefix, path, body)
            if isinstance(answer, _FileReply):
                await self._send_file(send, receive, method, answer)
            else:
                await _send_reply(send, method, answer)
            return
        reply = await self._in_thread(self._function_or_asset, scope, path, body)
        await _send_reply(send, method, reply)

    async def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._workers, function, *args)

    # -- functions and assets (worker thread) ---------------------------------------------------

    def _function_or_asset(self, scope: Scope, path: str, body: bytes) -> _Reply:
        name = path.strip("/")
        if name and "/" not in name and self.functions.has(name):
            return self._function(scope, name, path, body)
        return self._asset(scope["method"], path)

    def _function(self, scope: Scope, name: str, path: str, body: bytes) -> _Reply:
        method: str = scope["method"]
        headers = _headers(scope)
        peer = _peer(scope)
        forwarded = [v for k, v in headers if k == "x-forwarded-for"]
        pairs = [(k, v) for k, v in headers if k != "x-forwarded-for"]
        pairs.append(("x-forwarded-for", ", ".join([*forwarded, peer])))
        if not any(k == "x-forwarded-proto" for k, _ in headers):
            pairs.append(("x-forwarded-proto", "http"))  # plain HTTP here, unless a proxy says so
        host = next((v for k, v in headers if k == "host"), "localhost")
        event = build_http_api_v2_event(
            method=method,
            path=path,
            headers=pairs,
            body=body,
            raw_query=scope.get("query_string", b"").decode("latin-1"),
            source_ip=peer,
            domain_name=host,
        )
        response = handle_event(event, self.functions, name, self.settings)
        raw = response.get("body", "")
        data = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode("utf-8")
        out = list(dict(response.get("headers", {})).items())
        out += [("set-cookie", cookie) for cookie in response.get("cookies", [])]
        status = response["statusCode"]
        # successful calls at debug level: a log line costs as much as the rest of the request
        logger.log(
            logging.INFO if status >= 400 else logging.DEBUG, "%s %s -> %s", method, path, status
        )
        return _Reply(response["statusCode"], out, data)

    def _asset(self, method: str, path: str) -> _Reply:
        if method not in ("GET", "HEAD"):
            return _error(405, "Assets are read-only: use GET", allow="GET, HEAD")
        root = self.assets_dir.resolve()
        relative = path.lstrip("/") or "index.html"
        try:
            target = (root / relative).resolve()
            if target.is_dir():
                target = target / "index.html"
            found = root in target.parents and target.is_file()
        except (ValueError, OSError):  # a name the file system refuses (NUL byte, too long)
            found = False
        if not found:
            return _Reply(404, [("content-type", "text/plain; charset=utf-8")], b"Not found\n")
        # (the host page's Permissions-Policy comes with every answer's headers: guards.py)
        headers = [("content-type", content_type(target.name)), ("cache-control", "no-cache")]
        return _Reply(200, headers, target.read_bytes())

    # -- the local provider's signalling --------------------------------------------------------

    def _relay(self, scope: Scope, prefix: str, path: str, body: bytes) -> _Reply | _FileReply:
        """``/local/...`` (the local provider's signalling and recording uploads) or
        ``/chat/...`` (local chat)."""
        settings = self.settings()
        handle: Callable[..., Response]
        sub_path = path[len(prefix) - 1 :]
        if prefix == LOCAL_PREFIX:
            if settings.provider != "local":
                return _error(404, "The local provider is not in use")
            from livescreen.devserver.relays import recordings as local_recording_routes

            if local_recording_routes.is_recording_path(sub_path):
                handle = partial(local_recording_routes.handle, settings=settings)
            else:
                from livescreen.devserver.relays.signalling import handle
        else:
            if chat_provider_name(settings) != "local":
                return _error(404, "The local chat is not in use (CHAT_PROVIDER)")
            from livescreen.devserver.relays.chat import handle as handle_chat

            handle = handle_chat

        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        headers = dict(_headers(scope))
        status, out_headers, out_body = handle(scope["method"], sub_path, query, headers, body)
        if isinstance(out_body, FileBody):
            return _FileReply(status, out_headers.items(), out_body)
        return _Reply(status, out_headers.items(), out_body)

    def _open_channel(self, name: str, message: Mapping[str, Any], address: str) -> Channel:
        """The channel a page's socket subscribes to (``page_socket.OpenChannel``)."""
        settings = self.settings()
        if name == "chat":
            if chat_provider_name(settings) != "local":
                raise RelayError(404, "The local chat is not in use (CHAT_PROVIDER)")
            from livescreen.devserver.relays.chat import chat_channel

            return chat_channel(message)
        if settings.provider != "local":
            raise RelayError(404, "The local provider is not in use")
        from livescreen.devserver.relays import signalling as local_signalling

        if name == "host":
            return local_signalling.host_channel(message)
        return local_signalling.viewer_channel(message, address)

    async def _send_file(
        self, send: Send, receive: Receive, method: str, reply: _FileReply
    ) -> None:
        """Send ``reply``'s file a chunk at a time (read on a worker thread), so that memory
        stays bounded whatever its size; stop early when the client goes away."""
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
                    chunk = await self._in_thread(file.read, FILE_CHUNK_BYTES)
                    if not chunk:
                        break
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            await self._in_thread(file.close)


async def _read_body(scope: Scope, receive: Receive) -> bytes | _Reply | None:
    """The request body; the 400/413 answer for one that is malformed or too large; None when
    the client went away before sending all of it."""
    lengths = [v for k, v in _headers(scope) if k == "content-length"]
    if lengths:
        try:
            length = int(lengths[0])
            if length < 0 or len(set(lengths)) > 1:
                raise ValueError(lengths)
        except ValueError:
            return _error(400, "Bad Content-Length")
        if length > MAX_REQUEST_BODY:
            return _error(413, "Body too large")
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_REQUEST_BODY:
            return _error(413, "Body too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send_reply(send: Send, method: str, reply: _Reply) -> None:
    no_body = reply.status in _NO_BODY_STATUSES
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
    raw = [(k, v) for k, v in raw if k != b"content-length"]
    if not no_body:
        raw.append((b"content-length", str(len(reply.body)).encode()))
    body = b"" if no_body or method == "HEAD" else reply.body
    await send({"type": "http.response.start", "status": reply.status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _headers(scope: Scope) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "127.0.0.1"
