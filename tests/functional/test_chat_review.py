"""The IVS Chat room's message review handler (``livescreen.chat.ivschat_review``).

IVS Chat invokes it for every message sent, with the request its User Guide documents
(``Content``, ``MessageId``, ``RoomArn``, ``Attributes``, ``Sender``); it must answer
``{"ReviewResult": "ALLOW" | "DENY", "Content": ...}``. It applies the same checks as the
``local`` chat, so both chats refuse the same messages.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from livescreen.chat import ivschat_review
from livescreen.chat.ivschat_review import SenderRate, handler

ROOM_ARN = "arn:aws:ivschat:us-east-1:123456789012:room/AbCdEf123456"


@pytest.fixture(autouse=True)
def fresh_rates() -> None:
    ivschat_review.sender_rate.reset()


def sent(content: object, user: str = "viewer-0123456789abcdef") -> dict[str, Any]:
    """A SendMessage as IVS Chat hands it to the review handler."""
    return {
        "Content": content,
        "MessageId": "ABCDEFabcdef",
        "RoomArn": ROOM_ARN,
        "Attributes": {},
        "Sender": {
            "Attributes": {"displayName": "Vee", "role": "viewer"},
            "UserId": user,
            "Ip": "203.0.113.7",
        },
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

    with caplog.at_level(logging.INFO, logger="livescreen.chat.ivschat_review"):
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
