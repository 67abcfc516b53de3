"""The emulator over real HTTP: Basic auth, form bodies, injected faults, latency, call counts.

Faults a test can inject, each for one ``(method, route template)`` or for the whole server:
an error status (``fail_next``), a call that never answers in time (``hang_next``), refused
connections (``refuse_connections``, ``refuse_connections_after``), and a gate that holds calls
until several have arrived (``gate``), so that a race between two callers is certain to happen.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import secrets
import socket
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from twilio_emulator.callbacks import CallbackSender
from twilio_emulator.compositions import MEDIA_PATH
from twilio_emulator.errors import ApiError, not_found
from twilio_emulator.resources import Participant
from twilio_emulator.routes import dispatch, match
from twilio_emulator.state import EmulatorState

# Fixed credentials of a local fake, used when none are configured.
DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "emulator-auth-token-not-a-secret-0000"  # noqa: S105
DEFAULT_API_KEY_SID = "SK" + "0" * 31 + "1"
DEFAULT_API_KEY_SECRET = "emulator-api-key-secret-not-a-secret-00"  # noqa: S105

_FAILURES = {
    400: (20001, "Bad Request"),
    404: (20404, "Not Found"),
    409: (20409, "Conflict"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    502: (20502, "Bad Gateway"),
    503: (20503, "Service Unavailable"),
}


class Failure(NamedTuple):
    """An injected error answer: HTTP status, ``Retry-After`` seconds, Twilio error code."""

    status: int
    retry_after: int | None = None
    code: int | None = None


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


class EmulatorServer:
    """A stateful Twilio Video + Media v1 emulator on ``http://host:port/<domain>/v1/...``.

    Credentials: the account SID with its auth token, or any API key SID with its secret from
    ``api_keys``. Switches (plain attributes, safe to flip while running): ``media_retired``
    answers every Media v1 path with Twilio's 404, ``latency`` adds seconds to every call,
    ``state.new_account`` refuses ``go`` rooms with error 53126.

    Faults: ``fail_next`` queues error answers; ``hang_next`` makes calls answer only after
    ``release_hung`` (later than any client waits); ``refuse_connections`` and
    ``refuse_connections_after`` stop listening, so the port refuses connections until
    ``accept_connections``; ``gate`` holds calls until several have arrived; ``after_call``
    runs a test's action at one point of a flow; ``clear_faults`` undoes them all.

    ``calls`` counts requests per ``(method, route template)``. Rooms created with a
    ``StatusCallback`` get Twilio's signed callbacks (``callbacks.deliveries`` records them;
    ``state.disconnect_participant`` plays a participant leaving). ``connect`` plays a client
    joining a room with an access token; ``state.publish_track``,
    ``state.participant_reconnecting``/``participant_reconnected`` and
    ``state.participant_leaves`` play what it does next.

    Time: ``clock`` (injectable) is Twilio's. What it decides (rooms ending on their
    timeouts, participants on ``MaxParticipantDuration``, MaxDuration) is applied before every
    request and client action, and with ``tick_interval`` also every that many seconds, so a
    room ends on time with nobody calling.
    """

    #: The longest a hung call waits for ``release_hung`` (``stop`` releases it at once).
    HANG_LIMIT = 30.0

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
        tick_interval: float | None = None,
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
        self._failures: dict[tuple[str, str], deque[Failure]] = {}
        self._hangs: dict[tuple[str, str], deque[bool]] = {}
        self._refuse_after: set[tuple[str, str]] = set()
        self._after: dict[tuple[str, str], deque[Callable[[], None]]] = {}
        self._gates: dict[tuple[str, str], threading.Barrier] = {}
        self._released = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._serving_lock = threading.Lock()
        self._httpd = self._bind(host, port)
        self._address: tuple[str, int] = (str(self._httpd.server_address[0]), self.port)
        self.state.media_base = self.base_url
        self._thread: threading.Thread | None = None
        #: Seconds between checks of what time has decided (rooms timing out...), or None:
        #: then they are checked before every request and client action only.
        self.tick_interval = tick_interval
        self._ticker: threading.Thread | None = None
        self._ticking = threading.Event()
        self._stopped = False
        #: False while connections are refused (``refuse_connections``), and after ``stop``.
        self.listening = True

    def _bind(self, host: str, port: int) -> _Server:
        httpd = _Server((host, port), _Handler)
        httpd.emulator = self
        return httpd

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        host, port = self._address
        return f"http://{host}:{port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="twilio-emulator", daemon=True
        )
        self._thread.start()
        self._start_ticker()
        return self

    def _start_ticker(self) -> None:
        if self.tick_interval is None or self._ticker is not None:
            return
        interval = self.tick_interval

        def tick() -> None:
            while not self._ticking.wait(interval):
                with self.state.lock:
                    self.state.expire()

        self._ticker = threading.Thread(target=tick, name="twilio-emulator-clock", daemon=True)
        self._ticker.start()

    def serve_forever(self) -> None:
        self._start_ticker()
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._released.set()
        self._ticking.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        with self._serving_lock:
            self._stopped = True
            self._httpd.shutdown()
            self._httpd.server_close()
            self.listening = False
            if self._thread is not None:
                self._thread.join(timeout=5)
        self._drop_connections(keep=None)
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
        code: int | None = None,
    ) -> None:
        """Answer the next ``count`` calls to ``method route`` (a route template) with ``status``.

        ``retry_after`` (seconds) is sent as the ``Retry-After`` header on 429 and 503 answers;
        ``code`` is the Twilio error code of the answer (Twilio's generic one for the status by
        default).
        """
        with self._lock:
            queue = self._failures.setdefault((method, route), deque())
            wait = retry_after if status in (429, 503) else None
            queue.extend([Failure(status, wait, code)] * count)

    def take_failure(self, method: str, route: str) -> Failure | None:
        with self._lock:
            queue = self._failures.get((method, route))
            return queue.popleft() if queue else None

    def hang_next(
        self, method: str, route: str, *, count: int = 1, after_processing: bool = True
    ) -> None:
        """The next ``count`` calls to ``method route`` get no answer until ``release_hung``.

        With ``after_processing`` (the default, and the worst case for a client) the call
        takes effect first, as when Twilio did the work and the answer was lost; otherwise it
        is never processed. Either way the connection is closed without an answer once
        released, so a client whose timeout is shorter than ``HANG_LIMIT`` gives up first.
        """
        with self._lock:
            self._released.clear()
            queue = self._hangs.setdefault((method, route), deque())
            queue.extend([after_processing] * count)

    def take_hang(self, method: str, route: str) -> bool | None:
        """None: answer normally; True/False: hang after/before processing the call."""
        with self._lock:
            queue = self._hangs.get((method, route))
            return queue.popleft() if queue else None

    def wait_for_release(self) -> None:
        self._released.wait(self.HANG_LIMIT)

    def release_hung(self) -> None:
        """Let every hung call finish (its client has given up: nobody reads the answer)."""
        self._released.set()

    def gate(self, method: str, route: str, *, parties: int = 2, timeout: float = 10.0) -> None:
        """Hold calls to ``method route`` until ``parties`` of them have arrived, then let all
        of them through at once; a gate still short of callers after ``timeout`` opens anyway.
        """
        with self._lock:
            self._gates[(method, route)] = threading.Barrier(parties, timeout=timeout)

    def pass_gate(self, method: str, route: str) -> None:
        with self._lock:
            barrier = self._gates.get((method, route))
        if barrier is None:
            return
        try:
            if barrier.wait() == 0:  # every party is through: the gate is used up
                with self._lock:
                    if self._gates.get((method, route)) is barrier:
                        del self._gates[(method, route)]
        except threading.BrokenBarrierError:
            with self._lock:
                if self._gates.get((method, route)) is barrier:
                    del self._gates[(method, route)]

    def after_call(self, method: str, route: str, action: Callable[[], None]) -> None:
        """Run ``action`` once, when the next call to ``method route`` has been processed and
        before it is answered: a test arms a fault for the call that comes next in a flow."""
        with self._lock:
            self._after.setdefault((method, route), deque()).append(action)

    def run_after_call(self, method: str, route: str) -> None:
        with self._lock:
            queue = self._after.get((method, route))
            action = queue.popleft() if queue else None
        if action is not None:
            action()

    def refuse_connections_after(self, method: str, route: str) -> None:
        """Once the next call to ``method route`` has been answered, refuse connections."""
        with self._lock:
            self._refuse_after.add((method, route))

    def take_refuse_after(self, method: str, route: str) -> bool:
        with self._lock:
            if (method, route) in self._refuse_after:
                self._refuse_after.discard((method, route))
                return True
            return False

    def refuse_connections(self, *, keep: socket.socket | None = None) -> None:
        """Stop listening and close every open connection: new calls are refused by the OS.

        ``keep`` is a connection to leave open (the one still answering its last call).
        """
        with self._serving_lock:
            if self.listening:
                self._httpd.shutdown()
                self._httpd.server_close()
                if self._thread is not None:
                    self._thread.join(timeout=5)
                self.listening = False
        self._drop_connections(keep=keep)

    def accept_connections(self) -> None:
        """Listen again on the same port after ``refuse_connections``."""
        with self._serving_lock:
            if self.listening or self._stopped:
                return
            self._httpd = self._bind(*self._address)
            self.start()
            self.listening = True

    def clear_faults(self) -> None:
        """Undo every injected fault: queued failures and hangs, gates, refused connections."""
        with self._lock:
            self._failures.clear()
            self._hangs.clear()
            self._refuse_after.clear()
            self._after.clear()
            gates = list(self._gates.values())
            self._gates.clear()
        for barrier in gates:
            barrier.abort()
        self.release_hung()
        self.accept_connections()

    def opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _drop_connections(self, *, keep: socket.socket | None) -> None:
        with self._lock:
            doomed = [conn for conn in self._connections if conn is not keep]
        for conn in doomed:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)

    def count(self, method: str, route: str) -> None:
        with self._lock:
            self.calls[(method, route)] += 1

    def calls_to(self, method: str, route: str) -> int:
        with self._lock:
            return self.calls[(method, route)]

    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    # -- clients (what the Video SDK does) ------------------------------------------------------

    def connect(self, token: str) -> Participant:
        """A client connects with a Video access token, as ``Video.connect(token)`` does.

        The token must be signed with one of this account's API keys (HS256, ``iss`` the key,
        ``sub`` the account), unexpired, and carry an identity and a VideoGrant naming a room.
        Refusals are Twilio's: 20101 invalid token (or no identity or no room in its
        grant), 20104 expired, 53106 no such room in progress, 53105 the room is full.
        """
        import jwt

        refused = ApiError(401, 20101, "Invalid Access Token")
        try:
            header = jwt.get_unverified_header(token)
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            secret = self._credentials.get(issuer) if isinstance(issuer, str) else None
            if secret is None or not str(issuer).startswith("SK") or header.get("alg") != "HS256":
                raise refused
            claims = jwt.decode(token, secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            raise ApiError(401, 20104, "Access Token expired or expiration date invalid") from None
        except jwt.InvalidTokenError:
            raise refused from None
        grants = claims.get("grants")
        if claims.get("sub") != self.account_sid or not isinstance(grants, dict):
            raise refused
        identity = grants.get("identity")
        video = grants.get("video")
        room = video.get("room") if isinstance(video, dict) else None
        if not isinstance(identity, str) or not identity or not isinstance(room, str) or not room:
            raise refused
        return self.state.connect_participant(room, identity)

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
