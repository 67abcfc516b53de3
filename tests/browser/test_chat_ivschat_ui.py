"""UI tests of the ``ivschat`` chat module on the real pages, against a double of the IVS Chat SDK.

Amazon IVS Chat cannot be reached from here, so these are UI tests, not end-to-end tests: the
pages come from the real dev server (the host goes live with the ``local`` provider, which gives
the page a real host session), ``/chat_token`` is answered in the browser as the ``ivschat``
provider answers it, and ``/vendor/amazon-ivs-chat-messaging/index.js`` is the double in
``ivschat_doubles.py``. The last test loads the real vendored SDK and checks the double keeps
its shape.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from browser_pages import PASSWORD, HostPage, ViewerPage, screenshot
from chat_pages import ChatPanel
from ivschat_doubles import ENDPOINT, SDK, double_token, token_claims

MARKUP = "<img src=x onerror=alert(1)>"
VIEWER_CAPABILITIES = ["SEND_MESSAGE"]
HOST_CAPABILITIES = ["SEND_MESSAGE", "DELETE_MESSAGE", "DISCONNECT_USER"]


class IvsChatBackend:
    """``/chat_token`` as the ivschat provider answers it, routed inside the browser."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._serial = itertools.count(1)

    def install(self, context: Any) -> None:
        context.route(
            "**/vendor/amazon-ivs-chat-messaging/index.js",
            lambda route: route.fulfill(body=SDK, content_type="application/javascript"),
        )
        context.route("**/chat_token", self._chat_token)

    def _chat_token(self, route: Any) -> None:
        body = json.loads(route.request.post_data or "{}")
        self.requests.append(body)
        is_host = bool(body.get("session"))
        role = "host" if is_host else "viewer"
        name = body.get("name") or ("Host" if is_host else "")
        identity = f"{role}-{next(self._serial):016x}"
        capabilities = HOST_CAPABILITIES if is_host else VIEWER_CAPABILITIES
        answer = {
            "chat": "ivschat",
            "token": double_token(identity, {"displayName": name, "role": role}, capabilities),
            "identity": identity,
            "name": name,
            "role": role,
            "expiresAt": int(time.time()) + 3600,
            "endpoint": ENDPOINT,
            "capabilities": capabilities,
        }
        route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))


@pytest.fixture
def backend() -> IvsChatBackend:
    return IvsChatBackend()


def pages_in_one_context(open_page: Any, backend: IvsChatBackend, server: Any) -> Any:
    """A host page and a viewer page sharing one browser context (and so the double's room)."""
    host_page = open_page()
    backend.install(host_page.context)
    viewer_page = host_page.context.new_page()
    return HostPage(host_page, server.url), ViewerPage(viewer_page, server.url)


ROOMS = """() => window.__ivschat.rooms.map((room) => ({
  socketUrl: room.socketUrl, state: room.state, tokens: room.tokens.map((t) => t.token),
  sessionExpires: room.tokens.map((t) => t.sessionExpirationTime instanceof Date),
  requests: room.requests, logLevel: room.logLevel,
}))"""


def test_ivschat_viewer_and_host_chat_and_moderate_through_the_sdk(
    server: Any, open_page: Any, backend: IvsChatBackend
) -> None:
    host, viewer = pages_in_one_context(open_page, backend, server)

    # GIVEN a viewer in the chat and a live host
    viewer.open()
    viewer_chat = ChatPanel(viewer.page)
    viewer_chat.join("Ada")
    host.open()
    host_chat = ChatPanel(host.page)
    host_chat.wait_for_state("host-needed")  # reading along with a viewer's token
    grant = host.go_live(PASSWORD)
    host_chat.wait_for_state("open")
    host_chat.wait_until_connected()

    # THEN each page built a ChatRoom on the grant's endpoint with its own token; the host's
    # page swapped the one it read along with for one asked for with the host session
    assert backend.requests == [
        {"name": "Ada"},
        {"name": "Host (reading)"},
        {"session": grant["session"], "name": "Host"},
    ]
    (viewer_room,) = viewer.page.evaluate(ROOMS)
    reader_room, host_room = host.page.evaluate(ROOMS)
    assert reader_room["state"] == "disconnected"
    assert token_claims(reader_room["tokens"][0])["capabilities"] == VIEWER_CAPABILITIES
    assert viewer_room["socketUrl"] == host_room["socketUrl"] == ENDPOINT
    assert viewer_room["state"] == host_room["state"] == "connected"
    assert viewer_room["sessionExpires"] == [True]
    assert viewer_room["logLevel"] == "error"
    assert token_claims(host_room["tokens"][0])["capabilities"] == HOST_CAPABILITIES
    # IVS Chat keeps no history: the panel says so
    no_history = "Messages sent before you joined are not shown."
    assert viewer.page.inner_text(".chat-system") == no_history

    # WHEN the viewer and the host write, the viewer in HTML
    viewer.page.fill("#chatText", "Hello from Ada")
    viewer.page.press("#chatText", "Enter")
    viewer_chat.wait_for_message("Hello from Ada")
    viewer.page.fill("#chatText", MARKUP)
    viewer.page.press("#chatText", "Enter")
    host.page.fill("#chatText", "Welcome")
    host.page.press("#chatText", "Enter")

    # THEN both see every message with its sender (display name and role from the token's
    # attributes), the markup as text
    for chat in (viewer_chat, host_chat):
        hello = chat.wait_for_message("Hello from Ada")
        welcome = chat.wait_for_message("Welcome")
        markup = chat.wait_for_message(MARKUP)
        assert (hello["sender"], hello["role"]) == ("Ada", "viewer")
        assert (welcome["sender"], welcome["role"], welcome["hostBadge"]) == ("Host", "host", True)
        assert markup["sender"] == "Ada"
        assert chat.page.locator("img").count() == 0
        assert chat.dialogs == []
    sent = viewer.page.evaluate(ROOMS)[0]["requests"]
    assert [(r["action"], r["content"]) for r in sent] == [
        ("SEND_MESSAGE", "Hello from Ada"),
        ("SEND_MESSAGE", MARKUP),
    ]
    screenshot(host.page, "ivschat-host")

    # WHEN the host deletes the viewer's first message
    hello_id = host_chat.wait_for_message("Hello from Ada")["id"]
    host_chat.click_action(hello_id, "delete")

    # THEN the SDK was asked to delete that message, and it is gone on both pages
    for chat in (viewer_chat, host_chat):
        chat.wait_until_gone(hello_id)
    delete = host.page.evaluate(ROOMS)[-1]["requests"][-1]
    assert (delete["action"], delete["id"]) == ("DELETE_MESSAGE", hello_id)

    # WHEN the host disconnects the viewer
    markup = host_chat.wait_for_message(MARKUP)
    host_chat.click_action(markup["id"], "disconnect")

    # THEN the SDK was asked to disconnect the viewer's user id, and the viewer's panel says so
    viewer_chat.wait_for_state("disconnected")
    assert viewer_chat.alert()["text"] == "The host disconnected you from the chat."
    kick = host.page.evaluate(ROOMS)[-1]["requests"][-1]
    assert (kick["action"], kick["userId"]) == ("DISCONNECT_USER", markup["senderId"])
    host.page.locator(".chat-system").filter(has_text="Ada was disconnected.").wait_for()
    screenshot(viewer.page, "ivschat-viewer-disconnected")


def test_ivschat_refusals_say_slow_down_or_refused_and_a_viewer_cannot_moderate(
    server: Any, open_page: Any, backend: IvsChatBackend
) -> None:
    page = open_page()
    backend.install(page.context)
    viewer = ViewerPage(page, server.url).open()
    chat = ChatPanel(viewer.page)
    chat.join("Quick")

    # WHEN IVS refuses a message with 429 (the room's message rate)
    viewer.page.evaluate("() => window.__ivschat.throttleNext()")
    viewer.page.fill("#chatText", "too quick")
    viewer.page.press("#chatText", "Enter")

    # THEN the page says to slow down and keeps the text; sending again works
    assert "Slow down" in chat.wait_for_alert("slow")
    assert viewer.page.input_value("#chatText") == "too quick"
    viewer.page.press("#chatText", "Enter")
    chat.wait_for_message("too quick")
    viewer.page.wait_for_function("() => !document.querySelector('[data-chat=alert]').offsetParent")

    # WHEN the room's message review handler denies a message (406)
    viewer.page.evaluate("() => window.__ivschat.denyNext()")
    viewer.page.fill("#chatText", "denied")
    viewer.page.press("#chatText", "Enter")

    # THEN the page says it was refused
    assert chat.wait_for_alert("error").startswith("The message was refused")

    # a viewer's page shows no moderation buttons, and its token could not use them anyway
    assert chat.wait_for_message("too quick")["actions"] == []
    refused = viewer.page.evaluate(
        """async () => {
          const sdk = await import('/vendor/amazon-ivs-chat-messaging/index.js');
          const room = window.__ivschat.rooms[0];
          try { await room.deleteMessage(new sdk.DeleteMessageRequest('x')); return null; }
          catch (error) { return error.errorCode; }
        }"""
    )
    assert refused == 403


def test_ivschat_a_dropped_connection_says_so_and_rejoins_with_a_new_token(
    server: Any, open_page: Any, backend: IvsChatBackend
) -> None:
    page = open_page()
    backend.install(page.context)
    viewer = ViewerPage(page, server.url).open()
    chat = ChatPanel(viewer.page)
    chat.join("Steady")

    viewer.page.evaluate("() => window.__ivschat.serverDisconnect()")

    chat.wait_for_state("lost")
    assert chat.alert()["text"] == "Lost the connection to the chat."
    viewer.page.click("[data-chat=rejoin]")
    chat.wait_for_state("open")
    chat.wait_until_connected()
    rooms = viewer.page.evaluate(ROOMS)
    assert [room["state"] for room in rooms] == ["disconnected", "connected"]
    assert rooms[0]["tokens"] != rooms[1]["tokens"]
    assert backend.requests == [{"name": "Steady"}, {"name": "Steady"}]


def test_ivschat_reconnects_by_itself_with_a_fresh_token_and_says_so(
    server: Any, open_page: Any, backend: IvsChatBackend
) -> None:
    page = open_page()
    backend.install(page.context)
    viewer = ViewerPage(page, server.url).open()
    chat = ChatPanel(viewer.page)
    chat.join("Roaming")

    # WHEN the socket breaks
    viewer.page.evaluate("() => window.__ivschat.breakNetwork()")

    # THEN the panel says it is reconnecting, and the SDK's token provider got a fresh token
    chat.wait_for_note("Reconnecting to the chat…")
    viewer.page.wait_for_function("() => window.__ivschat.rooms[0].tokens.length === 2")
    assert backend.requests == [{"name": "Roaming"}, {"name": "Roaming"}]

    # WHEN the network is back
    viewer.page.evaluate("() => window.__ivschat.restoreNetwork()")

    # THEN the same room is connected again with the second token, and chatting goes on
    chat.wait_for_note("Nothing is live right now: the chat is open.")
    (room,) = viewer.page.evaluate(ROOMS)
    assert room["state"] == "connected"
    assert len(set(room["tokens"])) == 2
    viewer.page.fill("#chatText", "back again")
    viewer.page.press("#chatText", "Enter")
    assert chat.wait_for_message("back again")["mine"] is True


PUBLIC_SHAPE = """async (url) => {
  const sdk = await import(url);
  const names = (object) => Object.getOwnPropertyNames(object).filter((n) => !n.startsWith('_'));
  const tokenProvider = async () => ({ token: 't' });
  const room = new sdk.ChatRoom({ regionOrUrl: 'us-east-1', tokenProvider });
  const requests = {
    send: new sdk.SendMessageRequest('hi'),
    remove: new sdk.DeleteMessageRequest('m', 'why'),
    kick: new sdk.DisconnectUserRequest('u', 'why'),
  };
  let notConnected = null;
  try { room.sendMessage(requests.send); } catch (error) { notConnected = error.message; }
  return {
    exports: Object.keys(sdk).sort(),
    roomMethods: ['connect', 'disconnect', 'addListener', 'removeListener', 'sendMessage',
      'deleteMessage', 'disconnectUser'].filter((m) => typeof room[m] === 'function'),
    state: room.state,
    maxReconnectAttempts: room.maxReconnectAttempts,
    logLevel: room.logLevel,
    unsubscribe: typeof room.addListener('message', () => {}),
    notConnected,
    requests: Object.fromEntries(Object.entries(requests).map(([k, r]) => [k, {
      action: r.action, fields: names(r).sort(), requestId: typeof r.requestId,
    }])),
  };
}"""


def test_the_double_keeps_the_shape_of_the_vendored_sdk(
    server: Any, open_page: Any, backend: IvsChatBackend
) -> None:
    real_page = open_page(f"{server.url}/index.html")
    real = real_page.evaluate(PUBLIC_SHAPE, "/vendor/amazon-ivs-chat-messaging/index.js")
    double_page = open_page()
    backend.install(double_page.context)
    double_page.goto(f"{server.url}/index.html")
    double = double_page.evaluate(PUBLIC_SHAPE, "/vendor/amazon-ivs-chat-messaging/index.js")

    assert real["exports"] == [
        "ChatRoom",
        "DeleteMessageRequest",
        "DisconnectUserRequest",
        "SendMessageRequest",
    ]
    assert double == real
