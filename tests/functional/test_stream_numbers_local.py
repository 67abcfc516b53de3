"""The ``local`` provider's audience numbers, end to end in one dev-server process.

The endpoints run through the adapter Lambda runs (``invoke``); viewers join and leave through
the ``/local`` signalling relay and chat through the ``/chat`` relay, on the process's own hub
and chat room, as the dev server drives them. The store is a real SQLite file in a temp folder.
The counting worker stamps events with a clock the test moves (so viewer-minutes are exact);
every wait on it is bounded (``Counter.flush``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from viewer_offers import CHROMIUM_VIEWER_OFFER, HOST_ANSWER

from livescreen.chat import clear_chat_cache
from livescreen.chat.local import provider as local_chat
from livescreen.chat.local.room import CHAT_ROOM
from livescreen.config import Settings
from livescreen.devserver.channels import Channel
from livescreen.devserver.invoke import invoke
from livescreen.devserver.relays import chat as chat_relay
from livescreen.devserver.relays import recordings as recording_relay
from livescreen.devserver.relays import signalling
from livescreen.providers import clear_provider_cache
from livescreen.providers.local import provider as local_provider
from livescreen.providers.local.hub import HUB
from livescreen.security import password_guard
from livescreen.store import StreamStore, clear_store_cache, get_stream_store
from livescreen.store.counting import Counter, clear_counter
from livescreen.store.sqlite import SqliteStreamStore

PASSWORD = "stream numbers test password"
SECRET = "stream-numbers-test-session-secret-0123456789"
HERE = "192.0.2.10"
#: Every wait on the counting worker ends by then.
FLUSH_SECONDS = 5.0


class WallClock:
    """The counting's clock (seconds since the epoch), moved by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A new dev server: no cached provider, chat, store or counter, no throttle, no rooms."""
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)

    def forget() -> None:
        clear_provider_cache()
        clear_chat_cache()
        clear_counter()
        clear_store_cache()
        password_guard.throttle.reset()
        HUB.reset()
        CHAT_ROOM.reset()

    forget()
    yield
    forget()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        {
            "STREAM_PROVIDER": "local",
            "CHAT_PROVIDER": "local",
            "HOST_PASSWORD": PASSWORD,
            "HOST_SESSION_SECRET": SECRET,
            "STREAMS_DB": str(tmp_path / "streams.db"),
            "RECORDING": "on",
            "RECORDINGS_DIR": str(tmp_path / "recordings"),
        },
        "the test settings",
    )


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
def counter(
    settings: Settings, wall: WallClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Counter]:
    """The process's counting worker for ``settings``' store, on the test's clock: what the
    provider and the chat are given in place of ``counter_for``'s (same store, same worker)."""
    store = get_stream_store(settings)
    assert store is not None
    worker = Counter(store, clock=wall)

    def counter_for(_: Settings) -> Counter:
        return worker

    monkeypatch.setattr(local_provider, "counter_for", counter_for)
    monkeypatch.setattr(local_chat, "counter_for", counter_for)
    yield worker
    worker.close()


def call(settings: Settings, name: str, body: dict[str, Any] | None = None) -> Any:
    answer = invoke(name, body or {}, settings=settings)
    assert answer.status == 200, (name, answer.text)
    return answer.json()


def counted(counter: Counter) -> None:
    assert counter.flush(FLUSH_SECONDS), "the counting worker did not catch up"


class Host:
    """A signed-in host: its session, and its signalling channel (its page's socket)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.grant = call(settings, "host_token", {"password": PASSWORD})
        self.session: str = self.grant["session"]
        self.room: str = self.grant["room"]
        self.channel: Channel = signalling.host_channel({"token": self.grant["token"]})

    def go_live(self) -> dict[str, Any]:
        return dict(call(self.settings, "stream_start", {"session": self.session}))

    def stop(self) -> dict[str, Any]:
        return dict(call(self.settings, "stream_stop", {"session": self.session}))

    def stats(self) -> Any:
        return call(self.settings, "stream_stats", {"session": self.session})["stream"]

    def next_offer(self) -> str:
        while True:
            event, data = self.channel.inbox.get(timeout=FLUSH_SECONDS)
            if event == "offer":
                return str(data["viewer"])

    def answer(self, viewer_id: str) -> tuple[int, Any]:
        body = {"token": self.grant["token"], "viewer": viewer_id, "sdp": HOST_ANSWER}
        status, _, data = signalling.handle(
            "POST", "/answer", {}, {"Content-Type": "application/json"}, json.dumps(body).encode()
        )
        assert isinstance(data, bytes)
        return status, json.loads(data)


def offer(settings: Settings) -> Channel:
    """A viewer asks ``/audience_token`` and offers to watch (its page's socket subscribes)."""
    token = call(settings, "audience_token")["token"]
    assert token, "nothing is live"
    return signalling.viewer_channel({"token": token, "sdp": CHROMIUM_VIEWER_OFFER}, HERE)


def join(settings: Settings, host: Host) -> Channel:
    """A viewer offers and the host answers: it is watching."""
    viewer = offer(settings)
    viewer_id = host.next_offer()
    assert host.answer(viewer_id) == (200, {"ok": True})
    return viewer


def chat(settings: Settings, text: str) -> None:
    """A viewer asks for a chat token and sends ``text`` through the ``/chat`` relay."""
    token = call(settings, "chat_token", {"name": "Ann"})["token"]
    body = json.dumps({"token": token, "text": text}).encode()
    status, _, data = chat_relay.handle(
        "POST", "/send", {}, {"Content-Type": "application/json"}, body
    )
    assert status == 200, data


def test_joins_leaves_peak_and_chat_are_counted_and_summed_up_when_the_host_stops(
    settings: Settings, counter: Counter, wall: WallClock
) -> None:
    # GIVEN the host set a title, and a chat message was sent while nothing was live
    saved = invoke(
        "stream_details", {"password": PASSWORD, "title": "Launch day"}, settings=settings
    )
    assert saved.status == 200, saved.text
    chat(settings, "anyone here?")
    counted(counter)
    host = Host(settings)
    assert host.go_live()["details"] == {"title": "Launch day", "description": ""}
    wall.advance(10)

    # WHEN three viewers join, one leaves a minute later, and a viewer chats
    first, second, third = join(settings, host), join(settings, host), join(settings, host)
    wall.advance(60)
    first.close()
    chat(settings, "hello from the audience")
    counted(counter)

    # THEN the host sees 2 watching now, a peak of 3, 3 viewers, one minute watched, 1 message
    stats = host.stats()
    assert stats["title"] == "Launch day"
    assert stats["live"] is True
    assert stats["currentViewers"] == 2
    assert stats["peakViewers"] == 3
    assert stats["viewers"] == 3
    assert stats["viewerMinutes"] == 1.0
    assert stats["chatMessages"] == 1

    # WHEN the host stops two minutes after the others joined
    wall.advance(60)
    stopped = host.stop()

    # THEN the stop's summary closes the two still watching at the end: 1 + 2 + 2 minutes
    summary = stopped["summary"]
    assert summary["id"] == host.room
    assert summary["live"] is False
    assert summary["currentViewers"] == 0
    assert summary["peakViewers"] == 3
    assert summary["viewers"] == 3
    assert summary["viewerMinutes"] == 5.0
    assert summary["chatMessages"] == 1
    assert summary["duration"] is not None and summary["duration"] > 0
    # AND the viewers' leaving after the end changes nothing
    second.close()
    third.close()
    counted(counter)
    # AND the recordings page lists the stream by its title with the same numbers
    listing = call(settings, "recordings", {"password": PASSWORD})
    assert [stream["title"] for stream in listing["streams"]] == ["Launch day"]
    assert {k: v for k, v in listing["streams"][0].items() if k != "recordingIds"} == summary


def test_a_viewer_is_counted_once_and_one_never_answered_not_at_all(
    settings: Settings, counter: Counter
) -> None:
    host = Host(settings)
    host.go_live()

    # WHEN the host's answer to one viewer arrives twice
    watching = offer(settings)
    viewer_id = host.next_offer()
    assert host.answer(viewer_id) == (200, {"ok": True})
    assert host.answer(viewer_id)[0] == 409  # (it has its answer already)
    # AND another viewer offers but leaves before the host answers
    gone = offer(settings)
    host.next_offer()
    gone.close()
    counted(counter)

    # THEN one viewer is counted, once
    stats = host.stats()
    assert (stats["viewers"], stats["currentViewers"], stats["peakViewers"]) == (1, 1, 1)
    watching.close()
    counted(counter)
    assert host.stats()["currentViewers"] == 0


def test_a_stream_replaced_by_another_ends_with_its_viewers_counted_until_then(
    settings: Settings, counter: Counter, wall: WallClock
) -> None:
    # GIVEN a live stream with one viewer
    first_host = Host(settings)
    first_host.go_live()
    wall.advance(1)
    viewer = join(settings, first_host)
    wall.advance(120)

    # WHEN another host goes live, which ends the first stream without a stream_stop
    second_host = Host(settings)
    second_host.go_live()
    counted(counter)

    # THEN the first stream has ended, its viewer counted as watching until then
    ended = first_host.stats()
    assert ended["live"] is False
    assert ended["currentViewers"] == 0
    assert ended["viewerMinutes"] == 2.0
    # AND the second is live with nobody counted yet
    assert second_host.stats()["live"] is True
    assert second_host.stats()["viewers"] == 0
    viewer.close()


def test_a_stream_and_its_recording_are_listed_together(
    settings: Settings, counter: Counter
) -> None:
    # GIVEN the host went live under a title and its page uploaded a recording
    assert (
        invoke(
            "stream_details", {"password": PASSWORD, "title": "Recorded talk"}, settings=settings
        ).status
        == 200
    )
    host = Host(settings)
    host.go_live()
    status, _, data = recording_relay.handle(
        "POST",
        "/recording/upload",
        {"offset": "0"},
        {"content-type": "application/octet-stream", "x-host-token": host.grant["token"]},
        b"\x1a\x45\xdf\xa3" + bytes(64),
        settings=settings,
    )
    assert status == 200, data
    host.stop()

    # WHEN the host lists the recordings
    listing = call(settings, "recordings", {"session": host.session})

    # THEN the recording carries its stream's id and title, and the stream its recording's id
    [recording] = listing["recordings"]
    [stream] = listing["streams"]
    assert recording["streamId"] == host.room == stream["id"]
    assert recording["title"] == "Recorded talk"
    assert stream["recordingIds"] == [recording["id"]]


class StoreCalls:
    """Every call into the stream store, with the thread it was made on."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def wrap(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def spy(store: StreamStore, *args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls.append((name, threading.current_thread().name))
            return method(store, *args, **kwargs)

        return spy

    def on(self, thread: str) -> list[str]:
        with self._lock:
            return [name for name, where in self.calls if where == thread]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()


def test_the_viewers_join_path_makes_no_store_call(
    settings: Settings, counter: Counter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN every call into the store is seen, and a live stream
    spy = StoreCalls()
    methods = [n for n, v in vars(StreamStore).items() if callable(v) and not n.startswith("_")]
    assert "viewer_joined" in methods
    for name in methods:
        monkeypatch.setattr(
            SqliteStreamStore, name, spy.wrap(name, getattr(SqliteStreamStore, name))
        )
    host = Host(settings)
    host.go_live()
    counted(counter)
    spy.clear()

    # WHEN viewers ask /audience_token and join, on this thread as a request would run
    viewers = [join(settings, host) for _ in range(5)]
    here = threading.current_thread().name

    # THEN not one store call was made on the request's thread
    assert spy.on(here) == []
    # AND the counting worker counted them all, on its own thread
    counted(counter)
    assert spy.on("audience-counter").count("viewer_joined") == 5
    assert host.stats()["viewers"] == 5
    for viewer in viewers:
        viewer.close()
