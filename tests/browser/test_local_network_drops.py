"""The ``local`` provider when a page's network drops for 5 s and comes back.

Real pages, real dev server, real WebRTC between the host's and the viewers' browsers. A network
drop is the page's context going offline (no request, no new socket gets out) and its open
``/socket`` WebSocket closing, as a dead connection's would. WebRTC between two pages of one
machine runs over loopback, which going offline does not cut: the media keeps flowing, and only
the signalling (the socket) is lost.
"""

from __future__ import annotations

import time
from typing import Any

from browser_pages import PASSWORD, VIDEO, HostPage, ViewerPage

DROP_SECONDS = 5.0
HOST_RECONNECTING = "Connection lost. Reconnecting…"


class SocketCutter:
    """Passes a page's ``/socket`` through to the dev server, and can cut it as a drop would."""

    def __init__(self, page: Any) -> None:
        self.open: list[Any] = []
        page.route_web_socket("**/socket", self._connect)

    def _connect(self, ws: Any) -> None:
        ws.connect_to_server()
        self.open.append(ws)

    def cut(self) -> None:
        sockets, self.open = self.open, []
        for ws in sockets:
            ws.close(code=1006, reason="network drop")


def drop_network(page: Any, cutter: SocketCutter) -> None:
    page.context.set_offline(True)
    cutter.cut()


def record_statuses(page: Any) -> None:
    page.evaluate(
        """() => {
          window.__statuses = [];
          new MutationObserver(() => window.__statuses.push(document.body.dataset.status))
            .observe(document.body, { attributes: true, attributeFilter: ['data-status'] });
        }"""
    )


def is_playing(page: Any) -> bool:
    """Frames are still arriving: the video's time moves on."""
    return bool(
        page.evaluate(
            f"""async () => {{
              const v = document.querySelector('{VIDEO}');
              if (!v || v.paused || !v.videoWidth) return false;
              const before = v.currentTime;
              await new Promise((resolve) => setTimeout(resolve, 500));
              return v.currentTime > before;
            }}"""
        )
    )


def test_a_viewer_whose_network_drops_says_reconnecting_and_plays_again(
    server: Any, open_page: Any
) -> None:
    # GIVEN a host on air and a viewer playing the stream
    host = HostPage(open_page(), server.url).open()
    host.go_live(PASSWORD)
    page = open_page()
    cutter = SocketCutter(page)
    viewer = ViewerPage(page, server.url).open()
    assert viewer.wait_for_video().get("width", 0) > 0
    record_statuses(page)

    # WHEN the viewer's network drops for 5 s
    drop_network(page, cutter)
    viewer.wait_for_status("Reconnecting…", timeout=5_000)
    page.wait_for_timeout(DROP_SECONDS * 1000)
    page.context.set_offline(False)
    back = time.monotonic()

    # THEN it plays again within 10 s of the network coming back, having said "Reconnecting…"
    page.wait_for_function(
        f"""() => {{
          const v = document.querySelector('{VIDEO}');
          return v && v.videoWidth > 0 && !v.paused && v.currentTime > 0
            && document.body.dataset.status === '';
        }}""",
        timeout=10_000,
    )
    print(f"viewer network down 5 s -> playing again {time.monotonic() - back:.2f} s after")
    statuses = page.evaluate("() => window.__statuses")
    assert statuses[0] == "Reconnecting…"
    assert statuses[-1] == ""
    assert is_playing(page)


def test_a_host_whose_network_drops_says_so_and_viewers_are_not_left_on_a_dead_player(
    server: Any, open_page: Any
) -> None:
    # GIVEN a host on air and a viewer playing the stream
    host_page = open_page()
    cutter = SocketCutter(host_page)
    host = HostPage(host_page, server.url).open()
    host.go_live(PASSWORD)
    viewer = ViewerPage(open_page(), server.url).open()
    assert viewer.wait_for_video().get("width", 0) > 0
    record_statuses(viewer.page)

    # WHEN the host's network drops for 5 s
    drop_network(host_page, cutter)
    dropped = time.monotonic()
    host_page.wait_for_function(
        "text => document.getElementById('notice').innerText === text",
        arg=HOST_RECONNECTING,
        timeout=5_000,
    )
    print(f"host network down -> host page says so in {time.monotonic() - dropped:.2f} s")
    host_page.wait_for_timeout(DROP_SECONDS * 1000)
    host_page.context.set_offline(False)
    back = time.monotonic()

    # THEN the host page says it is back, still on air
    host_page.wait_for_function("() => document.getElementById('notice').hidden", timeout=10_000)
    print(f"host network back -> host page back on air in {time.monotonic() - back:.2f} s")
    assert host.page.evaluate("() => document.body.dataset.state") == "live"
    # AND the viewer was never left on a dead player: the media went on over WebRTC, or the
    # page replaced the player; either way what is on screen plays
    page = viewer.page
    page.wait_for_function("() => document.body.dataset.status === ''", timeout=10_000)
    assert is_playing(page)
