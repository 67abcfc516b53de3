"""Twilio's time in the emulator tests: a clock that moves only when a test moves it."""

from __future__ import annotations

#: 2023-11-14 22:13:20 UTC, where every emulator test starts
START = 1_700_000_000.0


class FakeClock:
    """Twilio's time, moved only by the test (``clock.now += 60``)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now
