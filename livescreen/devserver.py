"""``livescreen dev``: the pages and the functions on http://localhost:3000.

Every request to ``/<function>`` becomes the same API Gateway HTTP API (2.0) event Lambda
would receive and goes through the same adapter (``runtime.api_gateway.handle_event``): there is
no second code path to drift. Function files are reloaded when they change. ``/local/...`` is
the signalling relay of the ``local`` provider, which exists only here.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from livescreen.config import Settings
from livescreen.content_types import content_type
from livescreen.runtime.api_gateway import handle_event
from livescreen.runtime.http_api_event import build_http_api_v2_event
from livescreen.runtime.loader import FunctionRegistry, FunctionSpec

logger = logging.getLogger("livescreen.devserver")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LOCAL_PREFIX = "/local/"
MAX_REQUEST_BODY = 1024 * 1024


def list_assets(assets_dir: Path) -> list[str]:
    if not assets_dir.is_dir():
        return []
    return sorted(
        "/" + p.relative_to(assets_dir).as_posix()
        for p in assets_dir.rglob("*")
        if p.is_file() and "vendor" not in p.relative_to(assets_dir).parts[:1]
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DevHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes | None:
        length_header = self.headers.get("Content-Length")
        if not length_header:
            return b""
        try:
            length = int(length_header)
            if length < 0:
                raise ValueError(length_header)
        except ValueError:
            self._send(400, {"content-type": "application/json"}, b'{"error":"Bad Content-Length"}')
            return None
        if length > MAX_REQUEST_BODY:
            self._send(413, {"content-type": "application/json"}, b'{"error":"Body too large"}')
            return None
        return self.rfile.read(length)

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        body = self._read_body()
        if body is None:
            return
        try:
            if path.startswith(LOCAL_PREFIX) or path == LOCAL_PREFIX.rstrip("/"):
                self._local_signalling(path[len(LOCAL_PREFIX) - 1 :], url.query, body)
                return
            name = path.strip("/")
            if name and "/" not in name and name in self.server.functions.names():
                self._function(name, path, url.query, body)
                return
            self._asset(path)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _function(self, name: str, path: str, raw_query: str, body: bytes) -> None:
        peer = self.client_address[0]
        pairs = list(self.headers.items())
        forwarded = self.headers.get("X-Forwarded-For")
        pairs = [(k, v) for k, v in pairs if k.lower() != "x-forwarded-for"]
        pairs.append(("x-forwarded-for", f"{forwarded}, {peer}" if forwarded else peer))
        if not self.headers.get("X-Forwarded-Proto"):  # plain HTTP here, unless a proxy says so
            pairs.append(("x-forwarded-proto", "http"))
        event = build_http_api_v2_event(
            method=self.command,
            path=path,
            headers=pairs,
            body=body,
            raw_query=raw_query,
            source_ip=peer,
            domain_name=self.headers.get("Host", "localhost"),
        )
        response = handle_event(event, self.server.functions, name, lambda: self.server.settings)
        raw = response.get("body", "")
        if response.get("isBase64Encoded"):
            import base64

            data = base64.b64decode(raw)
        else:
            data = raw.encode("utf-8")
        headers = dict(response.get("headers", {}))
        cookies = response.get("cookies", [])
        self._send(response["statusCode"], headers, data, cookies=cookies)
        logger.info("%s %s -> %s", self.command, path, response["statusCode"])

    def _local_signalling(self, sub_path: str, raw_query: str, body: bytes) -> None:
        if self.server.settings.provider != "local":
            self._send(
                404,
                {"content-type": "application/json"},
                b'{"error":"The local provider is not in use"}',
            )
            return
        from urllib.parse import parse_qsl

        from livescreen.providers.local_signalling import handle

        headers = {k.lower(): v for k, v in self.headers.items()}
        status, out_headers, out_body = handle(
            self.command, sub_path, dict(parse_qsl(raw_query)), headers, body
        )
        if isinstance(out_body, bytes):
            self._send(status, out_headers, out_body)
        else:
            self._stream(status, out_headers, out_body)

    def _asset(self, path: str) -> None:
        if self.command not in ("GET", "HEAD"):
            self._send(
                405,
                {"content-type": "application/json", "allow": "GET, HEAD"},
                b'{"error":"Assets are read-only: use GET"}',
            )
            return
        root = self.server.assets_dir.resolve()
        relative = path.lstrip("/") or "index.html"
        try:
            target = (root / relative).resolve()
            if target.is_dir():
                target = target / "index.html"
            found = root in target.parents and target.is_file()
        except (ValueError, OSError):  # a name the file system refuses (NUL byte, too long)
            found = False
        if not found:
            self._send(404, {"content-type": "text/plain; charset=utf-8"}, b"Not found\n")
            return
        data = target.read_bytes()
        headers = {"content-type": content_type(target.name), "cache-control": "no-cache"}
        if target.name == "host.html":
            headers["permissions-policy"] = (
                "display-capture=(self), microphone=(self), camera=(self)"
            )
        self._send(200, headers, data)

    def _send(
        self, status: int, headers: dict[str, str], body: bytes, *, cookies: list[str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        for cookie in cookies or []:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (
            HTTPStatus.NO_CONTENT,
            HTTPStatus.NOT_MODIFIED,
        ):
            self.wfile.write(body)

    def _stream(self, status: int, headers: dict[str, str], chunks: Iterator[bytes]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            close = getattr(chunks, "close", None)
            if callable(close):
                close()


class DevHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        settings: Settings,
        functions: FunctionRegistry,
        assets_dir: Path,
    ) -> None:
        super().__init__(address, _Handler)
        self.settings = settings
        self.functions = functions
        self.assets_dir = assets_dir


class DevServer:
    """The dev server; ``port=0`` picks a free port (tests)."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        root: Path = PROJECT_ROOT,
    ) -> None:
        self.settings = settings
        self.root = root
        self.functions = FunctionRegistry(root / "functions", reload=True)
        self.functions.on_reload = self._reloaded
        self._httpd = DevHTTPServer((host, port), settings, self.functions, root / "assets")
        self._thread: threading.Thread | None = None

    @staticmethod
    def _reloaded(spec: FunctionSpec) -> None:
        logger.info("reloaded %s", spec.path.name)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = str(self._httpd.server_address[0])
        return f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{self.port}"

    def banner(self) -> str:
        lines = ["Functions available:"]
        names = self.functions.names()
        lines += [f"  {self.url}/{name}" for name in names] or ["  (no functions found)"]
        lines.append("Assets available:")
        assets = list_assets(self.root / "assets")
        lines += [f"  {self.url}{asset}" for asset in assets] or ["  (no assets found)"]
        if not (self.root / "assets" / "vendor").is_dir():
            lines.append("  ! assets/vendor is missing: run `npm ci && npm run build`")
        return "\n".join(lines)

    def serve_forever(self, out: TextIO = sys.stdout) -> None:
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def start_background(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="livescreen-dev", daemon=True
        )
        self._thread.start()

    def shutdown(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
