"""``livescreen dev`` under a crowd: many audience-token clients while a local stream has viewers.

Starts the dev server exactly as a user runs it, in its own process
(``.venv/bin/livescreen dev --port <free> --env-file <temp .env>``, provider local), then:

* phase 1: a ``local`` stream goes live (``/host_token``, ``/stream_start``); this program acts as
  the host (its page's socket, ``/socket``, subscribes to the ``host`` channel, and it answers
  every ``offer`` with ``POST /local/answer``), and ``--viewers`` viewers (default 50, from
  ``VIEWERS_PER_ADDRESS`` per loopback address, as from different machines) each get an
  audience token and keep a socket subscribed to the ``viewer`` channel (their offer, then the
  host's answer) for the whole run;
* phase 2, with those viewers still connected: ``--clients`` closed-loop clients (default 200,
  no think time) each open a NEW TCP connection per request (``Connection: close``) and
  ``POST /audience_token {}`` for ``--seconds`` (default 30). The clients run on asyncio in
  ``--generators`` processes (default 2) separate from the server, so the load generator does
  not share the server's interpreter; their own CPU use is printed so a reader can judge
  whether they were the bottleneck;
* the end: the server gets SIGINT with every viewer still connected, and the time it takes to
  exit is printed.

Figures and targets:

* requests, errors by kind (connection reset, timeout, non-200, ...), throughput, latency p50 /
  p99 / max of the successful requests (target: 0 errors, p99 <= 100 ms on a 2-core machine).
  With closed-loop clients the mean latency is about clients / throughput (Little's law), so
  the p99 target also asks for roughly clients / 0.1 s of throughput;
* viewer sockets that ended or dropped before the end (target 0);
* shutdown: seconds from SIGINT to exit with the viewers connected (target < 2 s);
* the CPU use of the server (per second and per request, which moves less with the machine's
  load than throughput does) and of each generator process, the whole machine's CPU use and the
  share taken by anything else, the load average, and the kernel's listen-queue overflow and
  SYN-retransmit counters (a full accept queue shows up as answers after 1 s, 3 s, 7 s). This
  machine may be shared: read the latency figures next to those;
* one summary line at the end, to quote.

All traffic is on 127.0.0.1; every loop is bounded in time and in count.

Run: ``.venv/bin/python bench/devserver_load.py`` (``--seconds 5 --clients 20 --viewers 5`` for a
quick run; ``--server PATH`` runs another build of the ``livescreen`` command, to compare).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event as EventType
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
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parents[1]
TARGET_P99_MS = 100.0
TARGET_SHUTDOWN_S = 2.0
READY_TIMEOUT_S = 30.0
SETUP_TIMEOUT_S = 20.0
#: A load request that takes longer than this counts as a timeout.
REQUEST_TIMEOUT_S = 5.0
SHUTDOWN_TIMEOUT_S = 15.0
#: Offers sent at once in phase 1 (the hub takes 8 unanswered offers per address, 24 in all).
OFFER_CONCURRENCY = 5
#: Viewers from each loopback address (the hub takes 12 viewers per address).
VIEWERS_PER_ADDRESS = 10
#: A fake but well-formed receive-only offer: the dev server checks its shape and relays it.
FAKE_SDP = (
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n"
)
FAKE_ANSWER = FAKE_SDP.replace("a=recvonly", "a=sendonly")
#: Upper bound on requests per load client, whatever the duration (every loop is bounded).
MAX_REQUESTS_PER_CLIENT_PER_S = 2000
#: Setup requests retried after a reset or a refusal (printed with phase 1).
SETUP_RETRIES = [0]


# -- a tiny HTTP/1.1 client ------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        data = json.loads(self.body or b"{}")
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {self.body[:200]!r}")
        return data


async def call(
    port: int, method: str, path: str, payload: object | None = None, *, attempts: int = 3
) -> Reply:
    """One request on its own connection, read to EOF; retried on a reset (setup only)."""
    for attempt in range(attempts):
        try:
            return await asyncio.wait_for(_call_once(port, method, path, payload), SETUP_TIMEOUT_S)
        except (ConnectionResetError, ConnectionRefusedError):
            if attempt == attempts - 1:
                raise
            SETUP_RETRIES[0] += 1
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")


async def _call_once(port: int, method: str, path: str, payload: object | None) -> Reply:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(encode_request(method, path, port, payload))
        raw = await reader.read()
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status, headers = parse_head(head)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = dechunk(body)
    return Reply(status, headers, body)


# -- page sockets (host and viewers) -----------------------------------------------------------


@dataclass
class Stream:
    """One page's socket subscribed to a channel, read by ``task``; ``closed_at`` is set once it
    ends."""

    label: str
    events: list[tuple[str, str]] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    closed_at: float | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = None
    socket: ClientConnection | None = None


async def open_stream(
    port: int,
    subscription: dict[str, str],
    label: str,
    on_event: Callable[[str, str], None] | None = None,
    *,
    source: str = HOST,
) -> Stream:
    """Open a page's socket from ``source``, subscribe, and read it in a task until it ends;
    returns once the subscription is confirmed."""
    stream = Stream(label)
    socket = await asyncio.wait_for(
        ws_connect(
            f"ws://localhost:{port}/socket",
            origin=Origin(f"http://localhost:{port}"),
            local_addr=(source, 0),
            ping_interval=None,
        ),
        SETUP_TIMEOUT_S,
    )
    stream.socket = socket
    await socket.send(json.dumps({"type": "subscribe", **subscription}))
    refused: list[str] = []

    async def read() -> None:
        try:
            async for text in socket:
                message = json.loads(text)
                name, data = message.get("event", ""), json.dumps(message.get("data", {}))
                if name == "subscribed":
                    stream.connected.set()
                elif name == "error" and not stream.connected.is_set():
                    refused.append(data)
                    stream.connected.set()
                elif name != "ping":
                    stream.events.append((name, data))
                    if on_event is not None:
                        on_event(name, data)
        except (OSError, ConnectionClosed, ValueError) as exc:
            stream.error = type(exc).__name__
        finally:
            stream.closed_at = time.monotonic()
            stream.connected.set()

    stream.task = asyncio.create_task(read(), name=label)
    await asyncio.wait_for(stream.connected.wait(), SETUP_TIMEOUT_S)
    if refused or stream.closed_at is not None:
        await socket.close()
        raise RuntimeError(f"{label}: {subscription['channel']} channel refused {refused}")
    return stream


# -- the load generator (its own processes) --------------------------------------------------


@dataclass
class GeneratorResult:
    latencies_ms: list[float]
    errors: dict[str, int]
    cpu_s: float
    wall_s: float


async def _one_request(port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(request)
        raw = await reader.read()
    finally:
        writer.close()
    if not raw:
        raise EOFError("empty response")
    first = raw.split(b"\r\n", 1)[0].split(b" ")
    return int(first[1])


#: Always printed, even at 0; any other kind is printed when it happens.
ERROR_KINDS = ("connection reset", "timeout", "non-200")


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, EOFError):
        return "empty response"
    return type(exc).__name__


async def _client(
    port: int, deadline: float, limit: int, latencies: list[float], errors: Counter[str]
) -> None:
    request = encode_request("POST", "/audience_token", port, {})
    for _ in range(limit):
        if time.monotonic() >= deadline:
            return
        started = time.perf_counter()
        try:
            status = await asyncio.wait_for(_one_request(port, request), REQUEST_TIMEOUT_S)
        except (OSError, TimeoutError, EOFError, ValueError, IndexError) as exc:
            errors[_error_kind(exc)] += 1
            continue
        if status == 200:
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors[f"HTTP {status}"] += 1


async def _generate(port: int, clients: int, seconds: float) -> GeneratorResult:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    limit = max(1, int(seconds * MAX_REQUESTS_PER_CLIENT_PER_S))
    cpu, wall = time.process_time(), time.monotonic()
    deadline = wall + seconds
    await asyncio.gather(
        *(_client(port, deadline, limit, latencies, errors) for _ in range(clients))
    )
    return GeneratorResult(
        latencies, dict(errors), time.process_time() - cpu, time.monotonic() - wall
    )


def generator_process(
    port: int,
    clients: int,
    seconds: float,
    ready: multiprocessing.Queue[int],
    go: EventType,
    results: multiprocessing.Queue[GeneratorResult | None],
    index: int,
) -> None:
    """Entry point of one generator process: wait for ``go``, run, put the result."""
    ready.put(index)
    if not go.wait(READY_TIMEOUT_S):
        results.put(None)
        return
    results.put(asyncio.run(_generate(port, clients, seconds)))


# -- the server process ----------------------------------------------------------------------


#: Kernel TCP counters (system-wide, /proc/net/netstat) that explain a long latency tail: a
#: full accept queue drops SYNs, and the client retransmits them after 1 s, 3 s, 7 s.
TCP_COUNTERS = ("ListenOverflows", "ListenDrops", "TCPSynRetrans")


def tcp_counters() -> dict[str, int]:
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return {}
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            found = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return {key: int(found[key]) for key in TCP_COUNTERS if key in found}
    return {}


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0.0, 0.0
    ticks = [int(x) for x in first[1:9]]  # user nice system idle iowait irq softirq steal
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - ticks[3] - ticks[4]) / tick, sum(ticks) / tick


def thread_count(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def page_status(port: int) -> int:
    return (await _call_once(port, "GET", "/index.html", None)).status


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Run:
    port: int
    password: str
    host: Stream | None = None
    viewers: list[Stream] = field(default_factory=list)
    answers: int = 0
    answer_failures: int = 0
    background: set[asyncio.Task[None]] = field(default_factory=set)


async def go_live(run: Run, viewer_count: int) -> str:
    """Phase 1: the stream goes live, this program is its host, the viewers connect."""
    started = time.monotonic()
    port = run.port
    reply = await call(port, "POST", "/host_token", {"password": run.password})
    if reply.status != 200:
        raise RuntimeError(f"/host_token -> {reply.status} {reply.body[:200]!r}")
    grant = reply.json()
    host_token, session = grant["token"], grant["session"]
    reply = await call(port, "POST", "/stream_start", {"session": session})
    if reply.status != 200 or not reply.json().get("live"):
        raise RuntimeError(f"/stream_start -> {reply.status} {reply.body[:200]!r}")

    async def answer(viewer: str) -> None:
        payload = {"token": host_token, "viewer": viewer, "sdp": FAKE_ANSWER}
        try:
            reply = await call(port, "POST", "/local/answer", payload)
            ok = reply.status == 200
        except (OSError, TimeoutError, ValueError):
            ok = False
        if ok:
            run.answers += 1
        else:
            run.answer_failures += 1

    def on_host_event(name: str, data: str) -> None:
        if name == "offer":
            task = asyncio.create_task(answer(json.loads(data)["viewer"]))
            run.background.add(task)
            task.add_done_callback(run.background.discard)

    run.host = await open_stream(
        port, {"channel": "host", "token": host_token}, "host", on_host_event
    )
    gate = asyncio.Semaphore(OFFER_CONCURRENCY)

    async def join(index: int) -> Stream:
        async with gate:
            reply = await call(port, "POST", "/audience_token", {})
            token = reply.json().get("token")
            if reply.status != 200 or not token:
                raise RuntimeError(f"/audience_token -> {reply.status} {reply.body[:200]!r}")
            subscription = {"channel": "viewer", "token": token, "sdp": FAKE_SDP}
            source = f"127.0.1.{1 + index // VIEWERS_PER_ADDRESS}"
            stream = await open_stream(port, subscription, f"viewer {index}", source=source)
            # the offer went to the host; wait (bounded) for its answer on the socket
            for _ in range(int(SETUP_TIMEOUT_S * 10)):
                if any(name == "answer" for name, _ in stream.events):
                    return stream
                if stream.closed_at is not None:
                    break
                await asyncio.sleep(0.1)
            raise RuntimeError(f"viewer {index}: no answer ({stream.events[-1:]})")

    joined = await asyncio.gather(*(join(i) for i in range(viewer_count)), return_exceptions=True)
    run.viewers = [stream for stream in joined if isinstance(stream, Stream)]
    failed = [exc for exc in joined if isinstance(exc, BaseException)]
    if failed:
        raise RuntimeError(f"{len(failed)} of {viewer_count} viewers could not join: {failed[0]}")
    # the host hears the count once every viewer is answered
    for _ in range(50):
        if host_viewer_count(run) == viewer_count:
            break
        await asyncio.sleep(0.1)
    return (
        f"phase 1: stream live, {run.answers} offers answered, {len(run.viewers)} viewers "
        f"watching (the host sees {host_viewer_count(run)}), in "
        f"{time.monotonic() - started:.2f} s; setup retries {SETUP_RETRIES[0]}"
    )


def host_viewer_count(run: Run) -> int | None:
    counts = [
        json.loads(d)["count"] for n, d in (run.host.events if run.host else []) if n == "viewers"
    ]
    return counts[-1] if counts else None


def dropped(run: Run) -> list[Stream]:
    """Streams that closed, or heard ``ended``, before the end of the run."""
    streams = [*([run.host] if run.host else []), *run.viewers]
    return [s for s in streams if s.closed_at is not None or any(n == "ended" for n, _ in s.events)]


def describe_loss(stream: Stream) -> str:
    ended = [data for name, data in stream.events if name == "ended"]
    how = f"closed ({stream.error or 'end of stream'})" if stream.closed_at else "open"
    return f"{stream.label}: {how}" + (f", ended event {ended[0]}" if ended else "")


async def load(
    port: int, server_pid: int, clients: int, seconds: float, generators: int
) -> tuple[list[GeneratorResult], dict[str, float]]:
    """Phase 2: ``clients`` split over ``generators`` processes; waits for all of them."""
    context = multiprocessing.get_context("spawn")
    ready: multiprocessing.Queue[int] = context.Queue()
    results: multiprocessing.Queue[GeneratorResult | None] = context.Queue()
    go = context.Event()
    shares = [clients // generators + (i < clients % generators) for i in range(generators)]
    processes = [
        context.Process(
            target=generator_process,
            args=(port, share, seconds, ready, go, results, index),
            daemon=True,
        )
        for index, share in enumerate(shares)
        if share
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            await asyncio.to_thread(ready.get, True, READY_TIMEOUT_S)
        cpu_before, threads_max = cpu_seconds(server_pid), thread_count(server_pid)
        tcp_before, machine_before = tcp_counters(), machine_cpu()
        own_before = time.process_time()
        started = time.monotonic()
        go.set()
        collected: list[GeneratorResult] = []
        limit = seconds + REQUEST_TIMEOUT_S + 30
        while len(collected) < len(processes) and time.monotonic() - started < limit:
            threads_max = max(threads_max, thread_count(server_pid))
            with contextlib.suppress(queue.Empty):
                result = await asyncio.to_thread(results.get, True, 0.5)
                if result is None:
                    raise RuntimeError("a generator process was not told to start in time")
                collected.append(result)
        if len(collected) < len(processes):
            raise RuntimeError("a generator process did not report within its time bound")
        wall = time.monotonic() - started
        server = {
            "wall": wall,
            "cpu": cpu_seconds(server_pid) - cpu_before,
            "threads_max": float(threads_max),
            **{k: float(v - tcp_before.get(k, 0)) for k, v in tcp_counters().items()},
            "own_cpu": time.process_time() - own_before,
            "machine_busy": machine_cpu()[0] - machine_before[0],
            "machine_total": machine_cpu()[1] - machine_before[1],
        }
        return collected, server
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


def report_load(
    results: list[GeneratorResult], server: dict[str, float], clients: int, seconds: float
) -> tuple[str, dict[str, Any]]:
    latencies = sorted(x for r in results for x in r.latencies_ms)
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r.errors)
    failed = sum(errors.values())
    statuses = {kind: n for kind, n in errors.items() if kind.startswith("HTTP ")}
    kinds = {kind: errors[kind] for kind in ERROR_KINDS}
    kinds["non-200"] = sum(statuses.values())
    kinds.update((kind, n) for kind, n in errors.most_common() if kind not in statuses)
    shown = [f"{kind} {n:,}" for kind, n in kinds.items()]
    if statuses:
        shown[2] += " (" + ", ".join(f"{kind}: {n:,}" for kind, n in sorted(statuses.items())) + ")"
    wall = max((r.wall_s for r in results), default=0.0)  # until the last answer arrived
    throughput = len(latencies) / wall if wall else 0.0
    lines = [
        f"phase 2: {clients} closed-loop clients x {seconds:g} s, POST /audience_token, a new "
        f"connection per request, {len(results)} generator process(es)",
        f"  requests    {len(latencies) + failed:,} ({len(latencies):,} answered 200)",
        f"  errors      {failed:,}: "
        + ", ".join(shown)
        + f"   (timeout = no answer within {REQUEST_TIMEOUT_S:.0f} s; target 0)",
        f"  throughput  {throughput:,.0f} req/s over {wall:.1f} s",
    ]
    figures: dict[str, Any] = {"requests": len(latencies) + failed, "errors": failed}
    figures["throughput"] = throughput
    if latencies:
        p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
        lines.append(
            f"  latency     p50 {p50:.1f} ms   p99 {p99:.1f} ms   max {latencies[-1]:.1f} ms   "
            f"mean {statistics.fmean(latencies):.1f} ms   (target p99 <= {TARGET_P99_MS:.0f} ms; "
            f"clients / throughput = {clients / throughput * 1000 if throughput else 0:.0f} ms)"
        )
        figures.update(p50=p50, p99=p99, max=latencies[-1])
        slow = [sum(1 for x in latencies if x > limit) for limit in (100, 1000)]
        kernel = ", ".join(f"{k} {server[k]:,.0f}" for k in TCP_COUNTERS if k in server)
        lines.append(
            f"  tail        {slow[0]:,} answers took > 100 ms, {slow[1]:,} > 1 s; kernel TCP "
            f"counters during the load (whole machine): {kernel or 'n/a'}"
        )
    generator_cpu = ", ".join(f"{r.cpu_s / r.wall_s:.0%}" for r in results if r.wall_s)
    lines.append(
        f"  CPU         server {server['cpu'] / server['wall']:.0%} of one core, "
        f"{server['cpu'] / max(1, len(latencies) + failed) * 1e6:,.0f} µs per request "
        f"(threads up to {server['threads_max']:.0f}); generator process(es) {generator_cpu} "
        "of one core each"
    )
    if server["machine_total"]:
        cores = server["machine_total"] / server["wall"]
        others = server["machine_busy"] - server["cpu"] - server["own_cpu"]
        others -= sum(r.cpu_s for r in results)
        lines.append(
            f"  machine     busy {server['machine_busy'] / server['machine_total']:.0%} of "
            f"{cores:.0f} cores during the load; outside the server, the generators and this "
            f"process (other work, the kernel's softirq): {max(0.0, others) / server['wall']:.0%}"
            " of one core"
        )
    return "\n".join(lines), figures


async def shutdown(run: Run, server: subprocess.Popen[bytes]) -> tuple[float | None, float | None]:
    """SIGINT with the viewers connected: (seconds to exit, seconds until every stream closed)."""
    started = time.monotonic()
    server.send_signal(signal.SIGINT)
    try:
        await asyncio.to_thread(server.wait, SHUTDOWN_TIMEOUT_S)
        exited: float | None = time.monotonic() - started
    except subprocess.TimeoutExpired:
        exited = None
        server.kill()
        await asyncio.to_thread(server.wait, 10)
    streams = [s.task for s in [*([run.host] if run.host else []), *run.viewers] if s.task]
    _, pending = await asyncio.wait(streams, timeout=5) if streams else (set(), set())
    for task in pending:
        task.cancel()
    closed = [s.closed_at for s in run.viewers if s.closed_at is not None]
    if pending or not closed:
        return exited, None
    return exited, max(closed) - started


async def bench(args: argparse.Namespace) -> int:
    cpus = os.cpu_count()
    print(f"livescreen dev under load, loopback only; {cpus} CPUs, load average {load_average()}")
    port = free_port()
    run = Run(port, secrets.token_urlsafe(16))
    with tempfile.TemporaryDirectory(prefix="devserver-load-") as tmp:
        settings = {"HOST_PASSWORD": run.password, "STREAM_PROVIDER": "local"}
        server = start_dev_server(Path(tmp), port, settings, args.server)
        try:
            ready_in = await wait_ready(server, lambda: page_status(port))
            print(
                f"server: {Path(args.server or 'livescreen').name} dev --port {port} "
                "--env-file <temp, STREAM_PROVIDER=local> "
                f"(pid {server.pid}), answering after {ready_in:.2f} s"
            )
            print(await go_live(run, args.viewers))
            results, usage = await load(
                port, server.pid, args.clients, args.seconds, args.generators
            )
            text, figures = report_load(results, usage, args.clients, args.seconds)
            print(text)
            print(f"  load        load average {load_average()} after phase 2")
            lost = dropped(run)
            lost_viewers = sum(1 for stream in lost if stream is not run.host)
            host_state = "dropped" if run.host in lost else "open"
            print(
                f"viewers: {len(run.viewers) - lost_viewers} of {len(run.viewers)} viewer sockets "
                f"open throughout, {lost_viewers} dropped or ended early (target 0); host socket "
                f"{host_state}"
            )
            for stream in lost[:10]:
                print(f"  {describe_loss(stream)}")
            exited, closed = await shutdown(run, server)
        except (RuntimeError, OSError, TimeoutError, ValueError, KeyError) as exc:
            print(f"error: the benchmark could not run: {exc}", file=sys.stderr)
            log = (Path(tmp) / "server.log").read_text(errors="replace")
            print("server output (end):\n" + log[-3000:], file=sys.stderr)
            return 1
        finally:
            if server.poll() is None:
                server.kill()
                server.wait(10)
    print(
        "shutdown: SIGINT with the viewers connected -> "
        + (f"exited in {exited:.2f} s" if exited is not None else "still running, killed")
        + f" (exit code {server.returncode}; target < {TARGET_SHUTDOWN_S:.0f} s); "
        + (
            f"every viewer stream closed within {closed:.2f} s"
            if closed is not None
            else "some viewer streams did not close"
        )
    )
    print(
        f"summary: livescreen dev, {args.clients} clients x {args.seconds:g} s "
        f"POST /audience_token (new connection each): {figures['requests']:,} requests, "
        f"{figures['errors']:,} errors, {figures['throughput']:,.0f} req/s, "
        f"p50 {figures.get('p50', 0):.0f} ms, p99 {figures.get('p99', 0):.0f} ms "
        f"(target <= {TARGET_P99_MS:.0f}); {len(run.viewers) - lost_viewers}/{len(run.viewers)} "
        "viewer sockets kept; SIGINT exit "
        + (f"{exited:.2f} s" if exited is not None else f"> {SHUTDOWN_TIMEOUT_S:.0f} s")
        + f"; load average {load_average()} on {cpus} CPUs"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="concurrent load clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of the load")
    parser.add_argument("--viewers", type=int, default=50, help="viewers kept connected")
    parser.add_argument(
        "--generators", type=int, default=2, help="load generator processes (default 2)"
    )
    parser.add_argument(
        "--server",
        metavar="EXECUTABLE",
        help="run this instead of the livescreen command (same `dev ...` arguments), to compare "
        "builds of the dev server",
    )
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.generators < 1 or args.viewers < 0:
        parser.error("--clients, --seconds and --generators must be positive")
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
