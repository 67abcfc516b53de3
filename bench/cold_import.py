"""Cold import time of each Lambda entry, in fresh interpreters.

For ``livescreen.runtime.lambda_entry`` alone and for each ``functions/<name>.py`` (the entry
plus loading the function through its registry, as the first invocation does), runs a fresh
``python`` several times and prints the median in ms. Target: <= 400 ms. For any entry over
target (or with ``--top``), ``python -X importtime`` shows which imports dominate.

    .venv/bin/python bench/cold_import.py [--runs 5] [--top]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 400.0
#: Provider modules a function may import on its first request, measured when present.
OPTIONAL_MODULES = (
    "livescreen.providers.ivs.stage_events",
    "livescreen.providers.ivs.reaper",
    "livescreen.providers.ivs.provider",
    "livescreen.providers.twilio.factory",
)

TIMED = """
import time
_start = time.perf_counter()
{code}
print(f"{{(time.perf_counter() - _start) * 1000:.3f}}")
"""


def entries() -> dict[str, str]:
    found = {"lambda_entry": "import livescreen.runtime.lambda_entry"}
    for path in sorted((ROOT / "functions").glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = path.name.removesuffix(".py").removesuffix(".protected")
        found[f"lambda_entry + {name}"] = (
            "import livescreen.runtime.lambda_entry as entry\n"
            f"assert entry._registry.get({name!r}) is not None"
        )
    # What the first invocation adds: the structured logger (built lazily by the entry).
    found["powertools Logger (first call)"] = (
        "from aws_lambda_powertools import Logger\nLogger(service='bench')"
    )
    for module in OPTIONAL_MODULES:
        if importlib.util.find_spec(module) is not None:
            found[module] = f"import {module}"
    return found


def run_once(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", TIMED.format(code=code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )


def cold_ms(code: str, runs: int) -> list[float]:
    run_once(code)  # writes the .pyc files, as a deployed package would already have them
    return [float(run_once(code).stdout.strip()) for _ in range(runs)]


def dominant_imports(code: str, limit: int = 10) -> list[tuple[float, str]]:
    """The slowest top-level-ish imports (cumulative µs) reported by ``-X importtime``."""
    stderr = run_once(code, "-X", "importtime").stderr
    rows: list[tuple[float, str, int]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative, name = line.removeprefix("import time:").split("|", 2)
        # the name column is indented two spaces per nesting level, after one leading space
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((int(cumulative) / 1000, name.strip(), depth))
    shallow = [row for row in rows if row[2] <= 1]
    shallow.sort(reverse=True)
    return [(ms, name) for ms, name, _ in shallow[:limit]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", action="store_true", help="always show the dominant imports")
    args = parser.parse_args()
    print(
        f"python {sys.version.split()[0]}; cold import, median of {args.runs} fresh "
        f"interpreters (target <= {TARGET_MS:.0f} ms)"
    )
    over: list[str] = []
    found = entries()
    for label, code in found.items():
        timings = cold_ms(code, args.runs)
        median = statistics.median(timings)
        flag = "" if median <= TARGET_MS else "  OVER TARGET"
        print(
            f"  {label:<36} median={median:7.1f} ms  min={min(timings):7.1f}  "
            f"max={max(timings):7.1f}{flag}"
        )
        if flag or args.top:
            for ms, name in dominant_imports(code):
                print(f"      {ms:8.1f} ms  {name}")
        if flag:
            over.append(label)
    for module in OPTIONAL_MODULES:
        if module not in found:
            print(f"  {module:<36} (not present)")
    print("result:", "OK" if not over else f"OVER TARGET: {', '.join(over)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
