"""What one client address may do in a ``local`` chat room, so that it cannot take the room
over with many tokens.

Each chatter's address is recorded when it joins (``/chat_token`` passes the connection's
address), and per address the room bounds the tokens issued in a rolling window, the chatters
connected at once and the messages sent (summed over all that address's tokens). A host's
Disconnect bans the chatter's address as well: every chatter of that address is disconnected
and a new token for it is refused (403) until the ban is lifted, when a live stream ends
(``ChatRoom.lift_bans_when_streams_end``, the ``local`` provider's hub) or after
``ban_seconds``, whichever comes first, or when the dev server restarts. A chatter on the
host's own address is disconnected without a ban (it would lock out the host's own network, or
everybody behind a tunnel). The host's tokens and connections count against none of these
limits: the host's chat always connects. A chatter joined without an address (tests, internal
callers) is not counted per address.

``Addresses`` keeps the bans, the tokens issued and the messages sent per address; the room
counts the connected chatters itself (it holds them) and calls ``Addresses`` under its lock.
"""

from __future__ import annotations

from collections import OrderedDict

from livescreen.chat.local.limits import ChatLimits, ChatRefusedError
from livescreen.chat.rates import Buckets, Clock, Window, whole_seconds

BANNED = "The host has disconnected you from the chat: you cannot join again until this stream ends"


class Addresses:
    """A room's bookkeeping per client address: its bans, the tokens issued to each address and
    the messages sent from it. The limits are read from the room on each call."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._rate = Buckets(clock)
        self._tokens = Window(clock)
        #: banned address -> until when (the room's clock)
        self._bans: OrderedDict[str, float] = OrderedDict()

    def admit(self, address: str, limits: ChatLimits) -> None:
        """Count a new viewer token for ``address``: 403 for a banned address, 429 with
        ``retry_after`` for one with ``tokens_per_address`` tokens within the window."""
        if self.banned(address):
            raise ChatRefusedError(403, BANNED)
        wait = self._tokens.take(address, limits.tokens_per_address, limits.token_window_seconds)
        if wait:
            seconds = whole_seconds(wait)
            raise ChatRefusedError(
                429,
                f"Too many chat sessions were started from your address: try again in {seconds} s",
                retry_after=seconds,
            )

    def spend_message(self, address: str, limits: ChatLimits) -> None:
        """Count one message from ``address``: 429 with ``retry_after`` when all its chatters
        together have spent their allowance."""
        wait = self._rate.take(address, limits.address_burst, limits.address_seconds_per_message)
        if wait:
            seconds = whole_seconds(wait)
            raise ChatRefusedError(
                429,
                f"Too many messages are coming from your address: wait {seconds} s",
                retry_after=seconds,
            )

    def give_back_message(self, address: str) -> None:
        """Return the message counted a moment ago (it was refused further on)."""
        self._rate.give_back(address)

    def banned(self, address: str | None) -> bool:
        if address is None or address not in self._bans:
            return False
        if self._bans[address] > self._clock():
            return True
        del self._bans[address]
        return False

    def ban(self, address: str, limits: ChatLimits) -> None:
        self._bans.pop(address, None)
        self._bans[address] = self._clock() + limits.ban_seconds
        while len(self._bans) > limits.max_bans:
            self._bans.popitem(last=False)

    def lift_bans(self) -> None:
        self._bans.clear()

    def reset(self) -> None:
        self._bans.clear()
        self._rate.reset()
        self._tokens.reset()
