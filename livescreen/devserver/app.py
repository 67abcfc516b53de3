"""The dev server's ASGI application: assets, functions and the dev server's own relays.

Every request to ``/<function>`` becomes the same API Gateway HTTP API (2.0) event Lambda would
receive and goes through the same adapter (``runtime.api_gateway.handle_event``), on a worker
thread: handlers are synchronous. ``/local/...`` (the ``local`` provider's signalling) and
``/chat/...`` (the ``local`` chat) exist only here, and so does ``/socket``, each page's one
WebSocket (``page_socket``), which carries the events of their channels: it is served on the
event loop, so an open socket holds no thread while it waits. A relay may answer with a file (a
local recording), which is read and sent a chunk at a time (``replies``).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from livescreen.asset_publisher.content_types import cache_control, content_type
from livescreen.chat import chat_provider_name
from livescreen.config import Settings
from livescreen.devserver import asgi, guards, page_socket
from livescreen.devserver.asgi import Message, Receive, Scope, Send
from livescreen.devserver.asset_versions import entity_tag, is_current
from livescreen.devserver.channels import Channel
from livescreen.devserver.http_api_event import build_http_api_v2_event
from livescreen.devserver.relays.http import FileBody, RelayError, Response
from livescreen.devserver.replies import (
    FileReply,
    Reply,
    error_reply,
    read_body,
    send_file,
    send_reply,
)
from livescreen.runtime.api_gateway import handle_event
from livescreen.runtime.loader import FunctionRegistry

logger = logging.getLogger("livescreen.devserver")

LOCAL_PREFIX = "/local/"
CHAT_PREFIX = "/chat/"
RELAY_PREFIXES = (LOCAL_PREFIX, CHAT_PREFIX)
#: Requests handled on worker threads at once (function calls, asset reads, signalling posts);
#: more wait their turn in a queue, which costs no thread. None of them waits for another page.
WORKER_THREADS = 64


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
                await send_reply(send, method, error_reply(500, "Internal server error"))

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        body = await read_body(scope, receive)
        if body is None:  # the client went away while sending its body
            return
        if isinstance(body, Reply):
            await send_reply(send, method, body)
            return
        path: str = scope["path"]
        prefix = next((p for p in RELAY_PREFIXES if (path + "/").startswith(p)), None)
        if prefix is not None:
            answer = await self._in_thread(self._relay, scope, prefix, path, body)
            if isinstance(answer, FileReply):
                await send_file(send, receive, method, answer, self._in_thread)
            else:
                await send_reply(send, method, answer)
            return
        reply = await self._in_thread(self._function_or_asset, scope, path, body)
        await send_reply(send, method, reply)

    async def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._workers, function, *args)

    # -- functions and assets (worker thread) ---------------------------------------------------

    def _function_or_asset(self, scope: Scope, path: str, body: bytes) -> Reply:
        name = path.strip("/")
        if name and "/" not in name and self.functions.has(name):
            return self._function(scope, name, path, body)
        # (a field sent on several lines is one list: RFC 9110 §5.3)
        tags = [v for k, v in asgi.headers(scope) if k == "if-none-match"]
        if_none_match = ", ".join(tags) if tags else None
        return self._asset(scope["method"], path, if_none_match)

    def _function(self, scope: Scope, name: str, path: str, body: bytes) -> Reply:
        method: str = scope["method"]
        headers = asgi.headers(scope)
        peer = asgi.peer(scope)
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
        return Reply(response["statusCode"], out, data)

    def _asset(self, method: str, path: str, if_none_match: str | None) -> Reply:
        if method not in ("GET", "HEAD"):
            return error_reply(405, "Assets are read-only: use GET", allow="GET, HEAD")
        root = self.assets_dir.resolve()
        relative = path.lstrip("/") or "index.html"
        try:
            target = (root / relative).resolve()
            if target.is_dir():
                target = target / "index.html"
            found = root in target.parents and target.is_file()
            if found:
                data = target.read_bytes()
        except (ValueError, OSError):  # a name the file system refuses (NUL byte, too long)
            found = False
        if not found:
            return Reply(404, [("content-type", "text/plain; charset=utf-8")], b"Not found\n")
        # the stack's Cache-Control for the same file; (the host page's Permissions-Policy comes
        # with every answer's headers: guards.py)
        key = target.relative_to(root).as_posix()
        etag = entity_tag(data)
        validators = [("cache-control", cache_control(key)), ("etag", etag)]
        if is_current(if_none_match, etag):
            return Reply(304, validators, b"")  # (no Content-Type: RFC 9110 §15.4.5)
        return Reply(200, [("content-type", content_type(target.name)), *validators], data)

    # -- the local provider's signalling --------------------------------------------------------

    def _relay(self, scope: Scope, prefix: str, path: str, body: bytes) -> Reply | FileReply:
        """``/local/...`` (the local provider's signalling and recording uploads) or
        ``/chat/...`` (local chat)."""
        settings = self.settings()
        handle: Callable[..., Response]
        sub_path = path[len(prefix) - 1 :]
        if prefix == LOCAL_PREFIX:
            if settings.provider != "local":
                return error_reply(404, "The local provider is not in use")
            from livescreen.devserver.relays import recordings as local_recording_routes

            if local_recording_routes.is_recording_path(sub_path):
                handle = partial(local_recording_routes.handle, settings=settings)
            else:
                from livescreen.devserver.relays.signalling import handle
        else:
            if chat_provider_name(settings) != "local":
                return error_reply(404, "The local chat is not in use (CHAT_PROVIDER)")
            from livescreen.devserver.relays.chat import handle as handle_chat

            handle = handle_chat

        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        headers = dict(asgi.headers(scope))
        status, out_headers, out_body = handle(scope["method"], sub_path, query, headers, body)
        if isinstance(out_body, FileBody):
            return FileReply(status, out_headers.items(), out_body)
        return Reply(status, out_headers.items(), out_body)

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
