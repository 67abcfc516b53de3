"""What the benchmarks that drive ``livescreen dev`` over loopback share: raw HTTP/1.1 on a
connection of its own, the server's command and CPU, and the figures' arithmetic."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path

from livescreen.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
READY_TIMEOUT_S = 30.0


def encode_request(method: str, path: str, port: int, payload: object | None = None) -> bytes:
    body = b"" if payload is None else json.dumps(payload).encode()
    head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close"]
    if payload is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"not an HTTP response: {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cli_path() -> Path:
    beside = Path(sys.executable).with_name("livescreen")
    return beside if beside.exists() else ROOT / ".venv" / "bin" / "livescreen"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def body_chunks(reader: asyncio.StreamReader, chunked: bool) -> AsyncIterator[bytes]:
    for _ in range(10_000_000):  # bounded: a stream ends long before
        if not chunked:
            data = await reader.read(65536)
            if not data:
                return
            yield data
            continue
        size_line = await reader.readline()
        if not size_line:
            return
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return
        data = await reader.readexactly(size)
        await reader.readexactly(2)
        yield data


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def start_dev_server(
    tmp: Path, port: int, settings: Mapping[str, str], executable: str | None = None
) -> subprocess.Popen[bytes]:
    """``livescreen dev`` as a user runs it, with its own settings file; output to a log."""
    env_file = tmp / ".env"
    lines = [f"HOST_SESSION_SECRET={secrets.token_urlsafe(48)}"]
    lines += [f"{key}={value}" for key, value in settings.items()]
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in DEFAULTS}  # the .env file decides
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    command = [executable or str(cli_path()), "dev", "--port", str(port)]
    command += ["--env-file", str(env_file)]
    with (tmp / "server.log").open("wb") as log:
        return subprocess.Popen(
            command, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )


async def wait_ready(
    server: subprocess.Popen[bytes], page_status: Callable[[], Awaitable[int]]
) -> float:
    """Seconds until ``page_status()`` (a GET of a page) answers 200; fails if the server exits."""
    started = time.monotonic()
    while time.monotonic() - started < READY_TIMEOUT_S:
        if server.poll() is not None:
            raise RuntimeError(f"livescreen dev exited with {server.returncode}")
        with contextlib.suppress(OSError, ValueError, TimeoutError):
            if await asyncio.wait_for(page_status(), 2.0) == 200:
                return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise RuntimeError(f"livescreen dev did not answer within {READY_TIMEOUT_S:.0f} s")
