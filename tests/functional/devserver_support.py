"""Running `livescreen dev` as a user does: in its own process, read up to its ready line."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from livescreen.config import DEFAULTS
from livescreen.providers import clear_provider_cache
from livescreen.providers.local.hub import HUB
from livescreen.security import password_guard


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_dev_until_ready(cwd: Path, port: int) -> tuple[str, subprocess.Popen[str]]:
    """Start ``livescreen dev``; return its output up to the ready line, and the process."""
    env = {k: v for k, v in os.environ.items() if k not in DEFAULTS}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    env["PYTHONUNBUFFERED"] = "1"
    cli = Path(sys.executable).with_name("livescreen")
    process = subprocess.Popen(
        [str(cli), "dev", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if "Press Ctrl+C to stop." in line:
            return "".join(seen), process
    process.kill()
    process.wait()
    pytest.fail("livescreen dev did not become ready:\n" + "".join(seen))


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Not on Lambda; no throttled address, cached provider or live stream from another test."""
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    password_guard.throttle.reset()
    clear_provider_cache()
    HUB.reset()
    yield
    password_guard.throttle.reset()
    clear_provider_cache()
    HUB.reset()
