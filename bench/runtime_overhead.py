"""Adapter overhead per invocation: API Gateway event -> trivial function -> Lambda response.

Runs ``runtime.api_gateway.handle_event`` on prebuilt HTTP API (2.0) and REST API (1.0) events
for a function that only calls ``callback(None, {"ok": True})``, and prints p50 / p95 / mean.
Target: p50 <= 200 µs for the 2.0 event.

    .venv/bin/python bench/runtime_overhead.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from livescreen.config import Settings
from livescreen.devserver.http_api_event import build_http_api_v2_event
from livescreen.runtime.api_gateway import handle_event
from livescreen.runtime.loader import FunctionRegistry

TARGET_P50_US = 200.0
TRIVIAL = "def handler(context, event, callback):\n    callback(None, {'ok': True})\n"
SETTINGS = Settings({"STREAM_PROVIDER": "local"}, "bench")
BODY = json.dumps({"session": "x" * 120})


def http_api_v2_event() -> dict[str, Any]:
    return build_http_api_v2_event(
        method="POST",
        path="/trivial",
        headers={
            "content-type": "application/json",
            "host": "abc123.execute-api.eu-west-1.amazonaws.com",
            "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
            "x-forwarded-for": "203.0.113.7",
            "x-forwarded-proto": "https",
            "cookie": "theme=dark; lang=en",
        },
        body=BODY.encode(),
        raw_query="a=1&b=2",
        domain_name="abc123.execute-api.eu-west-1.amazonaws.com",
    )


def rest_api_v1_event() -> dict[str, Any]:
    multi = {
        "Content-Type": ["application/json"],
        "Host": ["abc123.execute-api.eu-west-1.amazonaws.com"],
        "User-Agent": ["Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"],
        "X-Forwarded-For": ["203.0.113.7"],
        "X-Forwarded-Proto": ["https"],
        "Cookie": ["theme=dark; lang=en"],
    }
    return {
        "resource": "/trivial",
        "path": "/trivial",
        "httpMethod": "POST",
        "headers": {k: v[-1] for k, v in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": {"a": "1", "b": "2"},
        "multiValueQueryStringParameters": {"a": ["1"], "b": ["2"]},
        "requestContext": {
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "identity": {"sourceIp": "203.0.113.7"},
            "stage": "prod",
        },
        "body": BODY,
        "isBase64Encoded": False,
    }


def measure(event: dict[str, Any], registry: FunctionRegistry, calls: int) -> list[float]:
    def settings() -> Settings:
        return SETTINGS

    for _ in range(min(1000, calls)):
        response = handle_event(event, registry, "trivial", settings)
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"ok": True}, response
    timings: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        start = clock()
        handle_event(event, registry, "trivial", settings)
        timings.append((clock() - start) / 1000)
    return timings


def summary(label: str, timings: list[float]) -> tuple[str, float]:
    ordered = sorted(timings)
    p50 = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    line = (
        f"{label:<22} calls={len(ordered):>6}  p50={p50:8.1f} µs  p95={p95:8.1f} µs  "
        f"mean={statistics.fmean(ordered):8.1f} µs"
    )
    return line, p50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        functions = Path(folder)
        (functions / "trivial.py").write_text(TRIVIAL)
        registry = FunctionRegistry(functions)
        print(
            f"python {sys.version.split()[0]}; adapter overhead per invocation (target p50 <= "
            f"{TARGET_P50_US:.0f} µs)"
        )
        v2_line, v2_p50 = summary(
            "HTTP API (2.0) event", measure(http_api_v2_event(), registry, args.calls)
        )
        print(v2_line)
        v1_line, v1_p50 = summary(
            "REST API (1.0) event", measure(rest_api_v1_event(), registry, args.calls)
        )
        print(v1_line)
    worst = max(v2_p50, v1_p50)
    print("result:", "OK" if worst <= TARGET_P50_US else f"OVER TARGET ({worst:.1f} µs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
