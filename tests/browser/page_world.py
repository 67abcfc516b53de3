"""The clock, time zone and locale a browser test runs in: its "world".

A page shows times in its viewer's locale and time zone (a recording's start, a chat message's
time), and the dev server stamps them with its wall clock. A test that reads such text passes
or fails by the hour it runs at unless both clocks are pinned. So every browser test runs in a
world: the browser context gets the world's locale and time zone and a clock that starts at the
world's time of day (Playwright's clock, which then runs at the normal pace), and the dev
server's wall clocks (recording start times, chat times) are shifted by the same amount.

The default world is an awkward one on purpose: a 24-hour locale (``de-DE``), a time zone 14
hours from UTC (``Pacific/Kiritimati``, where the date is often not UTC's), and a clock two
seconds before 11:00, so every test crosses the hour. ``BROWSER_WORLD`` picks another for a
whole run, e.g. ``BROWSER_WORLD="en-US America/New_York 22:27:00"`` or ``"en-US UTC real"``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from typing import Any
from zoneinfo import ZoneInfo

from livescreen.providers.local.recorder import WallClock


@dataclass(frozen=True)
class PageWorld:
    """A locale, a time zone and the time of day the clocks show when a test starts (``None``:
    the real clock)."""

    locale: str
    timezone_id: str
    starts_at: time_of_day | None

    @classmethod
    def parse(cls, text: str) -> PageWorld:
        """``"<locale> <time zone> <HH:MM:SS | real>"``, e.g. ``"de-DE Europe/Berlin 20:00:00"``."""
        try:
            locale, timezone_id, clock = text.split()
            ZoneInfo(timezone_id)
            starts_at = None if clock == "real" else time_of_day.fromisoformat(clock)
        except (ValueError, KeyError) as error:
            raise ValueError(
                f"BROWSER_WORLD={text!r}: expected '<locale> <time zone> <HH:MM:SS|real>', "
                f"e.g. 'de-DE Pacific/Kiritimati 10:59:58' ({error})"
            ) from error
        return cls(locale, timezone_id, starts_at)

    @property
    def id(self) -> str:
        clock = "real" if self.starts_at is None else self.starts_at.isoformat()
        return f"{self.locale} {self.timezone_id} {clock}"

    def offset_from(self, now: float) -> float:
        """Seconds to add to ``now`` to reach the latest moment, at or before ``now``, when a
        clock in this world's time zone showed ``starts_at`` (0 with the real clock).

        Never ahead of the real time: a page clock ahead of the server's would see the
        tokens the server hands out (which expire on its real clock) as expired already."""
        if self.starts_at is None:
            return 0.0
        zone = ZoneInfo(self.timezone_id)
        here = datetime.fromtimestamp(now, zone)
        start = datetime.combine(here.date(), self.starts_at, zone)
        if start.timestamp() > now:
            start = datetime.combine(here.date() - timedelta(days=1), self.starts_at, zone)
        return start.timestamp() - now


#: The world of every browser test that does not choose one.
DEFAULT_WORLD = PageWorld("de-DE", "Pacific/Kiritimati", time_of_day(10, 59, 58))


def world_from_environment() -> PageWorld:
    """``BROWSER_WORLD`` when set, else ``DEFAULT_WORLD``."""
    text = os.environ.get("BROWSER_WORLD", "").strip()
    return PageWorld.parse(text) if text else DEFAULT_WORLD


class WorldClock:
    """One test's clock: the real time shifted once, when the test starts, into its world."""

    def __init__(self, world: PageWorld, now: WallClock = time.time) -> None:
        self.world = world
        self._now = now
        self.offset = world.offset_from(now())

    def __call__(self) -> float:
        return self._now() + self.offset

    def install(self, context: Any) -> None:
        """Sets a browser context's clock to this one (Playwright's clock, which then runs at
        the normal pace); the real clock is left alone."""
        if self.world.starts_at is not None:
            context.clock.install(time=datetime.fromtimestamp(self(), UTC))


def _clock_text(locale: str, moment: datetime, *, seconds: bool, two_digit_hour: bool) -> str:
    if locale == "en-US":
        hour = moment.hour % 12 or 12
        text = f"{hour:02d}" if two_digit_hour else str(hour)
        half = "AM" if moment.hour < 12 else "PM"
    elif locale == "de-DE":
        text, half = f"{moment.hour:02d}", ""
    else:
        raise ValueError(f"no expected format for {locale}")
    text += f":{moment:%M}" + (f":{moment:%S}" if seconds else "")
    return f"{text} {half}" if half else text


def date_time_text(locale: str, moment: datetime) -> str:
    """``moment`` (aware, in the viewer's zone) as ``Date.toLocaleString()`` shows it in
    ``locale`` (en-US or de-DE): the recordings list's start times."""
    day, month, year = moment.day, moment.month, moment.year
    date = f"{month}/{day}/{year}" if locale == "en-US" else f"{day}.{month}.{year}"
    return f"{date}, {_clock_text(locale, moment, seconds=True, two_digit_hour=False)}"


def hours_minutes_text(locale: str, moment: datetime) -> str:
    """``moment`` as ``toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'})`` shows it
    in ``locale`` (en-US or de-DE): the chat's message times."""
    return _clock_text(locale, moment, seconds=False, two_digit_hour=True)


def plain_spaces(text: str) -> str:
    """``text`` with the narrow and no-break spaces some ICU versions put before AM/PM made
    plain, so the expected texts above hold for them too."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")
