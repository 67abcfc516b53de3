"""What 10,000 viewers cost with the ``ivs`` provider: control-plane calls and signing time.

(a) 10,000 ``audience_grant`` calls spread evenly over the first simulated minute of a stream,
    one thread: IVS calls made (by operation) and per-token time (ES384 signing dominates).
(b) 1,000 viewers arriving at the same instant, one thread each, with 50 ms added to every IVS
    call: IVS calls made and per-viewer latency (one lookup is shared by everyone).

IVS is answered in process by a botocore ``before-call`` hook, so the real client, its parameter
validation and the provider's code all run; only the network is left out.

Run: .venv/bin/python bench/ivs_scale.py
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse

from livescreen.config import Settings
from livescreen.providers.ivs.keys import generate_key_pair
from livescreen.providers.ivs.provider import IvsProvider

VIEWERS = 10_000
BURST = 1_000
LATENCY = 0.050
ARN = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEfGh1234"
TAGS = {
    "app": "live-screen-sharing",
    "livescreen:room": "livestream-0123456789abcdef",
    "livescreen:live": "true",
    "livescreen:started-at": "1750000000",
}
ENDPOINTS = {"events": "wss://global.events.live-video.net", "whip": "https://whip.example"}


class FakeIvs:
    """Answers ListStages/GetStage for one live stage, counting calls."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.client = botocore.session.get_session().create_client(
            "ivs-realtime",
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        self.client.meta.events.register("before-call.ivs-realtime.*", self._answer)

    def _answer(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        with self._lock:
            self.calls[model.name] += 1
        if self.latency:
            time.sleep(self.latency)
        if model.name == "ListStages":
            body: dict[str, Any] = {"stages": [{"arn": ARN, "name": "stage", "tags": TAGS}]}
        elif model.name == "GetStage":
            body = {"stage": {"arn": ARN, "tags": TAGS, "endpoints": ENDPOINTS}}
        else:
            raise AssertionError(f"unexpected IVS call {model.name}")
        return AWSResponse(ARN, 200, {}, None), body


class SimulatedClock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


def provider_for(ivs: FakeIvs, clock: Any = time.time) -> IvsProvider:
    private_pem, _ = generate_key_pair()
    settings = Settings(
        {
            "IVS_PRIVATE_KEY": private_pem,
            "IVS_PUBLIC_KEY_ARN": "arn:aws:ivs:us-east-1:123456789012:public-key/Pk0123456789",
            "LIVE_LOOKUP_TTL": "5",
        },
        source="the benchmark",
    )
    return IvsProvider(settings, client=ivs.client, clock=clock)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def first_minute() -> None:
    ivs = FakeIvs()
    clock = SimulatedClock()
    provider = provider_for(ivs, clock)
    durations = []
    for _ in range(VIEWERS):
        started = time.perf_counter()
        assert provider.audience_grant().token
        durations.append(time.perf_counter() - started)
        clock.now += 60.0 / VIEWERS
    print(f"(a) {VIEWERS} viewers over one simulated minute, LIVE_LOOKUP_TTL=5")
    print(f"    IVS calls: {sum(ivs.calls.values())} {dict(ivs.calls)}")
    print(
        f"    per token: p50 {ms(statistics.median(durations))}   "
        f"p95 {ms(sorted(durations)[int(0.95 * len(durations))])}   "
        f"total {sum(durations):.2f} s"
    )


def burst() -> None:
    ivs = FakeIvs(latency=LATENCY)
    provider = provider_for(ivs)
    gate = threading.Barrier(BURST)

    def viewer() -> float:
        gate.wait()
        started = time.perf_counter()
        assert provider.audience_grant().token
        return time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        durations = list(pool.map(lambda _: viewer(), range(BURST)))
    print(f"(b) {BURST} viewers at the same instant, {LATENCY * 1000:.0f} ms per IVS call")
    print(f"    IVS calls: {sum(ivs.calls.values())} {dict(ivs.calls)}")
    print(
        f"    per viewer: p50 {ms(statistics.median(durations))}   "
        f"p95 {ms(sorted(durations)[int(0.95 * len(durations))])}   max {ms(max(durations))}"
    )


if __name__ == "__main__":
    first_minute()
    burst()
