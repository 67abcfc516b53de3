"""The IVS Chat room's message review handler: the server's check of every message sent.

With ``ivschat`` a message goes from the browser straight to IVS Chat, which enforces the
room's length and rate limits itself. IVS Chat then invokes this Lambda function for every
``SendMessage`` (the room's ``MessageReviewHandler``), which applies the same checks as the
``local`` chat (``text.check_message``: not empty, at most 500 characters, no control
characters, line separators or direction overrides) and answers ``ALLOW`` with the content
unchanged, or ``DENY``: a denied message is delivered to nobody.

IVS Chat gives the handler 200 ms; a handler that fails, times out (a cold start can) or
answers something IVS cannot read leaves the decision to the room's ``FallbackResult``, which
the stack sets to ``ALLOW``: the chat never stops because of its reviewer, and the pages check
the same rules before sending. The handler reads no settings and calls nothing.

The room's own rate limit (``ChatMessageRatePerSecond``) is shared by everyone, so one sender
could use all of it. The handler also allows each sender ``SENDER_BURST`` messages at once, then
one every ``SECONDS_PER_MESSAGE`` (the ``local`` chat's limits), denying the rest. It counts
per warm container, so a burst spread over several containers gets further: best effort, and
the host's Disconnect remains the remedy for a flooder.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from livescreen.chat.text import ChatTextError, check_message

logger = logging.getLogger(__name__)

ALLOW = "ALLOW"
DENY = "DENY"

SENDER_BURST = 5
SECONDS_PER_MESSAGE = 1.0
#: Senders remembered at most per container (the least recent are forgotten first).
MAX_SENDERS = 10_000


class SenderRate:
    """A token bucket per sender: ``SENDER_BURST`` at once, then one per ``SECONDS_PER_MESSAGE``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, sender: str) -> bool:
        now = self._clock()
        with self._lock:
            allowance, at = self._buckets.pop(sender, (float(SENDER_BURST), now))
            allowance = min(float(SENDER_BURST), allowance + (now - at) / SECONDS_PER_MESSAGE)
            allowed = allowance >= 1.0
            self._buckets[sender] = (allowance - 1.0 if allowed else allowance, now)
            while len(self._buckets) > MAX_SENDERS:
                self._buckets.popitem(last=False)
            return allowed

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


sender_rate = SenderRate()


def review(event: dict[str, Any]) -> dict[str, Any]:
    """The review of one message, as IVS Chat expects the handler's answer."""
    content = event.get("Content") if isinstance(event, dict) else None
    sender = event.get("Sender") if isinstance(event, dict) else None
    user = sender.get("UserId") if isinstance(sender, dict) else None
    try:
        check_message(content)
    except ChatTextError as exc:
        # the reason and who sent it, never the text itself
        logger.info("chat message denied (%s) from %s", exc, user or "an unknown sender")
        return {"ReviewResult": DENY}
    if isinstance(user, str) and not sender_rate.allow(user):
        logger.info("chat message denied (sending too fast) from %s", user)
        return {"ReviewResult": DENY}
    return {"ReviewResult": ALLOW, "Content": content}


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return review(event)
