"""The dev server's counting thread: events applied in order, off the caller's path."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from livescreen.store import StreamStore
from livescreen.store.counting import Counter
from livescreen.store.sqlite import SqliteStreamStore

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class BlockedStore:
    """A store whose every call waits until the test opens the gate, recording the calls."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls: list[tuple[str, tuple[Any, ...], float]] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, at: float) -> bool:
            self.gate.wait(timeout=10)
            self.calls.append((name, args, at))
            if args and args[0] == "broken":
                raise RuntimeError("the disk is full")
            return True

        return call


@pytest.fixture
def store(tmp_path: Path) -> StreamStore:
    return SqliteStreamStore(tmp_path / "streams.db")


def test_events_are_applied_in_order_with_the_time_they_happened(store: StreamStore) -> None:
    # Given a live stream and a counter whose clock the test moves
    clock = Clock()
    store.stream_started("room-1", provider="local", at=T0)
    counter = Counter(store, clock)
    # When a viewer joins, a message is sent, the viewer leaves a minute later, the stream ends
    counter.viewer_joined("room-1", "a")
    counter.chat_message("m1")
    clock.now = T0 + 60
    counter.viewer_left("room-1", "a")
    clock.now = T0 + 90
    counter.stream_ended("room-1")
    # Then once flushed, the store has them all, timed as reported
    assert counter.flush(timeout=10)
    record = store.get("room-1")
    assert record is not None and record.ended_at == T0 + 90
    assert record.numbers.to_json() == {
        "currentViewers": 0,
        "peakViewers": 1,
        "viewers": 1,
        "viewerMinutes": 1.0,
        "chatMessages": 1,
    }
    counter.close()


def test_a_failing_store_is_logged_and_later_events_still_apply(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a store that fails for one stream
    blocked = BlockedStore()
    blocked.gate.set()
    counter = Counter(blocked, Clock())
    # When an event for it fails, and another follows
    with caplog.at_level(logging.WARNING, logger="livescreen.store.counting"):
        counter.viewer_joined("broken", "a")
        counter.viewer_joined("room-1", "b")
        assert counter.flush(timeout=10)
    # Then the failure is in the log, nothing was raised, and the next event was applied
    assert "could not apply a viewer_joined: the disk is full" in caplog.text
    assert [call[1] for call in blocked.calls] == [("broken", "a"), ("room-1", "b")]
    counter.close()


def test_flush_gives_up_after_its_timeout_while_events_wait() -> None:
    blocked = BlockedStore()
    counter = Counter(blocked, Clock())
    counter.stream_ended("room-1")
    assert not counter.flush(timeout=0.05)
    blocked.gate.set()
    assert counter.flush(timeout=10)
    assert [call[0] for call in blocked.calls] == ["stream_ended"]
    counter.close()


def test_a_full_queue_drops_events_without_waiting_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a store that is stuck and a counter that keeps at most 3 events
    blocked = BlockedStore()
    counter = Counter(blocked, Clock(), max_pending=3)
    # When 10 events are reported
    with caplog.at_level(logging.WARNING, logger="livescreen.store.counting"):
        for index in range(10):
            counter.chat_message(f"m{index}")  # returns at once: the store is still stuck
        dropped = [r for r in caplog.records if "dropped" in r.getMessage()]
    # Then the events beyond the bound were dropped, with a single warning
    assert len(dropped) == 1
    blocked.gate.set()
    assert counter.flush(timeout=10)
    assert [call[1] for call in blocked.calls] == [("m0",), ("m1",), ("m2",)]
    counter.close()


def test_a_closed_counter_drops_later_events_and_never_restarts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a counter that applied one event, then was closed
    blocked = BlockedStore()
    blocked.gate.set()
    counter = Counter(blocked, Clock())
    counter.viewer_joined("room-1", "a")
    assert counter.flush(timeout=10)
    counter.close()
    # When more events are reported
    with caplog.at_level(logging.WARNING, logger="livescreen.store.counting"):
        counter.viewer_left("room-1", "a")
        counter.stream_ended("room-1")
        counter.chat_message("m1")
    # Then nothing waits, no second thread applies them, and the log says so once
    assert counter.flush(timeout=10)
    assert [call[0] for call in blocked.calls] == ["viewer_joined"]
    stopped = [r for r in caplog.records if "counting has stopped" in r.getMessage()]
    assert len(stopped) == 1 and "viewer_left" in stopped[0].getMessage()
