"""The dev server's HTTP/1.1 connections: uvicorn's own, with a bound on the request head.

uvicorn's httptools parser has no limit on the size of the request line and headers, so one
request could make the server buffer megabytes before the app sees it. A head larger than
``MAX_HEAD_BYTES`` is answered 431 and the connection closed. (API Gateway's HTTP API refuses
a request line and headers over 10 KB; browsers send a few KB.)

Closing at once would make the kernel reset the connection while the client is still sending
(it usually sends everything before reading), and the client would never read the 431. So the
answer is sent with a half-close and what the client still sends is read and dropped, for at
most ``DRAIN_SECONDS`` or ``DRAIN_BYTES``, before the connection is closed.
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 32 * 1024
DRAIN_SECONDS = 5.0
DRAIN_BYTES = 16 * 1024 * 1024

_TOO_LARGE = json.dumps(
    {"error": f"Request line and headers are larger than {MAX_HEAD_BYTES // 1024} KB"}
).encode()


class BoundedHeadProtocol(HttpToolsProtocol):
    """Counts the bytes of each request head as they arrive; refuses one that is too large."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True
        self._head_bytes = 0
        self._drained: int | None = None  # bytes dropped since the 431, once it is sent

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True  # a kept-alive connection's next request starts
        self._head_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self._drained is not None:
            self._drained += len(data)
            if self._drained > DRAIN_BYTES:
                self.transport.close()
            return
        super().data_received(data)
        if not self._reading_head or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes <= MAX_HEAD_BYTES:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # The answer to the previous request is still being written (the oversized head
            # follows it on the same connection): drop the rest, close once that answer is out.
            self._drained = 0
            self.cycle.keep_alive = False
        else:
            self._refuse_head()

    def _refuse_head(self) -> None:
        self._drained = 0
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(_TOO_LARGE)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + _TOO_LARGE
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(DRAIN_SECONDS, self.transport.close)
