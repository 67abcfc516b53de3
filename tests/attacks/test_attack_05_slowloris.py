"""Attack 5: slowloris under a low open-file limit.

With ``ulimit -n 256``, 300 connections that send a request head a byte at a time used to take
every file descriptor: the server stopped answering and wrote a log line (with a traceback) for
each connection it failed to accept. Now a head must arrive within 10 s, the number of open
connections stays below the open-file limit, and at that cap a new connection takes the place
of the one that has waited longest for a head: the host's requests are answered throughout, and
the log says each condition once.
"""

from __future__ import annotations

import resource
import socket
import time
from pathlib import Path

from dev_process import DevProcess

from livescreen.devserver.connection_limits import connection_cap

OPEN_FILES = 256
ATTACKERS = 300
#: Loopback addresses the attack comes from (each one another client to the server).
SOURCES = [f"127.0.5.{n}" for n in range(1, 31)]
#: How long the attack goes on once all its connections are open.
ATTACK_SECONDS = 3.0
HALF_HEAD = b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-Slow: "


def lower_open_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))


def open_slow(dev: DevProcess, n: int) -> socket.socket | None:
    """One attacker's connection, its head half sent; None when the server refused it."""
    sock = socket.socket()
    sock.settimeout(2)
    try:
        sock.bind((SOURCES[n % len(SOURCES)], 0))
        sock.connect((dev.host, dev.port))
        sock.sendall(HALF_HEAD)
    except OSError:
        sock.close()
        return None
    return sock


def test_slow_heads_under_a_low_open_file_limit_leave_the_host_served(tmp_path: Path) -> None:
    dev = DevProcess.start(tmp_path / "app", preexec=lower_open_files)
    attackers: list[socket.socket | None] = []
    served: list[tuple[int, float]] = []
    try:
        # WHEN 300 clients open a request head and never finish it (the host asking between)
        for n in range(ATTACKERS):
            attackers.append(open_slow(dev, n))
            if n % 30 == 29:
                answer = dev.request("GET", "/index.html", timeout=5)
                served.append((answer.status, answer.seconds))
        # AND keep sending a byte now and then, reconnecting when the server closes them
        deadline = time.monotonic() + ATTACK_SECONDS
        while time.monotonic() < deadline:
            for n, sock in enumerate(attackers):
                try:
                    if sock is None:
                        raise OSError
                    sock.sendall(b"a")
                except OSError:
                    if sock is not None:
                        sock.close()
                    attackers[n] = open_slow(dev, n)
            answer = dev.request("GET", "/index.html", timeout=5)
            served.append((answer.status, answer.seconds))
            sign_in = dev.host_sign_in()
            served.append((sign_in.status, sign_in.seconds))
    finally:
        for sock in attackers:
            if sock is not None:
                sock.close()
        output = dev.output()
        dev.stop()

    # THEN the host was answered within a second every time
    assert served
    assert all(status == 200 for status, _ in served), served
    assert max(seconds for _, seconds in served) < 1.0, [
        (i, s) for i, s in enumerate(served) if s[1] > 0.3
    ]
    # AND the server never ran out of descriptors, and said so in a line or two, not thousands
    assert "Too many open files" not in output
    assert "out of system resource" not in output
    cap_lines = [line for line in output.splitlines() if "connections open" in line]
    assert 1 <= len(cap_lines) <= 2, cap_lines
    after_ready = output.split("Press Ctrl+C to stop.", 1)[1]
    assert len(after_ready.splitlines()) < 20, after_ready
    assert f"{connection_cap(OPEN_FILES)} connections open" in cap_lines[0]
