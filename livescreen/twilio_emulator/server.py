"""The emulator over real HTTP: Basic auth, form bodies, injected failures, latency, call counts."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from livescreen.twilio_emulator.callbacks import CallbackSender
from livescreen.twilio_emulator.errors import ApiError, not_found
from livescreen.twilio_emulator.routes import dispatch, match
from livescreen.twilio_emulator.state import EmulatorState

# Fixed credentials of a local fake, used when none are configured.
DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "emulator-auth-token-not-a-secret-0000"  # noqa: S105
DEFAULT_API_KEY_SID = "SK" + "0" * 31 + "1"
DEFAULT_API_KEY_SECRET = "emulator-api-key-secret-not-a-secret-00"  # noqa: S105

_FAILURES = {
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    502: (20502, "Bad Gateway"),
    503: (20503, "Service Unavailable"),
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    emulator: EmulatorServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up (its timeout): what Twilio sees as a dropped connection
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes
    server: _Server

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
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        route, _ = match(url.path)
        emulator.count(method, route.template if route else url.path)
        if emulator.latency:
            time.sleep(emulator.latency)
        raw = parse_qs(body if method == "POST" else url.query, keep_blank_values=True)
        params = {key: values[-1] for key, values in raw.items()}
        headers: dict[str, str] = {}
        if not emulator.authorised(self.headers.get("Authorization")):
            status, payload = 401, ApiError(401, 20003, "Authenticate").to_json()
            headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        elif injected := emulator.take_failure(method, route.template if route else ""):
            status, retry_after = injected
            code, message = _FAILURES.get(status, (20500, "Internal Server Error"))
            payload = ApiError(status, code, message).to_json()
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
        elif emulator.media_retired and url.path.startswith("/media/"):
            status, payload = 404, not_found("/" + url.path.split("/", 2)[-1]).to_json()
        else:
            status, payload = dispatch(emulator.state, method, url.path, params)
        self._send(status, payload, headers)

    def _send(self, status: int, payload: dict[str, Any], headers: Mapping[str, str]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class EmulatorServer:
    """A stateful Twilio Video + Media v1 emulator on ``http://host:port/<domain>/v1/...``.

    Credentials: the account SID with its auth token, or any API key SID with its secret from
    ``api_keys``. Switches (plain attributes, safe to flip while running): ``media_retired``
    answers every Media v1 path with Twilio's 404, ``latency`` adds seconds to every call,
    ``state.new_account`` refuses ``go`` rooms with error 53126. ``fail_next`` queues
    failures; ``calls`` counts requests per ``(method, route template)``. Rooms created with a
    ``StatusCallback`` get Twilio's signed callbacks (``callbacks.deliveries`` records them;
    ``state.disconnect_participant`` plays a participant leaving).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        api_keys: Mapping[str, str] | None = None,
        media_retired: bool = False,
        new_account: bool = False,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account_sid = account_sid
        self._credentials = {account_sid: auth_token}
        self._credentials.update(
            api_keys if api_keys is not None else {DEFAULT_API_KEY_SID: DEFAULT_API_KEY_SECRET}
        )
        self.media_retired = media_retired
        self.latency = latency
        self.callbacks = CallbackSender(auth_token)
        self.state = EmulatorState(
            account_sid, new_account=new_account, clock=clock, on_room_event=self.callbacks.send
        )
        self.calls: Counter[tuple[str, str]] = Counter()
        self._failures: dict[tuple[str, str], deque[tuple[int, int | None]]] = {}
        self._lock = threading.Lock()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.emulator = self
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="twilio-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.callbacks.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- switches and counters ---------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        route: str,
        *,
        count: int = 1,
        status: int = 429,
        retry_after: int | None = 1,
    ) -> None:
        """Answer the next ``count`` calls to ``method route`` (a route template) with ``status``.

        ``retry_after`` (seconds) is sent as the ``Retry-After`` header on 429 and 503 answers.
        """
        with self._lock:
            queue = self._failures.setdefault((method, route), deque())
            queue.extend([(status, retry_after if status in (429, 503) else None)] * count)

    def take_failure(self, method: str, route: str) -> tuple[int, int | None] | None:
        with self._lock:
            queue = self._failures.get((method, route))
            return queue.popleft() if queue else None

    def count(self, method: str, route: str) -> None:
        with self._lock:
            self.calls[(method, route)] += 1

    def calls_to(self, method: str, route: str) -> int:
        with self._lock:
            return self.calls[(method, route)]

    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[len("Basic ") :], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        expected = self._credentials.get(user)
        return expected is not None and hmac.compare_digest(expected, password)
