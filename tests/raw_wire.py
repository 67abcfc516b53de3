"""HTTP spoken by hand on a socket, for tests that need what a client library will not send or
hide: half-sent heads, pipelined requests, WebSocket handshakes. Shared by the functional tests
of the dev server and the attack suite."""

from __future__ import annotations

import base64
import socket


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or the socket times out)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def websocket_handshake(sock: socket.socket, host: str, key: bytes = b"0123456789abcdef") -> bytes:
    """The head of the answer to a WebSocket handshake for ``/socket`` with ``Host`` and
    ``Origin`` naming ``host`` (so the socket's own same-origin check passes)."""
    encoded = base64.b64encode(key).decode()
    sock.sendall(
        (
            f"GET /socket HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {encoded}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    data = b""
    while b"\r\n\r\n" not in data and (chunk := sock.recv(4096)):
        data += chunk
    return data
