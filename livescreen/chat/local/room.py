"""The in-process chat room of the ``local`` chat provider (the dev server only).

Chatters hold random tokens issued by ``/chat_token``; messages are relayed to every connected
chatter's channel and the last ``ChatLimits.history`` are replayed to whoever joins late.
Everything a room accepts from the public is bounded: message length and content, each
sender's rate, the room's rate (like Amazon IVS Chat's ``maximumMessageRatePerSecond``), the
chatters connected at once, the tokens remembered. A token expires ``token_seconds`` after it
was issued: its streams are then ended with ``expired`` and it can no longer send. Time is read
from an injectable clock; every method is safe to call from any thread.

One client address cannot take over the room with many tokens: each chatter's address is
recorded when it joins (``/chat_token`` passes the connection's address), and per address the
room bounds the tokens issued in a rolling window, the chatters connected at once and the
messages sent (summed over all that address's tokens). A host's Disconnect bans the chatter's
address as well: every chatter of that address is disconnected and a new token for it is
refused (403) until the ban is lifted, when a live stream ends (``lift_bans_when_streams_end``,
the ``local`` provider's hub) or after ``ban_seconds``, whichever comes first, or when the dev
server restarts. A chatter on the host's own address is disconnected without a ban (it would
lock out the host's own network, or everybody behind a tunnel). The host's tokens and
connections count against none of these limits, nor the room's: the host's chat always
connects. A chatter joined without an address (tests, internal callers) is not counted per
address.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from livescreen.chat import HOST
from livescreen.chat.rates import (
    ADDRESS_BURST,
    SECONDS_PER_ADDRESS_MESSAGE,
    SECONDS_PER_MESSAGE,
    SENDER_BURST,
    Buckets,
    Window,
    whole_seconds,
)
from livescreen.chat.text import MAX_MESSAGE_LENGTH, check_message
from livescreen.providers.local.inbox import Inbox

Clock = Callable[[], float]


class StreamEnds(Protocol):
    """What tells the room that a live stream has ended (``local_hub.Hub``)."""

    def add_end_listener(self, listener: Callable[[Any], None]) -> None: ...


@dataclass(frozen=True)
class ChatLimits:
    """What one room takes from its chatters."""

    max_message_length: int = MAX_MESSAGE_LENGTH
    #: Each sender may send this many messages at once, then one per ``seconds_per_message``.
    sender_burst: int = SENDER_BURST
    seconds_per_message: float = SECONDS_PER_MESSAGE
    #: All the chatters of one address together may send this many at once, then one per
    #: ``address_seconds_per_message`` (2 a second): many tokens from one address send no more
    #: than two people would, and cannot crowd out everybody else or the history.
    address_burst: int = ADDRESS_BURST
    address_seconds_per_message: float = SECONDS_PER_ADDRESS_MESSAGE
    #: Messages the whole room accepts per second (IVS Chat's room-wide limit, at its ceiling
    #: of 100), so that many tokens cannot add up to a flood.
    room_messages_per_second: int = 100
    #: Chatters with an open channel at once; one more is refused until somebody leaves.
    #: The host's chat is never counted nor refused.
    max_connected: int = 200
    #: Chatters of one address with an open channel at once (a tenth of the room).
    max_connected_per_address: int = 20
    #: Chat tokens issued to one address in any ``token_window_seconds`` (each page load and
    #: each expired session takes one); the next is a 429 with Retry-After.
    tokens_per_address: int = 30
    token_window_seconds: float = 600.0
    #: How long a host's Disconnect bans the chatter's address at most; a live stream that
    #: ends lifts every ban sooner.
    ban_seconds: float = 12 * 3600.0
    #: Addresses banned at once at most (the oldest ban is lifted first).
    max_bans: int = 1000
    #: Event streams one chatter may hold open at once (a reloading page briefly has two).
    max_streams_per_chatter: int = 3
    #: Messages replayed to a chatter who joins late.
    history: int = 50
    #: How long a chat token is valid unless ``join`` says otherwise (``CHAT_SESSION_MINUTES``).
    token_seconds: float = 3600.0
    #: Tokens remembered at most (expired ones and then the oldest unconnected are forgotten).
    max_tokens: int = 5000


DISCONNECTED = "The host has disconnected you from the chat"
BANNED = "The host has disconnected you from the chat: you cannot join again until this stream ends"


class ChatRefusedError(Exception):
    """The room refuses this request; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass
class Chatter:
    token: str
    identity: str
    name: str
    role: str
    expires_at: float
    #: the client address the token was issued to (None: not known, not counted per address)
    address: str | None = None
    streams: list[Inbox] = field(default_factory=list)
    allowance: float = 0.0
    allowance_at: float = 0.0
    disconnected: bool = False

    @property
    def sender(self) -> dict[str, str]:
        return {"id": self.identity, "name": self.name, "role": self.role}


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
        self._address_rate = Buckets(clock)
        self._address_tokens = Window(clock)
        #: banned address -> until when (the room's clock)
        self._bans: OrderedDict[str, float] = OrderedDict()
        self._followed: list[StreamEnds] = []

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
                if self._banned(address):
                    raise ChatRefusedError(403, BANNED)
                wait = self._address_tokens.take(
                    address, self.limits.tokens_per_address, self.limits.token_window_seconds
                )
                if wait:
                    seconds = whole_seconds(wait)
                    raise ChatRefusedError(
                        429,
                        f"Too many chat sessions were started from your address: "
                        f"try again in {seconds} s",
                        retry_after=seconds,
                    )
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
            if chatter.disconnected or (chatter.role != HOST and self._banned(chatter.address)):
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
            self._spend_allowance(chatter)
            try:
                self._spend_address_allowance(chatter)
            except ChatRefusedError:
                chatter.allowance += 1.0  # the sender is not charged for a refusal further on
                raise
            try:
                if chatter.role != HOST:
                    self._spend_room_allowance()
            except ChatRefusedError:
                chatter.allowance += 1.0
                if chatter.address is not None and chatter.role != HOST:
                    self._address_rate.give_back(chatter.address)
                raise
            message = {
                "id": secrets.token_hex(8),
                "text": checked,
                "sentAt": round(self.wall_clock() * 1000),
                "sender": chatter.sender,
            }
            self._history.append(message)
            self._broadcast(("message", message))
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
                self._ban(address)
            for chatter in self._chatters.values():
                if chatter.identity == identity or (
                    chatter.role != HOST and chatter.address in addresses
                ):
                    self._end_for(chatter)
            return bool(addresses)

    def lift_bans(self) -> None:
        """Lift every address ban (a live stream has ended): new tokens may be issued there
        again. Tokens that were disconnected stay disconnected."""
        with self._lock:
            self._bans.clear()

    def banned(self, address: str) -> bool:
        with self._lock:
            return self._banned(address)

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
            self._bans.clear()
            self._address_rate.reset()
            self._address_tokens.reset()
            self._room_allowance = float(self.limits.room_messages_per_second)
            self._room_allowance_at = self._clock()

    # -- internals ---------------------------------------------------------------------------

    def _require_host(self, token: str) -> Chatter:
        chatter = self.chatter(token)
        if chatter.role != HOST:
            raise ChatRefusedError(403, "Only the host can do that")
        return chatter

    def _spend_allowance(self, chatter: Chatter) -> None:
        now = self._clock()
        earned = (now - chatter.allowance_at) / self.limits.seconds_per_message
        chatter.allowance = min(float(self.limits.sender_burst), chatter.allowance + earned)
        chatter.allowance_at = now
        if chatter.allowance < 1.0:
            wait = max(1, math.ceil((1.0 - chatter.allowance) * self.limits.seconds_per_message))
            raise ChatRefusedError(
                429, f"You are sending messages too fast: wait {wait} s", retry_after=wait
            )
        chatter.allowance -= 1.0

    def _spend_address_allowance(self, chatter: Chatter) -> None:
        if chatter.role == HOST or chatter.address is None:
            return
        wait = self._address_rate.take(
            chatter.address, self.limits.address_burst, self.limits.address_seconds_per_message
        )
        if wait:
            seconds = whole_seconds(wait)
            raise ChatRefusedError(
                429,
                f"Too many messages are coming from your address: wait {seconds} s",
                retry_after=seconds,
            )

    def _banned(self, address: str | None) -> bool:
        if address is None or address not in self._bans:
            return False
        if self._bans[address] > self._clock():
            return True
        del self._bans[address]
        return False

    def _ban(self, address: str) -> None:
        self._bans.pop(address, None)
        self._bans[address] = self._clock() + self.limits.ban_seconds
        while len(self._bans) > self.limits.max_bans:
            self._bans.popitem(last=False)

    def _end_for(self, chatter: Chatter) -> None:
        """Disconnect ``chatter``: its streams are told and its token stops working."""
        if chatter.disconnected:
            return
        chatter.disconnected = True
        for inbox in chatter.streams:
            inbox.put(("disconnected", {"reason": "The host disconnected you"}))

    def _spend_room_allowance(self) -> None:
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
