"""The ``local`` chat provider's routes, mounted by the dev server under ``/chat``.

``GET  /events?token=<chat token>``
    Server-Sent Events: the last messages first, then ``message`` ``{id, text, sentAt,
    sender: {id, name, role}}``, ``delete`` ``{id}``; ``disconnected`` ``{reason}`` (the host
    disconnected this chatter) and ``closed`` ``{reason}`` (the server stops) end the stream.
``POST /send`` ``{token, text}``
    Relays one message; 400 for empty text, control characters or text over the length limit,
    429 when this sender is too fast.
``POST /delete`` ``{token, id}`` (host)
    Removes a message for everyone.
``POST /disconnect`` ``{token, identity}`` (host)
    Ends a chatter's streams; their token stops working.
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
FINAL_EVENTS = frozenset({"disconnected", "closed"})


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
        return json_response(exc.status, {"error": exc.message})


def _events(
    room: ChatRoom, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    chatter, inbox = room.connect(query.get("token", ""))

    def close(opened: Inbox) -> None:
        room.leave(chatter, opened)

    stream = EventStream(
        lambda: inbox, close, keepalive=KEEPALIVE_SECONDS, final_events=FINAL_EVENTS
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
