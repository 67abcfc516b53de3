"""Page objects: what a host and a viewer can see and do on the two pages."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"

VIDEO = "#player video"

#: An init script that keeps every captured stream in ``window.__captured`` for inspection.
RECORD_CAPTURES = """
(() => {
  window.__captured = [];
  const media = navigator.mediaDevices;
  for (const name of ['getUserMedia', 'getDisplayMedia']) {
    const original = media[name].bind(media);
    media[name] = async (...args) => {
      const stream = await original(...args);
      window.__captured.push(stream);
      return stream;
    };
  }
})();
"""


class HostPage:
    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self) -> HostPage:
        self.page.goto(f"{self.base_url}/host.html")
        return self

    def submit_password(self, password: str, *, source: str = "screen") -> None:
        self.page.click("#liveSwitch")
        self.page.click(f"label[for=source{source.capitalize()}]")
        self.page.fill("#password", password)
        self.page.press("#password", "Enter")

    def go_live(self, password: str, *, source: str = "screen") -> dict[str, Any]:
        """Goes live and returns the /host_token reply the page received."""
        with self.page.expect_response("**/host_token") as reply:
            self.submit_password(password, source=source)
        self.wait_until("live")
        grant: dict[str, Any] = reply.value.json()
        return grant

    def wait_until(self, state: str, timeout: float = 10_000) -> None:
        self.page.wait_for_function(
            "state => document.body.dataset.state === state", arg=state, timeout=timeout
        )

    def is_offline(self) -> bool:
        return bool(
            self.page.evaluate(
                """() => !document.getElementById('liveSwitch').checked
                && !document.getElementById('offlineMessage').hidden
                && document.getElementById('liveMessage').hidden"""
            )
        )

    def error(self) -> str:
        locator = self.page.locator("#error")
        locator.wait_for(state="visible")
        return str(locator.inner_text())

    def shared_video_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = self.page.evaluate(
            """() => {
              const track = document.getElementById('preview').srcObject.getVideoTracks()[0];
              return { label: track.label, ...track.getSettings() };
            }"""
        )
        return settings


def polls_after(page: Any, count: int) -> None:
    """Waits until the audience page has asked /audience_token ``count`` more times (each ask
    starts only once the page has acted on the previous answer)."""
    for _ in range(count):
        with page.expect_response("**/audience_token", timeout=10_000):
            pass


class ViewerPage:
    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self) -> ViewerPage:
        self.page.goto(f"{self.base_url}/")
        return self

    def status(self) -> str:
        return str(self.page.evaluate("() => document.body.dataset.status || ''"))

    def wait_for_status(self, text: str, timeout: float = 10_000) -> float:
        """Waits for the status line to read ``text``; returns how long it took (s)."""
        started = time.monotonic()
        self.page.wait_for_function(
            "text => document.body.dataset.status === text && "
            "document.getElementById('status').offsetParent !== null",
            arg=text,
            timeout=timeout,
        )
        return time.monotonic() - started

    def wait_for_video(
        self, size: tuple[int, int] | None = None, timeout: float = 15_000
    ) -> dict[str, Any]:
        """Waits for decoded frames (of ``size`` if given); returns what the <video> plays."""
        width, height = size or (0, 0)
        # on a timeout, report what is actually playing through the caller's assertion
        with contextlib.suppress(PlaywrightTimeoutError):
            self.page.wait_for_function(
                f"""([width, height]) => {{
                  const v = document.querySelector('{VIDEO}');
                  return v && v.videoWidth > 0 && !v.paused && v.currentTime > 0
                    && (!width || (v.videoWidth === width && v.videoHeight === height));
                }}""",
                arg=[width, height],
                timeout=timeout,
            )
        return self.video() or {}

    def video(self) -> dict[str, Any]:
        info: dict[str, Any] = self.page.evaluate(
            f"""() => {{
              const v = document.querySelector('{VIDEO}');
              if (!v) return null;
              const audio = v.srcObject ? v.srcObject.getAudioTracks() : [];
              return {{
                width: v.videoWidth, height: v.videoHeight, muted: v.muted, paused: v.paused,
                audioTracks: audio.filter(t => t.readyState === 'live').length,
                hint: document.getElementById('soundHint').innerText,
              }};
            }}"""
        )
        return info


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def audience_token(page: Any, base_url: str) -> dict[str, Any]:
    """What /audience_token says right now (asked from a page, as a viewer would)."""
    response = page.request.post(
        f"{base_url}/audience_token",
        data=json.dumps({}),
        headers={"Content-Type": "application/json"},
    )
    assert response.ok, response.text()
    data: dict[str, Any] = response.json()
    return data
