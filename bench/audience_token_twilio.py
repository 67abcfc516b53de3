"""How much an audience token costs with the ``twilio`` provider, against the local emulator.

(a) ``audience_grant`` with a warm PlaybackGrant, in process: p50/p95 per call.
(b) 1,000 viewers arriving together (one thread each) with 50 ms added to every Twilio call:
    Twilio calls made and per-viewer latency, for the provider (one grant shared by everyone)
    and, in the same run, for the per-viewer approach of the original tutorial (list the
    started PlayerStreamers, then create a PlaybackGrant: two Twilio calls per viewer).

Run: .venv/bin/python bench/audience_token_twilio.py
"""

from __future__ import annotations

import logging
import secrets
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from livescreen.config import Settings
from livescreen.providers.twilio.provider import TwilioProvider
from livescreen.runtime.twilio_client import make_twilio_client
from twilio_emulator import EmulatorServer

VIEWERS = 1000
LATENCY = 0.050
WARM_CALLS = 5000
ACCOUNT_SID = "AC" + secrets.token_hex(16)
API_KEY_SID = "SK" + secrets.token_hex(16)
API_KEY_SECRET = secrets.token_urlsafe(32)


def settings_for(emulator: EmulatorServer) -> Settings:
    return Settings(
        {
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
        f"p50 {statistics.median(ms):8.3f} ms   p95 {percentile(ms, 0.95):8.3f} ms   "
        f"max {max(ms):8.3f} ms"
    )


def tutorial_audience_token(settings: Settings) -> Callable[[], str | None]:
    """The original per-viewer flow: two Twilio calls for every viewer."""
    import json

    from twilio.jwt.access_token import AccessToken
    from twilio.jwt.access_token.grants import PlaybackGrant

    client = make_twilio_client(settings)

    def audience_token() -> str | None:
        listed = client.request(
            "GET",
            "https://media.twilio.com/v1/PlayerStreamers",
            params={"Status": "started", "PageSize": 1},
        )
        streamers = json.loads(listed.text).get("player_streamers") or []
        if not streamers:
            return None
        created = client.request(
            "POST",
            f"https://media.twilio.com/v1/PlayerStreamers/{streamers[0]['sid']}/PlaybackGrant",
            data={"Ttl": 60},
        )
        grant = json.loads(created.text)["grant"]
        token = AccessToken(ACCOUNT_SID, API_KEY_SID, API_KEY_SECRET, identity=secrets.token_hex(8))
        token.add_grant(PlaybackGrant(grant=grant))
        return str(token.to_jwt())

    return audience_token


def crowd(call: Callable[[], str | None]) -> tuple[list[float], int]:
    """``VIEWERS`` threads call ``call`` at once: (latencies, viewers that got a token)."""
    barrier = threading.Barrier(VIEWERS)

    def viewer(_: int) -> tuple[float, bool]:
        barrier.wait()
        started = time.perf_counter()
        token = call()
        return time.perf_counter() - started, token is not None

    with ThreadPoolExecutor(max_workers=VIEWERS) as pool:
        results = list(pool.map(viewer, range(VIEWERS)))
    return [latency for latency, _ in results], sum(ok for _, ok in results)


def main() -> int:
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # pool-overflow chatter under load
    emulator = EmulatorServer(
        account_sid=ACCOUNT_SID, api_keys={API_KEY_SID: API_KEY_SECRET}
    ).start()
    try:
        settings = settings_for(emulator)
        host = TwilioProvider(settings, make_twilio_client(settings))
        host.start_stream(host.create_host_grant().room)

        # (a) warm grant, in process
        provider = TwilioProvider(settings, make_twilio_client(settings))
        provider.audience_grant()
        samples = []
        for _ in range(WARM_CALLS):
            started = time.perf_counter()
            provider.audience_grant()
            samples.append(time.perf_counter() - started)
        print(f"(a) audience_grant, warm grant, {WARM_CALLS} calls in process")
        print(f"    {describe(samples)}   (target p50 <= 2 ms)")

        # (b) a crowd of viewers with 50 ms per Twilio call
        emulator.latency = LATENCY
        print(
            f"(b) {VIEWERS} concurrent viewers, +{LATENCY * 1000:.0f} ms per Twilio call "
            "(emulator over HTTP)"
        )
        shared = TwilioProvider(settings, make_twilio_client(settings))
        approaches: list[tuple[str, Callable[[], str | None]]] = [
            ("provider: shared grant", lambda: shared.audience_grant().token),
            ("tutorial: per viewer  ", tutorial_audience_token(settings)),
        ]
        for label, audience in approaches:
            emulator.calls.clear()
            started = time.perf_counter()
            latencies, served = crowd(audience)
            wall = time.perf_counter() - started
            upstream = emulator.total_calls()
            print(
                f"    {label}  Twilio calls {upstream:5d}   tokens {served:4d}/{VIEWERS}   "
                f"{describe(latencies)}   wall {wall:.2f} s"
            )
        print("    target for the provider: <= 5 Twilio calls for the whole crowd")
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
