"""The ``ivs`` pages on the real IVS Web Broadcast SDK, with IVS faked only on the wire.

The pages come from the real dev server and load the real vendored SDK; nothing of the SDK is
replaced. IVS itself cannot be reached from here, so ``ivs_stage_wire.StageWire`` answers what
the SDK sends to the endpoints its participant token names: the event-plane WebSocket (stage
state, PONGs, a dropped or refused socket) and the WHIP endpoint (an HTTP error, or no answer).
No media flows: no test here watches the host's picture, only what the pages say and do when
the SDK reports what went wrong.
"""

from __future__ import annotations

import time
from typing import Any

from browser_pages import PASSWORD, RECORD_CAPTURES, VIDEO, HostPage, ViewerPage
from ivs_stage_wire import StageWire

#: what the host page shows while the provider gets its connection back by itself
HOST_RECONNECTING = "Connection lost. Reconnecting…"


def body_state(page: Any) -> str:
    return str(page.evaluate("() => document.body.dataset.state"))


def notice(page: Any) -> str:
    return str(page.evaluate("() => document.getElementById('notice').innerText"))


def captures_stopped(page: Any) -> bool:
    return bool(
        page.evaluate(
            """() => window.__captured.every((stream) =>
                 stream.getTracks().every((track) => track.readyState === 'ended'))"""
        )
    )


def wait_until(page: Any, condition: Any, timeout: float = 10.0) -> None:
    """Lets the page run until ``condition()`` (about what the fake service saw) holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def wait_for_notice(page: Any, text: str, timeout: float = 10_000) -> None:
    page.wait_for_function(
        "text => document.getElementById('notice').innerText.includes(text)",
        arg=text,
        timeout=timeout,
    )


def test_a_publish_error_takes_the_host_off_air_and_says_why(open_page: Any, server: Any) -> None:
    # GIVEN a host going live on a stage whose WHIP endpoint refuses the offer (HTTP 500)
    wire = StageWire(whip_status=500)
    page = open_page(init_script=RECORD_CAPTURES)
    wire.install(page)
    host = HostPage(page, server.url).open()
    started = time.monotonic()
    host.submit_password(PASSWORD)
    # WHEN the real SDK gives up publishing and raises its PUBLISH_ERROR
    host.wait_until("offline", timeout=15_000)
    print(f"publish error -> host offline in {time.monotonic() - started:.2f} s")
    # THEN the page no longer says LIVE, says plainly that nothing is sent, and left nothing
    # running: the stage is left, the capture stopped, the server told the stream stopped
    assert not page.is_visible("#liveMessage")
    wait_for_notice(page, "nothing is being sent")
    assert notice(page).startswith("The stream has ended: IVS stopped taking the stream")
    assert wire.offers == ["publish"]
    assert wire.closed_by_page == wire.socket_opens == 1
    page.wait_for_function("() => window.__captured.length > 0")
    assert captures_stopped(page)
    wait_until(page, lambda: "stream_stop" in wire.calls)


def test_a_publish_that_times_out_is_retried_and_the_host_told_meanwhile(
    open_page: Any, server: Any
) -> None:
    # GIVEN a live host whose publish offers get no answer at all
    wire = StageWire(whip_status=None)
    page = open_page(init_script=RECORD_CAPTURES)
    wire.install(page)
    host = HostPage(page, server.url).open()
    host.go_live(PASSWORD)
    # WHEN the SDK's own four attempts (10 s each, 2/4/8 s apart) all time out: its clock runs
    # ahead here so the test need not wait a minute
    started = time.monotonic()
    for _ in range(40):
        if "Reconnecting" in notice(page):
            break
        page.clock.fast_forward(2_000)
        page.wait_for_timeout(100)
    # THEN the page says so while staying on air: the SDK documents a timeout as worth retrying
    assert notice(page) == HOST_RECONNECTING
    assert body_state(page) == "live"
    attempts = len(wire.offers)
    assert attempts == 4
    # AND it retries: a new publish attempt goes out (which IVS now refuses outright)
    wire.whip_status = 500
    page.clock.fast_forward(2_000)
    page.wait_for_function("() => document.body.dataset.state === 'offline'", timeout=10_000)
    print(f"publish timeouts -> retried, then offline in {time.monotonic() - started:.2f} s")
    assert len(wire.offers) == attempts + 1
    assert notice(page).startswith("The stream has ended: IVS stopped taking the stream")
    assert captures_stopped(page)


#: Counts the players the audience page puts on screen and takes off, and its status lines, from
#: the start: a player that fails at once may come and go between two looks.
WATCH_PLAYERS = """
window.__seen = { added: 0, removed: 0, statuses: [] };
document.addEventListener('DOMContentLoaded', () => {
  const videos = (nodes) => [...nodes].filter((node) => node.nodeName === 'VIDEO').length;
  new MutationObserver((records) => {
    for (const record of records) {
      window.__seen.added += videos(record.addedNodes);
      window.__seen.removed += videos(record.removedNodes);
    }
  }).observe(document.getElementById('player'), { childList: true });
  new MutationObserver(() => window.__seen.statuses.push(document.body.dataset.status))
    .observe(document.body, { attributes: true, attributeFilter: ['data-status'] });
});
"""


def test_a_subscribe_error_leaves_no_black_player_and_the_viewer_looks_again(
    open_page: Any, server: Any
) -> None:
    # GIVEN a viewer joining a stage where the host publishes but WHIP refuses every subscribe
    wire = StageWire(whip_status=500)
    page = open_page(init_script=WATCH_PLAYERS)
    wire.install(page)
    started = time.monotonic()
    ViewerPage(page, server.url).open()
    # WHEN the real SDK raises its SUBSCRIBE_ERROR
    # THEN the player goes and the page says it is reconnecting
    page.wait_for_function("() => window.__seen.removed >= 1", timeout=10_000)
    print(f"subscribe error -> player removed {time.monotonic() - started:.2f} s after opening")
    page.wait_for_function("() => window.__seen.statuses.includes('Reconnecting…')")
    # AND it looks for the stream again: a fresh token, a new stage, a new subscribe, which
    # fails the same way and leaves no player behind either
    page.wait_for_function("() => window.__seen.removed >= 2", timeout=10_000)
    assert wire.calls.count("audience_token") >= 2
    assert wire.socket_opens >= 2
    assert wire.offers.count("subscribe") >= 2
    seen = page.evaluate("() => window.__seen")
    assert seen["added"] - seen["removed"] <= 1  # at most the player of the attempt under way
    # each failed stage was left, not kept open beside the new one
    assert len(wire.sockets) <= 1


def test_a_dropped_stage_connection_says_reconnecting_until_it_is_back(
    open_page: Any, server: Any
) -> None:
    # GIVEN a viewer on the stage (the host is there but not publishing yet: no media asked)
    wire = StageWire(host_publishing=False)
    page = open_page()
    wire.install(page)
    viewer = ViewerPage(page, server.url).open()
    page.wait_for_selector(VIDEO, state="attached")
    assert viewer.status() == ""
    page.evaluate(
        """() => {
          window.__statuses = [];
          new MutationObserver(() => window.__statuses.push(document.body.dataset.status))
            .observe(document.body, { attributes: true, attributeFilter: ['data-status'] });
        }"""
    )
    # WHEN the network drops the event-plane socket and refuses new ones for 5 s
    wire.accept_sockets = False
    wire.drop()
    dropped = time.monotonic()
    viewer.wait_for_status("Reconnecting…")
    page.wait_for_timeout(5_000)
    wire.accept_sockets = True
    back = time.monotonic()
    # THEN the real SDK reconnects by itself and the page says it is back, within 10 s
    page.wait_for_function("() => document.body.dataset.status === ''", timeout=10_000)
    print(
        f"stage socket down 5 s -> 'Reconnecting…' cleared {time.monotonic() - back:.2f} s "
        f"after it came back ({time.monotonic() - dropped:.2f} s after the drop)"
    )
    assert page.evaluate("() => window.__statuses") == ["Reconnecting…", ""]
    # the same player stayed: no rejoin was needed
    assert wire.calls.count("audience_token") == 1
    assert page.locator(VIDEO).count() == 1
