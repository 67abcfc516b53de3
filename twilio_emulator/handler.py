"""One HTTP call to the emulator, answered the way Twilio's API front door answers it.

Basic auth, form bodies (query strings for GET), Twilio's JSON and error shapes, the
``Twilio-Request-Id`` header, and the injected faults (``faults.py``) taken in the order a real
outage would hit a call: latency, gate, hang, auth, error answer, refused connections after.
Composed media files are served at their signed URL without credentials.
"""

from __future__ import annotations

import json
import secrets
import socket
import sys
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from twilio_emulator.compositions import MEDIA_PATH
from twilio_emulator.errors import ApiError, not_found
from twilio_emulator.faults import Failure
from twilio_emulator.routes import dispatch, match
from twilio_emulator.state import EmulatorState

_FAILURES = {
    400: (20001, "Bad Request"),
    404: (20404, "Not Found"),
    409: (20409, "Conflict"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    502: (20502, "Bad Gateway"),
    503: (20503, "Service Unavailable"),
}


class Emulator(Protocol):
    """What the handler needs of the ``EmulatorServer`` it answers for."""

    state: EmulatorState
    media_retired: bool
    latency: float

    def authorised(self, header: str | None) -> bool: ...
    def count(self, method: str, route: str) -> None: ...
    def pass_gate(self, method: str, route: str) -> None: ...
    def take_hang(self, method: str, route: str) -> bool | None: ...
    def wait_for_release(self) -> None: ...
    def take_failure(self, method: str, route: str) -> Failure | None: ...
    def run_after_call(self, method: str, route: str) -> None: ...
    def take_refuse_after(self, method: str, route: str) -> bool: ...
    def refuse_connections(self, *, keep: socket.socket | None = None) -> None: ...
    def opened(self, connection: socket.socket) -> None: ...
    def closed(self, connection: socket.socket) -> None: ...


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A thread per connection, a deep backlog, and quiet about clients that give up."""

    daemon_threads = True
    request_queue_size = 1024
    emulator: Emulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up (its timeout): what Twilio sees as a dropped connection
        super().handle_error(request, client_address)


class RequestHandler(BaseHTTPRequestHandler):
    """Answers GET, POST and DELETE over keep-alive HTTP/1.1 connections."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.emulator.opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator.closed(self.connection)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and benchmarks read the counters instead

    def _answer(self, method: str) -> None:
        emulator = self.server.emulator
        url = urlsplit(self.path)
        if url.path.startswith(MEDIA_PATH):
            self._media(method, url.path, url.query)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        route, _ = match(url.path)
        template = route.template if route else url.path
        emulator.count(method, template)
        if emulator.latency:
            time.sleep(emulator.latency)
        emulator.pass_gate(method, template)
        hang = emulator.take_hang(method, template)
        if hang is not None and not hang:
            emulator.wait_for_release()  # never processed, never answered: the client gives up
            self.close_connection = True
            return
        raw = parse_qs(body if method == "POST" else url.query, keep_blank_values=True)
        params = {key: values[-1] for key, values in raw.items()}
        headers: dict[str, str] = {}
        if not emulator.authorised(self.headers.get("Authorization")):
            status, payload = 401, ApiError(401, 20003, "Authenticate").to_json()
            headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        elif injected := emulator.take_failure(method, route.template if route else ""):
            status = injected.status
            code, message = _FAILURES.get(status, (20500, "Internal Server Error"))
            payload = ApiError(status, injected.code or code, message).to_json()
            if injected.retry_after is not None:
                headers["Retry-After"] = str(injected.retry_after)
        elif emulator.media_retired and url.path.startswith("/media/"):
            status, payload = 404, not_found("/" + url.path.split("/", 2)[-1]).to_json()
        else:
            status, payload = dispatch(emulator.state, method, url.path, params)
        if hang:
            emulator.wait_for_release()  # done at "Twilio", but the answer comes too late
            self.close_connection = True
            return
        emulator.run_after_call(method, template)
        if emulator.take_refuse_after(method, template):
            # Whatever comes after this answer finds nothing listening on the port.
            emulator.refuse_connections(keep=self.connection)
            headers["Connection"] = "close"
            self.close_connection = True
        if status == 302:
            headers["Location"] = payload["redirect_to"]
        self._send(status, payload, headers)

    def _media(self, method: str, path: str, query: str) -> None:
        """A composed file at its signed, expiring URL (no credentials: the URL is the key)."""
        self.server.emulator.count(method, MEDIA_PATH)
        data = self.server.emulator.state.media_file(path, query) if method == "GET" else None
        if data is None:
            body = b"<Error><Code>AccessDenied</Code></Error>"
            self.send_response(403 if method == "GET" else 405)
            self.send_header("Content-Type", "application/xml")
        else:
            body = data
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send(self, status: int, payload: dict[str, Any], headers: Mapping[str, str]) -> None:
        data = b"" if status == 204 else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
