"""The ``local`` chat provider: the ``chat`` channel of a page's socket, and its routes.

channel ``chat`` ``{token: <chat token>}`` (``devserver.page_socket``)
    The last messages first (at most 50), then ``message`` ``{id, text, sentAt, sender: {id,
    name, role}}`` and ``delete`` ``{id}``. ``disconnected`` ``{reason}`` (the host
    disconnected this chatter), ``expired`` ``{reason}`` (the token's session is over: ask
    ``/chat_token`` for a new one) and ``closed`` ``{reason}`` (the server stops) end the
    channel. Refused with an ``error`` event ``{status, error}``: 401 for an unknown or expired
    token, 403 for a disconnected chatter, 429 when the room is full or this token already has
    its channels open.

Mounted by the dev server under ``/chat``:

``POST /send`` ``{token, text}``
    Relays one message and answers ``{"message": ...}`` as relayed; 400 for empty text,
    control characters or text over the length limit, 429 (with ``Retry-After``) when this
    sender, this sender's address (all its tokens together) or the whole room is too fast.
``POST /delete`` ``{token, id}`` (host)
    Removes a message for everyone; 403 for a viewer's token, 404 for an unknown message.
``POST /disconnect`` ``{token, identity}`` (host)
    Ends a chatter's streams and their token stops working. Their address is banned too: every
    chatter of that address is disconnected and ``/chat_token`` refuses it (403) until a live
    stream ends, or for ``ChatLimits.ban_seconds`` at most. Answers ``{"ok": true,
    "addressBanned": ...}``: false for a chatter on the host's own address, who is disconnected
    without a ban.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from livescreen.chat.local.limits import ChatRefusedError
from livescreen.chat.local.room import CHAT_ROOM, ChatRoom
from livescreen.devserver.channels import Channel
from livescreen.devserver.relays.http import (
    RelayError,
    Response,
    Route,
    channel_token,
    dispatch,
    json_object,
    json_response,
    required_text,
)

#: How often an idle chat channel checks whether its token has expired.
IDLE_SECONDS = 15.0
MAX_BODY_BYTES = 8 * 1024
FINAL_EVENTS = frozenset({"disconnected", "expired", "closed", "error"})


def handle(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    room: ChatRoom = CHAT_ROOM,
) -> Response:
    """Answer one request for ``/chat<path>``."""
    try:
        return dispatch(_ROUTES, room, "/chat", method, path, query, headers, body, "chat")
    except ChatRefusedError as exc:
        status, out, data = json_response(exc.status, {"error": exc.message})
        if exc.retry_after is not None:
            out["Retry-After"] = str(exc.retry_after)
        return status, out, data


def chat_channel(message: Mapping[str, Any], room: ChatRoom = CHAT_ROOM) -> Channel:
    """A chatter's channel for ``message`` ``{token}``; ``RelayError`` when refused."""
    try:
        chatter, inbox = room.connect(channel_token(message))
    except ChatRefusedError as exc:
        raise RelayError(exc.status, exc.message) from None
    return Channel(
        inbox,
        close=lambda: room.leave(chatter, inbox),
        idle_seconds=IDLE_SECONDS,
        on_idle=room.end_expired,
        final_events=FINAL_EVENTS,
    )


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
    banned = room.disconnect(required_text(data, "token"), required_text(data, "identity"))
    return json_response(200, {"ok": True, "addressBanned": banned})


_ROUTES: dict[tuple[str, str], Route[ChatRoom]] = {
    ("POST", "/send"): _send,
    ("POST", "/delete"): _delete,
    ("POST", "/disconnect"): _disconnect,
}
