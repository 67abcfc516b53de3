"""Signalling for the ``local`` provider: two channels of a page's socket, and one route.

Each viewer gets its own peer connection straight from the host's browser; this module only
relays complete (non-trickle) SDP between them. Both pages talk over their one WebSocket
(``devserver.page_socket``), where a refusal is an ``error`` event ``{status, error}``:

channel ``host`` ``{token: <host token>}``
    The host's events: ``offer`` ``{viewer, sdp}`` (offers not answered yet are replayed when
    the host subscribes again), ``bye`` ``{viewer}``, ``viewers`` ``{count}``, ``ended``
    ``{reason}``. 401 for an unknown or expired host token. While it is closed for longer than
    ``Limits.host_grace_seconds`` the stream ends.
channel ``viewer`` ``{token: <viewer token>, sdp: <offer>}``
    A viewer's offer, which is passed to the host at once; the viewer then gets ``answer``
    ``{viewer, sdp}`` and, when the stream ends, ``ended`` ``{reason}``. The viewer holds its
    slot while the channel is open. 400 for an offer that does not only receive
    (``viewer_sdp``), 410 when nothing is live, 413 for an offer over ``MAX_SDP_BYTES``, 429
    when the room (or this address's share of it) is full or too many offers wait for the host
    (see ``providers.local.room.Limits``), and 504 when the host does not answer in time.

and, mounted by the dev server under ``/local``:

``POST /answer`` ``{token: <host token>, viewer, sdp}``
    The host's answer to one viewer's offer; 404 when that viewer has gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from livescreen.providers.local.hub import HUB, Hub
from livescreen.providers.local.room import Room, RoomFullError
from livescreen.providers.local.viewer_sdp import ViewerSdpError, check_viewer_offer

#: How often an idle channel checks the hub's deadlines (a vanished host, an offer left
#: unanswered): the host's, and a viewer's while it waits for its answer.
HOST_IDLE_SECONDS = 5.0
VIEWER_IDLE_SECONDS = 1.0
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
    """Answer one request for ``/local<path>``."""
    return dispatch(_ROUTES, hub, "/local", method, path, query, headers, body, "local signalling")


# -- host ---------------------------------------------------------------------------------------


def host_channel(message: Mapping[str, Any], hub: Hub = HUB) -> Channel:
    """The host's channel, for ``message`` ``{token}``; ``RelayError`` when refused."""
    room = _host_room(hub, channel_token(message))
    inbox = hub.connect_host(room)
    return Channel(
        inbox,
        close=lambda: hub.disconnect_host(room, inbox),
        idle_seconds=HOST_IDLE_SECONDS,
        on_idle=hub.end_expired,
    )


def _answer(
    hub: Hub, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    data = json_object(body, MAX_BODY_BYTES)
    room = _host_room(hub, required_text(data, "token"))
    answered = hub.answer(room, required_text(data, "viewer"), _sdp(data, "answer"))
    if answered is None:
        raise RelayError(409, "That viewer already has its answer")
    if not answered:
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


def viewer_channel(message: Mapping[str, Any], address: str, hub: Hub = HUB) -> Channel:
    """A viewer's channel for ``message`` ``{token, sdp}`` from ``address``: its offer goes to
    the host now and the answer comes back on the channel; ``RelayError`` when refused."""
    room = _viewer_room(hub, channel_token(message))
    offer = _sdp(message, "offer")
    try:
        check_viewer_offer(offer)
    except ViewerSdpError as exc:
        raise RelayError(400, str(exc)) from None
    try:
        viewer = hub.add_viewer(room, offer, address)
    except RoomFullError as exc:
        raise RelayError(429, str(exc)) from None
    return Channel(
        viewer.inbox,
        close=lambda: hub.drop_viewer(room, viewer),
        idle_seconds=VIEWER_IDLE_SECONDS,
        on_idle=hub.end_expired,
        welcome={"viewer": viewer.id},
    )


def _viewer_room(hub: Hub, token: str) -> Room:
    if not token:
        raise RelayError(401, "Missing viewer token")
    room = hub.viewer_room(token)
    if room is None:
        raise RelayError(410, "The stream is not live")
    return room


# -- helpers ------------------------------------------------------------------------------------


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
    ("POST", "/answer"): _answer,
}
