"""The ``local`` chat provider's routes, mounted by the dev server under ``/chat``.

``GET  /events?token=<chat token>``
    Server-Sent Events: the last messages first (at most 50), then ``message`` ``{id, text,
    sentAt, sender: {id, name, role}}`` and ``delete`` ``{id}``. ``disconnected`` ``{reason}``
    (the host disconnected this chatter), ``expired`` ``{reason}`` (the token's session is over:
    ask ``/chat_token`` for a new one) and ``closed`` ``{reason}`` (the server stops) end the
    stream. 401 for an unknown or expired token, 403 for a disconnected chatter, 429 when the
    room is full or this token already has its streams open.
``POST /send`` ``{token, text}``
    Relays one message and answers ``{"message": ...}`` as relayed; 400 for empty text,
    control characters or text over the length limit, 429 (with ``Retry-After``) when this
    sender, or the whole room, is too fast.
``POST /delete`` ``{token, id}`` (host)
    Removes a message for everyone; 403 for a viewer's token, 404 for an unknown message.
``POST /disconnect`` ``{token, identity}`` (host)
    Ends a chatter's streams; their token stops working (they may ask for a new one: this is
    not a ban, as with IVS Chat's ``DisconnectUser``).
"""

from __future__ import annotations

from collections.abc import Mapping

from livescreen.chat.local_room import CHAT_ROOM, ChatRefusedError, ChatRoom
from livescreen.relay_http import (
    SSE_HEADERS,
    Response,
    Route,
    dispatch,
    json_object,
    json_response,
    required_text,
)
from livescreen.sse import EventStream, Inbox

KEEPALIVE_SECONDS = 15.0
MAX_BODY_BYTES = 8 * 1024
FINAL_EVENTS = frozenset({"disconnected", "expired", "closed"})


def handle(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    room: ChatRoom = CHAT_ROOM,
) -> Response:
    """Answer one request for ``/chat<path>``; an ``EventStream`` body is an event stream."""
    try:
        return dispatch(_ROUTES, room, "/chat", method, path, query, headers, body, "chat")
    except ChatRefusedError as exc:
        status, out, data = json_response(exc.status, {"error": exc.message})
        if exc.retry_after is not None:
            out["Retry-After"] = str(exc.retry_after)
        return status, out, data


def _events(
    room: ChatRoom, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    chatter, inbox = room.connect(query.get("token", ""))

    def close(opened: Inbox) -> None:
        room.leave(chatter, opened)

    stream = EventStream(
        lambda: inbox,
        close,
        keepalive=KEEPALIVE_SECONDS,
        on_idle=room.end_expired,
        final_events=FINAL_EVENTS,
    )
    return 200, dict(SSE_HEADERS), stream


def _send(
    room: ChatRoom, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    data = json_object(body, MAX_BODY_BYTES)
    message = room.send(required_text(data, "token"), data.get("text"))
    return json_response(200, {"message": message})


def _delete(
    room: ChatRoom, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    data = json_object(body, MAX_BODY_BYTES)
    room.delete(required_text(data, "token"), required_text(data, "id"))
    return json_response(200, {"ok": True})


def _disconnect(
    room: ChatRoom, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    data = json_object(body, MAX_BODY_BYTES)
    room.disconnect(required_text(data, "token"), required_text(data, "identity"))
    return json_response(200, {"ok": True})


_ROUTES: dict[tuple[str, str], Route[ChatRoom]] = {
    ("GET", "/events"): _events,
    ("POST", "/send"): _send,
    ("POST", "/delete"): _delete,
    ("POST", "/disconnect"): _disconnect,
}
