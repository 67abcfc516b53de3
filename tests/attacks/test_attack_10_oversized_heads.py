"""Attack 10: request heads of 40 to 100 KB, and a chunked body over the limit.

The dev server reads at most 32 KB of request line and headers: only the head's own bytes count
(a body sent in the same packet does not), and a head is refused as soon as it passes 32 KB,
before the parser has read it all. A body over the limit is answered 413 once, and the next
request on the connection gets its own answer (no stray 431 from counting the body as a head).
"""

from __future__ import annotations

import json

import pytest
from dev_process import ATTACKER_ADDRESS, DevProcess
from raw_http import open_socket, read_answer, status_lines
from raw_wire import read_until_closed

HEAD = b"POST /host_token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"


def host_sign_in_body(dev: DevProcess) -> bytes:
    return json.dumps({"password": dev.password}).encode()


@pytest.mark.parametrize("kilobytes", [40, 64, 100])
def test_a_head_of_40_to_100_kb_in_one_packet_is_refused_431(
    dev: DevProcess, kilobytes: int
) -> None:
    body = host_sign_in_body(dev)
    padding = b"X-Padding: " + b"p" * (kilobytes * 1024) + b"\r\n"
    with open_socket(dev, ATTACKER_ADDRESS) as sock:
        sock.sendall(
            HEAD
            + padding
            + b"Origin: %s\r\n" % dev.origin.encode()
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )
        answer = read_answer(sock)
        rest = read_until_closed(sock)

    # the password in the body was never checked: no session was handed out
    assert answer.status == 431
    assert "32 KB" in answer.json()["error"]
    assert rest == b""
    # and the server is fine
    assert dev.host_sign_in().status == 200


@pytest.mark.parametrize("kilobytes", [40, 100])
def test_a_head_of_40_to_100_kb_in_many_small_packets_is_refused_431(
    dev: DevProcess, kilobytes: int
) -> None:
    with open_socket(dev, ATTACKER_ADDRESS) as sock:
        sock.sendall(HEAD)
        for _ in range(kilobytes):
            try:
                sock.sendall(b"X-Piece: " + b"p" * 1000 + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.shutdown(1)  # done sending: the server's answer is what is left to read
        refused = read_until_closed(sock)

    assert status_lines(refused) == [b"HTTP/1.1 431 Request Header Fields Too Large"]


def test_a_body_in_the_same_packet_is_not_counted_as_head(dev: DevProcess) -> None:
    # a 28 KB head and a 40 KB body: the request is read and answered by the function
    body = json.dumps({"password": "not-the-password", "pad": "x" * 40_000}).encode()
    with open_socket(dev, ATTACKER_ADDRESS) as sock:
        sock.sendall(
            HEAD
            + b"X-Padding: "
            + b"p" * 28_000
            + b"\r\n"
            + b"Origin: %s\r\n" % dev.origin.encode()
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )
        answer = read_answer(sock)

    assert answer.status not in (413, 431)
    assert 400 <= answer.status < 500


def test_a_chunked_body_over_the_limit_gets_its_413_and_nothing_else(dev: DevProcess) -> None:
    # GIVEN a chunked body of 2 MB, then a second request on the same connection
    chunk = b"x" * 65_536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(32)) + b"0\r\n\r\n"
    second = b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    with open_socket(dev, ATTACKER_ADDRESS) as sock:
        sock.sendall(HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body + second)
        wire = read_until_closed(sock)

    # THEN the wire holds the 413, then the second request's answer, and nothing else
    assert status_lines(wire) == [
        b"HTTP/1.1 413 Request Entity Too Large",
        b"HTTP/1.1 200 OK",
    ]
    assert b"431" not in wire.split(b"\r\n\r\n", 1)[0]
