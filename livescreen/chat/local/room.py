"""The in-process chat room of the ``local`` chat provider (the dev server only): its message
history and the fan-out of every event to the chatters' channels.

Chatters hold random tokens issued by ``/chat_token``; messages are relayed to every connected
chatter's channel and the last ``ChatLimits.history`` are replayed to whoever joins late.
Everything a room accepts from the public is bounded (``ChatLimits``): message length and
content, each sender's rate (``Chatter``), each address's share (``Addresses``, which keeps the
host's bans too), the room's rate (like IVS Chat's ``maximumMessageRatePerSecond``), the
chatters connected at once, the tokens remembered; the host's chat counts against none of them.
A token expires ``token_seconds`` after it was issued: its streams are then ended with
``expired`` and it can no longer send. Each message relayed is counted (by its id) toward the
live stream's numbers by a ``MessageCounter``, which only queues it. Time is read from an
injectable clock; every method is safe to call from any thread.

It is a few lines over 300 because the room's lock guards all of it: what a chatter, an address
and the limits decide lives in their own modules, but the history, the channels and the tokens
change together under that one lock.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, Protocol

from livescreen.chat import HOST
from livescreen.chat.local.addresses import Addresses
from livescreen.chat.local.chatter import Chatter
from livescreen.chat.local.limits import ChatLimits, ChatRefusedError
from livescreen.chat.rates import Clock
from livescreen.chat.text import check_message
from livescreen.providers.local.inbox import Inbox

DISCONNECTED = "The host has disconnected you from the chat"


class StreamEnds(Protocol):
    """What tells the room that a live stream has ended (``providers.local.hub.Hub``)."""

    def add_end_listener(self, listener: Callable[[Any], None]) -> None: ...


class MessageCounter(Protocol):
    """What counts the chat's messages (``store.counting.Counter``): it only queues the id."""

    def chat_message(self, message_id: str) -> None: ...


class ChatRoom:
    """One room for the whole dev server: chat does not depend on a stream being live."""

    def __init__(
        self,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        limits: ChatLimits | None = None,
    ) -> None:
        self._clock = clock
        # what the times people see are read from: messages' times and tokens' expiry
        self.wall_clock = wall_clock
        self.limits = limits or ChatLimits()
        self._lock = threading.RLock()
        self._chatters: OrderedDict[str, Chatter] = OrderedDict()
        self._history: deque[dict[str, Any]] = deque(maxlen=self.limits.history)
        self._room_allowance = float(self.limits.room_messages_per_second)
        self._room_allowance_at = clock()
        self._addresses = Addresses(clock)
        self._followed: list[StreamEnds] = []
        self._counter: MessageCounter | None = None

    # -- tokens ------------------------------------------------------------------------------

    def join(
        self,
        name: str,
        role: str,
        *,
        token_seconds: float | None = None,
        address: str | None = None,
    ) -> tuple[Chatter, float]:
        """A new chatter with a fresh token and identity, valid ``token_seconds`` (default
        ``limits.token_seconds``), issued to the client at ``address``; ``(chatter, expires at
        wall time)``. A viewer's banned address is a 403; too many tokens for one address
        within ``token_window_seconds`` a 429 with ``retry_after``."""
        lifetime = self.limits.token_seconds if token_seconds is None else token_seconds
        with self._lock:
            self._forget_tokens()
            if role != HOST and address is not None:
                self._addresses.admit(address, self.limits)
            chatter = Chatter(
                token=secrets.token_urlsafe(24),
                identity=f"{role}-{secrets.token_hex(8)}",
                name=name,
                role=role,
                expires_at=self._clock() + lifetime,
                address=address,
                allowance=float(self.limits.sender_burst),
                allowance_at=self._clock(),
            )
            self._chatters[chatter.token] = chatter
            return chatter, self.wall_clock() + lifetime

    def chatter(self, token: str) -> Chatter:
        """The chatter holding ``token``, or 401 for an unknown, expired or disconnected one."""
        with self._lock:
            chatter = self._chatters.get(token) if token else None
            if chatter is None or chatter.expires_at <= self._clock():
                raise ChatRefusedError(
                    401, "This chat session is unknown or has expired: reload the page"
                )
            if chatter.disconnected or (
                chatter.role != HOST and self._addresses.banned(chatter.address)
            ):
                raise ChatRefusedError(403, DISCONNECTED)
            return chatter

    # -- messages ----------------------------------------------------------------------------

    def send(self, token: str, text: object) -> dict[str, Any]:
        """Relay ``text`` from the token's chatter to everyone; the message as relayed."""
        with self._lock:
            chatter = self.chatter(token)
            try:
                checked = check_message(text, self.limits.max_message_length)
            except ValueError as exc:
                raise ChatRefusedError(400, str(exc)) from None
            chatter.spend_allowance(self.limits, self._clock())
            # the address's share: not the host's, nor a chatter's joined without an address
            address = chatter.address if chatter.role != HOST else None
            try:
                if address is not None:
                    self._addresses.spend_message(address, self.limits)
            except ChatRefusedError:
                chatter.give_back()  # the sender is not charged for a refusal further on
                raise
            try:
                if chatter.role != HOST:
                    self._spend_room_allowance()
            except ChatRefusedError:
                chatter.give_back()
                if address is not None:
                    self._addresses.give_back_message(address)
                raise
            message_id = secrets.token_hex(8)
            message = {
                "id": message_id,
                "text": checked,
                "sentAt": round(self.wall_clock() * 1000),
                "sender": chatter.sender,
            }
            self._history.append(message)
            self._broadcast(("message", message))
            if self._counter is not None:
                self._counter.chat_message(message_id)
            return message

    def delete(self, token: str, message_id: object) -> None:
        """The host removes a message, for everyone (404 when there is no such message)."""
        with self._lock:
            self._require_host(token)
            for message in self._history:
                if message["id"] == message_id:
                    self._history.remove(message)
                    break
            else:
                raise ChatRefusedError(404, "No such message (it may be too old to delete)")
            self._broadcast(("delete", {"id": message_id}))

    def disconnect(self, token: str, identity: object) -> bool:
        """The host disconnects a chatter: their streams end and their token stops working, and
        their address is banned (every chatter of it disconnected, no new token for it) until
        the bans are lifted. True if an address was banned: not for one on the host's own
        address, nor one joined without an address."""
        with self._lock:
            host = self._require_host(token)
            targets = [c for c in self._chatters.values() if c.identity == identity]
            if not targets:
                raise ChatRefusedError(404, "No such chatter")
            if any(target is host or target.role == HOST for target in targets):
                raise ChatRefusedError(400, "The host cannot disconnect a host")
            addresses = {
                t.address for t in targets if t.address is not None and t.address != host.address
            }
            for address in addresses:
                self._addresses.ban(address, self.limits)
            for chatter in self._chatters.values():
                if chatter.identity == identity or (
                    chatter.role != HOST and chatter.address in addresses
                ):
                    chatter.end()
            return bool(addresses)

    def lift_bans(self) -> None:
        """Lift every address ban (a live stream has ended): new tokens may be issued there
        again. Tokens that were disconnected stay disconnected."""
        with self._lock:
            self._addresses.lift_bans()

    def banned(self, address: str) -> bool:
        with self._lock:
            return self._addresses.banned(address)

    def lift_bans_when_streams_end(self, streams: StreamEnds) -> None:
        """Lift the bans whenever a stream that went live ends (``streams``' end listener;
        registered once per ``streams``)."""
        with self._lock:
            if any(followed is streams for followed in self._followed):
                return
            self._followed.append(streams)

        def ended(room: Any) -> None:
            if getattr(room, "started_at", None) is not None:
                self.lift_bans()

        streams.add_end_listener(ended)

    # -- channels ----------------------------------------------------------------------------

    def connect(self, token: str) -> tuple[Chatter, Inbox]:
        """A channel for the chatter, starting with the recent messages: 429 when the
        token has its streams open, the room is full or the chatter's address has its share
        of it (the host's chat is never refused for either)."""
        with self._lock:
            chatter = self.chatter(token)
            if len(chatter.streams) >= self.limits.max_streams_per_chatter:
                raise ChatRefusedError(429, "This chat session already has its streams open")
            if not chatter.streams and chatter.role != HOST:
                viewers = [c for c in self._chatters.values() if c.streams and c.role != HOST]
                if len(viewers) >= self.limits.max_connected:
                    raise ChatRefusedError(429, "The chat is full right now: try again later")
                same = sum(1 for c in viewers if c.address == chatter.address)
                if chatter.address is not None and same >= self.limits.max_connected_per_address:
                    raise ChatRefusedError(
                        429,
                        "Too many chat windows are open from your address: close one and try again",
                    )
            inbox = Inbox()
            for message in self._history:
                inbox.put(("message", message))
            chatter.streams.append(inbox)
            return chatter, inbox

    def leave(self, chatter: Chatter, inbox: Inbox) -> None:
        with self._lock:
            if inbox in chatter.streams:
                chatter.streams.remove(inbox)

    def connected(self) -> int:
        with self._lock:
            return sum(1 for c in self._chatters.values() if c.streams)

    def end_expired(self) -> None:
        """End the streams of every chatter whose token has expired (called on each idle
        stream's keep-alive and whenever a token is issued)."""
        with self._lock:
            now = self._clock()
            for chatter in self._chatters.values():
                if chatter.expires_at <= now:
                    for inbox in chatter.streams:
                        inbox.put(("expired", {"reason": "Your chat session has expired"}))

    def reset(self) -> None:
        """Forget everything, ending every stream (tests, and a dev-server shutdown)."""
        with self._lock:
            for chatter in self._chatters.values():
                for inbox in chatter.streams:
                    inbox.put(("closed", {"reason": "The server is shutting down"}))
            self._chatters.clear()
            self._history.clear()
            self._addresses.reset()
            self._room_allowance = float(self.limits.room_messages_per_second)
            self._room_allowance_at = self._clock()

    def count_messages_with(self, counter: MessageCounter | None) -> None:
        """Count every message relayed from now on with ``counter`` (None: count none)."""
        with self._lock:
            self._counter = counter

    # -- internals ---------------------------------------------------------------------------

    def _require_host(self, token: str) -> Chatter:
        chatter = self.chatter(token)
        if chatter.role != HOST:
            raise ChatRefusedError(403, "Only the host can do that")
        return chatter

    def _spend_room_allowance(self) -> None:
        # Not rates.Buckets: that earns (elapsed / (1 / rate)), which differs from
        # (elapsed * rate) in a float's last bit, and it cannot take a rate of 0.
        now = self._clock()
        rate = float(self.limits.room_messages_per_second)
        earned = (now - self._room_allowance_at) * rate
        self._room_allowance = min(rate, self._room_allowance + earned)
        self._room_allowance_at = now
        if self._room_allowance < 1.0:
            raise ChatRefusedError(
                429, "The chat is too busy right now: try again in a second", retry_after=1
            )
        self._room_allowance -= 1.0

    def _broadcast(self, event: tuple[str, dict[str, Any]]) -> None:
        for chatter in self._chatters.values():
            if chatter.disconnected:
                continue
            for inbox in chatter.streams:
                inbox.put(event)

    def _forget_tokens(self) -> None:
        """Forget expired tokens (ending their streams), then the oldest unused viewer tokens
        beyond ``max_tokens``; a host's token is never pushed out by a crowd of viewers."""
        self.end_expired()
        now = self._clock()
        for token in [t for t, c in self._chatters.items() if c.expires_at <= now]:
            if not self._chatters[token].streams:
                del self._chatters[token]
        idle = [t for t, c in self._chatters.items() if not c.streams and c.role != HOST]
        excess = len(self._chatters) - self.limits.max_tokens + 1
        for token in idle[: max(0, excess)]:
            del self._chatters[token]


#: The one chat room of this process (the dev server).
CHAT_ROOM = ChatRoom()
