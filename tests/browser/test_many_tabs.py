"""One browser, many tabs: a host and eight audience tabs of the same browser all work at once.

A browser opens at most six HTTP/1.1 connections to one server, shared by all its tabs; each
page holds one WebSocket for everything it waits for (signalling and chat), which does not count
among them, so the tabs' own requests never queue behind the others' waits. (Before, the fourth
audience tab never played: its offer waited behind the other pages' event streams.)

The host's browser encodes the screen once per viewer: with eight of them, each is sent at most
10 frames a second (80 in all, ``assets/js/encode-budget.js``), at full resolution, and the rate
goes back up as viewers leave.

How soon each tab plays is a speed figure, printed by ``bench/many_tabs.py``; here each tab
must play within a bounded wait.
"""

from __future__ import annotations

from typing import Any

from browser_pages import PASSWORD, HostPage, ViewerPage, screenshot
from chat_pages import ChatPanel
from frame_rates import (
    KEEP_PEER_CONNECTIONS,
    played_frame_rate,
    wait_for_asked_frame_rates,
)

TABS = 8
#: The longest wait for one tab's picture (the bench prints how long it really takes).
PLAYS_WITHIN_MS = 15_000


def test_eight_audience_tabs_of_one_browser_all_play_with_the_chat_on(
    server: Any, open_page: Any
) -> None:
    # GIVEN a host live from a tab of the browser, in the chat
    host = HostPage(open_page(init_script=KEEP_PEER_CONNECTIONS), server.url).open()
    host_chat = ChatPanel(host.page)
    host_chat.wait_for_state("host-needed")
    host.go_live(PASSWORD)
    host_chat.wait_for_state("open")
    host_chat.wait_until_connected()
    browser = host.page.context

    # WHEN the audience page is opened in eight more tabs of the same browser, one after the
    # other (the first joins the chat; the others join under the name it remembers)
    viewers: list[ViewerPage] = []
    for tab in range(TABS):
        viewer = ViewerPage(browser.new_page(), server.url).open()
        playing = viewer.wait_for_video(timeout=PLAYS_WITHIN_MS)

        # THEN each plays the shared screen
        assert playing.get("width") == 1280, f"tab {tab + 1} is not playing: {playing}"
        chat = ChatPanel(viewer.page)
        if tab == 0:
            chat.join("Ada")
        chat.wait_for_state("open")
        chat.wait_until_connected()
        viewers.append(viewer)

    # AND the host sees eight viewers, every tab still plays, and the chat reaches everyone
    host.page.locator("#viewerCount").filter(has_text=f"{TABS} viewers").wait_for()
    for viewer in viewers:
        assert viewer.wait_for_video(timeout=2_000).get("width") == 1280
    last = ChatPanel(viewers[-1].page)
    assert last.send("Hello from the eighth tab") == 200
    assert host_chat.wait_for_message("Hello from the eighth tab")["sender"] == "Ada"
    ChatPanel(viewers[0].page).wait_for_message("Hello from the eighth tab")
    screenshot(host.page, "host-eight-tabs")

    # AND the host's browser sends each of the eight at most 10 frames a second, which is what
    # a viewer gets (a little more is measuring's slack)
    wait_for_asked_frame_rates(host.page, [10] * TABS)
    assert 0 < played_frame_rate(viewers[-1].page) <= 10 * 1.2

    # WHEN six of the tabs are closed
    for viewer in viewers[2:]:
        viewer.page.close()
    host.page.locator("#viewerCount").filter(has_text="2 viewers").wait_for()

    # THEN the two left may be sent the capture's full rate again (30), still at full size
    wait_for_asked_frame_rates(host.page, [30, 30])
    assert viewers[0].video().get("width") == 1280
