"""Each page's one WebSocket (``/socket``): every event the page waits for, on one connection.

A browser opens at most six HTTP/1.1 connections to one server. A page that held an event
stream open for each thing it waits for (signalling, chat) would take two of them for as long as
it stays open, and a few tabs would leave none for their requests. So each page opens one
WebSocket, which browsers do not count among those six, and subscribes over it to the channels
it needs: ``host`` and ``viewer`` (``devserver.relays.signalling``), ``chat``
(``devserver.relays.chat``).

Messages are JSON text. The page sends

``{"type": "subscribe", "channel": <name>, ...}``
    with the channel's fields (its token; a viewer's offer). It replaces this socket's previous
    subscription to that channel.
``{"type": "unsubscribe", "channel": <name>}``

and the server sends

``{"channel": <name>, "event": <event>, "data": {...}}``
    ``subscribed`` first, then the channel's events. A refusal is ``error`` ``{status, error}``,
    the HTTP status and message an HTTP route would answer with; it ends the subscription, as
    does the channel's last event (``ended``, ``expired``...).
``{"event": "ping"}``
    every ``PING_SECONDS``, so that the page notices a connection that died silently.

Tokens travel in messages, never in the socket's address (addresses end up in logs and
history). The handshake is refused (403) unless its ``Origin`` is the page's own, the ``Host``
it connects to: a page of another site must not open a socket as its visitor (cross-site
WebSocket hijacking). Waiting for events holds no thread: inboxes are read on the event loop.
When the server stops, every socket is closed (1001, going away) and the page reconnects
(``websocket_protocol`` lets it close itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from livescreen.devserver.asgi import Receive, Scope, Send, peer
from livescreen.devserver.channels import Channel
from livescreen.devserver.relays.http import RelayError
from livescreen.devserver.websocket_protocol import SHUTDOWN_FLUSH_SECONDS

logger = logging.getLogger("livescreen.devserver")

SOCKET_PATH = "/socket"
CHANNELS = frozenset({"host", "viewer", "chat"})
#: The server says it is still there this often; a page that hears nothing for a few of these
#: reconnects.
PING_SECONDS = 15.0
#: The largest message a page sends: a viewer's offer (at most 16 KB) with its token.
MAX_MESSAGE_BYTES = 32 * 1024
#: Close codes (RFC 6455, section 7.4.1).
GOING_AWAY = 1001
UNSUPPORTED_DATA = 1003
POLICY_VIOLATION = 1008

#: ``open_channel(name, message, address)``: the channel ``message`` subscribes to, for a page
#: connected from ``address``; raises ``RelayError`` to refuse it.
OpenChannel = Callable[[str, Mapping[str, Any], str], Channel]

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def same_origin(scope: Scope) -> bool:
    """Whether the handshake's ``Origin`` names the server it was sent to (its ``Host``)."""
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
    origins = [v for k, v in headers if k == "origin"]
    hosts = [v for k, v in headers if k == "host"]
    if len(origins) != 1 or len(hosts) != 1:
        return False
    try:
        origin = urlsplit(origins[0])
    except ValueError:
        return False
    if origin.scheme not in _DEFAULT_PORTS or origin.path or origin.query or not origin.netloc:
        return False
    return _authority(origin.scheme, origin.netloc) == _authority(origin.scheme, hosts[0])


def _authority(scheme: str, netloc: str) -> str:
    netloc = netloc.lower()
    default = ":" + _DEFAULT_PORTS[scheme]
    return netloc[: -len(default)] if netloc.endswith(default) else netloc


async def serve(
    scope: Scope,
    receive: Receive,
    send: Send,
    open_channel: OpenChannel,
    stopping: asyncio.Event,
) -> None:
    """Run one page's socket until the page or the server closes it."""
    if (await receive())["type"] != "websocket.connect":
        return
    if scope.get("path") != SOCKET_PATH or not same_origin(scope):
        logger.info("refused a WebSocket to %s from origin elsewhere", scope.get("path"))
        await send({"type": "websocket.close", "code": POLICY_VIOLATION})  # answered 403
        return
    await send({"type": "websocket.accept"})
    socket = _PageSocket(send, open_channel, peer(scope), stopping)
    try:
        await socket.run(receive)
    finally:
        socket.end_all()


class _Gone(Exception):
    """The page's connection is closed: nothing more can be sent."""


class _Subscription:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.task: asyncio.Task[None] | None = None
        self._released = False

    def release(self) -> None:
        """Let go of what the channel holds, once."""
        if not self._released:
            self._released = True
            self.channel.close()


class _PageSocket:
    def __init__(
        self, send: Send, open_channel: OpenChannel, address: str, stopping: asyncio.Event
    ) -> None:
        self._send = send
        self._stopping = stopping
        self._open_channel = open_channel
        self.address = address
        self._subscriptions: dict[str, _Subscription] = {}
        self._send_lock = asyncio.Lock()
        self._gone = asyncio.Event()

    async def run(self, receive: Receive) -> None:
        reading = asyncio.ensure_future(self._read(receive))
        stop = asyncio.ensure_future(self._stopping.wait())
        gone = asyncio.ensure_future(self._gone.wait())
        try:
            while True:
                done, _ = await asyncio.wait(
                    {reading, stop, gone}, timeout=PING_SECONDS, return_when="FIRST_COMPLETED"
                )
                if stop in done:
                    # every channel sends what is pending (the stream's end), then stops
                    pumps = [s.task for s in self._subscriptions.values() if s.task is not None]
                    if pumps:
                        await asyncio.wait(pumps, timeout=SHUTDOWN_FLUSH_SECONDS)
                    await self._close(GOING_AWAY, "The server is shutting down")
                    return
                if done:  # the page closed the socket, or broke the protocol
                    return
                await self._write({"event": "ping"})
        except _Gone:
            return
        finally:
            for task in (reading, stop, gone):
                task.cancel()

    def end_all(self) -> None:
        for name in list(self._subscriptions):
            self._end(name)

    # -- what the page sends ---------------------------------------------------------------

    async def _read(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self._gone.set()
                return
            if message["type"] != "websocket.receive":
                continue
            text = message.get("text")
            if text is None:
                await self._close(UNSUPPORTED_DATA, "Messages are JSON text")
                return
            try:
                await self._handle(text)
            except _Gone:
                return

    async def _handle(self, text: str) -> None:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            await self._error(None, 400, "Messages must be JSON objects")
            return
        name = data.get("channel")
        if not isinstance(name, str) or name not in CHANNELS:
            names = ", ".join(sorted(CHANNELS))
            await self._error(None, 404, f"No such channel: use one of {names}")
            return
        kind = data.get("type")
        if kind == "unsubscribe":
            self._end(name)
            return
        if kind != "subscribe":
            await self._error(name, 400, "Unknown message type: subscribe or unsubscribe")
            return
        self._end(name)  # a new subscription replaces the previous one
        try:
            channel = self._open_channel(name, data, self.address)
        except RelayError as exc:
            await self._error(name, exc.status, exc.message)
            return
        except Exception:
            logger.exception("opening the %s channel failed", name)
            await self._error(name, 500, "Internal server error")
            return
        subscription = _Subscription(channel)
        self._subscriptions[name] = subscription
        subscription.task = asyncio.ensure_future(self._pump(name, subscription))

    # -- what the server sends ---------------------------------------------------------------

    async def _pump(self, name: str, subscription: _Subscription) -> None:
        """Send the channel's events until its last one (or until it is ended)."""
        channel = subscription.channel
        try:
            await self._write({"channel": name, "event": "subscribed", "data": channel.welcome})
            while True:
                # once the server stops, what is already in the inbox is sent, then no more
                event = await channel.inbox.next_event(channel.idle_seconds, self._stopping)
                if event is None:
                    if self._stopping.is_set():
                        break
                    channel.on_idle()
                    continue
                event_name, data = event
                await self._write({"channel": name, "event": event_name, "data": data})
                if event_name in channel.final_events:
                    break
        except _Gone:
            pass
        finally:
            if self._subscriptions.get(name) is subscription:
                del self._subscriptions[name]
            subscription.release()

    def _end(self, name: str) -> None:
        subscription = self._subscriptions.pop(name, None)
        if subscription is None:
            return
        if subscription.task is not None:
            subscription.task.cancel()
        subscription.release()

    async def _error(self, name: str | None, status: int, message: str) -> None:
        payload: dict[str, Any] = {"event": "error", "data": {"status": status, "error": message}}
        if name is not None:
            payload["channel"] = name
        await self._write(payload)

    async def _write(self, payload: Mapping[str, Any]) -> None:
        text = json.dumps(payload)
        async with self._send_lock:
            if self._gone.is_set():
                raise _Gone
            try:
                await self._send({"type": "websocket.send", "text": text})
            except (OSError, RuntimeError):  # uvicorn's ClientDisconnected is an OSError
                self._gone.set()
                raise _Gone from None

    async def _close(self, code: int, reason: str) -> None:
        async with self._send_lock:
            if self._gone.is_set():
                return
            self._gone.set()
            with contextlib.suppress(OSError, RuntimeError):
                await self._send({"type": "websocket.close", "code": code, "reason": reason})
