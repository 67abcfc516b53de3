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

from collections.abc import Callable, Mapping
from typing import Any

from livescreen.providers.local_hub import HUB, Hub, Room, RoomFullError
from livescreen.relay_http import (
    SSE_HEADERS,
    RelayError,
    Response,
    Route,
    dispatch,
    json_object,
    json_response,
    required_text,
)
from livescreen.sse import EventStream, Inbox

KEEPALIVE_SECONDS = 5.0
ANSWER_TIMEOUT_SECONDS = 15.0
#: A browser's complete offer or answer is a few KB (about 7 KB from Chromium with host
#: candidates); this leaves room for many network interfaces.
MAX_SDP_BYTES = 16 * 1024
MAX_BODY_BYTES = MAX_SDP_BYTES + 4 * 1024


def handle(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    hub: Hub = HUB,
) -> Response:
    """Answer one request for ``/local<path>``; an ``EventStream`` body is an event stream."""
    return dispatch(_ROUTES, hub, "/local", method, path, query, headers, body, "local signalling")


# -- host ---------------------------------------------------------------------------------------


def _host_events(
    hub: Hub, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    room = _host_room(hub, query.get("token", ""))
    return (
        200,
        dict(SSE_HEADERS),
        _stream(
            hub,
            open_inbox=lambda: hub.connect_host(room),
            close_inbox=lambda inbox: hub.disconnect_host(room, inbox),
        ),
    )


def _answer(
    hub: Hub, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    data = json_object(body, MAX_BODY_BYTES)
    room = _host_room(hub, required_text(data, "token"))
    if not hub.answer(room, required_text(data, "viewer"), _sdp(data, "answer")):
        raise RelayError(404, "That viewer has left")
    return json_response(200, {"ok": True})


def _host_room(hub: Hub, token: str) -> Room:
    if not token:
        raise RelayError(401, "Missing host token")
    room = hub.host_room(token)
    if room is None:
        raise RelayError(401, "Unknown or expired host token: switch LIVE on again")
    return room


# -- viewer -------------------------------------------------------------------------------------


def _offer(hub: Hub, query: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Response:
    data = json_object(body, MAX_BODY_BYTES)
    room = _viewer_room(hub, required_text(data, "token"))
    try:
        viewer = hub.add_viewer(room, _sdp(data, "offer"))
    except RoomFullError as exc:
        raise RelayError(429, str(exc)) from None
    if not viewer.answered.wait(ANSWER_TIMEOUT_SECONDS):
        hub.drop_viewer(room, viewer)
        raise RelayError(504, "The host did not answer in time: try again")
    if viewer.answer is None:
        raise RelayError(410, "The stream has ended")
    return json_response(200, {"viewer": viewer.id, "sdp": viewer.answer})


def _viewer_events(
    hub: Hub, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    room = _viewer_room(hub, query.get("token", ""))
    viewer = room.viewers.get(query.get("viewer", ""))
    if viewer is None:
        raise RelayError(404, "Unknown viewer: send a new offer")
    if not hub.may_watch(viewer):
        raise RelayError(429, "This viewer already has its event streams open")

    def open_inbox() -> Inbox | None:
        return viewer.inbox if hub.watch(room, viewer) else None

    return (
        200,
        dict(SSE_HEADERS),
        _stream(hub, open_inbox=open_inbox, close_inbox=lambda _: hub.unwatch(room, viewer)),
    )


def _viewer_room(hub: Hub, token: str) -> Room:
    if not token:
        raise RelayError(401, "Missing viewer token")
    room = hub.viewer_room(token)
    if room is None:
        raise RelayError(410, "The stream is not live")
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


def _sdp(data: Mapping[str, Any], kind: str) -> str:
    sdp = required_text(data, "sdp")
    if not sdp.startswith("v=0"):
        raise RelayError(400, f"'sdp' must be an SDP {kind} (starting with v=0)")
    try:
        size = len(sdp.encode())
    except UnicodeEncodeError:  # a lone surrogate (\ud800) from JSON: not text a browser sent
        raise RelayError(400, f"'sdp' must be an SDP {kind} in valid Unicode") from None
    if size > MAX_SDP_BYTES:
        raise RelayError(413, f"'sdp' is larger than {MAX_SDP_BYTES} bytes")
    return sdp


_ROUTES: dict[tuple[str, str], Route[Hub]] = {
    ("GET", "/host/events"): _host_events,
    ("POST", "/answer"): _answer,
    ("POST", "/offer"): _offer,
    ("GET", "/viewer/events"): _viewer_events,
}
