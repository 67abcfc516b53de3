"""One browser, many tabs: how soon each audience tab plays, with the host in a tab beside them.

A host goes live from one tab of one browser (one Chromium context, so one shared pool of six
HTTP/1.1 connections per server), with the ``local`` chat on; then the audience page is opened in
``--tabs`` more tabs of the same browser, one after the other. For each tab it prints the time
from opening it to its first decoded frame (read with ``requestVideoFrameCallback`` on the page's
own clock, from the navigation's start), the viewer count the host page shows at the end with
the frame rate it then sends each viewer (its frame budget, ``assets/js/encode-budget.js``), and
the verdict against the target: every tab plays within 2 s of being opened. ``--runs`` repeats the
whole scene with a fresh browser and prints the slowest tab of each run.

Everything shares this machine: the host's browser encodes one stream per viewer and each tab
decodes one, so on 2 cores the later tabs are slower than the first.

Run: ``.venv/bin/python bench/many_tabs.py`` (needs /usr/bin/chromium and assets/vendor).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from browser_latency import ARGS, CHROMIUM, FIRST_FRAME, PASSWORD, local_dev_server
from local_host_capacity import KEEP_PEER_CONNECTIONS
from playwright.sync_api import sync_playwright

from livescreen.chat.local.room import CHAT_ROOM
from livescreen.providers.local.hub import HUB

TARGET_SECONDS = 2.0

#: The frame rates the host's page asks its encoders for, one per viewer.
ASKED_FRAME_RATES = """() => window.__peerConnections
  .filter((pc) => pc.signalingState !== 'closed')
  .flatMap((pc) => pc.getSenders())
  .filter((sender) => sender.track && sender.track.kind === 'video')
  .map((sender) => (sender.getParameters().encodings[0] || {}).maxFramerate)"""


def one_run(browser: Any, base_url: str, tabs: int) -> tuple[list[float], str]:
    """Seconds from opening each audience tab to its first frame; what the host page shows."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(FIRST_FRAME)
    context.add_init_script(KEEP_PEER_CONNECTIONS)
    host = context.new_page()
    host.goto(f"{base_url}/host.html")
    host.click("#liveSwitch")
    host.fill("#password", PASSWORD)
    host.press("#password", "Enter")
    host.wait_for_function("() => document.body.dataset.state === 'live'", timeout=15_000)
    times: list[float] = []
    for _ in range(tabs):
        page = context.new_page()
        page.goto(f"{base_url}/index.html")
        page.wait_for_function("() => window.__firstFrameAt !== undefined", timeout=15_000)
        times.append(float(page.evaluate("() => window.__firstFrameAt")) / 1000)
    host.locator("#viewerCount").filter(has_text=f"{tabs} viewers").wait_for(timeout=10_000)
    count = host.locator("#viewerCount").inner_text()
    rates = sorted({str(rate) for rate in host.evaluate(ASKED_FRAME_RATES)})
    context.close()
    return times, f"{count}, each sent at most {' or '.join(rates)} fps"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tabs", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2

    slowest: list[float] = []
    with (
        local_dev_server(CHAT_PROVIDER="local", RECORDING="off") as server,
        sync_playwright() as playwright,
    ):
        print(
            f"1 host tab + {args.tabs} audience tabs in one chromium context, local chat on, "
            f"{os.cpu_count()} cores"
        )
        for run in range(1, args.runs + 1):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                times, count = one_run(browser, server.url, args.tabs)
            finally:
                browser.close()
            cells = " ".join(f"{t:4.2f}" for t in times)
            print(f"run {run}: open -> first frame (s), tab 1..{args.tabs}: {cells}; host: {count}")
            slowest.append(max(times))
            HUB.reset()
            CHAT_ROOM.reset()
    worst = max(slowest)
    verdict = "met" if worst <= TARGET_SECONDS else "NOT met"
    print(
        f"slowest tab per run: {', '.join(f'{s:.2f}' for s in slowest)} s; target: every tab "
        f"plays within {TARGET_SECONDS:.0f} s of opening: {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
