"""How fast the local provider feels, measured in Debian's chromium on loopback.

Prints three figures:

* viewer time to first frame, from opening index.html while live (p50 over 10 joins; target
  <= 1.0 s);
* host time from submitting the password to LIVE (p50 over 5 starts; target <= 1.5 s);
* glass-to-glass delay: the host "shares" a canvas that stamps the wall-clock time into its
  pixels and the viewer reads the stamp back from each decoded frame (p50 and p95).

Run: ``.venv/bin/python bench/browser_latency.py`` (needs /usr/bin/chromium and assets/vendor).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from livescreen.chat.local.room import CHAT_ROOM
from livescreen.config import Settings
from livescreen.devserver import DevServer
from livescreen.providers.local.hub import HUB

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
]

# Records when the password form is submitted and when the page says LIVE (page clock, ms).
HOST_TIMING = """
document.addEventListener('submit', () => { window.__submitAt = performance.now(); }, true);
new MutationObserver(() => {
  if (document.body && document.body.dataset.state === 'live' && !window.__liveAt) {
    window.__liveAt = performance.now();
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
"""

# Records when the first video frame is presented, in ms since the navigation started.
FIRST_FRAME = """
new MutationObserver(() => {
  const video = document.querySelector('#player video');
  if (video && !video.__timed) {
    video.__timed = true;
    video.requestVideoFrameCallback((now) => { window.__firstFrameAt = now; });
  }
}).observe(document, { subtree: true, childList: true });
"""

# The "screen" is a canvas stamping Date-based time (ms, 24 bits) as black/white blocks:
# row 1 holds the bits, row 2 their complement so that a misread frame is discarded.
STAMPING_SCREEN = """
(() => {
  const BITS = 24, SIZE = 48, TOP = 300;
  navigator.mediaDevices.getDisplayMedia = async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 1280; canvas.height = 720;
    const ctx = canvas.getContext('2d');
    const draw = () => {
      const stamp = Math.floor(performance.timeOrigin + performance.now()) % (1 << BITS);
      ctx.fillStyle = '#808080';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < BITS; i++) {
        const bit = (stamp >> i) & 1;
        ctx.fillStyle = bit ? '#fff' : '#000';
        ctx.fillRect(40 + i * SIZE, TOP, SIZE, SIZE);
        ctx.fillStyle = bit ? '#000' : '#fff';
        ctx.fillRect(40 + i * SIZE, TOP + SIZE, SIZE, SIZE);
      }
    };
    draw();
    setInterval(draw, 5);
    return canvas.captureStream(60);
  };
})();
"""

READ_STAMPS = """
() => {
  const BITS = 24, SIZE = 48, TOP = 300;
  window.__delays = [];
  const video = document.querySelector('#player video');
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const onFrame = () => {
    const now = performance.timeOrigin + performance.now();
    if (video.videoWidth !== 1280) return video.requestVideoFrameCallback(onFrame);
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    ctx.drawImage(video, 0, 0);
    let stamp = 0, ok = true;
    for (let i = 0; i < BITS; i++) {
      const x = 40 + i * SIZE + SIZE / 2;
      const a = ctx.getImageData(x, TOP + SIZE / 2, 1, 1).data[0] > 128;
      const b = ctx.getImageData(x, TOP + SIZE + SIZE / 2, 1, 1).data[0] > 128;
      if (a === b) { ok = false; break; }
      if (a) stamp |= 1 << i;
    }
    if (ok) {
      const sent = Math.floor(now) - (Math.floor(now) % (1 << BITS)) + stamp;
      window.__delays.push(now - (sent > now ? sent - (1 << BITS) : sent));
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}
"""


@contextmanager
def local_dev_server(**extra: str) -> Iterator[DevServer]:
    """A dev server on a free port with the ``local`` provider, ``PASSWORD`` and the ``extra``
    settings; the hub and the local chat room empty before and after."""
    settings = Settings(
        {
            "STREAM_PROVIDER": "local",
            "HOST_PASSWORD": PASSWORD,
            "HOST_SESSION_SECRET": "bench-session-secret-0123456789abcdef0123",
            **extra,
        },
        "the benchmark",
    )
    HUB.reset()
    CHAT_ROOM.reset()
    server = DevServer(settings, port=0, root=ROOT)
    server.start_background()
    try:
        yield server
    finally:
        server.shutdown()
        HUB.reset()
        CHAT_ROOM.reset()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def go_live(page: Any, base_url: str) -> float:
    """Opens host.html, goes live, returns ms from submitting the password to LIVE."""
    page.goto(f"{base_url}/host.html")
    page.click("#liveSwitch")
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_function("() => window.__liveAt !== undefined", timeout=15_000)
    return float(page.evaluate("() => window.__liveAt - window.__submitAt"))


def stop(page: Any) -> None:
    page.click("#liveSwitch")
    page.wait_for_function("() => document.body.dataset.state === 'offline'")
    page.wait_for_timeout(300)


def measure_host_start(browser: Any, base_url: str, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        context = browser.new_context()
        context.add_init_script(HOST_TIMING)
        page = context.new_page()
        timings.append(go_live(page, base_url))
        stop(page)
        context.close()
    return timings


def measure_first_frame(browser: Any, base_url: str, joins: int) -> list[float]:
    host_context = browser.new_context()
    host_context.add_init_script(HOST_TIMING)
    host = host_context.new_page()
    go_live(host, base_url)
    timings = []
    for _ in range(joins):
        context = browser.new_context()
        context.add_init_script(FIRST_FRAME)
        page = context.new_page()
        page.goto(f"{base_url}/")
        page.wait_for_function("() => window.__firstFrameAt !== undefined", timeout=15_000)
        timings.append(float(page.evaluate("() => window.__firstFrameAt")))
        context.close()
    stop(host)
    host_context.close()
    return timings


def measure_glass_to_glass(browser: Any, base_url: str, seconds: float) -> list[float]:
    host_context = browser.new_context()
    host_context.add_init_script(HOST_TIMING + STAMPING_SCREEN)
    host = host_context.new_page()
    go_live(host, base_url)
    context = browser.new_context()
    viewer = context.new_page()
    viewer.goto(f"{base_url}/")
    viewer.wait_for_function(
        "() => { const v = document.querySelector('#player video'); return v && v.videoWidth }",
        timeout=15_000,
    )
    viewer.wait_for_timeout(1_000)  # let the bandwidth estimate settle
    viewer.evaluate(READ_STAMPS)
    time.sleep(seconds)
    delays = [float(d) for d in viewer.evaluate("() => window.__delays")]
    context.close()
    stop(host)
    host_context.close()
    return delays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--joins", type=int, default=10)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2

    with local_dev_server() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        starts = measure_host_start(browser, server.url, args.starts)
        frames = measure_first_frame(browser, server.url, args.joins)
        delays = measure_glass_to_glass(browser, server.url, args.seconds)
        browser.close()

    print("local provider, chromium on loopback")
    print(
        f"host: password submitted -> LIVE     p50 {statistics.median(starts):7.0f} ms"
        f"   (n={len(starts)}, max {max(starts):.0f} ms; target <= 1500 ms)"
    )
    print(
        f"viewer: open page -> first frame     p50 {statistics.median(frames):7.0f} ms"
        f"   (n={len(frames)}, max {max(frames):.0f} ms; target <= 1000 ms)"
    )
    if delays:
        print(
            f"glass-to-glass delay                 p50 {percentile(delays, 0.5):7.0f} ms"
            f"   p95 {percentile(delays, 0.95):.0f} ms (n={len(delays)} frames)"
        )
    else:
        print("glass-to-glass delay: no frame could be read back")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
