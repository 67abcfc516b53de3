"""The dev server's HTTP/1.1 connections: uvicorn's own, bounded in size, time and number.

**Head size.** uvicorn's httptools parser has no limit on the size of the request line and
headers, so one request could make the server buffer megabytes before the app sees it. The
bytes of each request head are counted before they reach the parser (a body is not counted:
where the head ends is tracked here, where a ``Content-Length`` or chunked body ends in
``body_end``), and a head larger than ``MAX_HEAD_BYTES`` is answered 431 and the connection
closed. (API Gateway's
HTTP API refuses a request line and headers over 10 KB; browsers send a few KB.)

**Head time.** A client has ``HEAD_TIMEOUT_SECONDS`` to send a request's head, counted from the
connection's opening for its first request and from the first byte of each later one (between
requests, uvicorn's keep-alive timeout closes an idle connection). Past it, the answer is 408
and the connection is closed: a client that sends a byte now and then (slowloris) cannot hold a
connection. The deadline ends with the head: a long upload, an event stream or a WebSocket is
never cut by it.

**Number.** Open connections are capped under the open-file limit (``connection_limits``). At
the cap, a new connection first takes the place of the one that has waited longest for a
request head (answered 408 if it had sent part of one); only when every connection is busy
(requests in flight, WebSockets) is it answered 503 with ``Retry-After`` and closed.

Closing at once after a refusal would make the kernel reset the connection while the client is
still sending (it usually sends everything before reading), and the client would never read the
answer. So a refusal is sent with a half-close and what the client still sends is read and
dropped, for at most a few seconds or ``DRAIN_BYTES``, before the connection is closed.
"""

from __future__ import annotations

import json
import logging
import time
from asyncio import TimerHandle
from http import HTTPStatus
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from livescreen.devserver.body_end import BodyEnd
from livescreen.devserver.connection_limits import MAX_HEAD_BYTES, MAX_REFUSING, Limits

logger = logging.getLogger("livescreen.devserver")

#: After a refusal, the client's bytes are read and dropped for at most this long...
DRAIN_SECONDS = {431: 5.0, 408: 1.0, 503: 1.0}
#: ... or this many bytes.
DRAIN_BYTES = 16 * 1024 * 1024
#: What a client refused at the cap is told to wait before trying again.
RETRY_AFTER_SECONDS = 5


def _error_body(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


_TOO_LARGE = _error_body(f"Request line and headers are larger than {MAX_HEAD_BYTES // 1024} KB")
_TOO_MANY = _error_body("The dev server has too many open connections: try again shortly")


class BoundedHeadProtocol(HttpToolsProtocol):
    """Bounds each request head in size and time, and the number of connections."""

    limits: ClassVar[Limits] = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True
        self._head_bytes = 0
        self._tail = b""  # the current head's last 3 bytes, to find its end across reads
        self._body: BodyEnd | None = None
        self._head_timer: TimerHandle | None = None
        #: Since when the connection waits for a request with none in flight (None: busy).
        self._waiting_since: float | None = None
        self._drained: int | None = None  # bytes dropped since a refusal, once it is sent
        self._refused_at_cap = False

    # -- connections -----------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        if len(self.connections) >= self.limits.max_connections and not self._make_room():
            self._refuse_connection(transport)
            return
        super().connection_made(transport)
        self._waiting_since = time.monotonic()
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        if self._refused_at_cap:
            self._refused_at_cap = False
            self.limits.refusing -= 1
        super().connection_lost(exc)

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for a request head; False if none."""
        waiting = [
            c
            for c in self.connections
            if isinstance(c, BoundedHeadProtocol)
            and c._waiting_since is not None
            and not c.transport.is_closing()
        ]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda c: c._waiting_since or 0.0)
        logger.warning(
            "%d connections open (the cap under this open-file limit): closed the one that "
            "waited longest for a request",
            len(self.connections),
        )
        oldest._shed()
        return True

    def _shed(self) -> None:
        self.connections.discard(self)  # its descriptor is freed as soon as the loop turns
        if self._head_bytes and self._drained is None:
            self._refuse(408, self._too_slow(), drain=False)
        else:
            self.transport.close()

    def _refuse_connection(self, transport: Any) -> None:
        """Answer 503 before reading anything: every connection is busy."""
        self.transport = transport
        logger.warning(
            "%d connections open, all busy (the cap under this open-file limit): "
            "answered a new one 503",
            len(self.connections),
        )
        drain = self.limits.refusing < MAX_REFUSING  # else closed at once, not to hold more
        if drain:
            self._refused_at_cap = True
            self.limits.refusing += 1
        self._refuse(503, _TOO_MANY, drain=drain, retry_after=RETRY_AFTER_SECONDS)

    # -- request heads --------------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_timeout)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._reading_head or self._drained is not None:
            return
        logger.warning(
            "a client sent no complete request head within %g s: answered 408",
            self.limits.head_timeout,
        )
        if self._answer_in_progress():
            return
        self._refuse(408, self._too_slow())

    def _too_slow(self) -> bytes:
        return _error_body(
            f"The request line and headers did not arrive within {self.limits.head_timeout:g} s"
        )

    def _head_too_large(self) -> None:
        logger.warning("a request head over %d KB: answered 431", MAX_HEAD_BYTES // 1024)
        if not self._answer_in_progress():
            self._refuse(431, _TOO_LARGE)

    def _answer_in_progress(self) -> bool:
        """When the answer to the previous request is still being written (the refused head
        follows it on the same connection), drop the rest; close once that answer is out."""
        if self.cycle is None or self.cycle.response_complete:
            return False
        self._drained = 0
        self._cancel_head_timer()
        self.cycle.keep_alive = False
        return True

    def data_received(self, data: bytes) -> None:
        if self._drained is not None:
            self._drained += len(data)
            if self._drained > DRAIN_BYTES:
                self.transport.close()
            return
        while data:
            if self._reading_head:
                self._arm_head_timer()
                end = self._end_of_head(data)
                self._head_bytes += len(data) if end is None else end
                if self._head_bytes > MAX_HEAD_BYTES:
                    self._head_too_large()
                    return
            else:
                end = self._body.end(data) if self._body is not None else None
            piece, data = (data, b"") if not end else (data[:end], data[end:])
            super().data_received(piece)
            if (
                self.parser is None
                or self.transport.is_closing()
                or self.transport.get_protocol() is not self
            ):
                return  # closed or closing, or upgraded to a WebSocket

    def _end_of_head(self, data: bytes) -> int | None:
        """How many bytes of ``data`` finish the current head, or None if it goes on."""
        seen = self._tail + data
        end = seen.find(b"\r\n\r\n")
        if end < 0:
            self._tail = seen[-3:]
            return None
        return end + 4 - len(self._tail)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._cancel_head_timer()
        self._waiting_since = None
        self._body = BodyEnd.for_headers(self.headers)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True  # a kept-alive connection's next request starts
        self._head_bytes = 0
        self._tail = b""
        self._body = None
        self._note_waiting()
        upgrading = self.parser.should_upgrade() and self._should_upgrade()
        if not upgrading and self._waiting_since is not None and not self.timeout_keep_alive_task:
            # answered before its body was all in (a 413): idle from now on, as after an answer
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._note_waiting()

    def _note_waiting(self) -> None:
        idle = (
            self._reading_head
            and not self.pipeline
            and (self.cycle is None or self.cycle.response_complete)
        )
        if not idle:
            self._waiting_since = None
        elif self._waiting_since is None:
            self._waiting_since = time.monotonic()

    # -- answers written here -----------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to bytes its parser refuses, with the security headers."""
        self._write_answer(400, msg.encode("ascii"), "text/plain; charset=utf-8")
        self.transport.close()

    def _write_answer(
        self, status: int, body: bytes, content_type: str = "application/json", **extra: str
    ) -> None:
        head = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode(),
            b"content-type: " + content_type.encode(),
            b"content-length: " + str(len(body)).encode(),
            b"connection: close",
            *(f"{k.replace('_', '-')}: {v}".encode() for k, v in extra.items()),
            *(name + b": " + value for name, value in self.limits.security_headers()),
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)

    def _refuse(self, status: int, body: bytes, *, drain: bool = True, **extra: Any) -> None:
        """Answer ``status`` and close, first reading what the client still sends (for at
        most ``DRAIN_SECONDS``) so that it can read the answer."""
        self._drained = 0
        self._cancel_head_timer()
        self._write_answer(status, body, **{k: str(v) for k, v in extra.items()})
        if not drain or not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.loop.call_later(DRAIN_SECONDS[status], self.transport.close)


def protocol_for(limits: Limits) -> type[BoundedHeadProtocol]:
    """The protocol class of one server, whose connections share ``limits``."""
    return type("BoundedHeadProtocol", (BoundedHeadProtocol,), {"limits": limits})
