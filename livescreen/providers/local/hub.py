"""The in-process state of the ``local`` provider: rooms, the live stream and its viewers.

One ``Hub`` per dev-server process (``HUB``) is shared by the provider (``provider.py``) and the
signalling relay (``devserver.relays.signalling``). Media never passes through it: it only relays
SDP offers and answers between the host's browser and each viewer's browser, and tells both
sides when the stream ends or the number of viewers changes.

What one room accepts from its audience is bounded by ``room.Limits`` (in all and per address),
which the hub enforces when a viewer joins. Time is read from an injectable clock, and
deadlines are checked whenever the hub is consulted (every request, and every idle channel of a
page's socket). A live room's ``Audience`` (the counting) hears of each viewer who joins (the
host's answer reached it) and leaves, and of the room's end; it only queues what it hears.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from livescreen.providers.local.audience import Audience, tell
from livescreen.providers.local.inbox import Event, Inbox
from livescreen.providers.local.room import Limits, Room, RoomFullError, Viewer

#: Rooms created by ``/host_token`` but never started are forgotten beyond this many.
MAX_PENDING_ROOMS = 20

Clock = Callable[[], float]


def _same(a: str, b: str) -> bool:
    # surrogatepass: a token from JSON may hold a lone surrogate (\ud800); that is a mismatch.
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


class Hub:
    """Rooms by name; at most one is live. Every method is safe to call from any thread."""

    def __init__(self, clock: Clock = time.monotonic, limits: Limits | None = None) -> None:
        self._clock = clock
        self.limits = limits or Limits()
        self._lock = threading.RLock()
        self._rooms: OrderedDict[str, Room] = OrderedDict()
        self._live: Room | None = None
        self._end_listeners: list[Callable[[Room], None]] = []

    def now(self) -> float:
        """The hub's clock (monotonic seconds, or a test's)."""
        return self._clock()

    def add_end_listener(self, listener: Callable[[Room], None]) -> None:
        """Call ``listener(room)`` whenever a room ends (stopped, replaced, timed out, reset).

        It runs with the hub's lock held: it must be quick and must not call the hub.
        """
        with self._lock:
            self._end_listeners.append(listener)

    # -- the provider's side -------------------------------------------------------------

    def create_room(self) -> Room:
        with self._lock:
            room = Room(
                name=f"livestream-{secrets.token_hex(8)}",
                host_token=secrets.token_urlsafe(24),
                viewer_token=secrets.token_urlsafe(24),
            )
            self._rooms[room.name] = room
            pending = [r for r in self._rooms.values() if not r.live]
            for old in pending[:-MAX_PENDING_ROOMS]:
                self._forget(old)
            return room

    def room(self, name: str) -> Room | None:
        with self._lock:
            return self._rooms.get(name)

    def start(self, name: str, audience: Audience | None = None) -> tuple[Room, bool] | None:
        """Make ``name`` the live room; ``(room, started_now)``, or None for an unknown room.
        ``audience`` counts its viewers from now on (when it goes live now)."""
        with self._lock:
            room = self._rooms.get(name)
            if room is None or room.ended:
                return None
            if room.live:
                return room, False
            if self._live is not None:
                self._end(self._live, reason="Another stream started")
            room.live = True
            room.started_at = self._clock()
            room.audience = audience
            self._live = room
            if room.host_inbox is None:
                # a host that never connects must not keep the stream live forever
                room.host_left_at = self._clock()
            return room, True

    def stop(self, name: str) -> bool:
        """End ``name`` if it exists; True if it was live until now."""
        with self._lock:
            room = self._rooms.get(name)
            if room is None:
                return False
            was_live = room.live
            self._end(room, reason="The host stopped the stream")
            return was_live

    def live_room(self) -> Room | None:
        """The live room, after ending or dropping whatever is past its deadline."""
        with self._lock:
            self._expire()
            return self._live

    def end_expired(self) -> None:
        """End the live room if its host has been gone past the grace period (and refuse offers
        past their deadline): what every call into the hub does first, for a caller (the
        recordings list) that needs nothing else from it."""
        with self._lock:
            self._expire()

    def reset(self) -> None:
        """End every room (tests, and a dev-server restart)."""
        with self._lock:
            for room in list(self._rooms.values()):
                self._end(room, reason="The server is shutting down")

    # -- the host's signalling connection -------------------------------------------------

    def host_room(self, host_token: str) -> Room | None:
        with self._lock:
            self._expire()
            for room in self._rooms.values():
                if _same(room.host_token, host_token) and not room.ended:
                    return room
            return None

    def connect_host(self, room: Room) -> Inbox:
        """A fresh inbox for the host's channel; offers not yet answered are replayed."""
        with self._lock:
            inbox = Inbox()
            room.host_inbox = inbox
            room.host_left_at = None
            for viewer in room.viewers.values():
                if not viewer.answered:
                    inbox.put(("offer", {"viewer": viewer.id, "sdp": viewer.offer}))
            inbox.put(("viewers", {"count": room.viewer_count()}))
            return inbox

    def disconnect_host(self, room: Room, inbox: Inbox) -> None:
        with self._lock:
            if room.host_inbox is inbox:
                room.host_inbox = None
                room.host_left_at = self._clock()

    def answer(self, room: Room, viewer_id: str, sdp: str) -> bool | None:
        """Relay the host's answer to the viewer: True; False when that viewer has gone; None
        when it already has its answer."""
        with self._lock:
            self._expire()
            viewer = room.viewers.get(viewer_id)
            if viewer is None or room.ended:
                return False
            if viewer.answered:
                return None
            viewer.answer = sdp
            viewer.inbox.put(("answer", {"viewer": viewer.id, "sdp": sdp}))
            self._tell_host(room, ("viewers", {"count": room.viewer_count()}))
            tell(room.audience, "viewer_joined", room.name, viewer.id)
            return True

    # -- a viewer's signalling --------------------------------------------------------------

    def viewer_room(self, viewer_token: str) -> Room | None:
        """The live room this viewer token was issued for, or None once it is not live."""
        with self._lock:
            live = self.live_room()
            if live is not None and _same(live.viewer_token, viewer_token):
                return live
            return None

    def add_viewer(self, room: Room, offer: str, address: str) -> Viewer:
        """A new viewer from ``address`` whose offer goes to the host; ``RoomFullError``
        beyond the limits (the room's, or this address's share of it)."""
        limits = self.limits
        with self._lock:
            self._expire()
            if (
                len(room.viewers) >= limits.max_viewers
                or room.viewers_from(address) >= limits.max_viewers_per_address
            ):
                raise RoomFullError(
                    "This stream has as many viewers as it can take: try again later"
                )
            if (
                room.pending_offers() >= limits.max_pending_offers
                or room.pending_offers(address) >= limits.max_pending_offers_per_address
            ):
                raise RoomFullError("Too many viewers are joining at once: try again shortly")
            viewer = Viewer(
                id=secrets.token_hex(8), offer=offer, address=address, offered_at=self._clock()
            )
            if room.ended:  # (its host was found gone just now)
                viewer.inbox.put(("ended", {"reason": "The stream has ended"}))
                return viewer
            room.viewers[viewer.id] = viewer
            self._tell_host(room, ("offer", {"viewer": viewer.id, "sdp": offer}))
            return viewer

    def drop_viewer(self, room: Room, viewer: Viewer) -> None:
        """The viewer has gone (its channel closed): the host closes its connection."""
        with self._lock:
            if room.viewers.get(viewer.id) is viewer:
                del room.viewers[viewer.id]
                self._tell_host(room, ("bye", {"viewer": viewer.id}))
                self._tell_host(room, ("viewers", {"count": room.viewer_count()}))
                if viewer.answered:
                    tell(room.audience, "viewer_left", room.name, viewer.id)

    # -- internals ----------------------------------------------------------------------------

    def _tell_host(self, room: Room, event: Event) -> None:
        if room.host_inbox is not None:
            room.host_inbox.put(event)

    def _end(self, room: Room, *, reason: str) -> None:
        if room.ended:
            return
        room.ended = True
        room.live = False
        if self._live is room:
            self._live = None
        for viewer in room.viewers.values():
            viewer.inbox.put(("ended", {"reason": reason}))
            if viewer.answered:
                tell(room.audience, "viewer_left", room.name, viewer.id)
        tell(room.audience, "stream_ended", room.name)
        self._tell_host(room, ("ended", {"reason": reason}))
        self._forget(room)
        for listener in self._end_listeners:
            listener(room)

    def _forget(self, room: Room) -> None:
        self._rooms.pop(room.name, None)

    def _expire(self) -> None:
        room = self._live
        if room is None:
            return
        now = self._clock()
        left_at = room.host_left_at
        if left_at is not None and now - left_at > self.limits.host_grace_seconds:
            self._end(room, reason="The host disconnected")
            return
        for viewer in list(room.viewers.values()):
            if not viewer.answered and now - viewer.offered_at > self.limits.answer_seconds:
                error = {"status": 504, "error": "The host did not answer in time: try again"}
                viewer.inbox.put(("error", error))
                self.drop_viewer(room, viewer)


#: The one hub of this process (the dev server runs one provider instance).
HUB = Hub()
