"""Attack 3: one address takes every viewer slot it can and leaves its offers unanswered.

The viewer token is public, so anyone may offer to watch. Before, one address could hold all of
a room's slots, and ten offers its host never answered made every other viewer's join fail
(429) for 15 s, again and again. Now one address holds a bounded share of the room
(``providers.local.room.Limits``): a viewer from another address still joins at once. And a page of
another site cannot open a socket to the dev server as its visitor.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import pytest
from dev_process import ATTACKER_ADDRESS, HOST_ADDRESS, NEIGHBOUR_ADDRESS, DevProcess
from viewer_offers import HOST_ANSWER, VIEWER_OFFER
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection

from livescreen.providers.local.room import ANSWER_SECONDS, MAX_VIEWERS_PER_ADDRESS

#: Enough to find where the attacker's share ends (it is refused before this).
ATTEMPTS = 3 * MAX_VIEWERS_PER_ADDRESS
#: Offers of the attacker's that the host answers; it never answers the others.
ANSWERED = 4


def next_event(socket: ClientConnection, timeout: float = 5.0) -> tuple[str, dict[str, Any]]:
    """The next event of any channel on ``socket`` (pings skipped), within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(socket.recv(max(0.01, deadline - time.monotonic())))
        if message.get("event") != "ping":
            return message["event"], message.get("data", {})


def event_named(socket: ClientConnection, name: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        event, data = next_event(socket, max(0.01, deadline - time.monotonic()))
        if event == name:
            return data


def offer(socket: ClientConnection, viewer_token: str) -> tuple[str, dict[str, Any]]:
    """A viewer's offer on its socket; ``subscribed`` (sent to the host) or ``error``."""
    subscribe = {"type": "subscribe", "channel": "viewer", "token": viewer_token}
    socket.send(json.dumps({**subscribe, "sdp": VIEWER_OFFER}))
    return next_event(socket)


def go_live(dev: DevProcess, stack: contextlib.ExitStack) -> tuple[str, ClientConnection]:
    """The host signs in, subscribes to its channel and starts; ``(host token, its socket)``."""
    grant = dev.host_sign_in().json()
    host = stack.enter_context(dev.open_socket(source=HOST_ADDRESS))
    host.send(json.dumps({"type": "subscribe", "channel": "host", "token": grant["token"]}))
    assert next_event(host)[0] == "subscribed"
    assert dev.post_json("/stream_start", {"session": grant["session"]}).status == 200
    return grant["token"], host


def answer(dev: DevProcess, host_token: str, viewer: str) -> int:
    payload = {"token": host_token, "viewer": viewer, "sdp": HOST_ANSWER}
    return dev.post_json("/local/answer", payload, source=HOST_ADDRESS).status


def test_one_address_cannot_take_the_slots_nor_block_other_viewers(dev: DevProcess) -> None:
    with contextlib.ExitStack() as stack:
        host_token, host = go_live(dev, stack)

        # GIVEN an attacker that offers to watch from one address, again and again, on a socket
        # each time; the host answers its first few offers and never the others
        token = dev.post_json("/audience_token", {}, source=ATTACKER_ADDRESS).json()["token"]
        accepted = 0
        refusal: dict[str, Any] = {}
        for _ in range(ATTEMPTS):
            socket = stack.enter_context(dev.open_socket(source=ATTACKER_ADDRESS))
            event, data = offer(socket, token)
            if event == "error":
                refusal = data
                break
            asked = event_named(host, "offer")
            accepted += 1
            if accepted <= ANSWERED:
                assert answer(dev, host_token, asked["viewer"]) == 200
                assert event_named(socket, "answer")["sdp"] == HOST_ANSWER

        # THEN it gets a bounded share of the room, and then a refusal that says why
        assert accepted == MAX_VIEWERS_PER_ADDRESS
        assert refusal == {
            "status": 429,
            "error": "This stream has as many viewers as it can take: try again later",
        }

        # WHEN a viewer from another address joins while the attacker's offers still wait
        started = time.monotonic()
        neighbour_token = dev.post_json("/audience_token", {}, source=NEIGHBOUR_ADDRESS).json()
        neighbour = stack.enter_context(dev.open_socket(source=NEIGHBOUR_ADDRESS))
        event, data = offer(neighbour, neighbour_token["token"])

        # THEN its offer reaches the host, and the host's answer reaches it, at once
        assert event == "subscribed", data
        asked = event_named(host, "offer")
        assert (asked["viewer"], asked["sdp"]) == (data["viewer"], VIEWER_OFFER)
        assert answer(dev, host_token, asked["viewer"]) == 200
        assert event_named(neighbour, "answer") == {"viewer": data["viewer"], "sdp": HOST_ANSWER}
        assert time.monotonic() - started < ANSWER_SECONDS
        assert event_named(host, "viewers") == {"count": ANSWERED + 1}


@pytest.mark.parametrize(
    "origin",
    ["http://attacker.example", "http://localhost:1", "null", "http://127.0.0.66"],
)
def test_a_page_of_another_site_cannot_open_a_socket(dev: DevProcess, origin: str) -> None:
    # WHEN a page elsewhere opens a WebSocket to the dev server (the browser says where from)
    with pytest.raises(InvalidStatus) as refused:
        dev.open_socket(source=ATTACKER_ADDRESS, origin=origin)

    # THEN the handshake is refused, while the page's own origin gets its socket
    assert refused.value.response.status_code == 403
    with dev.open_socket(source=NEIGHBOUR_ADDRESS) as socket:
        socket.send(json.dumps({"type": "subscribe", "channel": "chat", "token": "x"}))
        event, data = next_event(socket)
        assert (event, data["status"]) == ("error", 401)
