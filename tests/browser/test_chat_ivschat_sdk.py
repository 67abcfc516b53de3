"""The ``ivschat`` chat against the REAL vendored IVS Chat SDK, with faults at the network.

The pages, the panel, ``ivschat.js`` and the SDK (``/vendor/amazon-ivs-chat-messaging``) are the
real ones, and ``/chat_token`` is the real endpoint of the dev server with the ``ivschat``
provider and its identity tickets. Only Amazon is faked, at the wire: ``CreateChatToken`` (the
provider's boto3 client) and the room's WebSocket (``ivschat_wire``). Faults are what a network
does to that socket: it breaks mid-send, the session ends, a whole crowd loses it at once.
Recovery times are printed (``pytest -s``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_pages import PASSWORD, HostPage, ViewerPage
from browser_settings import settings_for
from chat_pages import ChatPanel
from ivschat_wire import ROOM_ARN, FakeChatService
from page_world import WorldClock
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from livescreen.chat import clear_chat_cache
from livescreen.chat.ivschat import provider as ivschat_provider
from livescreen.chat.local.room import CHAT_ROOM
from livescreen.providers import clear_provider_cache
from livescreen.providers.local.hub import HUB
from livescreen.security import password_guard

ROOT = Path(__file__).resolve().parents[2]

# The panel's states and connection states, as they change (installed once the chat is open).
WATCH = """() => {
  const root = document.getElementById('chat');
  window.__chatSeen = [];
  new MutationObserver(() => {
    window.__chatSeen.push(`${root.dataset.chatState}/${root.dataset.connection || ''}`);
  }).observe(root, { attributes: true, attributeFilter: ['data-chat-state', 'data-connection'] });
}"""
SEND_READY = "() => !document.querySelector('[data-chat=send]').disabled"
CONNECTED = "() => document.getElementById('chat').dataset.connection === 'connected'"


@pytest.fixture
def service(world_clock: WorldClock, monkeypatch: pytest.MonkeyPatch) -> FakeChatService:
    fake = FakeChatService(world_clock)
    monkeypatch.setattr(ivschat_provider, "make_client", lambda settings, region: fake.control)
    return fake


@pytest.fixture
def server(tmp_path: Path, world_clock: WorldClock, service: FakeChatService) -> Iterator[Any]:
    """The dev server with the ``local`` stream provider and the ``ivschat`` chat."""
    from livescreen.devserver import DevServer

    password_guard.throttle.reset()
    HUB.reset()
    CHAT_ROOM.reset()
    clear_provider_cache()
    clear_chat_cache()
    settings = settings_for(
        RECORDINGS_DIR=str(tmp_path / "recordings"),
        CHAT_PROVIDER="ivschat",
        IVS_CHAT_ROOM_ARN=ROOM_ARN,
    )
    dev = DevServer(settings, port=0, root=ROOT)
    dev.start_background()
    yield dev
    dev.shutdown()
    HUB.reset()
    clear_provider_cache()
    clear_chat_cache()


def viewer_in_chat(page: Any, server: Any, service: FakeChatService, name: str) -> ChatPanel:
    service.install(page.context)
    ViewerPage(page, server.url).open()
    chat = ChatPanel(page)
    chat.join(name)
    return chat


def wait_until(page: Any, condition: Callable[[], bool], what: str, timeout: float = 5) -> None:
    """Waits (bounded) for ``condition`` on the fake service's side; the page keeps running, and
    Playwright delivers the socket events the condition depends on, meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        page.wait_for_timeout(20)


def identity(page: Any) -> str:
    # the "mine" marker is the page's own view of who it is
    return str(page.evaluate("() => document.querySelector('#chat .is-mine').dataset.sender"))


def type_and_send(page: Any, text: str) -> None:
    page.fill("#chatText", text)
    page.press("#chatText", "Enter")


def test_a_socket_that_breaks_mid_send_fails_the_send_and_the_next_one_goes_through(
    server: Any, open_page: Any, service: FakeChatService
) -> None:
    page = open_page()
    chat = viewer_in_chat(page, server, service, "Ada")
    type_and_send(page, "first")
    assert chat.wait_for_message("first")["mine"] is True
    first_identity = identity(page)

    # WHEN the socket breaks while a message is on its way
    service.break_on_next_send = True
    dropped = time.monotonic()
    type_and_send(page, "second")

    # THEN the send fails at once and says so, keeping the text to send again
    try:
        page.wait_for_function(
            "() => document.querySelector('[data-chat=alert]').dataset.kind === 'error'",
            timeout=5_000,
        )
    except PlaywrightTimeoutError:
        disabled = page.is_disabled("[data-chat=send]")
        pytest.fail(
            f"the send did not fail within 5 s of its socket breaking (Send disabled: {disabled})"
        )
    failed_after = time.monotonic() - dropped
    alert = chat.alert()["text"]
    assert "not sent" in alert and "dropped" in alert, alert
    assert page.input_value("#chatText") == "second"

    # AND the panel is usable again once the SDK has reconnected
    page.wait_for_function(f"() => ({SEND_READY})() && ({CONNECTED})()", timeout=15_000)
    usable_after = time.monotonic() - dropped
    page.press("#chatText", "Enter")
    resent = chat.wait_for_message("second")

    # AND the page is the same chatter as before: its earlier message is still its own
    assert resent["mine"] is True
    assert resent["senderId"] == first_identity
    assert [m["mine"] for m in chat.messages()] == [True, True]
    assert {call.user_id for call in service.control.calls} == {first_identity}
    assert len(service.control.calls) == 2
    print(
        f"\nsocket broke mid-send: send failed after {failed_after * 1000:.0f} ms, "
        f"panel usable again after {usable_after * 1000:.0f} ms"
    )


def test_a_token_that_expires_is_renewed_ahead_without_a_rejoin_or_a_lost_message(
    server: Any, open_page: Any, service: FakeChatService, world_clock: WorldClock
) -> None:
    # tokens and sessions of 90 s: the SDK opens the next connection 30 s in
    service.control.token_seconds = service.control.session_seconds = 90
    page = open_page()
    if world_clock.world.starts_at is None:
        page.context.clock.install()
    chat = viewer_in_chat(page, server, service, "Ada")
    page.evaluate(WATCH)
    (first,) = service.sockets

    # WHEN the page's clock reaches the time to renew
    page.clock.run_for(31_000)
    service.skip(31)

    # THEN a second socket opens with a renewed token for the same chatter, and the first one
    # is closed by the page only after that
    wait_until(
        page, lambda: len(service.sockets) == 2, "a connection opened ahead of the token's expiry"
    )
    second = service.sockets[1]
    assert second.chatter.user_id == first.chatter.user_id
    wait_until(page, lambda: first.closed_at is not None, "the page to close the old connection")
    assert first.closed_at is not None and first.closed_at >= second.opened_at
    overlap = first.closed_at - second.opened_at

    # WHEN the room ends the first session (had it still been open) and someone speaks
    for socket in service.open_sockets():
        if socket is first:
            service.end(socket, "session expired")
    service.say("Bea", "said right after the renewal")

    # THEN it arrives once, nothing was rejoined, and sending goes on as the same chatter
    chat.wait_for_message("said right after the renewal")
    type_and_send(page, "still here")
    assert chat.wait_for_message("still here")["senderId"] == first.chatter.user_id
    texts = [m["text"] for m in chat.messages()]
    assert texts == ["said right after the renewal", "still here"]
    seen = page.evaluate("() => window.__chatSeen")
    assert all(entry == "open/connected" for entry in seen), seen
    print(f"\ntoken renewal: no gap, the two connections overlapped {overlap * 1000:.0f} ms")


# 50 chatters in one page, each connected through the page's own ivschat.js with its own grant
# from /chat_token (renewed there too, with its identity ticket, as the panel does).
CROWD = """async (count) => {
  const { connect } = await import('/js/chat/ivschat.js');
  const { postJSON } = await import('/js/api.js');
  window.__crowd = await Promise.all(Array.from({ length: count }, async (_, n) => {
    const name = `Crowd ${n}`;
    let grant = await postJSON('/chat_token', { name });
    const renew = async () => {
      grant = await postJSON('/chat_token', { name, ticket: grant.ticket });
      return grant;
    };
    const ignore = () => {};
    const on = { message: ignore, remove: ignore, state: ignore, ended: ignore };
    return connect({ grant, renew, on });
  }));
  return window.__crowd.map((handle) => handle.identity);
}"""
CROWD_SIZE = 50
#: However the jitter falls, no 100 ms holds half of the 50 renewals (seen: 7 to 13) ...
MOST_IN_100_MS = 25
#: ... and they are spread over at least this long (full jitter over the first 2 s).
LEAST_SPREAD_S = 1.0


def most_within(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max(
        sum(1 for later in ordered[i:] if later - start < window) for i, start in enumerate(ordered)
    )


def test_a_crowd_that_loses_its_sockets_at_once_comes_back_spread_over_time(
    server: Any, open_page: Any, service: FakeChatService
) -> None:
    page = open_page()
    service.install(page.context)
    page.goto(f"{server.url}/index.html")
    asked: list[Any] = []

    def note(request: Any) -> None:
        if request.url.endswith("/chat_token"):
            asked.append(request)

    page.on("request", note)
    identities = page.evaluate(CROWD, CROWD_SIZE)
    assert len(set(identities)) == CROWD_SIZE
    wait_until(page, lambda: len(service.open_sockets()) == CROWD_SIZE, "the crowd to connect")

    # WHEN every socket breaks at the same moment
    broke = time.monotonic()
    joined = len(asked)
    service.drop(*service.open_sockets())

    # THEN each chatter comes back, as itself ...
    wait_until(
        page,
        lambda: len(service.open_sockets()) == CROWD_SIZE,
        "the crowd to reconnect",
        timeout=30,
    )
    back = time.monotonic() - broke
    renewals = [call for call in service.control.calls if call.at >= broke]
    assert sorted(call.user_id for call in renewals) == sorted(identities)
    # ... and its /chat_token calls left the page spread out, never in one burst (when the page
    # sent them: the browser's six connections per server would spread a burst on its own way)
    assert len(asked) == joined + CROWD_SIZE
    times = [request.timing["startTime"] / 1000 for request in asked[joined:]]
    burst = most_within(times, 0.1)
    spread = max(times) - min(times)
    assert burst <= MOST_IN_100_MS, f"{burst} /chat_token calls within 100 ms"
    assert spread >= LEAST_SPREAD_S, f"all {len(times)} /chat_token calls within {spread:.2f} s"
    print(
        f"\ncrowd of {CROWD_SIZE}: at most {burst} renewals in any 100 ms, spread over "
        f"{spread:.2f} s, all reconnected after {back:.2f} s"
    )


def test_the_hosts_disconnect_reaches_a_viewer_that_has_reconnected(
    server: Any, open_page: Any, service: FakeChatService
) -> None:
    # GIVEN a live host in the chat, and a viewer who said something
    host_page = open_page()
    service.install(host_page.context)
    host = HostPage(host_page, server.url).open()
    host_chat = ChatPanel(host_page)
    host_chat.wait_for_state("host-needed")
    host.go_live(PASSWORD)
    host_chat.wait_for_state("open")
    host_chat.wait_until_connected()
    viewer_page = open_page()
    viewer_chat = viewer_in_chat(viewer_page, server, service, "Ada")
    type_and_send(viewer_page, "before the drop")
    said = host_chat.wait_for_message("before the drop")
    assert said["actions"] == ["delete", "disconnect"]

    # WHEN the viewer's socket breaks and the SDK reconnects it
    (socket,) = service.open_sockets(said["senderId"])
    dropped = time.monotonic()
    service.drop(socket)
    wait_until(
        viewer_page,
        lambda: len(service.open_sockets(said["senderId"])) == 1,
        "the viewer to reconnect as itself",
        timeout=15,
    )
    viewer_page.wait_for_function(CONNECTED)
    back_after = time.monotonic() - dropped

    # AND the host disconnects the author of the message sent before the drop
    host_page.click(f"#chat .chat-message[data-id='{said['id']}'] [data-action=disconnect]")

    # THEN the viewer is told, and stays out: no new token, no new socket
    viewer_chat.wait_for_state("disconnected")
    assert viewer_chat.alert()["text"] == "The host disconnected you from the chat."
    calls = len(service.control.calls)
    viewer_page.clock.run_for(60_000)  # long past any reconnect the SDK could try
    viewer_chat.wait_for_state("disconnected")
    assert len(service.control.calls) == calls
    assert service.open_sockets(said["senderId"]) == []
    print(f"\nviewer's socket broke: back as the same chatter after {back_after * 1000:.0f} ms")
