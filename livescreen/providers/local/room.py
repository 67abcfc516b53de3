"""A live room of the ``local`` provider: its host's and its viewers' signalling state
(``Room``, ``Viewer``), and what it takes from its audience (``Limits``, ``RoomFullError``).

The viewer token is public (anyone may ask ``/audience_token``), so what one room accepts from
its audience is bounded by ``Limits``, in all and per address (the connection's peer address):
one address cannot take every slot, nor block everyone else's joins with offers it leaves
unanswered. The ``Hub`` enforces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livescreen.providers.local.audience import Audience
from livescreen.providers.local.inbox import Inbox

# The defaults of ``Limits``. A room takes 50 viewers (the host's upload is the real bound). One
# address (one machine, or one network behind NAT) may hold 12 of them, and have 8 offers
# waiting for the host's answer: 8 tabs of one browser opened at once all get in, with room for
# a few reloads, yet one address never holds more than a quarter of the room, and its
# unanswered offers (8) never reach the room's limit on offers waiting at once (24), so viewers
# from elsewhere can still join. An offer waits 15 s for its answer at most.
MAX_VIEWERS = 50
MAX_VIEWERS_PER_ADDRESS = 12
MAX_PENDING_OFFERS = 24
MAX_PENDING_OFFERS_PER_ADDRESS = 8
ANSWER_SECONDS = 15.0


@dataclass(frozen=True)
class Limits:
    """How much one live room takes from its audience, and how long each step may take."""

    #: Viewers in a room, counting offers still waiting for the host's answer.
    max_viewers: int = MAX_VIEWERS
    #: Viewers (answered or not) from one address.
    max_viewers_per_address: int = MAX_VIEWERS_PER_ADDRESS
    #: Offers waiting for the host's answer at the same time, in all and from one address.
    max_pending_offers: int = MAX_PENDING_OFFERS
    max_pending_offers_per_address: int = MAX_PENDING_OFFERS_PER_ADDRESS
    #: An offer the host has not answered by then is refused (504) and forgotten.
    answer_seconds: float = ANSWER_SECONDS
    #: A live stream whose host has had no signalling connection for this long is ended.
    host_grace_seconds: float = 15.0


class RoomFullError(Exception):
    """The room takes no more viewers (or offers) for now; the message says what to do."""


@dataclass
class Viewer:
    """A viewer's offer, then (answered) its slot; it exists while its channel is open."""

    id: str
    offer: str
    #: the address its offer came from (the connection's peer address)
    address: str
    offered_at: float
    answer: str | None = None
    #: its channel: ``answer`` {viewer, sdp}, then ``ended`` {reason}, or ``error``
    inbox: Inbox = field(default_factory=Inbox)

    @property
    def answered(self) -> bool:
        return self.answer is not None


@dataclass
class Room:
    name: str
    host_token: str
    viewer_token: str
    live: bool = False
    ended: bool = False
    viewers: dict[str, Viewer] = field(default_factory=dict)
    host_inbox: Inbox | None = None
    host_left_at: float | None = None
    #: when the room went live, on the hub's clock
    started_at: float | None = None
    #: what counts its viewers (``audience.Audience``), set when it goes live
    audience: Audience | None = None

    def viewer_count(self) -> int:
        """Viewers the host has answered (what the host page shows)."""
        return sum(1 for viewer in self.viewers.values() if viewer.answered)

    def pending_offers(self, address: str | None = None) -> int:
        """Offers waiting for the host's answer (from ``address`` only, if given)."""
        return sum(
            1
            for viewer in self.viewers.values()
            if not viewer.answered and address in (None, viewer.address)
        )

    def viewers_from(self, address: str) -> int:
        return sum(1 for viewer in self.viewers.values() if viewer.address == address)
