"""Amazon IVS Chat as the real chat SDK sees it over the wire, for browser tests.

IVS Chat cannot be reached from a test, so two things stand in for it, and nothing else does:

* ``FakeControlPlane``: the boto3 ``ivschat`` client of the dev server's ``ivschat`` provider,
  answering ``CreateChatToken`` (so ``/chat_token`` runs the real endpoint, the real provider
  and the real identity tickets) and remembering which token belongs to which ``userId``;
* ``FakeChatService.install``: the room's WebSocket (``wss://edge.ivschat.<region>...``), through
  Playwright's ``route_web_socket``, speaking the JSON the SDK reads (``ChatRoom.onMessage``:
  ``Type`` ``MESSAGE``/``EVENT``/``ERROR``; requests come as ``{"Action", "RequestId", ...}``,
  the token as the socket's subprotocol, as ``ChatConnection.createSocket`` passes it).

Times the page sees (token and session expiries) are on the page's clock: the test's world
clock plus whatever the test fast-forwarded the page by (``skip``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

REGION = "eu-west-1"
ROOM_ARN = f"arn:aws:ivschat:{REGION}:123456789012:room/wireTestRoom"
ENDPOINT = f"wss://edge.ivschat.{REGION}.amazonaws.com"
SOCKET_URL = re.compile(rf"^{re.escape(ENDPOINT)}/?$")
#: A browser reports a socket that broke (no closing handshake) with this code, unclean.
ABNORMAL_CLOSURE = 1006


@dataclass
class Chatter:
    """One token CreateChatToken issued."""

    user_id: str
    attributes: dict[str, str]
    capabilities: list[str]
    token_expires: float
    session_expires: float


@dataclass
class Socket:
    """One WebSocket the SDK opened (``route`` is Playwright's WebSocketRoute)."""

    route: Any
    chatter: Chatter
    opened_at: float
    closed_at: float | None = None


@dataclass
class TokenCall:
    at: float  # time.monotonic() when the dev server asked
    user_id: str


@dataclass
class FakeControlPlane:
    """``boto3.client("ivschat")`` as far as ``IvsChat.grant`` uses it."""

    page_now: Callable[[], float]
    token_seconds: float = 3600
    session_seconds: float = 3600
    calls: list[TokenCall] = field(default_factory=list)
    chatters: dict[str, Chatter] = field(default_factory=dict)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create_chat_token(self, **request: Any) -> dict[str, Any]:
        now = self.page_now()
        chatter = Chatter(
            user_id=request["userId"],
            attributes=dict(request.get("attributes") or {}),
            capabilities=list(request.get("capabilities") or []),
            token_expires=now + self.token_seconds,
            session_expires=now + self.session_seconds,
        )
        # a WebSocket subprotocol is an HTTP token: letters, digits and a few marks
        token = f"ivschat.token{next(self._serial)}.{secrets.token_hex(8)}"
        with self._lock:
            self.calls.append(TokenCall(time.monotonic(), chatter.user_id))
            self.chatters[token] = chatter
        return {
            "token": token,
            "tokenExpirationTime": datetime.fromtimestamp(chatter.token_expires, UTC),
            "sessionExpirationTime": datetime.fromtimestamp(chatter.session_expires, UTC),
        }


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


class FakeChatService:
    """The chat room's sockets: relays messages and moderation as IVS Chat does."""

    def __init__(self, world_now: Callable[[], float]) -> None:
        self._world_now = world_now
        self.skipped = 0.0
        self.control = FakeControlPlane(self.page_now)
        self.sockets: list[Socket] = []
        self.requests: list[dict[str, Any]] = []
        #: the next SEND_MESSAGE breaks its socket instead of being answered
        self.break_on_next_send = False
        self._ids = itertools.count(1)

    def page_now(self) -> float:
        return self._world_now() + self.skipped

    def skip(self, seconds: float) -> None:
        """The test fast-forwarded the page's clock by ``seconds``."""
        self.skipped += seconds

    # --- the WebSocket ---------------------------------------------------------------------

    def install(self, context: Any) -> None:
        context.route_web_socket(SOCKET_URL, self._connect)

    def _connect(self, route: Any) -> None:
        protocols = route.protocols
        chatter = self.control.chatters.get(protocols[0]) if protocols else None
        if chatter is None or chatter.token_expires <= self.page_now():
            route.close(code=4401, reason="Unauthorized")
            return
        socket = Socket(route, chatter, time.monotonic())
        self.sockets.append(socket)
        route.on_message(lambda message: self._receive(socket, message))
        route.on_close(lambda code, reason: self._closed(socket))

    def _closed(self, socket: Socket) -> None:
        if socket.closed_at is None:
            socket.closed_at = time.monotonic()

    def _receive(self, socket: Socket, message: str | bytes) -> None:
        request = json.loads(message)
        self.requests.append({**request, "UserId": socket.chatter.user_id})
        action = request.get("Action")
        if action == "SEND_MESSAGE" and self.break_on_next_send:
            self.break_on_next_send = False
            self.drop(socket)
            return
        if action not in socket.chatter.capabilities:
            self._send(socket, self._error(request, 403, "Forbidden"))
            return
        if action == "SEND_MESSAGE":
            self.broadcast(self.message(socket.chatter, request["Content"], request["RequestId"]))
        elif action == "DELETE_MESSAGE":
            attributes = {"MessageID": request["Id"], "Reason": request.get("Reason") or ""}
            self.broadcast(self._event("aws:DELETE_MESSAGE", attributes, request["RequestId"]))
        elif action == "DISCONNECT_USER":
            attributes = {"UserId": request["UserId"], "Reason": request.get("Reason") or ""}
            self.broadcast(self._event("aws:DISCONNECT_USER", attributes, request["RequestId"]))
            for target in self.open_sockets(request["UserId"]):
                self.end(target)

    # --- what the room sends ---------------------------------------------------------------

    def message(self, chatter: Chatter, content: str, request_id: str | None = None) -> str:
        entity: dict[str, Any] = {
            "Type": "MESSAGE",
            "Id": f"msg{next(self._ids)}",
            "Content": content,
            "SendTime": iso(self.page_now()),
            "Sender": {"UserId": chatter.user_id, "Attributes": chatter.attributes},
            "Attributes": {},
        }
        if request_id:
            entity["RequestId"] = request_id
        return json.dumps(entity)

    def _event(self, name: str, attributes: dict[str, str], request_id: str) -> str:
        return json.dumps(
            {
                "Type": "EVENT",
                "Id": f"evt{next(self._ids)}",
                "EventName": name,
                "SendTime": iso(self.page_now()),
                "RequestId": request_id,
                "Attributes": attributes,
            }
        )

    def _error(self, request: dict[str, Any], code: int, text: str) -> str:
        return json.dumps(
            {
                "Type": "ERROR",
                "Id": f"err{next(self._ids)}",
                "RequestId": request.get("RequestId"),
                "ErrorCode": code,
                "ErrorMessage": text,
            }
        )

    def _send(self, socket: Socket, data: str) -> None:
        if socket.closed_at is None:
            socket.route.send(data)

    def broadcast(self, data: str) -> None:
        for socket in list(self.sockets):
            self._send(socket, data)

    def say(self, name: str, text: str) -> None:
        """Another chatter (not in any page) says ``text`` to the room."""
        someone = Chatter("viewer-elsewhere", {"displayName": name, "role": "viewer"}, [], 0, 0)
        self.broadcast(self.message(someone, text))

    # --- faults ----------------------------------------------------------------------------

    def open_sockets(self, user_id: str | None = None) -> list[Socket]:
        return [
            s
            for s in self.sockets
            if s.closed_at is None and (user_id is None or s.chatter.user_id == user_id)
        ]

    def drop(self, *sockets: Socket) -> None:
        """The sockets break, all at the same moment: the page sees unclean closes (1006), as on
        a network failure. Playwright's public ``close()`` always reports a clean close, which
        the SDK takes for the room ending the session (it does not reconnect then); a broken
        socket needs ``wasClean`` false, which only the route's channel can send."""
        if not sockets:
            return
        for socket in sockets:
            self._closed(socket)

        async def break_all() -> None:
            await asyncio.gather(
                *(
                    socket.route._impl_obj._channel.closePage(
                        code=ABNORMAL_CLOSURE, reason="", wasClean=False, timeout=0
                    )
                    for socket in sockets
                )
            )

        sockets[0].route._sync(break_all())

    def end(self, socket: Socket, reason: str = "") -> None:
        """The room closes the socket cleanly (a session that ended, a disconnected user)."""
        self._closed(socket)
        socket.route.close(code=1000, reason=reason)
