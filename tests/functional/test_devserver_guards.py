"""The dev server's guards over real sockets: the Host it serves, the security headers on every
answer, and the bounds on request heads (size, time) and on open connections."""

from __future__ import annotations

import base64
import http.client
import json
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from devserver_support import fresh_state
from raw_wire import read_until_closed, websocket_handshake

from livescreen.config import Settings
from livescreen.devserver import DevServer, guards
from livescreen.devserver.connection_limits import HEAD_TIMEOUT_SECONDS, MAX_HEAD_BYTES

__all__ = ["fresh_state"]  # an autouse fixture, used by name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": "guards-test-password",
        "HOST_SESSION_SECRET": "guards-test-session-secret-0123456789abcdef",
        "DEV_ALLOWED_HOSTS": "tunnel.example, [fd00::5]:8443",
    },
    "test",
)
#: A function that leaves a mark each time it runs.
MARKER_FUNCTION = """
import json
from pathlib import Path

METHODS = ("GET", "POST")


def handler(context, event, callback):
    with (Path(__file__).parent / "ran.txt").open("a") as marks:
        marks.write("ran\\n")
    return callback(None, {"statusCode": 200, "body": json.dumps({"ran": True})})
"""
#: Every answer's security headers, as the stack's CloudFront adds them to pages.
PAGE_HEADERS = {
    "content-security-policy": guards.PAGE_CSP.format(region=guards.DEFAULT_REGION, twilio_eval=""),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": guards.PERMISSIONS_POLICY,
}
#: Reads never wait longer than this.
WAIT = 5.0


@pytest.fixture(scope="module")
def app_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("app")
    shutil.copytree(PROJECT_ROOT / "functions", root / "functions")
    (root / "functions" / "marker.py").write_text(MARKER_FUNCTION)
    (root / "assets").mkdir()
    (root / "assets" / "index.html").write_text("<!doctype html><title>Watch</title>")
    (root / "assets" / "host.html").write_text("<!doctype html><title>Host</title>")
    (root / "assets" / "recordings.html").write_text("<!doctype html><title>Recordings</title>")
    return root


@pytest.fixture(scope="module")
def server(app_root: Path) -> Iterator[DevServer]:
    dev = DevServer(SETTINGS, port=0, root=app_root)
    dev.start_background()
    yield dev
    dev.shutdown()


@pytest.fixture
def bounded(app_root: Path) -> Iterator[DevServer]:
    """A server of its own whose bounds a test may lower."""
    dev = DevServer(SETTINGS, port=0, root=app_root)
    dev.start_background()
    yield dev
    dev.shutdown()


def runs(app_root: Path) -> int:
    marks = app_root / "functions" / "ran.txt"
    return len(marks.read_text().splitlines()) if marks.exists() else 0


def connect(server: DevServer, timeout: float = WAIT) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def getheader(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self) -> Any:
        return json.loads(self.body)


def read_answer(sock: socket.socket) -> Answer:
    """One answer, body included (so that the next one can be read from the same socket)."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return Answer(response.status, response.msg, response.read())


def request(
    server: DevServer, method: str, path: str, host: str | None = None, body: bytes = b""
) -> Answer:
    """One request on its own connection; ``Host`` is ``localhost:<port>`` unless given."""
    with connect(server) as sock:
        default = f"localhost:{server.port}"
        head = f"{method} {path} HTTP/1.1\r\nHost: {default if host is None else host}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        sock.sendall(head.encode() + b"\r\n" + body)
        return read_answer(sock)


def status_lines(wire: bytes) -> list[bytes]:
    """The status code of each answer in ``wire`` (none of these bodies holds ``HTTP/1.1``)."""
    return [part[:3] for part in wire.split(b"HTTP/1.1 ")[1:]]


def assert_security_headers(answer: Answer, **expected: str) -> None:
    want = {**PAGE_HEADERS, **{k.replace("_", "-"): v for k, v in expected.items()}}
    got = {name: answer.getheader(name) for name in want}
    assert got == want
    assert all(len(answer.headers.get_all(name) or []) == 1 for name in want)


# -- security headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/index.html", 200),
        ("GET", "/", 200),
        ("GET", "/missing.css", 404),
        ("PUT", "/index.html", 405),
        ("POST", "/host_token", 400),
        ("GET", "/marker", 200),
        ("POST", "/local/nowhere", 404),
    ],
)
def test_every_answer_carries_the_stacks_security_headers(
    server: DevServer, method: str, path: str, status: int
) -> None:
    answer = request(server, method, path, body=b"{}" if method == "POST" else b"")

    assert answer.status == status
    assert_security_headers(answer)


def test_the_host_page_gets_the_host_policy_and_the_recordings_page_its_own(
    server: DevServer,
) -> None:
    host = request(server, "GET", "/host.html")
    recordings = request(server, "GET", "/recordings.html")

    assert_security_headers(host, permissions_policy=guards.HOST_PAGE_PERMISSIONS_POLICY)
    csp = guards.RECORDINGS_CSP.format(twilio_media="")
    assert_security_headers(recordings, content_security_policy=csp)


def test_the_csp_names_the_chat_rooms_region(app_root: Path) -> None:
    settings = SETTINGS.with_values(
        IVS_CHAT_ROOM_ARN="arn:aws:ivschat:eu-west-1:123456789012:room/abcDEF123"
    )
    headers = dict(guards.security_headers("/index.html", settings))

    assert b"wss://edge.ivschat.eu-west-1.amazonaws.com" in headers[b"content-security-policy"]


def test_answers_written_below_the_app_carry_the_headers_too(server: DevServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Junk\r\n\r\n")
        malformed = read_answer(sock)
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n")
        too_large = read_answer(sock)

    assert malformed.status == 400
    assert_security_headers(malformed)
    assert too_large.status == 431
    assert_security_headers(too_large)


# -- Host ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "localhost:{port}",
        "LocalHost:{port}",
        "127.0.0.1:{port}",
        "[::1]:{port}",
        "localhost",
        "tunnel.example",
        "TUNNEL.example:443",
        "[fd00::5]:8443",
    ],
)
def test_the_names_this_server_serves_are_answered(
    server: DevServer, app_root: Path, host: str
) -> None:
    before = runs(app_root)
    answer = request(server, "GET", "/marker", host=host.format(port=server.port))

    assert answer.status == 200
    assert runs(app_root) == before + 1


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:{port}",
        "localhost.evil.example:{port}",
        "127.0.0.1.nip.io:{port}",
        "tunnel.example.evil.example",
        "127.0.0.2:{port}",
        "user@localhost:{port}",
        "localhost:port",
        "",
    ],
)
def test_another_host_is_a_421_naming_the_setting_and_nothing_runs(
    server: DevServer, app_root: Path, host: str
) -> None:
    before = runs(app_root)
    answer = request(server, "POST", "/marker", host=host.format(port=server.port), body=b"{}")

    assert answer.status == 421
    assert answer.getheader("content-type") == "application/json"
    assert "DEV_ALLOWED_HOSTS" in answer.json()["error"]
    assert runs(app_root) == before


def test_the_421_says_which_setting_allows_a_name(server: DevServer) -> None:
    response = request(server, "GET", "/", host="rebound.example")
    error = response.json()["error"]

    assert response.status == 421
    assert "rebound.example" in error
    assert "DEV_ALLOWED_HOSTS" in error
    assert_security_headers(response)


def test_the_address_the_server_is_bound_to_is_served(app_root: Path) -> None:
    dev = DevServer(SETTINGS, host="127.0.0.2", port=0, root=app_root)
    dev.start_background()
    try:
        with socket.create_connection(("127.0.0.2", dev.port), timeout=WAIT) as sock:
            sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.2:{dev.port}\r\n\r\n".encode())
            own = read_answer(sock)
            sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.3:{dev.port}\r\n\r\n".encode())
            other = read_answer(sock)
    finally:
        dev.shutdown()

    assert own.status == 200
    assert other.status == 421


def test_on_every_address_each_lan_address_is_served_as_itself(app_root: Path) -> None:
    # --host 0.0.0.0: a viewer on the LAN types the address it reached the machine by
    dev = DevServer(SETTINGS, host="0.0.0.0", port=0, root=app_root)
    dev.start_background()
    try:
        with socket.create_connection(("127.0.0.3", dev.port), timeout=WAIT) as sock:
            sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.3:{dev.port}\r\n\r\n".encode())
            reached = read_answer(sock)
            sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.4:{dev.port}\r\n\r\n".encode())
            other = read_answer(sock)
    finally:
        dev.shutdown()

    assert reached.status == 200
    assert other.status == 421


def test_a_request_without_exactly_one_host_is_refused(server: DevServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        missing = read_answer(sock)
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n")
        twice = read_answer(sock)
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        http10 = read_answer(sock)

    assert (missing.status, twice.status) == (400, 400)
    assert http10.status == 200  # HTTP/1.0 may leave Host out; no browser does


def handshake(server: DevServer, host: str) -> bytes:
    with connect(server) as sock:
        return websocket_handshake(sock, host)


def test_a_websocket_handshake_for_another_host_is_refused(server: DevServer) -> None:
    refused = handshake(server, f"rebound.example:{server.port}")
    accepted = handshake(server, f"localhost:{server.port}")

    assert refused.startswith(b"HTTP/1.1 421 ")
    assert accepted.startswith(b"HTTP/1.1 101 ")


# -- request heads: size --------------------------------------------------------------------------


@pytest.mark.parametrize("kilobytes", [33, 40, 64, 100])
def test_a_head_over_32_kb_in_one_piece_is_a_431(server: DevServer, kilobytes: int) -> None:
    header = b"X-Big: " + b"a" * (kilobytes * 1024) + b"\r\n"
    with connect(server) as sock:
        sock.sendall(b"GET /marker HTTP/1.1\r\nHost: localhost\r\n" + header + b"\r\n")
        answer = read_answer(sock)

    assert answer.status == 431


def test_a_head_over_32_kb_sent_in_small_pieces_is_a_431(server: DevServer, app_root: Path) -> None:
    before = runs(app_root)
    with connect(server) as sock:
        sock.sendall(b"GET /marker HTTP/1.1\r\nHost: localhost\r\n")
        for _ in range(40):
            sock.sendall(b"X-Piece: " + b"p" * 1000 + b"\r\n")
        sock.sendall(b"\r\n")
        answer = read_answer(sock)

    assert answer.status == 431
    assert runs(app_root) == before


def test_a_body_is_not_counted_as_head(server: DevServer, app_root: Path) -> None:
    # a head of 30 KB and a body of 50 KB, in one piece: the head is under the limit
    body = json.dumps({"pad": "x" * 50_000}).encode()
    header = b"X-Pad: " + b"a" * (MAX_HEAD_BYTES - 2048) + b"\r\n"
    before = runs(app_root)
    with connect(server) as sock:
        sock.sendall(
            b"POST /marker HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + header
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )
        answer = read_answer(sock)

    assert answer.status == 200
    assert runs(app_root) == before + 1


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


def test_a_chunked_body_over_the_limit_gets_one_413_and_the_next_request_its_answer(
    server: DevServer,
) -> None:
    body = chunked(*[b"x" * 65_536] * 20)  # 1.25 MiB
    with connect(server) as sock:
        sock.sendall(
            b"POST /host_token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + body
        )
        sock.sendall(b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        wire = read_until_closed(sock)

    assert status_lines(wire) == [b"413", b"200"]


def test_requests_after_bodies_on_one_connection_are_counted_from_their_own_head(
    server: DevServer,
) -> None:
    # a 20 KB body, then a request with a 20 KB head, in one piece: neither is over 32 KB
    body = json.dumps({"pad": "x" * 20_000}).encode()
    pad = b"X-Pad: " + b"a" * 20_000 + b"\r\n"
    first = (
        b"POST /marker HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    second = b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + pad
    with connect(server) as sock:
        sock.sendall(first + second + b"\r\n")
        wire = read_until_closed(sock)

    assert status_lines(wire) == [b"200", b"200"]


# -- request heads: time --------------------------------------------------------------------------


def test_a_head_not_complete_within_the_deadline_is_a_408(bounded: DevServer) -> None:
    bounded.limits.head_timeout = 0.3
    with connect(bounded) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: local")
        data = read_until_closed(sock)
        waited = time.monotonic() - started

    assert data.startswith(b"HTTP/1.1 408 ")
    assert waited < WAIT


def test_a_connection_that_sends_nothing_is_closed_at_the_deadline(bounded: DevServer) -> None:
    bounded.limits.head_timeout = 0.3
    with connect(bounded) as sock:
        data = read_until_closed(sock)

    assert data.startswith(b"HTTP/1.1 408 ")


def test_the_deadline_ends_with_the_head(bounded: DevServer, app_root: Path) -> None:
    # GIVEN a body that arrives in two halves, the second after the head deadline
    bounded.limits.head_timeout = 0.3
    body = b'{"a": 1}'
    with connect(bounded) as sock:
        sock.sendall(
            b"POST /marker HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body[:4]
        )
        # the server answers nothing meanwhile (it waits for the body)
        sock.settimeout(0.6)
        with pytest.raises(TimeoutError):
            sock.recv(1)
        sock.settimeout(WAIT)
        sock.sendall(body[4:])
        answer = read_answer(sock)

    # THEN the request is answered as usual
    assert answer.status == 200


def test_an_open_websocket_outlives_the_head_deadline(bounded: DevServer) -> None:
    bounded.limits.head_timeout = 0.3
    key = base64.b64encode(b"0123456789abcdef").decode()
    host = f"localhost:{bounded.port}"
    with connect(bounded) as sock:
        sock.sendall(
            (
                f"GET /socket HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        handshake = sock.recv(4096)
        sock.settimeout(1.0)
        with pytest.raises(TimeoutError):
            sock.recv(1)  # nothing (no 408, no close) for over three deadlines

    assert handshake.startswith(b"HTTP/1.1 101 ")


def test_the_default_deadline_is_ten_seconds() -> None:
    assert HEAD_TIMEOUT_SECONDS == 10.0


# -- number of connections ------------------------------------------------------------------------


def test_at_the_cap_the_connection_waiting_longest_makes_room(bounded: DevServer) -> None:
    # GIVEN the cap reached by kept-alive connections, each now half-way through a request head
    bounded.limits.max_connections = 4
    waiting = [connect(bounded) for _ in range(4)]
    for sock in waiting:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert read_answer(sock).status == 200
        sock.sendall(b"GET /index.html HTTP/1.1\r\nHost: loc")
    try:
        # WHEN another client comes
        answer = request(bounded, "GET", "/index.html")
        # THEN it is answered; the connection that waited longest was closed (with a 408 if the
        # server had read its half head), and the others are still served
        assert answer.status == 200
        oldest = read_until_closed(waiting[0])
        assert oldest == b"" or oldest.startswith(b"HTTP/1.1 408 ")
        waiting[1].sendall(b"alhost\r\n\r\n")
        assert read_answer(waiting[1]).status == 200
    finally:
        for sock in waiting:
            sock.close()


def test_past_the_cap_with_every_connection_busy_the_answer_is_503(bounded: DevServer) -> None:
    # GIVEN the cap reached by requests in flight (the server waits for their bodies)
    bounded.limits.max_connections = 4
    busy = [connect(bounded) for _ in range(4)]
    for sock in busy:
        sock.sendall(
            b"POST /marker HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n"
        )
        assert sock.recv(64) == b"HTTP/1.1 100 Continue\r\n\r\n"
    try:
        # WHEN another client comes
        answer = request(bounded, "GET", "/index.html")
        # THEN it is told to come back later, in JSON, with the security headers
        assert answer.status == 503
        assert answer.getheader("retry-after") == "5"
        assert "too many open connections" in answer.json()["error"]
        assert_security_headers(answer)
        # AND the requests in flight are answered once their bodies come
        for sock in busy:
            sock.sendall(b"{}")
            assert read_answer(sock).status == 200
    finally:
        for sock in busy:
            sock.close()
