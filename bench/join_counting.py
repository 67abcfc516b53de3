"""Whether counting the audience slows a viewer's join: 1,000 joins with counting on and off.

(a) ``POST /audience_token`` in process through the Lambda adapter (as
    ``bench/audience_token_twilio_video.py`` calls it), ``local`` provider with a live room:
    counting on (``STREAM_STORE=sqlite``, the stream recorded, the process's background
    ``Counter`` running) against counting off (``STREAM_STORE=off``), in alternating blocks so
    that the machine's drift falls on both alike. Printed: p50/p95 of each, and the store calls
    made while the function ran, on any thread: there must be none.
(b) the local hub's viewer join (``Hub.add_viewer``, then the host's answer), which reports
    the viewer to the room's audience, the background ``Counter`` (none with counting off):
    p50/p95 on and off, in alternating blocks, the store calls made on the joining thread
    (must be 0) and the viewers the Counter's worker then counted (must be all of them).

For scale it also prints what one store write costs (``viewer_joined`` on the sqlite file).
Exits 1 when a store call was made in a join path, a join failed or went uncounted, or a p50
with counting on is beyond ``TOLERANCE`` of the p50 without (see there).

Run: .venv/bin/python bench/join_counting.py [--joins 1000]
"""

from __future__ import annotations

import argparse
import itertools
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livescreen.config import Settings
from livescreen.devserver.invoke import invoke
from livescreen.providers import clear_provider_cache
from livescreen.providers.local.hub import HUB
from livescreen.providers.local.room import Room
from livescreen.store import StreamStore, clear_store_cache, get_stream_store
from livescreen.store.counting import Counter, clear_counter, counter_for

#: (a)'s p50 with counting on may exceed the p50 without by this fraction, plus ``SLACK_US``.
#: Both runs execute the very same code (``/audience_token`` makes no store call), so any gap
#: is the machine's noise: on a shared 2-core machine the median of the same in-process call
#: moves by up to ~10 % from one block of calls to the next (other processes, the CPU's clock,
#: the garbage collector), and by a few µs when the median is small. One sqlite write costs far
#: more than this margin (printed below), so a store call in the join path would not fit in it.
TOLERANCE = 0.20
SLACK_US = 20.0
#: Calls per block; the blocks alternate on, off, on, off...
BLOCK = 100
WARM_UP = 200
#: The methods of ``StreamStore``: every one is counted.
STORE_METHODS = tuple(
    name
    for name, value in vars(StreamStore).items()
    if callable(value) and not name.startswith("_")
)
OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
ANSWER = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


@dataclass
class StoreCalls:
    """Every call made to a store method, with the thread it was made on, while wrapped."""

    calls: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def since(self, mark: int, *, thread: int | None = None) -> list[str]:
        with self.lock:
            made = self.calls[mark:]
        return [name for name, ident in made if thread is None or ident == thread]

    def mark(self) -> int:
        with self.lock:
            return len(self.calls)


@contextmanager
def counting_store_calls(store_class: type[Any]) -> Iterator[StoreCalls]:
    """Wrap the store class's methods (so every instance's calls count) until the block ends."""
    seen = StoreCalls()
    originals = {name: store_class.__dict__[name] for name in STORE_METHODS}

    def wrapped(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            with seen.lock:
                seen.calls.append((name, threading.get_ident()))
            return method(self, *args, **kwargs)

        return call

    for name, method in originals.items():
        setattr(store_class, name, wrapped(name, method))
    try:
        yield seen
    finally:
        for name, method in originals.items():
            setattr(store_class, name, method)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe(samples_us: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples_us):8.1f} µs   p95 {percentile(samples_us, 0.95):8.1f} µs"
    )


def settings_for(folder: Path, store: str) -> Settings:
    return Settings(
        {
            "STREAM_PROVIDER": "local",
            "HOST_PASSWORD": "bench-" + secrets.token_urlsafe(16),
            "HOST_SESSION_SECRET": secrets.token_urlsafe(32),
            "STREAM_STORE": store,
            "STREAMS_DB": str(folder / "streams.db"),
            "RECORDINGS_DIR": str(folder / "recordings"),
        },
        source="the benchmark",
    )


def go_live(settings: Settings) -> Room:
    """Sign in and go live through the functions; the host's channel is held open."""
    host = invoke("host_token", {"password": settings["HOST_PASSWORD"]}, settings=settings)
    assert host.status == 200, host.text
    started = invoke("stream_start", {"session": host.json()["session"]}, settings=settings)
    assert started.status == 200, started.text
    room = HUB.room(host.json()["room"])
    assert room is not None and room.live
    HUB.connect_host(room)  # a host whose channel is open keeps the stream live
    return room


def one_token(settings: Settings) -> float:
    started = time.perf_counter_ns()
    answer = invoke("audience_token", {}, settings=settings)
    elapsed = (time.perf_counter_ns() - started) / 1000
    assert answer.status == 200 and answer.json()["token"], answer.text
    return elapsed


def tokens(on: Settings, off: Settings, joins: int) -> tuple[list[float], list[float]]:
    """``joins`` audience tokens with each settings, in alternating blocks."""
    for settings in (on, off):
        for _ in range(WARM_UP // 2):
            one_token(settings)
    timed: dict[str, list[float]] = {"on": [], "off": []}
    while len(timed["off"]) < joins:
        for label, settings in (("on", on), ("off", off)):
            count = min(BLOCK, joins - len(timed[label]))
            timed[label] += [one_token(settings) for _ in range(count)]
    return timed["on"], timed["off"]


def hub_joins(room: Room, counter: Counter, joins: int) -> tuple[list[float], list[float]]:
    """``joins`` viewers join the hub's live room with its audience counted, and as many with
    it not counted (``room.audience`` is what the hub tells; ``None`` with counting off), in
    alternating blocks; each viewer leaves again, untimed (the room takes 50 at most)."""
    timed: dict[str, list[float]] = {"on": [], "off": []}
    offers = itertools.count()
    while len(timed["off"]) < joins:
        for label, audience in (("on", counter), ("off", None)):
            room.audience = audience
            for _ in range(min(BLOCK, joins - len(timed[label]))):
                address = f"198.51.100.{next(offers) % 200}"
                started = time.perf_counter_ns()
                viewer = HUB.add_viewer(room, OFFER, address)
                answered = HUB.answer(room, viewer.id, ANSWER)
                timed[label].append((time.perf_counter_ns() - started) / 1000)
                assert answered is True, f"viewer {viewer.id} got no answer"
                HUB.drop_viewer(room, viewer)
    room.audience = counter
    return timed["on"], timed["off"]


def write_cost(store: StreamStore, joins: int) -> list[float]:
    """What one ``viewer_joined`` costs on the sqlite file (a stream of its own)."""
    stream = "bench-write-cost"
    store.stream_started(stream, provider="local", at=time.time())
    samples = []
    for i in range(min(joins, 200)):
        started = time.perf_counter_ns()
        store.viewer_joined(stream, f"viewer-{i}", at=time.time())
        samples.append((time.perf_counter_ns() - started) / 1000)
    store.stream_ended(stream, at=time.time())
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--joins", type=int, default=1000)
    args = parser.parse_args()
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        on = settings_for(Path(folder), "sqlite")
        off = on.with_values(STREAM_STORE="off")
        store = get_stream_store(on)
        counter = counter_for(on)
        assert store is not None and counter is not None
        try:
            room = go_live(on)
            store.stream_started(room.name, provider="local", at=time.time())  # idempotent
            counter.flush(5.0)
            with counting_store_calls(type(store)) as calls:
                # (a) the join path's function
                mark = calls.mark()
                token_on, token_off = tokens(on, off, args.joins)
                in_tokens = calls.since(mark)
                p50_on, p50_off = statistics.median(token_on), statistics.median(token_off)
                limit = p50_off * (1 + TOLERANCE) + SLACK_US
                print(f"(a) POST /audience_token, {args.joins} joins each, in process")
                print(f"    counting on  (sqlite + Counter)  {describe(token_on)}")
                print(f"    counting off (STREAM_STORE=off)  {describe(token_off)}")
                print(f"    store calls while it ran: {len(in_tokens)}   (must be 0)")
                print(
                    f"    p50 on {p50_on:.1f} µs <= off x {1 + TOLERANCE:.2f} + {SLACK_US:.0f} µs "
                    f"= {limit:.1f} µs: {'yes' if p50_on <= limit else 'NO'}"
                )
                if in_tokens:
                    failures.append(f"/audience_token called the store: {sorted(set(in_tokens))}")
                if p50_on > limit:
                    failures.append(f"/audience_token p50 {p50_on:.1f} µs > {limit:.1f} µs")

                # (b) the hub's join, reported to the background Counter
                mark = calls.mark()
                joiner = threading.get_ident()
                hub_on, hub_off = hub_joins(room, counter, args.joins)
                on_joiner = calls.since(mark, thread=joiner)
                written = counter.flush(10.0)
                by_worker = calls.since(mark)
                counted = store.get(room.name)
                viewers = counted.numbers.joins if counted else 0
                p50_on, p50_off = statistics.median(hub_on), statistics.median(hub_off)
                limit = p50_off * (1 + TOLERANCE) + SLACK_US
                print(f"(b) local hub: add_viewer + the host's answer, {args.joins} joins each")
                print(f"    counting on  (Counter)           {describe(hub_on)}")
                print(f"    counting off (no audience)       {describe(hub_off)}")
                print(f"    store calls on the joining thread: {len(on_joiner)}   (must be 0)")
                print(
                    f"    then written by the Counter's worker: {len(by_worker)} store calls; "
                    f"viewers counted: {viewers} (must be {args.joins})"
                )
                print(
                    f"    p50 on {p50_on:.1f} µs <= off x {1 + TOLERANCE:.2f} + {SLACK_US:.0f} µs "
                    f"= {limit:.1f} µs: {'yes' if p50_on <= limit else 'NO'}"
                )
                if on_joiner:
                    failures.append(f"the hub's join called the store: {sorted(set(on_joiner))}")
                if not written or viewers != args.joins:
                    failures.append(f"the Counter counted {viewers} of {args.joins} viewers")
                if p50_on > limit:
                    failures.append(f"the hub's join p50 {p50_on:.1f} µs > {limit:.1f} µs")
            writes = write_cost(store, args.joins)
            print(f"    one sqlite store write (viewer_joined), for scale: {describe(writes)}")
        finally:
            HUB.reset()
            counter.flush(5.0)
            clear_counter()
            clear_provider_cache()
            clear_store_cache()
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
