"""The ``local`` chat room (``livescreen.chat.local_room``) and the text checks every provider uses.

The room is driven in-process with a clock the test moves by hand, and each chatter's event
stream is read from its inbox, exactly what the dev server writes to the socket.
"""

from __future__ import annotations

import queue
from typing import Any

import pytest

from livescreen.chat import HOST, VIEWER, get_chat
from livescreen.chat.local import LocalChat, create_chat
from livescreen.chat.local_room import ChatLimits, ChatRefusedError, ChatRoom, Chatter
from livescreen.chat.text import (
    MAX_MESSAGE_LENGTH,
    MAX_NAME_LENGTH,
    ChatTextError,
    check_display_name,
    check_message,
)
from livescreen.config import Settings
from livescreen.providers import ProviderUnavailableError
from livescreen.sse import Inbox

Event = tuple[str, dict[str, Any]]


class FakeClock:
    """Seconds, moved by the test instead of by waiting."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_room(clock: FakeClock, **limits: Any) -> ChatRoom:
    return ChatRoom(clock=clock, wall_clock=lambda: 1_750_000_000.0, limits=ChatLimits(**limits))


def drain(inbox: Inbox) -> list[Event]:
    """Every event waiting in the inbox (the room puts them synchronously: nothing to wait for)."""
    events: list[Event] = []
    while True:
        try:
            events.append(inbox.get_nowait())
        except queue.Empty:
            return events


def joined(room: ChatRoom, name: str, role: str = VIEWER) -> tuple[Chatter, Inbox]:
    chatter, _ = room.join(name, role)
    return room.connect(chatter.token)


def refused(call: Any, *args: Any) -> ChatRefusedError:
    with pytest.raises(ChatRefusedError) as caught:
        call(*args)
    return caught.value


# -- messages, rate limits ----------------------------------------------------------------


def test_a_message_reaches_every_connected_chatter_with_its_sender() -> None:
    # GIVEN a host and two viewers connected
    room = make_room(FakeClock())
    host, host_inbox = joined(room, "Ada", HOST)
    bob, bob_inbox = joined(room, "Bob")
    _, cy_inbox = joined(room, "Cy")

    # WHEN Bob sends a message with markup in it
    sent = room.send(bob.token, "  <img src=x onerror=alert(1)>  ")

    # THEN everyone gets it once, as text (spaces trimmed), with who sent it and when
    assert sent["text"] == "<img src=x onerror=alert(1)>"
    assert sent["sender"] == {"id": bob.identity, "name": "Bob", "role": VIEWER}
    assert sent["sentAt"] == 1_750_000_000_000
    for inbox in (host_inbox, bob_inbox, cy_inbox):
        assert drain(inbox) == [("message", sent)]
    # AND the host is marked as host when it speaks
    assert room.send(host.token, "hello")["sender"]["role"] == HOST


def test_a_flooding_sender_gets_429_and_everyone_else_can_still_talk() -> None:
    # GIVEN a room where each sender may send 5 at once, then one a second
    clock = FakeClock()
    room = make_room(clock, sender_burst=5, seconds_per_message=1.0)
    flooder, _ = joined(room, "Flood")
    other, other_inbox = joined(room, "Calm")

    # WHEN one chatter sends 8 messages in the same instant
    accepted = 0
    errors: list[ChatRefusedError] = []
    for n in range(8):
        try:
            room.send(flooder.token, f"spam {n}")
            accepted += 1
        except ChatRefusedError as exc:
            errors.append(exc)

    # THEN 5 go through and the rest are 429 with a wait to honour
    assert accepted == 5
    assert [e.status for e in errors] == [429, 429, 429]
    assert all(e.retry_after == 1 for e in errors)
    assert "too fast" in errors[0].message
    # AND the other chatter is not affected
    assert room.send(other.token, "still here")["text"] == "still here"
    # AND after a second the flooder may send one more
    clock.advance(1.0)
    room.send(flooder.token, "one more")
    assert refused(room.send, flooder.token, "and another").status == 429
    texts = [data["text"] for name, data in drain(other_inbox) if name == "message"]
    assert texts == [*(f"spam {n}" for n in range(5)), "still here", "one more"]


def test_the_whole_room_is_limited_like_ivs_chat_and_a_refusal_costs_the_sender_nothing() -> None:
    # GIVEN a room that takes 3 messages a second from everyone together
    clock = FakeClock()
    room = make_room(clock, room_messages_per_second=3, sender_burst=2)
    senders = [joined(room, f"S{n}")[0] for n in range(4)]

    # WHEN four chatters send one message each in the same instant
    for sender in senders[:3]:
        room.send(sender.token, "hi")
    busy = refused(room.send, senders[3].token, "hi")

    # THEN the fourth is told the room is busy, and may send as soon as the room has room
    assert (busy.status, busy.retry_after) == (429, 1)
    assert "busy" in busy.message
    clock.advance(1.0)
    room.send(senders[3].token, "hi again")
    room.send(senders[3].token, "and again")  # its own burst of 2 was not spent by the refusal


def test_a_late_joiner_gets_the_last_50_messages_in_order() -> None:
    # GIVEN 60 messages sent before a viewer arrives
    clock = FakeClock()
    room = make_room(clock, sender_burst=1000)
    talker, _ = joined(room, "Talker")
    for n in range(60):
        room.send(talker.token, f"message {n}")

    # WHEN a viewer connects
    _, inbox = joined(room, "Late")

    # THEN it gets the last 50, oldest first, and nothing else
    events = drain(inbox)
    assert [name for name, _ in events] == ["message"] * 50
    assert [data["text"] for _, data in events] == [f"message {n}" for n in range(10, 60)]


# -- moderation ------------------------------------------------------------------------------


def test_the_host_deletes_a_message_for_everyone_and_late_joiners_never_see_it() -> None:
    room = make_room(FakeClock())
    host, host_inbox = joined(room, "Host", HOST)
    viewer, viewer_inbox = joined(room, "Vee")
    rude = room.send(viewer.token, "rude")
    kept = room.send(viewer.token, "kind")
    drain(host_inbox), drain(viewer_inbox)

    room.delete(host.token, rude["id"])

    assert drain(host_inbox) == [("delete", {"id": rude["id"]})]
    assert drain(viewer_inbox) == [("delete", {"id": rude["id"]})]
    _, late_inbox = joined(room, "Late")
    assert drain(late_inbox) == [("message", kept)]
    # AND deleting it again, or a message that never was, is a 404
    assert refused(room.delete, host.token, rude["id"]).status == 404
    assert refused(room.delete, host.token, "no-such-id").status == 404


def test_only_the_host_may_delete_or_disconnect() -> None:
    room = make_room(FakeClock())
    viewer, _ = joined(room, "Vee")
    other, _ = joined(room, "Oth")
    message = room.send(other.token, "hello")

    assert refused(room.delete, viewer.token, message["id"]).status == 403
    assert refused(room.disconnect, viewer.token, other.identity).status == 403


def test_a_disconnected_chatter_is_told_and_its_token_stops_working() -> None:
    # GIVEN a viewer connected on two tabs of the same session
    room = make_room(FakeClock())
    host, _ = joined(room, "Host", HOST)
    viewer, first = joined(room, "Troll")
    _, second = room.connect(viewer.token)
    drain(first), drain(second)

    # WHEN the host disconnects it
    room.disconnect(host.token, viewer.identity)

    # THEN both of its streams get the final event
    for inbox in (first, second):
        assert drain(inbox) == [("disconnected", {"reason": "The host disconnected you"})]
    # AND its token can neither send nor reconnect (403, not 401: the page says why)
    assert refused(room.send, viewer.token, "again").status == 403
    assert refused(room.connect, viewer.token).status == 403
    # AND the host cannot disconnect a host, nor somebody unknown
    assert refused(room.disconnect, host.token, host.identity).status == 400
    assert refused(room.disconnect, host.token, "viewer-unknown").status == 404


def test_a_disconnected_chatter_gets_no_further_messages() -> None:
    room = make_room(FakeClock())
    host, _ = joined(room, "Host", HOST)
    viewer, inbox = joined(room, "Gone")
    room.disconnect(host.token, viewer.identity)
    drain(inbox)

    room.send(host.token, "after")

    assert drain(inbox) == []


# -- connections and tokens ------------------------------------------------------------------


def test_at_most_max_connected_chatters_and_a_place_frees_when_one_leaves() -> None:
    room = make_room(FakeClock(), max_connected=2)
    first, first_inbox = joined(room, "One")
    joined(room, "Two")
    third, _ = room.join("Three", VIEWER)

    full = refused(room.connect, third.token)

    assert (full.status, "full" in full.message) == (429, True)
    # AND a chatter already connected may still open a second stream (a reloading page)
    room.connect(first.token)
    # AND once the first chatter closes both its streams, the third gets in
    for inbox in list(first.streams):
        room.leave(first, inbox)
    assert room.connected() == 1
    room.connect(third.token)
    assert room.connected() == 2
    assert drain(first_inbox) == []


def test_one_token_holds_at_most_three_streams() -> None:
    room = make_room(FakeClock())
    chatter, _ = room.join("Tabs", VIEWER)
    for _ in range(3):
        room.connect(chatter.token)

    assert refused(room.connect, chatter.token).status == 429


def test_a_token_expires_its_stream_ends_and_it_can_no_longer_send() -> None:
    # GIVEN a token valid for 60 s, connected
    clock = FakeClock()
    room = make_room(clock, token_seconds=60)
    chatter, inbox = joined(room, "Brief")
    room.send(chatter.token, "in time")
    drain(inbox)

    # WHEN its minute is over (the stream's keep-alive checks expiry)
    clock.advance(60)
    room.end_expired()

    # THEN its stream is ended with "expired", and the token is refused everywhere (401)
    assert drain(inbox) == [("expired", {"reason": "Your chat session has expired"})]
    assert refused(room.send, chatter.token, "too late").status == 401
    assert refused(room.connect, chatter.token).status == 401
    assert refused(room.chatter, "").status == 401


def test_a_local_grant_lasts_chat_session_minutes() -> None:
    # GIVEN the local chat built from settings asking for 5-minute sessions
    clock = FakeClock()
    room = make_room(clock)
    chat = LocalChat(room, session_minutes=5)

    grant = chat.grant(name="Brief", role=VIEWER)

    # THEN the grant says so, and the room refuses the token once the 5 minutes are over
    assert grant.expires_at == 1_750_000_000 + 300
    clock.advance(299)
    assert room.chatter(grant.token).name == "Brief"
    clock.advance(1)
    assert refused(room.chatter, grant.token).status == 401


def test_the_local_chat_reads_chat_session_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)

    chat = create_chat(Settings({"CHAT_PROVIDER": "local", "CHAT_SESSION_MINUTES": "7"}, "t"))

    assert chat.session_minutes == 7


def test_tokens_are_bounded_and_a_crowd_of_viewers_never_pushes_out_the_host() -> None:
    room = make_room(FakeClock(), max_tokens=5)
    host, _ = room.join("Host", HOST)
    viewers = [room.join(f"V{n}", VIEWER)[0] for n in range(10)]

    # the host's token and the newest viewers' are kept; the oldest unused ones are forgotten
    assert room.chatter(host.token) is host
    assert refused(room.chatter, viewers[0].token).status == 401
    assert room.chatter(viewers[-1].token) is viewers[-1]


def test_a_reset_ends_every_stream_with_closed() -> None:
    room = make_room(FakeClock())
    chatter, inbox = joined(room, "Any")
    room.send(chatter.token, "x")
    drain(inbox)

    room.reset()

    assert drain(inbox) == [("closed", {"reason": "The server is shutting down"})]
    assert refused(room.chatter, chatter.token).status == 401


def test_a_grant_says_where_to_connect_and_what_the_role_may_do() -> None:
    room = make_room(FakeClock())
    chat = LocalChat(room)

    viewer = chat.grant(name="Vee", role=VIEWER).to_json()
    host = chat.grant(name="Host", role=HOST).to_json()

    assert viewer["chat"] == "local" and viewer["endpoint"] == "/chat"
    assert viewer["capabilities"] == ["SEND_MESSAGE"]
    assert host["capabilities"] == ["SEND_MESSAGE", "DELETE_MESSAGE", "DISCONNECT_USER"]
    assert viewer["expiresAt"] == 1_750_000_000 + 3600
    assert viewer["identity"].startswith("viewer-") and host["identity"].startswith("host-")
    assert room.chatter(viewer["token"]).name == "Vee"


def test_local_chat_refuses_to_run_on_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "live-chat_token")

    # (refused before its modules are imported: they are not packaged for Lambda)
    with pytest.raises(ProviderUnavailableError) as caught:
        get_chat(Settings({"CHAT_PROVIDER": "local"}, "test"))

    assert "ivschat" in caught.value.message


# -- what a message and a name may contain ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("   \t ", "empty"),  # surrounding whitespace, tabs included, is trimmed first
        ("x" * (MAX_MESSAGE_LENGTH + 1), "longer than 500"),
        ("line one\nline two", "control characters"),
        ("bell\x07", "control characters"),
        ("nul\x00", "control characters"),
        ("del\x7f", "control characters"),
        ("next\x85line", "control characters"),
        ("separator\u2028here", "control characters"),
        ("flip\u202eeman", "control characters"),
        ("half \ud800 pair", "lone surrogate"),
        ("low \udfff", "lone surrogate"),
        (None, "must be text"),
        (42, "must be text"),
        (["a"], "must be text"),
    ],
)
def test_messages_that_are_refused(text: object, why: str) -> None:
    with pytest.raises(ChatTextError) as caught:
        check_message(text)
    assert why in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "x" * MAX_MESSAGE_LENGTH,
        "😀" * MAX_MESSAGE_LENGTH,  # counted in code points, as IVS Chat counts them
        "👩\u200d💻 zero-width joiners make one emoji",
        "<script>alert(1)</script>",
        "שלום and مرحبا",
    ],
)
def test_messages_that_are_accepted_unchanged(text: str) -> None:
    assert check_message(text) == text


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "1 to 32"),
        ("   ", "1 to 32"),
        (None, "1 to 32"),
        (7, "1 to 32"),
        ("n" * (MAX_NAME_LENGTH + 1), "longer than 32"),
        ("two\nlines", "control characters"),
        ("tab\tbed", "control characters"),
        ("\u202eevil", "control characters"),
        ("bad\udc00", "lone surrogate"),
    ],
)
def test_display_names_that_are_refused(name: object, why: str) -> None:
    with pytest.raises(ChatTextError) as caught:
        check_display_name(name)
    assert why in str(caught.value)


@pytest.mark.parametrize(
    ("name", "shown"),
    [("A", "A"), ("n" * MAX_NAME_LENGTH, "n" * MAX_NAME_LENGTH), ("  Zoë  ", "Zoë")],
)
def test_display_names_of_1_to_32_characters_are_accepted(name: str, shown: str) -> None:
    assert check_display_name(name) == shown


def test_the_room_refuses_bad_text_with_a_400_and_relays_nothing() -> None:
    room = make_room(FakeClock())
    chatter, inbox = joined(room, "Vee")

    for text in ("", "a\nb", "x" * 501, "\ud800", None):
        assert refused(room.send, chatter.token, text).status == 400
    assert drain(inbox) == []
    # AND a refused message does not spend the sender's allowance
    for n in range(5):
        room.send(chatter.token, f"ok {n}")
