"""One chatter of a ``local`` chat room: the token they hold, who they are, the event streams
they have open, and how fast they may send."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from livescreen.chat.local.limits import ChatLimits, ChatRefusedError
from livescreen.providers.local.inbox import Inbox


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

    def spend_allowance(self, limits: ChatLimits, now: float) -> None:
        """Count one message: ``sender_burst`` at once, then one per ``seconds_per_message``;
        429 with ``retry_after`` when the allowance is spent (nothing is counted then).

        Not ``rates.Buckets``: this wait is rounded up as it stands (``Buckets``' users round
        with ``whole_seconds``, which forgives a float's last bit: 3.0000000000000004 is 3
        there, 4 here), and the allowance lives and is forgotten with the chatter."""
        earned = (now - self.allowance_at) / limits.seconds_per_message
        self.allowance = min(float(limits.sender_burst), self.allowance + earned)
        self.allowance_at = now
        if self.allowance < 1.0:
            wait = max(1, math.ceil((1.0 - self.allowance) * limits.seconds_per_message))
            raise ChatRefusedError(
                429, f"You are sending messages too fast: wait {wait} s", retry_after=wait
            )
        self.allowance -= 1.0

    def give_back(self) -> None:
        """Return the message counted a moment ago (it was refused further on)."""
        self.allowance += 1.0

    def end(self) -> None:
        """Disconnect this chatter: its streams are told and its token stops working."""
        if self.disconnected:
            return
        self.disconnected = True
        for inbox in self.streams:
            inbox.put(("disconnected", {"reason": "The host disconnected you"}))
