"""Page objects for a stream's details and numbers: the host's details form, live numbers and
summary; the waiting audience's "Next: …" and countdown; the streams on recordings.html."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any


class HostDetails:
    """The host page's "Stream details" form and its audience numbers."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def save(
        self,
        title: str,
        *,
        description: str = "",
        start: datetime | None = None,
        password: str | None = None,
    ) -> str:
        """Fills the form (``start`` in the host's own zone, as the input shows it), saves and
        returns the form's state once the answer is in: "saved" or "error"."""
        form = self.page.locator("#detailsForm")
        self.page.wait_for_function(
            "() => document.getElementById('detailsForm').dataset.state !== 'loading'"
        )
        self.page.fill("#detailsTitle", title)
        self.page.fill("#detailsDescription", description)
        self.page.fill("#detailsStart", start.strftime("%Y-%m-%dT%H:%M") if start else "")
        if password is not None:
            self.page.fill("#detailsPassword", password)
        with self.page.expect_response("**/stream_details"):
            form.locator("#saveDetails").click()
        self.page.wait_for_function(
            "() => ['saved', 'error'].includes("
            "document.getElementById('detailsForm').dataset.state)"
        )
        return str(form.get_attribute("data-state"))

    def error(self) -> str:
        return str(self.page.locator("#detailsError").inner_text())

    def wait_for_numbers(self, current: int, peak: int, timeout: float = 15_000) -> None:
        """Waits until the host sees ``current`` viewers watching and a peak of ``peak``."""
        self.page.wait_for_function(
            """([current, peak]) =>
              document.getElementById('viewerCount').dataset.value === String(current)
              && document.getElementById('peakViewers').dataset.value === String(peak)
              && !document.getElementById('peakViewers').hidden""",
            arg=[current, peak],
            timeout=timeout,
        )

    def summary(self) -> dict[str, Any]:
        """The summary shown once the stream ended: its title and each number by its key."""
        self.page.locator("#summary").wait_for()
        found: dict[str, Any] = self.page.evaluate(
            """() => ({
              title: document.getElementById('summaryTitle').textContent,
              ...Object.fromEntries([...document.querySelectorAll('#summaryFacts [data-fact]')]
                .map((fact) => [fact.dataset.fact, Number(fact.dataset.value)])),
            })"""
        )
        return found


COUNTDOWN = re.compile(r"starts in (?:(\d+):)?(\d+):(\d\d)")


class WaitingAudience:
    """What the audience page says while nothing is live."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def status(self) -> str:
        return str(self.page.evaluate("() => document.body.dataset.status || ''"))

    def wait_for_status(self, pattern: str, timeout: float = 10_000) -> str:
        """Waits until the status line matches the regular expression ``pattern``."""
        self.page.wait_for_function(
            "pattern => new RegExp(pattern).test(document.body.dataset.status || '')",
            arg=pattern,
            timeout=timeout,
        )
        return self.status()

    def countdown(self) -> str | None:
        """The countdown's text, or None while it is hidden."""
        shown: str | None = self.page.evaluate(
            """() => {
              const countdown = document.getElementById('countdown');
              return countdown.hidden ? null : countdown.textContent;
            }"""
        )
        return shown

    def countdown_seconds(self) -> int | None:
        text = self.countdown()
        match = COUNTDOWN.fullmatch(text or "")
        if not match:
            return None
        hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return hours * 3600 + minutes * 60 + seconds


class StreamsList:
    """The streams recordings.html lists."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def streams(self) -> list[dict[str, Any]]:
        """Each stream as listed: title, start and duration text, each number by its key and
        the titles of its recordings."""
        self.page.locator("#content").wait_for()
        found: list[dict[str, Any]] = self.page.evaluate(
            """() => [...document.querySelectorAll('.stream-item')].map((item) => ({
              id: item.dataset.streamId,
              title: item.querySelector('.stream-title').textContent,
              startedAt: item.querySelector('.recording-start').dateTime,
              seconds: Number(item.querySelector('.recording-duration').dataset.seconds),
              recordings: [...item.querySelectorAll('.recording-item')].map((r) => r.dataset.id),
              ...Object.fromEntries([...item.querySelectorAll('[data-fact]')]
                .map((fact) => [fact.dataset.fact, Number(fact.dataset.value)])),
            }))"""
        )
        return found
