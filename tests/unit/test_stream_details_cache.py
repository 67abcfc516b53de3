"""``GET /stream_details`` is what a waiting crowd polls: one process reads the store at most
once every few seconds, and its own saves show at once."""

from __future__ import annotations

from pathlib import Path

from livescreen.config import Settings
from livescreen.store import StreamDetails, clear_store_cache, get_stream_store
from livescreen.store.for_endpoints import DETAILS_CACHE_SECONDS, details_answer, save_details

NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_details_are_read_once_per_interval_and_a_save_here_shows_at_once(
    tmp_path: Path,
) -> None:
    clear_store_cache()
    settings = Settings({"STREAMS_DB": str(tmp_path / "streams.db")})
    store = get_stream_store(settings)
    assert store is not None
    clock = Clock()
    # GIVEN the audience has read the details once
    assert details_answer(settings, clock=clock)["details"] is None

    # WHEN another container saves new details
    store.put_details(StreamDetails("Saved elsewhere", updated_at=NOW))
    # THEN this process answers what it read until the interval is over
    assert details_answer(settings, clock=clock)["details"] is None
    clock.now += DETAILS_CACHE_SECONDS
    assert details_answer(settings, clock=clock)["details"]["title"] == "Saved elsewhere"

    # WHEN the host saves here
    save_details(settings, {"title": "Saved here"}, live_stream=None, clock=lambda: NOW)
    # THEN the next read shows it at once
    assert details_answer(settings, clock=clock)["details"]["title"] == "Saved here"
    clear_store_cache()
