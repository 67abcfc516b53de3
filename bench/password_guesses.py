"""How many host-password guesses per minute get through the throttle, from 1 and from 50 addresses.

Every guess is a real ``POST /host_token`` request with a wrong password: an API Gateway 2.0
event built by ``devserver.http_api_event.build_http_api_v2_event`` with its ``sourceIp`` set to
the guessing address, answered by ``runtime.api_gateway.handle_event`` (the code path of Lambda
and of the dev server). The throttle (``livescreen/security/password_guard.py``) runs on a fake
clock, so ten simulated minutes take well under a second or two; no address is spoofed on any
network.

A guess "gets through" when the password is actually checked (401), as opposed to refused
unchecked (429). Each address guesses once every ``--interval`` simulated seconds.

    .venv/bin/python bench/password_guesses.py [--minutes 10] [--interval 1.0] [--addresses 1 50]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from livescreen.config import Settings
from livescreen.devserver.http_api_event import build_http_api_v2_event
from livescreen.runtime.api_gateway import handle_event
from livescreen.runtime.loader import FunctionRegistry
from livescreen.security import password_guard
from livescreen.security.password_guard import MAX_FAILURES, WINDOW_SECONDS, FailureThrottle

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": "the-real-host-password",
        "HOST_SESSION_SECRET": "bench-session-secret-0123456789abcdef0123",
    },
    "the benchmark",
)
BODY = json.dumps({"password": "a-wrong-guess"}).encode()


class SimulatedClock:
    """The throttle's clock: seconds that the simulation advances by hand."""

    def __init__(self, start: float = 10_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@contextmanager
def throttle_on(clock: SimulatedClock) -> Iterator[FailureThrottle]:
    """A fresh throttle on ``clock`` in place of the process-wide one, for the duration."""
    original = password_guard.throttle
    password_guard.throttle = FailureThrottle(now=clock)
    try:
        yield password_guard.throttle
    finally:
        password_guard.throttle = original


def address(n: int) -> str:
    return f"198.51.{100 + n // 250}.{1 + n % 250}"


def guess(registry: FunctionRegistry, source_ip: str) -> int:
    event = build_http_api_v2_event(
        method="POST",
        path="/host_token",
        headers={"content-type": "application/json", "user-agent": "password-guesser"},
        body=BODY,
        source_ip=source_ip,
    )
    status: int = handle_event(event, registry, "host_token", lambda: SETTINGS)["statusCode"]
    return status


def simulate(addresses: int, minutes: int, interval: float) -> tuple[list[int], list[int]]:
    """Guesses tried and guesses checked (not 429), per simulated minute."""
    clock = SimulatedClock()
    start = clock.now
    tried = [0] * minutes
    checked = [0] * minutes
    statuses: Counter[int] = Counter()
    with throttle_on(clock) as throttle:
        # a registry of its own loads functions/host_token.py now, bound to the fake throttle
        registry = FunctionRegistry(ROOT / "functions")
        steps = round(minutes * 60 / interval)
        for step in range(steps):
            clock.now = start + step * interval
            minute = int(step * interval // 60)
            for n in range(addresses):
                status = guess(registry, address(n))
                statuses[status] += 1
                tried[minute] += 1
                if status != 429:
                    checked[minute] += 1
        if throttle.retry_after(address(0)) == 0:
            raise SystemExit("host_token did not use the throttle under test: figures invalid")
    unexpected = set(statuses) - {401, 429}
    if unexpected:
        raise SystemExit(f"unexpected answers to wrong passwords: {dict(statuses)}")
    return tried, checked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=10, help="simulated minutes (default 10)")
    parser.add_argument(
        "--interval", type=float, default=1.0, help="simulated seconds between guesses per address"
    )
    parser.add_argument("--addresses", type=int, nargs="+", default=[1, 50])
    args = parser.parse_args(argv)
    if args.minutes < 1 or args.interval <= 0 or min(args.addresses) < 1:
        parser.error("--minutes, --interval and --addresses must be positive")

    began = time.perf_counter()
    results = {n: simulate(n, args.minutes, args.interval) for n in args.addresses}
    elapsed = time.perf_counter() - began

    bound = MAX_FAILURES * 60 / WINDOW_SECONDS
    print(
        f"POST /host_token with wrong passwords through handle_event; throttle: "
        f"{MAX_FAILURES} failures per {WINDOW_SECONDS:.0f} s per sourceIp"
    )
    print(
        f"each address guesses every {args.interval:g} s for {args.minutes} simulated minutes "
        f"(fake clock; {elapsed:.2f} s of real time)"
    )
    header = "minute" + "".join(f" | {n:>3} addr: tried  checked" for n in args.addresses)
    print(header)
    print("-" * len(header))
    for minute in range(args.minutes):
        cells = "".join(
            f" | {results[n][0][minute]:>16}  {results[n][1][minute]:>7}" for n in args.addresses
        )
        print(f"{minute + 1:>6}{cells}")
    print("-" * len(header))
    for n in args.addresses:
        tried, checked = results[n]
        print(
            f"{n:>3} address{'es' if n > 1 else '  '}: {sum(tried)} tried, {sum(checked)} checked "
            f"in {args.minutes} min = {sum(checked) / args.minutes:.1f} checked/min sustained "
            f"(first minute {checked[0]}); bound {bound * n:g}/min sustained, "
            f"{MAX_FAILURES * n} in a burst"
        )
    print(
        "(the throttle counts per process: the dev server's, or each warm Lambda container's; "
        "on AWS the POST /host_token route throttle in template.yaml caps all addresses together)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
