"""uvicorn's WebSocket connection, as the pages' sockets (``page_socket``) need it: it takes
over an HTTP connection without its timers, and lets a socket close itself when the server stops.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

#: When the server stops, how long a socket may take to send what is pending before it closes.
SHUTDOWN_FLUSH_SECONDS = 1.0


class PageSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket connection (websockets' sans-I/O protocol), with two changes.

    It first stops the timers of the HTTP connection it takes over: an idle timer armed when the
    upgrade request was read would otherwise close the socket a few seconds later. And when the
    server stops, it lets the app send what is pending (the stream's end) and close the socket
    itself (1001) before closing it the way uvicorn does (1012), ``SHUTDOWN_FLUSH_SECONDS``
    later at most.
    """

    def connection_made(self, transport: Any) -> None:
        upgraded = transport.get_protocol()  # still the HTTP connection's protocol here
        keep_alive = getattr(upgraded, "timeout_keep_alive_task", None)
        if keep_alive is not None:
            keep_alive.cancel()
            upgraded.timeout_keep_alive_task = None
        super().connection_made(transport)

    def shutdown(self) -> None:
        if self.handshake_complete and not self.close_sent and self.initial_response is None:
            self.loop.call_later(SHUTDOWN_FLUSH_SECONDS, self._shutdown_now)
            return
        super().shutdown()

    def _shutdown_now(self) -> None:
        if not self.transport.is_closing():
            super().shutdown()
