"""A hostile chat neighbour: one address flooding the ``local`` chat next to a normal one.

Starts the dev server exactly as a user runs it, in its own process (``.venv/bin/livescreen dev
--port <free> --env-file <temp .env>``, ``STREAM_PROVIDER=local``, ``CHAT_PROVIDER=local``). The
host signs in from 127.0.0.1, goes live, keeps its page's socket open (so the stream stays live)
and takes its chat token. Then, for ``--seconds`` (default 20):

* the flooder (127.0.0.66) asks for ``FLOOD_TOKENS`` chat tokens, then sends messages as fast
  as ``FLOOD_THREADS`` threads can, round-robin over every token it got, and asks for one more
  token each second;
* a normal chatter (127.0.0.2) sends one message a second (its own limit), and every
  ``JOIN_EVERY_S`` a newcomer from that address joins: ``POST /audience_token`` (a viewer token
  for the live stream) then ``POST /chat_token``;
* the host signs in again every ``SIGN_IN_EVERY_S`` (``POST /host_token``), timed.

Then the host disconnects one of the flooder's chatters, and for ``AFTER_S`` the flooder keeps
sending and asks for a new token.

Figures: messages accepted per second, flooder against normal; the tokens the flooder got; the
newcomers' joins that succeeded; the host's sign-in latency before and under the flood (p50,
p95, max); what the flooder gets through after the Disconnect; the server's CPU and the machine's
load average (it may be shared). Every request is on a connection of its own; all traffic is on
loopback; every loop is bounded; the run takes about 30 s.

Run: ``.venv/bin/python bench/hostile_neighbour.py`` (``--seconds 5`` for a quick run).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopback import cpu_seconds, free_port, load_average, percentile, start_dev_server

HOST_ADDRESS = "127.0.0.1"
NORMAL_ADDRESS = "127.0.0.2"
FLOODER_ADDRESS = "127.0.0.66"
PASSWORD = f"bench-{secrets.token_urlsafe(18)}"
FLOOD_TOKENS = 120
FLOOD_THREADS = 8
JOIN_EVERY_S = 2.0
SIGN_IN_EVERY_S = 0.5
BASELINE_SIGN_INS = 10
AFTER_S = 3.0
REQUEST_TIMEOUT_S = 10.0
READY_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 15.0


@dataclass
class Reply:
    status: int
    body: Any
    seconds: float


class Server:
    """The dev server's address and the requests its pages send."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"

    def post(self, path: str, payload: dict[str, Any], source: str) -> Reply:
        """A same-origin JSON POST from ``source`` on a connection of its own."""
        body = json.dumps(payload).encode()
        started = time.perf_counter()
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S, source_address=(source, 0)
        )
        try:
            connection.request(
                "POST",
                path,
                body=body,
                headers={
                    "Content-Type": "application/json",
                    "Origin": self.origin,
                    "Sec-Fetch-Site": "same-origin",
                },
            )
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            return Reply(0, None, time.perf_counter() - started)
        finally:
            connection.close()
        with contextlib.suppress(ValueError):
            return Reply(
                response.status, json.loads(data or b"null"), time.perf_counter() - started
            )
        return Reply(response.status, None, time.perf_counter() - started)

    def wait_ready(self, process: subprocess.Popen[bytes]) -> float:
        started = time.monotonic()
        while time.monotonic() - started < READY_TIMEOUT_S:
            if process.poll() is not None:
                raise RuntimeError(f"livescreen dev exited with {process.returncode}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                if self.post("/audience_token", {}, HOST_ADDRESS).status == 200:
                    return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"livescreen dev did not answer within {READY_TIMEOUT_S:.0f} s")

    @contextlib.contextmanager
    def host_socket(self, host_token: str) -> Iterator[None]:
        """The host page's socket, subscribed to its signalling channel: the stream stays live
        while it is open."""
        from websockets.sync.client import connect
        from websockets.typing import Origin

        with connect(
            f"ws://127.0.0.1:{self.port}/socket",
            origin=Origin(self.origin),
            compression=None,
            proxy=None,
        ) as ws:
            ws.send(json.dumps({"type": "subscribe", "channel": "host", "token": host_token}))
            first = json.loads(ws.recv(timeout=REQUEST_TIMEOUT_S))
            if first.get("event") != "subscribed":
                raise RuntimeError(f"the host's channel was refused: {first}")
            yield


@dataclass
class Tally:
    """What one side of the run saw; appended to from several threads."""

    sends: Counter[int] = field(default_factory=Counter)
    tokens: Counter[int] = field(default_factory=Counter)
    joins: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, counter: Counter[Any], key: Any) -> None:
        with self.lock:
            counter[key] += 1


def chat_token(server: Server, source: str, name: str, session: str | None = None) -> Reply:
    payload: dict[str, Any] = {"name": name} if session is None else {"session": session}
    return server.post("/chat_token", payload, source)


def send(server: Server, token: str, text: str, source: str) -> int:
    return server.post("/chat/send", {"token": token, "text": text}, source).status


def flood(
    server: Server,
    tokens: list[str],
    tally: Tally,
    until: float,
    offset: int,
    stop: threading.Event,
) -> None:
    n = 0
    while time.monotonic() < until and not stop.is_set():
        token = tokens[(offset + n * FLOOD_THREADS) % len(tokens)]
        tally.add(tally.sends, send(server, token, f"spam {offset}-{n}", FLOODER_ADDRESS))
        n += 1


def more_tokens(server: Server, tally: Tally, until: float, stop: threading.Event) -> None:
    while not stop.wait(1.0) and time.monotonic() < until:
        tally.add(tally.tokens, chat_token(server, FLOODER_ADDRESS, "Bot").status)


def normal_chatter(server: Server, tally: Tally, until: float, stop: threading.Event) -> None:
    grant = chat_token(server, NORMAL_ADDRESS, "Nina")
    if grant.status != 200:
        raise RuntimeError(f"the normal chatter got no token: {grant.status} {grant.body}")
    n = 0
    next_send = time.monotonic()
    next_join = time.monotonic()
    while time.monotonic() < until and not stop.is_set():
        now = time.monotonic()
        if now >= next_send:
            tally.add(tally.sends, send(server, grant.body["token"], f"hello {n}", NORMAL_ADDRESS))
            n += 1
            next_send += 1.0
        if now >= next_join:
            audience = server.post("/audience_token", {}, NORMAL_ADDRESS)
            chat = chat_token(server, NORMAL_ADDRESS, f"Newcomer {n}")
            watch_ok = audience.status == 200 and bool((audience.body or {}).get("token"))
            tally.add(tally.joins, "ok" if watch_ok and chat.status == 200 else "failed")
            next_join += JOIN_EVERY_S
        stop.wait(max(0.0, min(next_send, next_join) - time.monotonic()))


def host_sign_ins(
    server: Server, tally: Tally, until: float, stop: threading.Event, limit: int = 10_000
) -> None:
    for _ in range(limit):
        if time.monotonic() >= until or stop.is_set():
            return
        reply = server.post("/host_token", {"password": PASSWORD}, HOST_ADDRESS)
        if reply.status != 200:
            raise RuntimeError(f"the host could not sign in: {reply.status} {reply.body}")
        with tally.lock:
            tally.latencies.append(reply.seconds)
        stop.wait(SIGN_IN_EVERY_S)


def run_threads(targets: list[threading.Thread], until: float) -> None:
    for thread in targets:
        thread.start()
    for thread in targets:
        thread.join(timeout=max(1.0, until - time.monotonic() + REQUEST_TIMEOUT_S * 2))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def latency_line(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    if not ordered:
        return "no sample"
    return (
        f"p50 {ms(percentile(ordered, 0.5))}, p95 {ms(percentile(ordered, 0.95))}, "
        f"max {ms(ordered[-1])} ({len(ordered)} sign-ins)"
    )


def bench(seconds: float) -> int:
    port = free_port()
    settings = {
        "STREAM_PROVIDER": "local",
        "CHAT_PROVIDER": "local",
        "HOST_PASSWORD": PASSWORD,
        "RECORDING": "off",
    }
    with tempfile.TemporaryDirectory() as tmp:
        process = start_dev_server(Path(tmp), port, settings)
        server = Server(port)
        try:
            ready_in = server.wait_ready(process)
            print(
                f"server: livescreen dev --port {port} (local provider, local chat, pid "
                f"{process.pid}), answering after {ready_in:.2f} s"
            )
            return measure(server, process, seconds)
        finally:
            process.terminate()
            try:
                process.wait(SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def measure(server: Server, process: subprocess.Popen[bytes], seconds: float) -> int:
    signed_in = server.post("/host_token", {"password": PASSWORD}, HOST_ADDRESS)
    if signed_in.status != 200:
        raise RuntimeError(f"the host could not sign in: {signed_in.status} {signed_in.body}")
    session = signed_in.body["session"]
    if server.post("/stream_start", {"session": session}, HOST_ADDRESS).status != 200:
        raise RuntimeError("the host could not go live")
    host_chat = chat_token(server, HOST_ADDRESS, "Host", session=session).body
    with server.host_socket(signed_in.body["token"]):
        # before the flood: the host's sign-in alone
        quiet = Tally()
        host_sign_ins(server, quiet, time.monotonic() + 60, threading.Event(), BASELINE_SIGN_INS)

        # the flood
        flooder, normal, host = Tally(), Tally(), Tally()
        asked = [chat_token(server, FLOODER_ADDRESS, f"Bot{n}") for n in range(FLOOD_TOKENS)]
        for reply in asked:
            flooder.tokens[reply.status] += 1
        grants = [reply.body for reply in asked if reply.status == 200]
        if not grants:
            raise RuntimeError("the flooder got no token at all")
        cpu_before = cpu_seconds(process.pid)
        stop = threading.Event()
        started = time.monotonic()
        until = started + seconds
        tokens = [grant["token"] for grant in grants]
        threads = [
            threading.Thread(target=flood, args=(server, tokens, flooder, until, n, stop))
            for n in range(FLOOD_THREADS)
        ]
        threads += [
            threading.Thread(target=more_tokens, args=(server, flooder, until, stop)),
            threading.Thread(target=normal_chatter, args=(server, normal, until, stop)),
            threading.Thread(target=host_sign_ins, args=(server, host, until, stop)),
        ]
        run_threads(threads, until)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(process.pid) - cpu_before

        # the host disconnects one of the flooder's chatters
        disconnected = server.post(
            "/chat/disconnect",
            {"token": host_chat["token"], "identity": grants[0]["identity"]},
            HOST_ADDRESS,
        )
        after = Tally()
        after_until = time.monotonic() + AFTER_S
        run_threads(
            [
                threading.Thread(target=flood, args=(server, tokens, after, after_until, n, stop))
                for n in range(FLOOD_THREADS)
            ],
            after_until,
        )
        new_token = chat_token(server, FLOODER_ADDRESS, "Innocent")

    report(flooder, normal, host, quiet, after, elapsed, cpu, disconnected, new_token)
    return 0


def report(
    flooder: Tally,
    normal: Tally,
    host: Tally,
    quiet: Tally,
    after: Tally,
    elapsed: float,
    cpu: float,
    disconnected: Reply,
    new_token: Reply,
) -> None:
    def per_second(tally: Tally) -> str:
        accepted = tally.sends[200]
        tried = sum(tally.sends.values())
        refused = ", ".join(f"{s}: {n}" for s, n in sorted(tally.sends.items()) if s != 200)
        return (
            f"{accepted / elapsed:6.2f} accepted/s ({accepted} of {tried} sends"
            f"{'; refused ' + refused if refused else ''})"
        )

    print(f"\nflood: {elapsed:.1f} s, {FLOOD_THREADS} threads from {FLOODER_ADDRESS}")
    print(
        f"  flooder's chat tokens: {flooder.tokens[200]} granted, "
        f"{sum(flooder.tokens.values()) - flooder.tokens[200]} refused "
        f"({', '.join(f'{s}: {n}' for s, n in sorted(flooder.tokens.items()))})"
    )
    print(f"  flooder ({FLOODER_ADDRESS}): {per_second(flooder)}")
    print(f"  normal  ({NORMAL_ADDRESS}):  {per_second(normal)}")
    joins_ok, joins = normal.joins["ok"], sum(normal.joins.values())
    print(
        f"  newcomers from {NORMAL_ADDRESS} (viewer token + chat token): {joins_ok} of {joins} ok"
    )
    print(f"  host sign-in, quiet:       {latency_line(quiet.latencies)}")
    print(f"  host sign-in, under flood: {latency_line(host.latencies)}")
    print(f"  server CPU during the flood: {cpu:.1f} s ({cpu / elapsed * 100:.0f}% of one core)")
    print(f"\nafter the host's Disconnect ({disconnected.status} {disconnected.body}):")
    print(f"  flooder's sends: {after.sends[200]} accepted of {sum(after.sends.values())}")
    error = (new_token.body or {}).get("error", "")
    print(f"  flooder's new chat token: {new_token.status} {error}")
    print(f"load average: {load_average()}")
    print(
        f"\nsummary: flooder {flooder.sends[200] / elapsed:.1f} msg/s vs normal "
        f"{normal.sends[200] / elapsed:.1f} msg/s ({normal.sends[200]} of "
        f"{sum(normal.sends.values())} sends ok); joins {joins_ok}/{joins}; host sign-in p95 "
        f"{ms(percentile(sorted(host.latencies), 0.95)) if host.latencies else 'n/a'} under "
        f"flood; after Disconnect {after.sends[200]} accepted, new token {new_token.status}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="how long the flood lasts (default 20)"
    )
    args = parser.parse_args()
    return bench(args.seconds)


if __name__ == "__main__":
    sys.exit(main())
