"""What 1,000 ``/audience_token`` calls cost with ``twilio`` and ``TWILIO_AUDIENCE=video``.

The host is live in a group room on the local emulator (50 ms added to every Twilio call, as a
far-away API would); then 1,000 viewers ask for a token through the function's handler
(the Lambda adapter, the same code path as on AWS):
(a) one after the other, (b) all at once (one thread each).
Printed: the Twilio calls made for all of them and the per-call p50/p99. Tokens are signed
locally: a container looks the live room up once per LIVE_LOOKUP_TTL, whatever the audience.

Run: .venv/bin/python bench/audience_token_twilio_video.py
"""

from __future__ import annotations

import logging
import secrets
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from livescreen.config import Settings
from livescreen.devserver.invoke import invoke
from livescreen.providers import clear_provider_cache
from twilio_emulator import EmulatorServer

CALLS = 1000
LATENCY = 0.050
ACCOUNT_SID = "AC" + secrets.token_hex(16)
API_KEY_SID = "SK" + secrets.token_hex(16)
API_KEY_SECRET = secrets.token_urlsafe(32)


def settings_for(emulator: EmulatorServer) -> Settings:
    return Settings(
        {
            "STREAM_PROVIDER": "twilio",
            "TWILIO_AUDIENCE": "video",
            "HOST_PASSWORD": secrets.token_urlsafe(16),
            "HOST_SESSION_SECRET": secrets.token_urlsafe(32),
            "ACCOUNT_SID": ACCOUNT_SID,
            "AUTH_TOKEN": secrets.token_urlsafe(32),
            "API_KEY_SID": API_KEY_SID,
            "API_KEY_SECRET": API_KEY_SECRET,
            "TWILIO_API_BASE_URL": emulator.base_url,
        },
        source="the benchmark",
    )


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe(samples_s: list[float]) -> str:
    ms = [s * 1000 for s in samples_s]
    return (
        f"p50 {statistics.median(ms):8.3f} ms   p99 {percentile(ms, 0.99):8.3f} ms   "
        f"max {max(ms):8.3f} ms"
    )


def one_token(settings: Settings) -> tuple[float, bool]:
    started = time.perf_counter()
    answer = invoke("audience_token", {}, settings=settings)
    elapsed = time.perf_counter() - started
    return elapsed, answer.status == 200 and bool(answer.json().get("token"))


def main() -> int:
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    emulator = EmulatorServer(
        account_sid=ACCOUNT_SID, api_keys={API_KEY_SID: API_KEY_SECRET}
    ).start()
    try:
        settings = settings_for(emulator)
        host = invoke("host_token", {"password": settings["HOST_PASSWORD"]}, settings=settings)
        emulator.connect(host.json()["token"])
        started = invoke("stream_start", {"session": host.json()["session"]}, settings=settings)
        assert started.status == 200, started.text
        emulator.latency = LATENCY
        print(
            f"twilio, TWILIO_AUDIENCE=video: {CALLS} audience_token calls, "
            f"+{LATENCY * 1000:.0f} ms per Twilio call, "
            f"LIVE_LOOKUP_TTL={settings['LIVE_LOOKUP_TTL']} s"
        )

        # (a) one after the other, from a cold container
        clear_provider_cache()
        emulator.calls.clear()
        results = [one_token(settings) for _ in range(CALLS)]
        served = sum(ok for _, ok in results)
        print(
            f"(a) sequential   Twilio calls {emulator.total_calls():4d}   "
            f"tokens {served:4d}/{CALLS}   {describe([t for t, _ in results])}"
        )

        # (b) all at once, from a cold container
        clear_provider_cache()
        emulator.calls.clear()
        barrier = threading.Barrier(CALLS)

        def viewer(_: int) -> tuple[float, bool]:
            barrier.wait()
            return one_token(settings)

        wall = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CALLS) as pool:
            results = list(pool.map(viewer, range(CALLS)))
        wall = time.perf_counter() - wall
        served = sum(ok for _, ok in results)
        print(
            f"(b) concurrent   Twilio calls {emulator.total_calls():4d}   "
            f"tokens {served:4d}/{CALLS}   {describe([t for t, _ in results])}   "
            f"wall {wall:.2f} s"
        )
        print("    target: 2 Twilio calls per container per LIVE_LOOKUP_TTL, none per viewer")
    finally:
        emulator.stop()
        clear_provider_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
