"""Signalling for the ``local`` provider, mounted by the dev server under ``/local``.

Each viewer gets its own peer connection straight from the host's browser; this module only
relays complete (non-trickle) SDP between them:

``GET  /host/events?token=<host token>``
    Server-Sent Events for the host: ``offer`` ``{viewer, sdp}``, ``bye`` ``{viewer}``,
    ``viewers`` ``{count}``, ``ended`` ``{reason}``.
``POST /answer`` ``{token: <host token>, viewer, sdp}``
    The host's answer to one viewer's offer.
``POST /offer`` ``{token: <viewer token>, sdp}``
    A viewer's offer; waits for the host's answer and returns ``{viewer, sdp}``. 429 when the
    room is full or too many offers are waiting (see ``local_hub.Limits``).
``GET  /viewer/events?token=<viewer token>&viewer=<id>``
    Server-Sent Events for a viewer: ``ended`` ``{reason}``. While it is open the viewer counts
    as watching; a viewer that does not open it soon after its answer is dropped.

Event streams send a comment every ``KEEPALIVE_SECONDS`` so that a closed socket is noticed by
the server's next write, and they finish when the stream ends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from livescreen.providers.local_hub import HUB, Hub, Room, RoomFullError
from livescreen.sse import EventStream, Inbox

KEEPALIVE_SECONDS = 5.0
ANSWER_TIMEOUT_SECONDS = 15.0
#: A browser's complete offer or answer is a few KB (about 7 KB from Chromium with host
#: candidates); this leaves room for many network interfaces.
MAX_SDP_BYTES = 16 * 1024
MAX_BODY_BYTES = MAX_SDP_BYTES + 4 * 1024

Response = tuple[int, dict[str, str], "bytes | EventStream"]
Route = Callable[[Hub, Mapping[str, str], Mapping[str, str], bytes], Response]

_JSON = {"Content-Type": "application/json", "Cache-Control": "no-store"}
_SSE = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
}


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def handle(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    hub: Hub = HUB,
) -> Response:
    """Answer one request for ``/local<path>``; an iterator body is an event stream."""
    routes: dict[tuple[str, str], Route] = {
        ("GET", "/host/events"): _host_events,
        ("POST", "/answer"): _answer,
        ("POST", "/offer"): _offer,
        ("GET", "/viewer/events"): _viewer_events,
    }
    route = routes.get((method.upper(), path.rstrip("/") or "/"))
    if route is None:
        allowed = [m for m, p in routes if p == path.rstrip("/")]
        if allowed:
            status, headers_out, body_out = _json(
                405, {"error": f"{method} is not allowed on /local{path}"}
            )
            return status, {**headers_out, "Allow": ", ".join(allowed)}, body_out
        return _json(404, {"error": f"No local signalling endpoint at /local{path}"})
    try:
        return route(hub, query, headers, body)
    except _BadRequest as exc:
        return _json(exc.status, {"error": exc.message})


# -- host ---------------------------------------------------------------------------------------


def _host_events(
    hub: Hub, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    room = _host_room(hub, query.get("token", ""))
    return (
        200,
        dict(_SSE),
        _stream(
            hub,
            open_inbox=lambda: hub.connect_host(room),
            close_inbox=lambda inbox: hub.disconnect_host(room, inbox),
        ),
    )


def _answer(
    hub: Hub, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    data = _json_body(headers, body)
    room = _host_room(hub, _text(data, "token"))
    if not hub.answer(room, _text(data, "viewer"), _sdp(data, "answer")):
        raise _BadRequest(404, "That viewer has left")
    return _json(200, {"ok": True})


def _host_room(hub: Hub, token: str) -> Room:
    if not token:
        raise _BadRequest(401, "Missing host token")
    room = hub.host_room(token)
    if room is None:
        raise _BadRequest(401, "Unknown or expired host token: switch LIVE on again")
    return room


# -- viewer -------------------------------------------------------------------------------------


def _offer(hub: Hub, query: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Response:
    data = _json_body(headers, body)
    room = _viewer_room(hub, _text(data, "token"))
    try:
        viewer = hub.add_viewer(room, _sdp(data, "offer"))
    except RoomFullError as exc:
        raise _BadRequest(429, str(exc)) from None
    if not viewer.answered.wait(ANSWER_TIMEOUT_SECONDS):
        hub.drop_viewer(room, viewer)
        raise _BadRequest(504, "The host did not answer in time: try again")
    if viewer.answer is None:
        raise _BadRequest(410, "The stream has ended")
    return _json(200, {"viewer": viewer.id, "sdp": viewer.answer})


def _viewer_events(
    hub: Hub, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    room = _viewer_room(hub, query.get("token", ""))
    viewer = room.viewers.get(query.get("viewer", ""))
    if viewer is None:
        raise _BadRequest(404, "Unknown viewer: send a new offer")
    if not hub.may_watch(viewer):
        raise _BadRequest(429, "This viewer already has its event streams open")

    def open_inbox() -> Inbox | None:
        return viewer.inbox if hub.watch(room, viewer) else None

    return (
        200,
        dict(_SSE),
        _stream(hub, open_inbox=open_inbox, close_inbox=lambda _: hub.unwatch(room, viewer)),
    )


def _viewer_room(hub: Hub, token: str) -> Room:
    if not token:
        raise _BadRequest(401, "Missing viewer token")
    room = hub.viewer_room(token)
    if room is None:
        raise _BadRequest(410, "The stream is not live")
    return room


# -- helpers ------------------------------------------------------------------------------------


def _stream(
    hub: Hub,
    *,
    open_inbox: Callable[[], Inbox | None],
    close_inbox: Callable[[Inbox], None],
) -> EventStream:
    return EventStream(
        open_inbox,
        close_inbox,
        keepalive=KEEPALIVE_SECONDS,
        # ends what is past its deadline (a vanished host, a viewer that never connected)
        on_idle=hub.live_room,
    )


def _json_body(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise _BadRequest(413, f"Request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, ValueError):
        # ValueError covers JSONDecodeError and integers longer than Python converts.
        raise _BadRequest(400, "Request body must be JSON") from None
    except RecursionError:
        raise _BadRequest(400, "Request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise _BadRequest(400, "Request body must be a JSON object")
    return data


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise _BadRequest(400, f"Missing {key!r}: a non-empty string is required")
    return value


def _sdp(data: Mapping[str, Any], kind: str) -> str:
    sdp = _text(data, "sdp")
    if not sdp.startswith("v=0"):
        raise _BadRequest(400, f"'sdp' must be an SDP {kind} (starting with v=0)")
    try:
        size = len(sdp.encode())
    except UnicodeEncodeError:  # a lone surrogate (\ud800) from JSON: not text a browser sent
        raise _BadRequest(400, f"'sdp' must be an SDP {kind} in valid Unicode") from None
    if size > MAX_SDP_BYTES:
        raise _BadRequest(413, f"'sdp' is larger than {MAX_SDP_BYTES} bytes")
    return sdp


def _json(status: int, payload: Mapping[str, Any]) -> Response:
    return status, dict(_JSON), json.dumps(payload).encode()
