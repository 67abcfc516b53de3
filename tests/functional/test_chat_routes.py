"""The ``local`` chat over a real running dev server: ``/chat_token`` and the ``/chat`` routes.

Chatters are plain clients: they ask ``/chat_token`` for a token, subscribe to the ``chat``
channel of a page's socket (``/socket``) and ``POST`` to ``/chat/send``, ``/chat/delete`` and
``/chat/disconnect``, as the pages do. Every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from livescreen.chat import clear_chat_cache
from livescreen.chat.local.room import CHAT_ROOM
from livescreen.config import Settings
from livescreen.devserver import DevServer
from livescreen.providers import clear_provider_cache

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "chat-routes-password"
SETTINGS = Settings(
    {
        "STREAM_PROVIDER": "local",
        "CHAT_PROVIDER": "local",
        "HOST_PASSWORD": PASSWORD,
        "HOST_SESSION_SECRET": "chat-routes-session-secret-0123456789abcdef",
    },
    "test",
)
#: Every wait in this file is bounded by this many seconds.
WAIT = 10.0


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def request(port: int, method: str, path: str, body: bytes = b"") -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, path, body or None, headers)
        response = connection.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


def post(port: int, path: str, payload: Any) -> Answer:
    return request(port, "POST", path, json.dumps(payload).encode())


def open_socket(port: int) -> ClientConnection:
    origin = Origin(f"http://localhost:{port}")
    return connect(f"ws://localhost:{port}/socket", origin=origin, open_timeout=WAIT, legacy=True)


def next_message(socket: ClientConnection) -> dict[str, Any] | None:
    """The next message other than a ping, or None once the server has closed the socket."""
    while True:
        try:
            message: dict[str, Any] = json.loads(socket.recv(WAIT))
        except ConnectionClosed:
            return None
        if message.get("event") != "ping":
            return message


def chat_refusal(port: int, token: str) -> int:
    """The status the ``chat`` channel is refused with for ``token``."""
    socket = open_socket(port)
    try:
        socket.send(json.dumps({"type": "subscribe", "channel": "chat", "token": token}))
        message = next_message(socket)
        assert message is not None and message["event"] == "error", message
        status: int = message["data"]["status"]
        return status
    finally:
        socket.close()


class ChatStream:
    """A page's socket subscribed to the ``chat`` channel, read event by event."""

    def __init__(self, port: int, token: str) -> None:
        self.socket = open_socket(port)
        self.socket.send(json.dumps({"type": "subscribe", "channel": "chat", "token": token}))
        first = next_message(self.socket)
        assert first is not None and first["event"] == "subscribed", first

    def next_event(self) -> tuple[str, dict[str, Any]] | None:
        """The next event of the channel, or None once the server has closed the socket."""
        message = next_message(self.socket)
        if message is None:
            return None
        assert message["channel"] == "chat", message
        return message["event"], message["data"]

    def expect(self, name: str) -> dict[str, Any]:
        event = self.next_event()
        assert event is not None and event[0] == name, event
        return event[1]

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[DevServer]:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    clear_chat_cache()
    clear_provider_cache()
    CHAT_ROOM.reset()
    dev = DevServer(SETTINGS, port=0, root=PROJECT_ROOT)
    dev.start_background()
    yield dev
    dev.shutdown()
    CHAT_ROOM.reset()
    clear_chat_cache()


def viewer(port: int, name: str) -> dict[str, Any]:
    answer = post(port, "/chat_token", {"name": name})
    assert answer.status == 200, answer.body
    grant: dict[str, Any] = answer.json()
    return grant


def host(port: int) -> dict[str, Any]:
    signed_in = post(port, "/host_token", {"password": PASSWORD})
    assert signed_in.status == 200, signed_in.body
    answer = post(port, "/chat_token", {"session": signed_in.json()["session"], "name": "Ada"})
    assert answer.status == 200, answer.body
    grant: dict[str, Any] = answer.json()
    return grant


def test_a_host_and_two_viewers_chat_and_markup_travels_as_text(server: DevServer) -> None:
    port = server.port
    ada, bob, cy = host(port), viewer(port, "Bob"), viewer(port, "Cy")
    streams = [ChatStream(port, grant["token"]) for grant in (ada, bob, cy)]
    try:
        # WHEN a viewer sends markup
        sent = post(port, "/chat/send", {"token": bob["token"], "text": "<img src=x onerror=1>"})

        # THEN it is relayed to all three, unchanged, with its sender
        assert sent.status == 200, sent.body
        message = sent.json()["message"]
        assert message["text"] == "<img src=x onerror=1>"
        assert message["sender"] == {"id": bob["identity"], "name": "Bob", "role": "viewer"}
        for stream in streams:
            assert stream.expect("message") == message
        # AND the host's messages say it is the host
        from_host = post(port, "/chat/send", {"token": ada["token"], "text": "welcome"})
        assert from_host.json()["message"]["sender"]["role"] == "host"
        for stream in streams:
            assert stream.expect("message")["sender"]["role"] == "host"
    finally:
        for stream in streams:
            stream.close()


def test_a_late_joiner_gets_the_recent_messages(server: DevServer) -> None:
    port = server.port
    early = viewer(port, "Early")
    for n in range(3):
        assert post(port, "/chat/send", {"token": early["token"], "text": f"m{n}"}).status == 200

    late = ChatStream(port, viewer(port, "Late")["token"])
    try:
        assert [late.expect("message")["text"] for _ in range(3)] == ["m0", "m1", "m2"]
    finally:
        late.close()


def test_flooding_is_429_with_retry_after_and_the_chat_stays_usable(
    server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN senders who earn a message back only every minute: the burst of 5 is spent before
    # one is earned, however slowly this machine posts
    monkeypatch.setattr(CHAT_ROOM, "limits", replace(CHAT_ROOM.limits, seconds_per_message=60))
    port = server.port
    flooder, calm = viewer(port, "Flood"), viewer(port, "Calm")
    listening = ChatStream(port, calm["token"])
    try:
        statuses = [
            post(port, "/chat/send", {"token": flooder["token"], "text": f"spam {n}"})
            for n in range(8)
        ]
        assert [a.status for a in statuses] == [200] * 5 + [429] * 3
        refused = statuses[-1]
        assert int(refused.headers["retry-after"]) >= 1
        assert "too fast" in refused.json()["error"]

        answer = post(port, "/chat/send", {"token": calm["token"], "text": "still fine"})
        assert answer.status == 200
        texts = [listening.expect("message")["text"] for _ in range(6)]
        assert texts[-1] == "still fine"
    finally:
        listening.close()


def test_the_host_deletes_a_message_for_everyone(server: DevServer) -> None:
    port = server.port
    ada, bob, cy = host(port), viewer(port, "Bob"), viewer(port, "Cy")
    watching = [ChatStream(port, bob["token"]), ChatStream(port, cy["token"])]
    try:
        message = post(port, "/chat/send", {"token": bob["token"], "text": "oops"}).json()
        for stream in watching:
            stream.expect("message")

        by_viewer = post(
            port, "/chat/delete", {"token": cy["token"], "id": message["message"]["id"]}
        )
        by_host = post(
            port, "/chat/delete", {"token": ada["token"], "id": message["message"]["id"]}
        )

        assert by_viewer.status == 403
        assert by_host.status == 200 and by_host.json() == {"ok": True}
        for stream in watching:
            assert stream.expect("delete") == {"id": message["message"]["id"]}
    finally:
        for stream in watching:
            stream.close()


def test_the_host_disconnects_a_viewer_whose_stream_ends(server: DevServer) -> None:
    port = server.port
    ada, troll = host(port), viewer(port, "Troll")
    stream = ChatStream(port, troll["token"])
    try:
        by_viewer = post(
            port, "/chat/disconnect", {"token": troll["token"], "identity": ada["identity"]}
        )
        answer = post(
            port, "/chat/disconnect", {"token": ada["token"], "identity": troll["identity"]}
        )

        assert by_viewer.status == 403
        assert answer.status == 200
        assert stream.expect("disconnected") == {"reason": "The host disconnected you"}
        again = post(port, "/chat/send", {"token": troll["token"], "text": "back"})
        assert again.status == 403
        assert chat_refusal(port, troll["token"]) == 403
    finally:
        stream.close()


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        ("/chat/send", {"token": "no-such-token", "text": "hi"}, 401),
        ("/chat/send", {"text": "hi"}, 400),
        ("/chat/send", {"token": ["x"], "text": "hi"}, 400),
        ("/chat/send", {"token": None, "text": "hi"}, 400),
        ("/chat/delete", {"token": "no-such-token", "id": "x"}, 401),
        ("/chat/delete", {"token": "t"}, 400),
        ("/chat/disconnect", {"token": "t", "identity": 5}, 400),
    ],
)
def test_bad_requests_get_a_clear_json_error(
    server: DevServer, path: str, payload: dict[str, Any], status: int
) -> None:
    answer = post(server.port, path, payload)

    assert answer.status == status, answer.body
    assert answer.headers["content-type"] == "application/json"
    assert set(answer.json()) == {"error"}


@pytest.mark.parametrize("text", ["", "   ", "two\nlines", "x" * 501, "\ud800", None, 12], ids=repr)
def test_a_bad_message_is_400_and_nobody_receives_it(server: DevServer, text: object) -> None:
    port = server.port
    sender = viewer(port, "Sender")

    answer = post(port, "/chat/send", {"token": sender["token"], "text": text})

    assert answer.status == 400, answer.body
    assert answer.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/chat/send", b"{not json", 400),
        ("POST", "/chat/send", b"[1, 2]", 400),
        ("POST", "/chat/send", b'{"token": "' + b"t" * 9000 + b'"}', 413),
        ("GET", "/chat/send", b"", 405),
        ("GET", "/chat/events", b"", 404),
        ("GET", "/chat/nothing", b"", 404),
        ("GET", "/chat", b"", 404),
    ],
)
def test_malformed_requests_are_refused(
    server: DevServer, method: str, path: str, body: bytes, status: int
) -> None:
    answer = request(server.port, method, path, body)

    assert answer.status == status, answer.body
    assert set(answer.json()) == {"error"}
    if status == 405:
        assert answer.headers["allow"] in {"GET", "POST"}


def test_the_chat_channel_refuses_a_token_it_does_not_know(server: DevServer) -> None:
    assert chat_refusal(server.port, "no-such-token") == 401
    assert chat_refusal(server.port, "") == 401


def test_the_chat_routes_are_not_there_unless_chat_is_local(server: DevServer) -> None:
    server.settings = SETTINGS.with_values(CHAT_PROVIDER="off")

    assert chat_refusal(server.port, "x") == 404
    assert post(server.port, "/chat/send", {"token": "x", "text": "hi"}).status == 404
    assert post(server.port, "/chat_token", {"name": "Vee"}).json() == {
        "chat": "off",
        "token": None,
    }


def test_stopping_the_server_ends_chat_channels_with_closed(server: DevServer) -> None:
    stream = ChatStream(server.port, viewer(server.port, "Last")["token"])
    try:
        server.shutdown()

        assert stream.expect("closed") == {"reason": "The server is shutting down"}
        assert stream.next_event() is None
    finally:
        stream.close()
