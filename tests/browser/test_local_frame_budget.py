"""The `local` host's frame budget counts only the viewers it really sends to.

The host's browser shares 80 encoded frames a second among its viewers once there are more than
two (``assets/js/encode-budget.js``). The viewer token is public, so anyone may offer to watch
and never connect: such an offer is answered, but its connection never comes up and nothing is
encoded for it. It must not take frames from the viewers who do watch.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from browser_pages import PASSWORD, HostPage, ViewerPage, audience_token
from frame_rates import KEEP_PEER_CONNECTIONS, wait_for_asked_frame_rates
from viewer_offers import CHROMIUM_VIEWER_OFFER
from websockets.sync.client import connect

#: Offers that are answered but never connect: as many as one address may have waiting.
NEVER_CONNECTING = 7

OPEN_CONNECTIONS = (
    "() => window.__peerConnections.filter((pc) => pc.signalingState === 'stable').length"
)


def test_offers_that_never_connect_take_nothing_from_the_viewers_who_watch(
    server: Any, open_page: Any
) -> None:
    # GIVEN a host live with one viewer, sent the capture's full rate
    host = HostPage(open_page(init_script=KEEP_PEER_CONNECTIONS), server.url).open()
    host.go_live(PASSWORD)
    viewer = ViewerPage(open_page(), server.url).open()
    assert viewer.wait_for_video().get("width") == 1280
    host.page.wait_for_function(f"() => ({OPEN_CONNECTIONS})() === 1")
    wait_for_asked_frame_rates(host.page, [30])

    # WHEN seven more "viewers" offer to watch (a real browser's offer, whose host candidates
    # nobody answers) and the host answers each of them
    token = audience_token(viewer.page, server.url)["token"]
    socket_url = server.url.replace("http://", "ws://") + "/socket"
    with contextlib.ExitStack() as sockets:
        for _ in range(NEVER_CONNECTING):
            socket = sockets.enter_context(connect(socket_url, origin=server.url))
            subscribe = {"type": "subscribe", "channel": "viewer", "token": token}
            socket.send(json.dumps({**subscribe, "sdp": CHROMIUM_VIEWER_OFFER}))
            assert json.loads(socket.recv(5))["event"] == "subscribed"
        host.page.wait_for_function(
            f"() => ({OPEN_CONNECTIONS})() === {1 + NEVER_CONNECTING}", timeout=15_000
        )

        # THEN the viewer who watches may still be sent the full rate (eight viewers would
        # share 80 frames a second: 10 each)
        wait_for_asked_frame_rates(host.page, [30] * (1 + NEVER_CONNECTING))
