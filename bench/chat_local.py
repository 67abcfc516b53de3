"""The ``local`` chat under a room of chatters: delivery latency from one sender to everyone else.

Starts the dev server exactly as a user runs it, in its own process
(``.venv/bin/livescreen dev --port <free> --env-file <temp .env>`` with ``CHAT_PROVIDER=local``),
then ``--chatters`` chatters (default 50) each:

* get a token (``POST /chat_token {"name"}``) and keep a page's socket (``/socket``) subscribed
  to the ``chat`` channel, as the page does;
* once every chatter is subscribed, send one message a second (``POST /chat/send``, a new connection
  each, on a fixed schedule staggered across the chatters) for ``--seconds`` (default 30).

A message's delivery latency is the time from just before its ``/chat/send`` request is written
to its arrival on a chatter's socket; the figure that matters, "delivered to the room", is
the largest over every other chatter (the last one to see it). After the last send the run waits
at most ``DRAIN_S`` for stragglers; a message that some chatter never sees counts as missing.

Figures: messages sent, 429s (the per-sender limit is 5 at once then 1 a second, the room's 100 a
second: 50 chatters at 1 a second stay under both) and other errors, deliveries expected / seen /
missing / duplicated, latency p50 / p99 / max to the whole room and per delivery, the CPU use of
the server and of this program (all chatters read their sockets on one asyncio thread, so their
own work is part of the latency), the machine's load average (it may be shared: read the
latency next to it), and one summary line to quote. Each chatter connects from its own
loopback address (127.0.x.y), as from its own machine; every loop is bounded.

Run: ``.venv/bin/python bench/chat_local.py`` (``--seconds 5`` for a quick run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopback import (
    HOST,
    cpu_seconds,
    dechunk,
    encode_request,
    free_port,
    load_average,
    parse_head,
    percentile,
    start_dev_server,
    wait_ready,
)
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parents[1]
SETUP_TIMEOUT_S = 20.0
#: A send that takes longer than this counts as a timeout.
REQUEST_TIMEOUT_S = 5.0
#: How long the run waits after the last send for messages still on their way.
DRAIN_S = 5.0
SHUTDOWN_TIMEOUT_S = 15.0


# -- HTTP on its own connection, and page sockets -------------------------------------------


async def call(
    port: int, method: str, path: str, payload: object | None = None, *, source: str = HOST
) -> tuple[int, bytes]:
    """One request on its own connection from ``source``, read to EOF: (status, body)."""
    reader, writer = await asyncio.open_connection(HOST, port, local_addr=(source, 0))
    try:
        writer.write(encode_request(method, path, port, payload))
        raw = await reader.read()
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status, headers = parse_head(head)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = dechunk(body)
    return status, body


@dataclass
class Chatter:
    index: int
    name: str
    token: str = ""
    identity: str = ""
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    #: message text -> when it arrived on this chatter's stream (perf_counter)
    received: dict[str, float] = field(default_factory=dict)
    duplicates: int = 0
    stream_error: str | None = None
    stream_ended: bool = False
    task: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        """The loopback address this chatter connects from: one machine per chatter, as in a
        real audience (the chat's limits are per client address)."""
        return f"127.0.{1 + self.index // 250}.{1 + self.index % 250}"


async def open_events(port: int, chatter: Chatter) -> None:
    """The chatter's page socket, subscribed to the ``chat`` channel and read in a task; returns
    once the subscription is confirmed."""
    socket = await asyncio.wait_for(
        ws_connect(
            f"ws://localhost:{port}/socket",
            origin=Origin(f"http://localhost:{port}"),
            ping_interval=None,
            local_addr=(chatter.address, 0),
        ),
        SETUP_TIMEOUT_S,
    )
    await socket.send(json.dumps({"type": "subscribe", "channel": "chat", "token": chatter.token}))
    refused: list[str] = []

    async def read() -> None:
        try:
            async for text in socket:
                now = time.perf_counter()
                message = json.loads(text)
                event = message.get("event")
                if event == "subscribed":
                    chatter.connected.set()
                elif event == "error":
                    refused.append(json.dumps(message.get("data")))
                    break
                elif event == "message":
                    sent = message["data"]["text"]
                    if sent in chatter.received:
                        chatter.duplicates += 1
                    else:
                        chatter.received[sent] = now
        except (OSError, ConnectionClosed, ValueError, KeyError) as exc:
            chatter.stream_error = type(exc).__name__
        finally:
            chatter.stream_ended = True
            chatter.connected.set()
            await socket.close()

    chatter.task = asyncio.create_task(read(), name=chatter.name)
    await asyncio.wait_for(chatter.connected.wait(), SETUP_TIMEOUT_S)
    if chatter.stream_ended:
        raise RuntimeError(f"{chatter.name}: the chat channel was refused {refused}")


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Sends:
    #: message text -> (sender index, when the request was about to be written)
    sent: dict[str, tuple[int, float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)


async def chatter_sends(
    port: int, chatter: Chatter, start: float, seconds: float, count: int, sends: Sends
) -> None:
    """One message a second on a fixed schedule (no drift), ``count`` at most."""
    offset = chatter.index / count if count else 0.0
    for n in range(int(seconds)):
        due = start + offset + n
        if due >= start + seconds:
            return
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        text = f"chatter {chatter.index} message {n} {secrets.token_hex(4)}"
        started = time.perf_counter()
        sends.sent[text] = (chatter.index, started)
        try:
            status, _ = await asyncio.wait_for(
                call(
                    port,
                    "POST",
                    "/chat/send",
                    {"token": chatter.token, "text": text},
                    source=chatter.address,
                ),
                REQUEST_TIMEOUT_S,
            )
        except (OSError, TimeoutError, ValueError) as exc:
            del sends.sent[text]
            sends.errors[type(exc).__name__] += 1
            continue
        if status != 200:
            del sends.sent[text]
            sends.errors["429 (too fast)" if status == 429 else f"HTTP {status}"] += 1


def spread(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    return (
        f"p50 {percentile(ordered, 0.5):.1f} ms, p99 {percentile(ordered, 0.99):.1f} ms, "
        f"max {ordered[-1]:.1f} ms"
    )


async def page_status(port: int) -> int:
    status, _ = await call(port, "GET", "/index.html")
    return status


async def join(port: int, chatter: Chatter) -> None:
    status, body = await asyncio.wait_for(
        call(port, "POST", "/chat_token", {"name": chatter.name}, source=chatter.address),
        SETUP_TIMEOUT_S,
    )
    grant = json.loads(body or b"{}")
    if status != 200 or grant.get("chat") != "local":
        raise RuntimeError(f"{chatter.name}: /chat_token -> {status} {body[:200]!r}")
    chatter.token, chatter.identity = grant["token"], grant["identity"]
    await open_events(port, chatter)


async def drain(chatters: list[Chatter], sends: Sends) -> float:
    """Waits (at most DRAIN_S) until every chatter saw every other chatter's messages."""
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_S:
        if all(
            text in c.received
            for text, (sender, _) in sends.sent.items()
            for c in chatters
            if c.index != sender
        ):
            break
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def report(chatters: list[Chatter], sends: Sends, seconds: float) -> dict[str, Any]:
    per_delivery: list[float] = []
    to_room: list[float] = []
    missing = 0
    for text, (sender, sent_at) in sends.sent.items():
        arrivals = [c.received.get(text) for c in chatters if c.index != sender]
        seen = [t for t in arrivals if t is not None]
        missing += len(arrivals) - len(seen)
        per_delivery += [(t - sent_at) * 1000 for t in seen]
        if len(seen) == len(arrivals) and seen:
            to_room.append((max(seen) - sent_at) * 1000)
    expected = len(sends.sent) * (len(chatters) - 1)
    refused = sends.errors.get("429 (too fast)", 0)
    other = sum(n for kind, n in sends.errors.items() if kind != "429 (too fast)")
    duplicates = sum(c.duplicates for c in chatters)
    dropped = [c.name for c in chatters if c.stream_ended]
    print(
        f"sent: {len(sends.sent):,} messages accepted in {seconds:g} s "
        f"({len(sends.sent) / seconds:.1f}/s); 429s {refused}; other errors {other}"
        + (f" ({', '.join(f'{k} {n}' for k, n in sorted(sends.errors.items()))})" if other else "")
    )
    print(
        f"deliveries: {len(per_delivery):,} of {expected:,} expected, {missing} missing, "
        f"{duplicates} duplicated; chat sockets dropped during the run: {len(dropped)}"
    )
    print(f"  delivered to the whole room (last of {len(chatters) - 1} others): {spread(to_room)}")
    print(f"  per delivery (each chatter):  {spread(per_delivery)}")
    ordered = sorted(to_room)
    return {
        "sent": len(sends.sent),
        "refused": refused,
        "errors": other,
        "missing": missing,
        "p50": percentile(ordered, 0.5) if ordered else float("nan"),
        "p99": percentile(ordered, 0.99) if ordered else float("nan"),
    }


async def bench(args: argparse.Namespace) -> int:
    cpus = os.cpu_count()
    print(
        f"local chat: {args.chatters} chatters x 1 message/s for {args.seconds:g} s, loopback "
        f"only; {cpus} CPUs, load average {load_average()}"
    )
    port = free_port()
    chatters = [Chatter(i, f"chatter {i}") for i in range(args.chatters)]
    sends = Sends()
    with tempfile.TemporaryDirectory(prefix="chat-local-") as tmp:
        settings = {
            "HOST_PASSWORD": secrets.token_urlsafe(16),
            "STREAM_PROVIDER": "local",
            "CHAT_PROVIDER": "local",
        }
        server = start_dev_server(Path(tmp), port, settings)
        try:
            ready_in = await wait_ready(server, lambda: page_status(port))
            print(
                f"server: livescreen dev --port {port} --env-file <temp> (CHAT_PROVIDER=local, "
                f"pid {server.pid}), answering after {ready_in:.2f} s"
            )
            joined = time.perf_counter()
            await asyncio.gather(*(join(port, c) for c in chatters))
            print(
                f"joined: {len(chatters)} tokens and chat sockets open in "
                f"{(time.perf_counter() - joined) * 1000:.0f} ms"
            )
            cpu, own_cpu = cpu_seconds(server.pid), time.process_time()
            start = time.perf_counter() + 0.2
            await asyncio.gather(
                *(
                    chatter_sends(port, c, start, args.seconds, len(chatters), sends)
                    for c in chatters
                )
            )
            waited = await drain(chatters, sends)
            server_cpu = cpu_seconds(server.pid) - cpu
            own_cpu = time.process_time() - own_cpu
            figures = report(chatters, sends, args.seconds)
            span = args.seconds + waited
            print(
                f"CPU: server {server_cpu:.2f} s ({server_cpu / span * 100:.0f}% of one core), "
                f"this program's {len(chatters)} chatters {own_cpu:.2f} s "
                f"({own_cpu / span * 100:.0f}%, one thread: latency includes their reading); "
                f"waited {waited:.2f} s after the last send; load average {load_average()}"
            )
        except (RuntimeError, OSError, TimeoutError, ValueError, KeyError) as exc:
            print(f"error: the benchmark could not run: {exc}", file=sys.stderr)
            log = (Path(tmp) / "server.log").read_text(errors="replace")
            print("server output (end):\n" + log[-3000:], file=sys.stderr)
            return 1
        finally:
            for chatter in chatters:
                if chatter.task:
                    chatter.task.cancel()
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(SHUTDOWN_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(10)
    print(
        f"summary: local chat, {args.chatters} chatters x 1 msg/s x {args.seconds:g} s over "
        f"loopback: {figures['sent']:,} messages, delivered to the whole room p50 "
        f"{figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms; {figures['refused']} x 429, "
        f"{figures['errors']} errors, {figures['missing']} deliveries missing; "
        f"load average {load_average()} on {cpus} CPUs"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chatters", type=int, default=50, help="chatters (default 50)")
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="how long each sends, 1 message/s (default 30)"
    )
    args = parser.parse_args()
    if args.chatters < 2 or args.seconds < 1:
        parser.error("--chatters must be at least 2 and --seconds at least 1")
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
