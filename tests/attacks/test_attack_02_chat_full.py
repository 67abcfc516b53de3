"""Attack 2: one address fills the chat with open connections.

Measured before the fix (``livescreen dev``, one anonymous address): 200 chat tokens with an
open event connection each, all from one address, filled the room (``max_connected``); a normal
viewer, and the host's own chat, were then refused with 429 "chat is full".

Now an address gets 30 chat tokens in any 10 minutes and holds at most 20 connections (a tenth
of the room), and the host's chat is never counted nor refused, even when the room is full.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from dev_process import (
    ATTACKER_ADDRESS,
    HOST_ADDRESS,
    NEIGHBOUR_ADDRESS,
    ChatConnection,
    DevProcess,
    chat_send,
    chat_token,
    open_chat,
)

ATTEMPTS = 200
PER_ADDRESS = 20
ROOM = 200


@contextmanager
def connections() -> Iterator[list[ChatConnection]]:
    """The chat connections a test opens, all closed at its end."""
    opened: list[ChatConnection] = []
    try:
        yield opened
    finally:
        for connection in opened:
            connection.close()


def viewer_connects(dev: DevProcess, name: str, source: str) -> ChatConnection:
    grant = chat_token(dev, name, source=source)
    assert grant.status == 200, grant.body
    return open_chat(dev, grant.json()["token"], source)


def host_connects(dev: DevProcess) -> tuple[str, ChatConnection]:
    session = dev.host_sign_in().json()["session"]
    grant = chat_token(dev, source=HOST_ADDRESS, session=session)
    assert grant.status == 200, grant.body
    token: str = grant.json()["token"]
    return token, open_chat(dev, token, HOST_ADDRESS)


def test_one_address_cannot_fill_the_chat(dev: DevProcess) -> None:
    with connections() as opened:
        # WHEN one address asks for 200 chat tokens and opens a connection with each it gets
        tokens = [chat_token(dev, f"Bot{n}", source=ATTACKER_ADDRESS) for n in range(ATTEMPTS)]
        granted = [answer.json()["token"] for answer in tokens if answer.status == 200]
        for token in granted:
            opened.append(open_chat(dev, token, ATTACKER_ADDRESS))

        # THEN it got 30 tokens and 20 connections; the rest were refused, saying why
        assert len(granted) == 30
        statuses = Counter(connection.status for connection in opened)
        assert statuses == {200: PER_ADDRESS, 429: len(granted) - PER_ADDRESS}, statuses
        refusal = next(connection for connection in opened if connection.status == 429)
        assert "from your address" in refusal.error

        # AND a normal viewer joins the chat, and so does the host
        viewer = viewer_connects(dev, "Nina", NEIGHBOUR_ADDRESS)
        opened.append(viewer)
        assert viewer.status == 200, viewer.error
        host_token, host = host_connects(dev)
        opened.append(host)
        assert host.status == 200, host.error
        # AND the host's message reaches the viewer
        assert chat_send(dev, host_token, "Welcome", source=HOST_ADDRESS).status == 200
        event, data = viewer.next_event()
        assert (event, data["text"], data["sender"]["role"]) == ("message", "Welcome", "host")


def test_the_hosts_chat_connects_even_when_the_room_is_full(dev: DevProcess) -> None:
    with connections() as opened:
        # GIVEN a room filled by viewers from ten addresses, 20 each
        crowd = [f"127.0.1.{n}" for n in range(1, ROOM // PER_ADDRESS + 1)]
        for address in crowd:
            for n in range(PER_ADDRESS):
                connection = viewer_connects(dev, f"Fan{n}", address)
                opened.append(connection)
                assert connection.status == 200, connection.error
        latecomer = viewer_connects(dev, "Late", NEIGHBOUR_ADDRESS)
        opened.append(latecomer)
        assert (latecomer.status, "full" in latecomer.error) == (429, True)

        # WHEN the host's chat connects
        _, host = host_connects(dev)
        opened.append(host)

        # THEN it is in
        assert host.status == 200, host.error
