"""What one ``local`` chat room takes from its chatters (``ChatLimits``), and how it refuses
the rest (``ChatRefusedError``, with the HTTP status to answer)."""

from __future__ import annotations

from dataclasses import dataclass

from livescreen.chat.rates import (
    ADDRESS_BURST,
    SECONDS_PER_ADDRESS_MESSAGE,
    SECONDS_PER_MESSAGE,
    SENDER_BURST,
)
from livescreen.chat.text import MAX_MESSAGE_LENGTH


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


class ChatRefusedError(Exception):
    """The room refuses this request; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
