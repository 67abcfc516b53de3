"""Raw HTTP/1.1 over a socket, for attacks that http.client will not send: half heads, huge heads,
pipelined and chunked requests. Loopback only, every read bounded."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any

from dev_process import DevProcess

#: No read waits longer than this.
WAIT = 10.0


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def open_socket(dev: DevProcess, source: str = "127.0.0.1", timeout: float = WAIT) -> socket.socket:
    """A connection to ``dev`` from ``source`` (any 127.x.y.z address)."""
    return socket.create_connection(
        (dev.host, dev.port), timeout=timeout, source_address=(source, 0)
    )


def read_answer(sock: socket.socket) -> RawAnswer:
    """The next answer on ``sock``, body included."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = response.read()
    return RawAnswer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


def status_lines(data: bytes) -> list[bytes]:
    """The status line of every answer in ``data`` (answers whose bodies are not ``HTTP/``)."""
    return [b"HTTP/1.1 " + part.split(b"\r\n", 1)[0] for part in data.split(b"HTTP/1.1 ")[1:]]
