"""Page object: what a person can see and do on recordings.html."""

from __future__ import annotations

from typing import Any


class RecordingsPage:
    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self) -> RecordingsPage:
        self.page.goto(f"{self.base_url}/recordings.html")
        return self

    def sign_in(self, password: str) -> None:
        self.page.locator("#passwordForm").wait_for()
        self.page.fill("#password", password)
        self.page.press("#password", "Enter")

    def items(self) -> list[str]:
        """The text of each recording in the list, once the list is shown."""
        self.page.locator("#content").wait_for()
        return [str(text) for text in self.page.locator(".recording-item").all_inner_texts()]

    def listed(self) -> list[dict[str, Any]]:
        """Each recording in the list as a person reads it (``title``, ``status``, ``start`` and
        ``duration`` text), with what the page says they mean: ``startedAt`` (the start's
        ``datetime``, ISO 8601) and ``seconds`` (the duration's ``data-seconds``)."""
        self.page.locator("#content").wait_for()
        found: list[dict[str, Any]] = self.page.evaluate(
            """() => [...document.querySelectorAll('.recording-item')].map((item) => {
              const start = item.querySelector('.recording-start');
              const duration = item.querySelector('.recording-duration');
              return {
                title: item.querySelector('strong').textContent,
                status: item.querySelector('.badge').textContent,
                start: start.textContent,
                startedAt: start.dateTime,
                duration: duration.textContent,
                seconds: duration.dataset.seconds === '' ? null : Number(duration.dataset.seconds),
              };
            })"""
        )
        return found

    def error(self) -> str:
        locator = self.page.locator("#error")
        locator.wait_for(state="visible")
        return str(locator.inner_text())

    def play(self, index: int = 0) -> None:
        self.page.locator(".recording-item").nth(index).click()

    def wait_for_duration(self, timeout: float = 30_000) -> str:
        """Waits until the page says it is done learning the player's duration (its
        ``data-duration``: seconds, or "unknown"); returns what it says."""
        self.page.locator("#player[data-duration]").wait_for(state="attached", timeout=timeout)
        return str(self.page.get_attribute("#player", "data-duration"))

    def wait_until_playing(self, timeout: float = 15_000) -> dict[str, Any]:
        """Waits until the player's time has advanced by a second; returns what it plays."""
        self.page.wait_for_function(
            """() => {
              const v = document.getElementById('player');
              return v.videoWidth > 0 && !v.paused && v.currentTime > 0.2;
            }""",
            timeout=timeout,
        )
        before = self.page.evaluate("() => document.getElementById('player').currentTime")
        self.page.wait_for_function(
            "t => document.getElementById('player').currentTime > t + 1",
            arg=before,
            timeout=timeout,
        )
        return self.video() | {"startedAt": before}

    def video(self) -> dict[str, Any]:
        info: dict[str, Any] = self.page.evaluate(
            """() => {
              const v = document.getElementById('player');
              return {
                width: v.videoWidth, height: v.videoHeight, currentTime: v.currentTime,
                duration: v.duration, paused: v.paused, src: v.currentSrc,
              };
            }"""
        )
        return info
