"""The ``local`` chat room (``livescreen.chat.local.room``) and the text checks every provider uses.

The room is driven in-process with a clock the test moves by hand, and each chatter's event
stream is read from its inbox, exactly what the dev server writes to the socket. Chatters joined
with an address (documentation addresses, RFC 5737) are counted per address.
"""

from __future__ import annotations

import queue
from typing import Any

import pytest

from livescreen.chat import HOST, VIEWER, get_chat
from livescreen.chat.local.chatter import Chatter
from livescreen.chat.local.limits import ChatLimits, ChatRefusedError
from livescreen.chat.local.provider import LocalChat, create_chat
from livescreen.chat.local.room import ChatRoom
from livescreen.chat.text import (
    MAX_MESSAGE_LENGTH,
    MAX_NAME_LENGTH,
    ChatTextError,
    check_display_name,
    check_message,
    looks_like_host,
    skeleton,
)
from livescreen.config import Settings
from livescreen.providers import ProviderUnavailableError
from livescreen.providers.local.hub import Hub
from livescreen.providers.local.inbox import Inbox
from livescreen.runtime.errors import TooManyRequestsError

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


# -- one address: its tokens, connections and messages together ------------------------------

FLOODER = "198.51.100.66"
NEIGHBOUR = "203.0.113.2"
HOST_AT = "192.0.2.1"


def joined_from(
    room: ChatRoom, address: str, name: str = "Vee", role: str = VIEWER
) -> tuple[Chatter, Inbox]:
    chatter, _ = room.join(name, role, address=address)
    return room.connect(chatter.token)


def test_many_tokens_from_one_address_send_no_more_than_one_address_may() -> None:
    # GIVEN 20 chatters from one address, a neighbour elsewhere, and the host
    clock = FakeClock()
    room = make_room(clock)
    limits = room.limits
    flood = [joined_from(room, FLOODER, f"Bot{n}")[0] for n in range(20)]
    neighbour, neighbour_inbox = joined_from(room, NEIGHBOUR, "Nina")
    host, _ = joined_from(room, HOST_AT, "Host", HOST)

    # WHEN every flooding token sends 3 messages in the same instant (60 tries)
    statuses: list[int] = []
    refusals: list[ChatRefusedError] = []
    for round_ in range(3):
        for bot in flood:
            try:
                room.send(bot.token, f"spam {round_}")
                statuses.append(200)
            except ChatRefusedError as exc:
                statuses.append(exc.status)
                refusals.append(exc)

    # THEN the address as a whole got its burst through, no more: 20 tokens are not 20 senders
    assert statuses.count(200) == limits.address_burst == 10
    assert set(statuses) == {200, 429}
    assert all("your address" in r.message and r.retry_after == 1 for r in refusals)
    # AND the neighbour's whole burst goes through, as does the host's message
    for n in range(limits.sender_burst):
        room.send(neighbour.token, f"hello {n}")
    room.send(host.token, "welcome")
    texts = [data["text"] for name, data in drain(neighbour_inbox) if name == "message"]
    assert texts[-6:] == [*(f"hello {n}" for n in range(5)), "welcome"]
    # AND the flooding address earns one message back every half second, whichever token
    clock.advance(limits.address_seconds_per_message)
    room.send(flood[7].token, "one more")
    assert refused(room.send, flood[8].token, "and another").status == 429


def test_an_address_refusal_costs_the_sender_nothing() -> None:
    clock = FakeClock()
    room = make_room(clock, address_burst=2, sender_burst=5)
    first, _ = joined_from(room, FLOODER, "One")
    second, _ = joined_from(room, FLOODER, "Two")
    room.send(first.token, "a")
    room.send(first.token, "b")
    assert refused(room.send, second.token, "c").status == 429

    # the second chatter's own burst is intact once the address has earned its allowance back
    clock.advance(10.0)
    for text in ("d", "e"):
        room.send(second.token, text)


def test_the_host_is_limited_by_neither_its_address_nor_the_room() -> None:
    # GIVEN a room taking 2 messages a second, spent by viewers on the host's own address
    clock = FakeClock()
    room = make_room(clock, room_messages_per_second=2, address_burst=2)
    host, host_inbox = joined_from(room, HOST_AT, "Host", HOST)
    tab, _ = joined_from(room, HOST_AT, "Host's viewer tab")
    other, _ = joined_from(room, NEIGHBOUR, "Nina")
    room.send(tab.token, "one")
    room.send(other.token, "two")
    assert refused(room.send, tab.token, "three").status == 429

    # WHEN the host speaks
    room.send(host.token, "The host can always speak")

    # THEN it is relayed (its own per-token burst still applies, as before)
    relayed = [data["text"] for name, data in drain(host_inbox) if name == "message"]
    assert relayed == ["one", "two", "The host can always speak"]


def test_tokens_per_address_are_limited_over_a_rolling_window_with_retry_after() -> None:
    # GIVEN an address that took its 30 tokens over 5 minutes
    clock = FakeClock()
    room = make_room(clock)
    limits = room.limits
    for _ in range(limits.tokens_per_address):
        room.join("Vee", VIEWER, address=FLOODER)
        clock.advance(10.0)

    # WHEN it asks for one more
    refusal = refused(lambda: room.join("Vee", VIEWER, address=FLOODER))

    # THEN it is told to come back when its oldest token leaves the 10-minute window
    assert refusal.status == 429
    assert "from your address" in refusal.message
    assert refusal.retry_after == limits.token_window_seconds - 300
    # AND another address, and the host on the same address, still get theirs
    room.join("Nina", VIEWER, address=NEIGHBOUR)
    room.join("Host", HOST, address=FLOODER)
    # AND once the window has moved on, the address gets one token per token that left it
    clock.advance(refusal.retry_after)
    room.join("Vee", VIEWER, address=FLOODER)
    assert refused(lambda: room.join("Vee", VIEWER, address=FLOODER)).status == 429


def test_one_address_takes_at_most_its_share_of_the_room() -> None:
    room = make_room(FakeClock(), max_connected=10, max_connected_per_address=3)
    crowd = [joined_from(room, FLOODER, f"Bot{n}")[0] for n in range(3)]
    fourth, _ = room.join("Bot3", VIEWER, address=FLOODER)

    refusal = refused(room.connect, fourth.token)

    assert refusal.status == 429
    assert "from your address" in refusal.message
    # AND others still connect, and one of the address's chatters may open a second stream
    joined_from(room, NEIGHBOUR, "Nina")
    room.connect(crowd[0].token)
    # AND when one of its chatters leaves, the address may connect another
    for inbox in list(crowd[1].streams):
        room.leave(crowd[1], inbox)
    room.connect(fourth.token)


def test_the_hosts_chat_always_connects_even_when_the_room_is_full() -> None:
    # GIVEN a room full of viewers, one of them from the host's own address
    room = make_room(FakeClock(), max_connected=2, max_connected_per_address=1)
    joined_from(room, FLOODER, "Bot")
    joined_from(room, HOST_AT, "Tab")
    latecomer, _ = room.join("Late", VIEWER, address=NEIGHBOUR)
    assert "full" in refused(room.connect, latecomer.token).message

    # WHEN the host's chat connects
    host, host_inbox = joined_from(room, HOST_AT, "Host", HOST)

    # THEN it is in, counting against neither the room nor its address
    assert host.streams == [host_inbox]
    assert room.connected() == 3
    assert "full" in refused(room.connect, latecomer.token).message


# -- a host's Disconnect bans the address ------------------------------------------------------


def test_a_disconnect_bans_the_address_every_token_of_it_and_new_ones() -> None:
    # GIVEN a flooder with three tokens (two connected), a neighbour and the host
    room = make_room(FakeClock())
    host, _ = joined_from(room, HOST_AT, "Host", HOST)
    bot, bot_inbox = joined_from(room, FLOODER, "Bot")
    other_bot, other_inbox = joined_from(room, FLOODER, "Bot2")
    idle_bot, _ = room.join("Bot3", VIEWER, address=FLOODER)
    neighbour, neighbour_inbox = joined_from(room, NEIGHBOUR, "Nina")
    for inbox in (bot_inbox, other_inbox, neighbour_inbox):
        drain(inbox)

    # WHEN the host disconnects one of them
    assert room.disconnect(host.token, bot.identity) is True

    # THEN every chatter of that address is disconnected, and none of its tokens works
    for inbox in (bot_inbox, other_inbox):
        assert drain(inbox) == [("disconnected", {"reason": "The host disconnected you"})]
    for token in (bot.token, other_bot.token, idle_bot.token):
        assert refused(room.send, token, "still here?").status == 403
        assert refused(room.connect, token).status == 403
    # AND a new token for the address is refused, saying why and for how long
    banned = refused(lambda: room.join("Fresh", VIEWER, address=FLOODER))
    assert banned.status == 403
    assert "until this stream ends" in banned.message
    # AND the neighbour chats on, and the host may still get a token from anywhere
    room.send(neighbour.token, "still fine")
    assert drain(neighbour_inbox)[-1][1]["text"] == "still fine"
    room.join("Host", HOST, address=FLOODER)


def test_a_chatter_on_the_hosts_own_address_is_disconnected_without_a_ban() -> None:
    # GIVEN two viewer tabs on the host's own machine (or everybody behind a tunnel)
    room = make_room(FakeClock())
    host, _ = joined_from(room, HOST_AT, "Host", HOST)
    troll, _ = joined_from(room, HOST_AT, "Troll")
    friend, _ = joined_from(room, HOST_AT, "Friend")

    assert room.disconnect(host.token, troll.identity) is False

    assert refused(room.send, troll.token, "x").status == 403
    room.send(friend.token, "still here")
    room.join("New tab", VIEWER, address=HOST_AT)


def test_a_ban_ends_after_ban_seconds_and_on_reset() -> None:
    clock = FakeClock()
    room = make_room(clock, ban_seconds=1800)
    host, _ = joined_from(room, HOST_AT, "Host", HOST)
    bot, _ = joined_from(room, FLOODER, "Bot")
    room.disconnect(host.token, bot.identity)

    clock.advance(1799)
    assert refused(lambda: room.join("Bot", VIEWER, address=FLOODER)).status == 403
    clock.advance(1)
    fresh, _ = room.join("Bot", VIEWER, address=FLOODER)
    # the disconnected token itself stays disconnected
    assert refused(room.send, bot.token, "x").status == 403
    room.send(fresh.token, "back")

    room.disconnect(room.join("Host", HOST, address=HOST_AT)[0].token, fresh.identity)
    room.reset()
    room.join("Bot", VIEWER, address=FLOODER)


def test_bans_are_lifted_when_a_live_stream_ends_not_when_an_unstarted_room_is_dropped() -> None:
    # GIVEN the local provider's hub, a live stream, and a banned flooder
    clock = FakeClock()
    hub = Hub(clock)
    room = make_room(clock)
    room.lift_bans_when_streams_end(hub)
    room.lift_bans_when_streams_end(hub)  # following twice is following once
    live = hub.create_room()
    hub.start(live.name)
    host, _ = joined_from(room, HOST_AT, "Host", HOST)
    bot, _ = joined_from(room, FLOODER, "Bot")
    room.disconnect(host.token, bot.identity)

    # WHEN a room that never went live is dropped, the ban holds
    hub.stop(hub.create_room().name)
    assert room.banned(FLOODER)

    # WHEN the live stream ends, the ban is lifted
    hub.stop(live.name)
    assert not room.banned(FLOODER)
    room.join("Bot", VIEWER, address=FLOODER)


def test_bans_are_bounded() -> None:
    room = make_room(FakeClock(), max_bans=2)
    host, _ = joined_from(room, HOST_AT, "Host", HOST)
    for n in range(3):
        bot, _ = joined_from(room, f"198.51.100.{n}", "Bot")
        room.disconnect(host.token, bot.identity)

    assert [room.banned(f"198.51.100.{n}") for n in range(3)] == [False, True, True]


def test_the_local_grant_is_issued_to_the_address_and_refusals_carry_retry_after() -> None:
    room = make_room(FakeClock(), tokens_per_address=1)
    chat = LocalChat(room)
    chat.grant(name="Vee", role=VIEWER, address=FLOODER)

    with pytest.raises(TooManyRequestsError) as caught:
        chat.grant(name="Vee", role=VIEWER, address=FLOODER)

    assert caught.value.headers == {"retry-after": "600"}
    assert room.chatter(chat.grant(name="Nina", role=VIEWER, address=NEIGHBOUR).token).address == (
        NEIGHBOUR
    )


# -- display names: nothing invisible, nothing that passes for the host -------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Host\u200b",  # zero-width space
        "Ho\u200cst",  # zero-width non-joiner between Latin letters
        "Host\u200d",  # zero-width joiner after a letter
        "\u200eHost",  # left-to-right mark
        "Ada\u200f",  # right-to-left mark
        "\ufeffAda",  # byte order mark
        "Ada\u2060",  # word joiner
        "Ada\u2062",  # invisible times
        "Ada\u00ad",  # soft hyphen
        "Ada\u061c",  # Arabic letter mark
        "Ada\U000e0041\U000e007f",  # tag characters
        "\u115fAda",  # Hangul choseong filler
        "\u3164",  # Hangul filler
        "Ada\uffa0",  # halfwidth Hangul filler
        "Ada\ufe0f",  # a variation selector after a letter
        "Ada\U000e0100",  # variation selector 17
        "Ada\u034f",  # combining grapheme joiner
        "Ada\u180e",  # Mongolian vowel separator
        "\u2800",  # blank braille cell
    ],
    ids=repr,
)
def test_display_names_with_invisible_characters_are_refused(name: str) -> None:
    with pytest.raises(ChatTextError) as caught:
        check_display_name(name)
    assert "invisible characters" in str(caught.value)


LOOK_ALIKES = [
    "Host",
    "host",
    "HOST",
    "hOsT",
    "H0st",
    "Ho st",
    "Ho\u200ast",  # a hair space
    "\u0397ost",  # Greek capital eta
    "\u041dost",  # Cyrillic capital en
    "\u04bbost",  # Cyrillic small shha
    "H\u03bfst",  # Greek small omicron
    "Ho\u0455t",  # Cyrillic small dze
    "\u210dost",  # double-struck capital H
    "\uff28\uff4f\uff53\uff54",  # fullwidth
    "\U0001d407\U0001d428\U0001d42c\U0001d42d",  # mathematical bold
    "\u2c8eost",  # Coptic capital hate
]


@pytest.mark.parametrize("name", LOOK_ALIKES, ids=repr)
def test_a_viewer_name_that_looks_like_the_hosts_is_refused(name: str) -> None:
    with pytest.raises(ChatTextError) as caught:
        check_display_name(name)
    assert str(caught.value) == "That name looks like the host's: pick another"


@pytest.mark.parametrize("name", ["Host", "HOST", "Ada"])
def test_the_host_keeps_its_name(name: str) -> None:
    assert check_display_name(name, host=True) == name


@pytest.mark.parametrize(
    "name",
    [
        "Hosts",
        "Host 2",
        "The host",
        "H\u00f4st",  # a visible accent
        "Host (reading)",
        "Ghost",
        "Ada \u2764\ufe0f",  # an emoji with its presentation selector
        "\U0001f469\u200d\U0001f4bb Dev",  # an emoji ZWJ sequence
        "\U0001f44b\U0001f3fd",  # a skin tone
        "1\ufe0f\u20e3 first",  # a keycap
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with its non-joiner
        "\u0915\u094d\u200d\u0937",  # Devanagari, a joiner after the virama
        "\u0417\u043e\u044f",  # Cyrillic
        "\u5f20\u4f1f",  # Han
    ],
    ids=repr,
)
def test_names_that_are_neither_invisible_nor_the_hosts_are_accepted(name: str) -> None:
    assert check_display_name(name) == name


def test_looks_like_host_compares_skeletons_not_spellings() -> None:
    assert skeleton("\u0397ost") == skeleton("Host")
    assert skeleton("H0st") != skeleton("Host")  # 0 looks like O, not o: case is folded after
    assert looks_like_host("H0st")
    assert not looks_like_host("Hostess")
