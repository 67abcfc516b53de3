"""The chat beside the stream with the ``local`` chat, in Debian's chromium: a host and viewers
on the real pages, the dev server relaying their messages."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from datetime import time as time_of_day
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser_pages import PASSWORD, HostPage, ViewerPage, screenshot
from browser_settings import settings_for
from chat_pages import ChatPanel
from page_world import (
    PageWorld,
    WorldClock,
    date_time_text,
    hours_minutes_text,
    plain_spaces,
)

from livescreen.chat.local.room import CHAT_ROOM

MARKUP = "<img src=x onerror=alert(1)>"


def viewer_in_chat(open_page: Any, server: Any, name: str, **page_options: Any) -> ChatPanel:
    viewer = ViewerPage(open_page(**page_options), server.url).open()
    chat = ChatPanel(viewer.page)
    chat.join(name)
    return chat


def live_host_in_chat(open_page: Any, server: Any) -> tuple[HostPage, ChatPanel]:
    host = HostPage(open_page(), server.url).open()
    chat = ChatPanel(host.page)
    chat.wait_for_state("host-needed")
    host.go_live(PASSWORD)
    chat.wait_for_state("open")
    chat.wait_until_connected()
    return host, chat


def test_a_host_and_two_viewers_chat_markup_stays_text_and_the_host_moderates(
    server: Any, open_page: Any
) -> None:
    # GIVEN a live host and two viewers in the chat
    host, host_chat = live_host_in_chat(open_page, server)
    ada = viewer_in_chat(open_page, server, "Ada")
    bob = viewer_in_chat(open_page, server, "Bob")
    everyone = (host_chat, ada, bob)
    requested: list[str] = []
    for chat in everyone:
        chat.page.on("request", lambda request: requested.append(request.url))

    # WHEN each of them writes in turn, once the previous message has reached everyone (so
    # that every panel shows them in one order), one of them in HTML
    for sender, text in ((ada, "Hello from Ada"), (host_chat, "Welcome, everyone"), (bob, MARKUP)):
        assert sender.send(text) == 200
        for chat in everyone:
            chat.wait_for_message(text)

    # THEN everyone sees the three messages with their senders, the host marked as host, and
    # the markup as the characters Bob typed: no element made of it, no dialog, no request
    for chat in everyone:
        hello = chat.wait_for_message("Hello from Ada")
        welcome = chat.wait_for_message("Welcome, everyone")
        markup = chat.wait_for_message(MARKUP)
        assert (hello["sender"], hello["role"], hello["hostBadge"]) == ("Ada", "viewer", False)
        assert (welcome["sender"], welcome["role"], welcome["hostBadge"]) == ("Host", "host", True)
        assert (markup["sender"], markup["role"]) == ("Bob", "viewer")
        assert hello["time"]
        assert chat.page.locator("#chat img").count() == 0
        assert chat.page.locator("img").count() == 0
        assert chat.dialogs == []
    assert not [url for url in requested if url.rstrip("/").endswith("/x")]
    assert ada.wait_for_message("Hello from Ada")["mine"] is True
    assert bob.wait_for_message("Hello from Ada")["mine"] is False
    # only the host has moderation buttons, and only on viewers' messages
    assert host_chat.wait_for_message("Hello from Ada")["actions"] == ["delete", "disconnect"]
    assert host_chat.wait_for_message("Welcome, everyone")["actions"] == []
    assert ada.wait_for_message(MARKUP)["actions"] == []
    screenshot(host.page, "chat-host")
    screenshot(bob.page, "chat-viewer")

    # WHEN the host deletes Ada's message
    hello_id = host_chat.wait_for_message("Hello from Ada")["id"]
    with host.page.expect_response("**/chat/delete") as deleted:
        host_chat.click_action(hello_id, "delete")
    assert deleted.value.status == 200

    # THEN it disappears for both viewers (and the host); the others stay
    for chat in everyone:
        chat.wait_until_gone(hello_id)
        assert [m["text"] for m in chat.messages()] == ["Welcome, everyone", MARKUP]

    # WHEN the host disconnects Bob
    markup_id = host_chat.wait_for_message(MARKUP)["id"]
    with host.page.expect_response("**/chat/disconnect") as disconnected:
        host_chat.click_action(markup_id, "disconnect")
    assert disconnected.value.status == 200

    # THEN Bob's panel says so and lets him send nothing more; Ada chats on
    bob.wait_for_state("disconnected")
    assert bob.alert() == {
        "kind": "disconnected",
        "text": "The host disconnected you from the chat.",
    }
    assert bob.page.locator("#chatText").is_hidden()
    host.page.locator("#chat .chat-system").filter(has_text="Bob was disconnected.").wait_for()
    assert ada.send("Still here") == 200
    host_chat.wait_for_message("Still here")
    screenshot(bob.page, "chat-viewer-disconnected")


def test_flooding_is_answered_429_and_the_chat_stays_usable_for_the_others(
    server: Any, open_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a room whose senders earn a message back only every minute (however slowly this
    # machine sends, the burst is spent before one is earned)
    monkeypatch.setattr(CHAT_ROOM, "limits", replace(CHAT_ROOM.limits, seconds_per_message=60))
    _, host_chat = live_host_in_chat(open_page, server)
    flooder = viewer_in_chat(open_page, server, "Flood")
    calm = viewer_in_chat(open_page, server, "Calm")

    # WHEN one viewer sends as fast as the page lets them, until refused (30 tries at most)
    statuses: list[int] = []
    for n in range(30):
        statuses.append(flooder.send(f"spam {n}"))
        if statuses[-1] == 429:
            break

    # THEN the server answers 429 once the burst of 5 is spent, and the page says to slow down,
    # keeping the message that was not sent
    assert statuses == [200] * 5 + [429]
    assert "Slow down" in flooder.wait_for_alert("slow")
    assert flooder.page.input_value("#chatText") == f"spam {len(statuses) - 1}"
    screenshot(flooder.page, "chat-slow-down")

    # AND the others chat on: a message from the calm viewer and one from the host reach all
    assert calm.send("I can still talk") == 200
    assert host_chat.send("So can I") == 200
    for chat in (flooder, calm, host_chat):
        chat.wait_for_message("I can still talk")
        chat.wait_for_message("So can I")
        assert calm.alert() == {}


def test_the_chat_works_while_nothing_is_live_and_says_so(server: Any, open_page: Any) -> None:
    # GIVEN a viewer and a host page while nothing is live
    viewer = ViewerPage(open_page(), server.url).open()
    viewer.wait_for_status("Not currently streaming.")
    chat = ChatPanel(viewer.page)
    chat.join("Early bird")
    host = HostPage(open_page(), server.url).open()
    host_chat = ChatPanel(host.page)
    host_chat.wait_for_state("host-needed")

    # THEN the viewer's chat is open and says nothing is live; the host's page reads along,
    # without sending or moderating, and says how to chat as the host
    assert chat.note() == "Nothing is live right now: the chat is open."
    assert chat.send("Anyone here?") == 200
    chat.wait_for_message("Anyone here?")
    assert host_chat.wait_for_message("Anyone here?")["actions"] == []
    assert host_chat.note().startswith("Switch LIVE on and enter the password to chat as the host")
    assert host.page.locator("#chatText").is_hidden()
    screenshot(viewer.page, "chat-nothing-live")
    screenshot(host.page, "chat-host-before-live")

    # WHEN the host goes live
    host.go_live(PASSWORD)
    host_chat.wait_for_state("open")

    # THEN the host may now moderate what was said before, and the note goes away once the
    # stream plays
    assert host_chat.wait_for_message("Anyone here?")["actions"] == ["delete", "disconnect"]
    assert host_chat.note() == ""
    assert viewer.wait_for_video().get("width", 0) > 0
    chat.wait_for_note("")

    # WHEN the host stops the stream
    host.page.click("#liveSwitch")
    host.wait_until("offline")

    # THEN both chats stay open and say so
    viewer.wait_for_status("The stream has ended.")
    chat.wait_for_note("Nothing is live right now: the chat is open.")
    host_chat.wait_for_note("You are offline: the chat stays open.")
    assert host_chat.send("Thanks for watching") == 200
    chat.wait_for_message("Thanks for watching")
    screenshot(host.page, "chat-host-after-live")


def test_the_display_name_is_remembered_after_a_reload(server: Any, open_page: Any) -> None:
    viewer = ViewerPage(open_page(), server.url).open()
    chat = ChatPanel(viewer.page)

    # a name of spaces is refused by the page, one of 33 characters cannot be typed
    chat.wait_for_state("name")
    viewer.page.fill("#chatName", "   ")
    viewer.page.press("#chatName", "Enter")
    viewer.page.locator("[data-chat=name-error]").wait_for()
    assert chat.state() == "name"
    screenshot(viewer.page, "chat-choose-name")
    viewer.page.fill("#chatName", "x" * 40)
    assert len(viewer.page.input_value("#chatName")) == 32

    chat.join("Grace Hopper")
    assert chat.send("Before the reload") == 200

    # WHEN the page is reloaded
    with viewer.page.expect_response("**/chat_token") as token:
        viewer.page.reload()

    # THEN it joins at once under the same name, without asking, and replays the message
    assert token.value.json()["name"] == "Grace Hopper"
    chat.wait_for_state("open")
    assert viewer.page.inner_text("[data-chat=who]") == "as Grace Hopper"
    assert viewer.page.evaluate("() => localStorage.getItem('livescreen.chatName')") == (
        "Grace Hopper"
    )
    assert chat.wait_for_message("Before the reload")["sender"] == "Grace Hopper"

    # WHEN the viewer changes name
    viewer.page.click("[data-chat=rename]")
    chat.join("Amazing Grace")

    # THEN the new name is used and remembered
    assert chat.send("After the rename") == 200
    assert chat.wait_for_message("After the rename")["sender"] == "Amazing Grace"
    assert viewer.page.evaluate("() => localStorage.getItem('livescreen.chatName')") == (
        "Amazing Grace"
    )


def test_on_a_narrow_screen_the_chat_goes_under_the_video(server: Any, open_page: Any) -> None:
    # GIVEN a wide and a narrow audience page, and a narrow host page
    wide = viewer_in_chat(open_page, server, "Wide")
    narrow = viewer_in_chat(open_page, server, "Narrow", viewport=(390, 844))
    narrow_host = HostPage(open_page(viewport=(390, 844)), server.url).open()
    host_chat = ChatPanel(narrow_host.page)
    host_chat.wait_for_state("host-needed")
    for n in range(3):
        assert wide.send(f"Message number {n} with a few words so that it wraps on a phone") == 200
    narrow.wait_for_message("Message number 2 with a few words so that it wraps on a phone")

    # THEN wide, the chat is beside the video; narrow, it is under it, as wide as the page
    player, panel = wide.box("#player"), wide.box("#chat")
    assert panel["x"] >= player["x"] + player["width"]
    assert panel["y"] < player["y"] + player["height"]
    player, panel = narrow.box("#player"), narrow.box("#chat")
    assert panel["y"] >= player["y"] + player["height"]
    assert abs(panel["width"] - player["width"]) < 2
    assert panel["width"] > 300
    controls, panel = host_chat.box(".host-panel"), host_chat.box("#chat")
    assert panel["y"] >= controls["y"] + controls["height"]
    # nothing sticks out sideways
    for chat in (narrow, host_chat):
        assert chat.page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(wide.page, "chat-wide")
    screenshot(narrow.page, "chat-narrow")
    screenshot(narrow_host.page, "chat-host-narrow")


def test_a_chat_turned_off_says_so(server: Any, open_page: Any) -> None:
    server.settings = settings_for(CHAT_PROVIDER="off")
    viewer = ViewerPage(open_page(), server.url).open()
    chat = ChatPanel(viewer.page)
    chat.wait_for_state("name")
    viewer.page.fill("#chatName", "Nobody")
    viewer.page.press("#chatName", "Enter")

    chat.wait_for_state("off")
    assert chat.alert() == {"kind": "off", "text": "Chat is turned off on this server."}
    assert viewer.page.locator("#chatText").is_hidden()

    host = HostPage(open_page(), server.url).open()
    host.go_live(PASSWORD)
    ChatPanel(host.page).wait_for_state("off")
    screenshot(viewer.page, "chat-off")


def test_a_lost_chat_says_so_and_rejoins(server: Any, open_page: Any) -> None:
    chat = viewer_in_chat(open_page, server, "Survivor")
    assert chat.send("Before the restart") == 200

    # WHEN the dev server's chat room is emptied (what a restart does)
    CHAT_ROOM.reset()

    # THEN the panel says the connection is lost and offers to rejoin, which works
    chat.wait_for_state("lost")
    assert chat.alert() == {
        "kind": "lost",
        "text": "Lost the connection to the chat: the server is shutting down.",
    }
    screenshot(chat.page, "chat-lost")
    chat.page.click("[data-chat=rejoin]")
    chat.wait_for_state("open")
    chat.wait_until_connected()
    assert chat.send("After the restart") == 200
    chat.wait_for_message("After the restart")


def test_a_busy_chat_token_is_tried_again_as_the_server_asks(server: Any, open_page: Any) -> None:
    # GIVEN /chat_token answering 429 (Retry-After: 1) to the first request, as API Gateway's
    # throttle answers a crowd arriving at once
    page = open_page()
    answered: list[int] = []

    def busy_once(route: Any) -> None:
        if not answered:
            answered.append(429)
            route.fulfill(
                status=429,
                headers={"Retry-After": "1"},
                content_type="application/json",
                body=json.dumps({"message": "Too Many Requests"}),
            )
        else:
            answered.append(200)
            route.continue_()

    page.route("**/chat_token", busy_once)
    viewer = ViewerPage(page, server.url).open()
    chat = ChatPanel(viewer.page)

    # WHEN the viewer joins
    chat.wait_for_state("name")
    viewer.page.fill("#chatName", "Patient")
    viewer.page.press("#chatName", "Enter")

    # THEN the page says it is busy, waits as asked and joins
    chat.wait_for_note("The chat is busy: joining again in 1 s…")
    chat.wait_for_state("open")
    assert answered == [429, 200]
    assert chat.send("Made it") == 200


def test_a_message_with_control_characters_is_refused_by_the_page(
    server: Any, open_page: Any
) -> None:
    chat = viewer_in_chat(open_page, server, "Tricky")
    sent: list[str] = []
    chat.page.on("request", lambda r: sent.append(r.url) if "/chat/send" in r.url else None)

    chat.page.fill("#chatText", "evil \u202eoverride")
    chat.page.press("#chatText", "Enter")

    assert "cannot contain control characters" in chat.wait_for_alert("error")
    assert chat.page.input_value("#chatText") == "evil \u202eoverride"
    assert chat.send("plain") == 200
    assert len(sent) == 1  # only the plain message went to the server


#: A 12-hour and a 24-hour locale, at hours whose text holds another time's digits.
MESSAGE_TIME_WORLDS = [
    PageWorld("en-US", "America/Los_Angeles", time_of_day(10, 27)),
    PageWorld("en-US", "Pacific/Kiritimati", time_of_day(22, 27)),
    PageWorld("de-DE", "Europe/Berlin", time_of_day(20, 0)),
    PageWorld("de-DE", "Pacific/Kiritimati", time_of_day(0, 27)),
]


@pytest.mark.parametrize("page_world", MESSAGE_TIME_WORLDS, ids=lambda world: world.id)
def test_a_message_shows_when_it_was_sent_by_each_readers_own_clock(
    server: Any, open_page: Any, world_clock: WorldClock
) -> None:
    # GIVEN a viewer in the chat, whose clock reads the world's time (a minute that the test
    # does not outlast)
    chat = viewer_in_chat(open_page, server, "Punctual")
    world = world_clock.world
    assert world.starts_at is not None

    # WHEN they send a message
    assert chat.send("What time is it?") == 200
    message = chat.wait_for_message("What time is it?")

    # THEN it shows the hour and minute it was sent, in the reader's time zone and locale, and
    # the full date and time when pointed at
    sent = datetime.fromisoformat(message["sentAt"]).astimezone(ZoneInfo(world.timezone_id))
    assert (sent.hour, sent.minute) == (world.starts_at.hour, world.starts_at.minute)
    assert plain_spaces(message["time"]) == hours_minutes_text(world.locale, sent)
    assert plain_spaces(message["timeTitle"]) == date_time_text(world.locale, sent)
