"""The dev server under a crowd, with long-lived event streams, and when it is stopped.

An audience page opened by many people at once is the normal case: every connection is
answered, event streams get keep-alives and notice a viewer leaving, Ctrl+C with viewers still
connected ends their streams and the process promptly, and the client address a function sees
is the connection's, whatever headers a caller sends.
"""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devserver_support import free_port, fresh_state, run_dev_until_ready

from livescreen.config import Settings
from livescreen.devserver import DevServer
from livescreen.providers import local_signalling as signalling

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
OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=viewer offer\r\n"
ANSWER = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=host answer\r\n"
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


class EventStream:
    """An open ``text/event-stream`` response, read event by event with bounded waits."""

    def __init__(self, port: int, path: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        self.connection.request("GET", path)
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type") == "text/event-stream"

    def next_block(self) -> str:
        """The next block up to its blank line ("" once the server has ended the stream)."""
        lines: list[str] = []
        while True:
            line = self.response.readline().decode()
            if not line:
                return "".join(lines)
            if line == "\n":
                if lines:
                    return "".join(lines)
                continue
            lines.append(line)

    def next_event(self, name: str) -> dict[str, Any]:
        """Data of the next ``name`` event, skipping comments and other events."""
        while True:
            block = self.next_block()
            assert block, f"the stream ended before an {name!r} event"
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if fields.get("event") == name:
                data: dict[str, Any] = json.loads(fields["data"])
                return data

    def close(self) -> None:
        self.connection.close()


def go_live(port: int, password: str) -> tuple[str, EventStream]:
    """The host signs in, opens its event stream and starts; its signalling token and stream."""
    host = post(port, "/host_token", {"password": password})
    events = EventStream(port, f"/local/host/events?token={host['token']}")
    post(port, "/stream_start", {"session": host["session"]})
    return host["token"], events


def join(port: int, host_token: str, host_events: EventStream) -> tuple[str, str]:
    """A viewer offers and the host answers it; the viewer's token and id."""
    token = post(port, "/audience_token", {})["token"]
    answered: list[dict[str, Any]] = []
    offering = threading.Thread(
        target=lambda: answered.append(post(port, "/local/offer", {"token": token, "sdp": OFFER}))
    )
    offering.start()
    viewer = host_events.next_event("offer")["viewer"]
    post(port, "/local/answer", {"token": host_token, "viewer": viewer, "sdp": ANSWER})
    offering.join(WAIT)
    assert answered and answered[0]["viewer"] == viewer
    return token, viewer


def viewer_events(port: int, viewer_token: str, viewer: str) -> EventStream:
    return EventStream(port, f"/local/viewer/events?token={viewer_token}&viewer={viewer}")


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


def test_event_streams_keep_alive_and_the_host_hears_at_once_when_a_viewer_leaves(
    server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signalling, "KEEPALIVE_SECONDS", 0.2)
    # GIVEN a live stream with one viewer watching
    host_token, host_events = go_live(server.port, PASSWORD)
    viewer_token, viewer = join(server.port, host_token, host_events)
    watching = EventStream(
        server.port, f"/local/viewer/events?token={viewer_token}&viewer={viewer}"
    )
    try:
        assert host_events.next_event("viewers") == {"count": 1}
        # THEN an idle stream carries keep-alive comments
        assert ": connected" in watching.next_block()
        assert ": keep-alive" in watching.next_block()

        # WHEN the viewer closes its page (its socket)
        watching.close()

        # THEN the host is told the viewer left, without waiting for a failed write
        assert host_events.next_event("bye") == {"viewer": viewer}
        assert host_events.next_event("viewers") == {"count": 0}
    finally:
        host_events.close()


def test_ctrl_c_with_viewers_connected_ends_their_streams_and_exits_promptly(
    tmp_path: Path,
) -> None:
    # GIVEN `livescreen dev` with a live stream, the host's and a viewer's event streams open
    port = free_port()
    _, process = run_dev_until_ready(tmp_path, port)
    try:
        env = dict(
            line.split("=", 1)
            for line in (tmp_path / ".env").read_text().splitlines()
            if "=" in line
        )
        host_token, host_events = go_live(port, env["HOST_PASSWORD"])
        viewer_token, viewer = join(port, host_token, host_events)
        watching = viewer_events(port, viewer_token, viewer)
        assert host_events.next_event("viewers") == {"count": 1}

        # WHEN the developer presses Ctrl+C
        pressed = time.monotonic()
        process.send_signal(signal.SIGINT)

        # THEN both pages are told the stream ended, their streams close, and the server exits
        assert watching.next_event("ended") == {"reason": "The server is shutting down"}
        assert host_events.next_event("ended") == {"reason": "The server is shutting down"}
        assert watching.next_block() == "" and host_events.next_block() == ""
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
