"""The IVS Chat room's message review handler (``livescreen.chat.ivschat.review``).

IVS Chat invokes it for every message sent, with the request its User Guide documents
(``Content``, ``MessageId``, ``RoomArn``, ``Attributes``, ``Sender``); it must answer
``{"ReviewResult": "ALLOW" | "DENY", "Content": ...}``. It applies the same checks as the
``local`` chat, so both chats refuse the same messages and the same senders' names.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from livescreen.chat.ivschat import review as ivschat_review
from livescreen.chat.ivschat.review import SenderRate, handler

ROOM_ARN = "arn:aws:ivschat:us-east-1:123456789012:room/AbCdEf123456"


@pytest.fixture(autouse=True)
def fresh_rates() -> None:
    ivschat_review.sender_rate.reset()


def sent(
    content: object,
    user: str = "viewer-0123456789abcdef",
    *,
    name: object = "Vee",
    role: str = "viewer",
    ip: str = "203.0.113.7",
) -> dict[str, Any]:
    """A SendMessage as IVS Chat hands it to the review handler; the sender's attributes are the
    ones ``/chat_token`` put in the token."""
    attributes = {"role": role} if name is None else {"displayName": name, "role": role}
    return {
        "Content": content,
        "MessageId": "ABCDEFabcdef",
        "RoomArn": ROOM_ARN,
        "Attributes": {},
        "Sender": {"Attributes": attributes, "UserId": user, "Ip": ip},
    }


@pytest.mark.parametrize(
    "content",
    [
        "hello",
        "<img src=x onerror=alert(1)>",  # markup is text: the pages show it as text
        "x" * 500,
        "😀" * 500,
        "👩\u200d💻 and שלום",
        "  surrounding spaces are the sender's  ",
    ],
)
def test_a_good_message_is_allowed_unchanged(content: str) -> None:
    assert handler(sent(content), None) == {"ReviewResult": "ALLOW", "Content": content}


@pytest.mark.parametrize(
    "content",
    [
        "",
        "   ",
        "x" * 501,
        "two\nlines",
        "tab\there",
        "bell\x07",
        "line\u2028separator",
        "\u202eoverride",
        None,
        42,
    ],
    ids=repr,
)
def test_a_message_the_local_chat_would_refuse_is_denied(content: object) -> None:
    assert handler(sent(content), None) == {"ReviewResult": "DENY"}


@pytest.mark.parametrize("event", [{}, {"Content": "hi", "Sender": "x"}, [], "text"], ids=repr)
def test_an_event_of_another_shape_is_answered_not_raised(event: Any) -> None:
    answer = handler(event, None)

    assert answer["ReviewResult"] in {"ALLOW", "DENY"}
    if not (isinstance(event, dict) and event.get("Content") == "hi"):
        assert answer == {"ReviewResult": "DENY"}


def test_a_denial_logs_the_reason_and_the_sender_never_the_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_text = "my phone is 555-0100\nand my address"

    with caplog.at_level(logging.INFO, logger="livescreen.chat.ivschat.review"):
        handler(sent(secret_text), None)

    logged = caplog.text
    assert "viewer-0123456789abcdef" in logged
    assert "control characters" in logged
    assert "555-0100" not in logged


def test_a_flooding_sender_is_denied_while_the_others_keep_chatting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a warm reviewer whose clock stands still
    now = [1000.0]
    monkeypatch.setattr(ivschat_review, "sender_rate", SenderRate(lambda: now[0]))
    # WHEN one sender sends 20 messages at once
    answers = [handler(sent(f"spam {n}", "viewer-flood"), None)["ReviewResult"] for n in range(20)]
    # THEN the first 5 pass and the rest are delivered to nobody
    assert answers == ["ALLOW"] * 5 + ["DENY"] * 15
    # AND another sender is not affected
    assert handler(sent("hello", "viewer-calm"), None)["ReviewResult"] == "ALLOW"
    # AND the flooder may send again once a second has passed
    now[0] += 1.0
    assert handler(sent("sorry", "viewer-flood"), None)["ReviewResult"] == "ALLOW"
    assert handler(sent("again", "viewer-flood"), None)["ReviewResult"] == "DENY"


@pytest.mark.parametrize(
    "name",
    ["Host", "hOST", "H0st", "\u0397ost", "Host\u200b", "\u2066Ada", "\u3164", "", None],
    ids=repr,
)
def test_a_viewer_whose_name_passes_for_the_host_or_hides_characters_is_denied(
    name: object,
) -> None:
    assert handler(sent("hello", name=name), None) == {"ReviewResult": "DENY"}


def test_the_hosts_own_token_keeps_its_name_and_others_are_allowed() -> None:
    assert handler(sent("welcome", "host-0123", name="Host", role="host"), None)[
        "ReviewResult"
    ] == ("ALLOW")
    for name in ("Hosts", "Ada \u2764\ufe0f", "\u5f20\u4f1f"):
        assert handler(sent("hi", name=name), None)["ReviewResult"] == "ALLOW"


def test_a_lookalike_denial_logs_why(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="livescreen.chat.ivschat.review"):
        handler(sent("hello", "viewer-impostor", name="H0ST"), None)

    assert "looks like the host" in caplog.text
    assert "viewer-impostor" in caplog.text


def test_many_tokens_from_one_address_are_denied_beyond_the_address_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a warm reviewer whose clock stands still
    now = [1000.0]
    monkeypatch.setattr(ivschat_review, "sender_rate", SenderRate(lambda: now[0]))
    # WHEN 20 tokens from one address send one message each
    answers = [
        handler(sent("spam", f"viewer-bot{n}", ip="198.51.100.66"), None)["ReviewResult"]
        for n in range(20)
    ]
    # THEN the address's burst of 10 passes and the rest is delivered to nobody
    assert answers == ["ALLOW"] * 10 + ["DENY"] * 10
    # AND a sender at another address, and the host at that same address, are not affected
    assert handler(sent("hello", "viewer-calm", ip="203.0.113.2"), None)["ReviewResult"] == "ALLOW"
    host = sent("welcome", "host-0123", name="Host", role="host", ip="198.51.100.66")
    assert handler(host, None)["ReviewResult"] == "ALLOW"
    # AND the address earns one message back every half second
    now[0] += 0.5
    assert handler(sent("one", "viewer-bot3", ip="198.51.100.66"), None)["ReviewResult"] == "ALLOW"
    assert handler(sent("two", "viewer-bot4", ip="198.51.100.66"), None)["ReviewResult"] == "DENY"


class SilentTable:
    """An address that takes DynamoDB's requests and never answers one (a table timing out)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests = 0
        self.arrived = threading.Condition()
        self.connections: list[socket.socket] = []

    def serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed: the test is over
            self.connections.append(connection)
            threading.Thread(target=self.take, args=(connection,), daemon=True).start()

    def take(self, connection: socket.socket) -> None:
        """Read requests (each names its operation in ``X-Amz-Target``) until the client gives
        up on them; answer none."""
        received = b""
        counted = 0
        try:
            while chunk := connection.recv(65536):
                received += chunk
                seen = received.lower().count(b"x-amz-target:")
                with self.arrived:
                    self.requests += seen - counted
                    self.arrived.notify_all()
                counted = seen
        except OSError:
            return

    def wait_for(self, count: int) -> int:
        with self.arrived:
            self.arrived.wait_for(lambda: self.requests >= count, timeout=10)
            return self.requests


@contextmanager
def silent_table() -> Iterator[SilentTable]:
    table = SilentTable()
    threading.Thread(target=table.serve, daemon=True).start()
    try:
        yield table
    finally:
        table.listener.close()
        for connection in table.connections:
            connection.close()


def test_a_stream_table_that_never_answers_delays_an_allowed_message_by_one_short_call(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with silent_table() as table:
        # GIVEN the reviewer's environment as the stack sets it, its table at an address that
        # takes requests and never answers
        monkeypatch.setenv("STREAM_STORE", "dynamodb")
        monkeypatch.setenv("STREAMS_TABLE", "livescreen-streams-silent")
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", table.url)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        # AND a warm container (an earlier message made its client)
        assert handler(sent("first"), None)["ReviewResult"] == "ALLOW"
        assert table.wait_for(1) == 1
        # WHEN a message is reviewed
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="livescreen.chat.ivschat.review"):
            answer = handler(sent("hello"), None)
        waited = time.monotonic() - started
        # THEN it is allowed unchanged, after one store call that was not retried and gave up
        # within a fraction of a second (a request's calls wait 2 s, twice)
        assert answer == {"ReviewResult": "ALLOW", "Content": "hello"}
        assert table.wait_for(2) == 2
        assert waited < 1.0
        # AND why it was not counted is logged, never its text
        assert "chat message not counted" in caplog.text
        assert "hello" not in caplog.text
