"""The dev server under a crowd, with long-lived page sockets, and when it is stopped.

An audience page opened by many people at once is the normal case: every connection is
answered, page sockets get pings and notice a viewer leaving, Ctrl+C with viewers still
connected tells them the stream ended, closes their sockets and ends the process promptly, and
the client address a function sees is the connection's, whatever headers a caller sends.
"""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devserver_support import free_port, fresh_state, run_dev_until_ready
from viewer_offers import HOST_ANSWER, VIEWER_OFFER
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from livescreen.config import Settings
from livescreen.devserver import DevServer, page_socket

__all__ = ["fresh_state"]  # an autouse fixture, used by name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "load-test-password"
SETTINGS = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": PASSWORD,
        "HOST_SESSION_SECRET": "load-test-session-secret-0123456789abcdef",
    },
    "test",
)
#: Every wait in this file is bounded by this many seconds.
WAIT = 10.0


def post(port: int, path: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request("POST", path, json.dumps(payload), all_headers)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, (path, response.status, body)
        return json.loads(body)
    finally:
        connection.close()


class PageSocket:
    """A page's WebSocket, read message by message with bounded waits."""

    def __init__(self, port: int) -> None:
        origin = f"http://localhost:{port}"
        self.socket: ClientConnection = connect(
            f"ws://localhost:{port}/socket", origin=Origin(origin), open_timeout=WAIT, legacy=True
        )

    def subscribe(self, channel: str, **fields: str) -> dict[str, Any]:
        self.socket.send(json.dumps({"type": "subscribe", "channel": channel, **fields}))
        return self.next_event("subscribed")

    def next_message(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.socket.recv(WAIT))
        return message

    def next_event(self, name: str) -> dict[str, Any]:
        """Data of the next ``name`` event, skipping pings and other events."""
        while True:
            message = self.next_message()
            if message.get("event") == name:
                data: dict[str, Any] = message["data"]
                return data

    def close(self) -> None:
        self.socket.close()


def go_live(port: int, password: str) -> tuple[str, PageSocket]:
    """The host signs in, subscribes to its channel and starts; its token and its socket."""
    host = post(port, "/host_token", {"password": password})
    page = PageSocket(port)
    page.subscribe("host", token=host["token"])
    post(port, "/stream_start", {"session": host["session"]})
    return host["token"], page


def join(port: int, host_token: str, host: PageSocket) -> tuple[PageSocket, str]:
    """A viewer offers on its socket and the host answers it; the viewer's socket and id."""
    token = post(port, "/audience_token", {})["token"]
    page = PageSocket(port)
    viewer = page.subscribe("viewer", token=token, sdp=VIEWER_OFFER)["viewer"]
    assert host.next_event("offer")["viewer"] == viewer
    post(port, "/local/answer", {"token": host_token, "viewer": viewer, "sdp": HOST_ANSWER})
    assert page.next_event("answer") == {"viewer": viewer, "sdp": HOST_ANSWER}
    return page, viewer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DevServer]:
    shutil.copytree(PROJECT_ROOT / "functions", tmp_path / "functions")
    (tmp_path / "functions" / "whoami.py").write_text(
        "def handler(context, event, callback):\n"
        "    callback(None, {'sourceIp': event['request']['sourceIp']})\n"
    )
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index.html").write_text("<!doctype html><title>Watch</title>")
    dev = DevServer(SETTINGS, port=0, root=tmp_path)
    dev.start_background()
    yield dev
    dev.shutdown()


def test_three_hundred_connections_opened_at_once_are_all_answered(server: DevServer) -> None:
    # GIVEN 300 clients that connect in the same instant (an audience arriving together)
    request = b"POST /audience_token HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}"
    clients = [socket.create_connection(("127.0.0.1", server.port), WAIT) for _ in range(300)]
    try:
        # WHEN each sends its request before any answer is read
        for client in clients:
            client.sendall(request)
        # THEN every one of them gets its answer: none is reset or left waiting
        statuses = [client.makefile("rb").readline() for client in clients]
    finally:
        for client in clients:
            client.close()
    assert statuses == [b"HTTP/1.1 200 OK\r\n"] * 300


def test_a_function_sees_the_connection_address_not_a_forwarded_header(
    server: DevServer,
) -> None:
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9", "Forwarded": "for=x"}

    seen = post(server.port, "/whoami", {}, headers=forged)

    assert seen == {"sourceIp": "127.0.0.1"}


def test_sockets_are_pinged_and_the_host_hears_at_once_when_a_viewer_leaves(
    server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(page_socket, "PING_SECONDS", 0.2)
    # GIVEN a live stream with one viewer watching
    host_token, host = go_live(server.port, PASSWORD)
    watching, viewer = join(server.port, host_token, host)
    try:
        assert host.next_event("viewers") == {"count": 1}
        # THEN an idle socket carries pings
        assert watching.next_message() == {"event": "ping"}

        # WHEN the viewer closes its page (its socket)
        watching.close()

        # THEN the host is told the viewer left, without waiting for a failed write
        assert host.next_event("bye") == {"viewer": viewer}
        assert host.next_event("viewers") == {"count": 0}
    finally:
        host.close()


def test_ctrl_c_with_viewers_connected_ends_their_streams_and_exits_promptly(
    tmp_path: Path,
) -> None:
    # GIVEN `livescreen dev` with a live stream, the host's and a viewer's sockets open
    port = free_port()
    _, process = run_dev_until_ready(tmp_path, port)
    try:
        env = dict(
            line.split("=", 1)
            for line in (tmp_path / ".env").read_text().splitlines()
            if "=" in line
        )
        host_token, host = go_live(port, env["HOST_PASSWORD"])
        watching, _ = join(port, host_token, host)
        assert host.next_event("viewers") == {"count": 1}

        # WHEN the developer presses Ctrl+C
        pressed = time.monotonic()
        process.send_signal(signal.SIGINT)

        # THEN both pages are told the stream ended, their sockets are closed (going away), and
        # the server exits
        for page in (watching, host):
            assert page.next_event("ended") == {"reason": "The server is shutting down"}
            with pytest.raises(ConnectionClosed) as closed:
                page.next_message()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        process.wait(timeout=WAIT)
        stopped_after = time.monotonic() - pressed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    # promptly: within the server's 2 s grace plus room for a busy machine, not after the
    # long-lived streams would have ended by themselves
    assert stopped_after < 10.0, f"took {stopped_after:.1f} s to stop"
