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
the same rules before sending.

Each allowed message is then counted toward the live stream (``store.chat_message`` with IVS
Chat's ``MessageId``, so a retried review counts once) in the stack's table
(``STREAM_STORE=dynamodb``, ``STREAMS_TABLE``: the function's environment, no secret, no SSM
read; with any other store nothing is counted). The answer waits for the count, so the count is
cheap and bounded: its own client, each call (at most three, and a transaction's retries on a
conflict) given ``COUNT_TIMEOUT`` to connect and as long to answer, and tried once. A failure or
a timeout is logged and the message allowed all the same. A review IVS gave up waiting for still
counts (the function runs to its end).

The sender's display name (the token's ``displayName`` attribute, set by ``/chat_token``) must
pass ``text.check_display_name`` too: nothing invisible, and nothing that looks like the host's
name unless the token's ``role`` attribute is ``host``. A token made some other way, with a
name the rule refuses, gets every message denied.

The room's own rate limit (``ChatMessageRatePerSecond``) is shared by everyone, so one sender
could use all of it. The handler also allows each sender ``SENDER_BURST`` messages at once, then
one every ``SECONDS_PER_MESSAGE``, and all the senders of one address (``Sender.Ip``, the
address IVS Chat saw: many tokens from one machine) together ``ADDRESS_BURST``, then one every
``SECONDS_PER_ADDRESS_MESSAGE`` (the ``local`` chat's limits, ``rates``), denying the rest; the
host is not counted per address. It counts per warm container, so a burst spread over several
containers gets further: best effort, and the host's Disconnect remains the remedy for a
flooder (IVS Chat's ``DisconnectUser`` ends that token only: it is no ban).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from livescreen.chat import HOST
from livescreen.chat.rates import (
    ADDRESS_BURST,
    SECONDS_PER_ADDRESS_MESSAGE,
    SECONDS_PER_MESSAGE,
    SENDER_BURST,
    Buckets,
)
from livescreen.chat.text import ChatTextError, check_display_name, check_message
from livescreen.config import DEFAULTS, Settings
from livescreen.per_settings import PerSettings
from livescreen.store import StreamStore, store_backend

logger = logging.getLogger(__name__)

ALLOW = "ALLOW"
DENY = "DENY"

#: Seconds each of the count's store calls may take to connect, and then to answer, tried once
#: (a request's store calls get ``dynamodb_table.TIMEOUT`` and a retry): an allowed message's
#: answer waits for its count, and IVS Chat waits 200 ms for the answer.
COUNT_TIMEOUT = 0.15


class SenderRate:
    """A token bucket per sender (``SENDER_BURST`` at once, then one per ``SECONDS_PER_MESSAGE``)
    and one per address (``ADDRESS_BURST``, then one per ``SECONDS_PER_ADDRESS_MESSAGE``)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        # at most rates.MAX_KEYS of each remembered per container (the least recent forgotten)
        self._senders = Buckets(clock)
        self._addresses = Buckets(clock)

    def allow(self, sender: str, address: str | None = None) -> bool:
        """Whether ``sender`` (at ``address``, None: not counted per address) may send one more;
        a refusal costs nothing."""
        if self._senders.take(sender, SENDER_BURST, SECONDS_PER_MESSAGE):
            return False
        if address is not None and self._addresses.take(
            address, ADDRESS_BURST, SECONDS_PER_ADDRESS_MESSAGE
        ):
            self._senders.give_back(sender)
            return False
        return True

    def reset(self) -> None:
        self._senders.reset()
        self._addresses.reset()


sender_rate = SenderRate()


def review(event: dict[str, Any]) -> dict[str, Any]:
    """The review of one message, as IVS Chat expects the handler's answer."""
    content = event.get("Content") if isinstance(event, dict) else None
    sender = event.get("Sender") if isinstance(event, dict) else None
    sender = sender if isinstance(sender, dict) else {}
    user = sender.get("UserId")
    attributes = sender.get("Attributes")
    attributes = attributes if isinstance(attributes, dict) else {}
    is_host = attributes.get("role") == HOST
    address = sender.get("Ip")
    try:
        check_message(content)
        check_display_name(attributes.get("displayName"), host=is_host)
    except ChatTextError as exc:
        # the reason and who sent it, never the text itself
        logger.info("chat message denied (%s) from %s", exc, user or "an unknown sender")
        return {"ReviewResult": DENY}
    counted = address if isinstance(address, str) and address and not is_host else None
    if isinstance(user, str) and not sender_rate.allow(user, counted):
        logger.info("chat message denied (sending too fast) from %s", user)
        return {"ReviewResult": DENY}
    return {"ReviewResult": ALLOW, "Content": content}


def short_store(settings: Settings) -> StreamStore:
    """The stack's stream table through a client of its own: short calls, each tried once."""
    from livescreen.store.dynamodb import create_store
    from livescreen.store.dynamodb_table import make_client

    short = functools.partial(make_client, timeout=COUNT_TIMEOUT, attempts=1)
    return create_store(settings, client_factory=short)


_stores: PerSettings[StreamStore] = PerSettings(
    {"dynamodb": f"{__name__}:short_store"}, "chat reviewer's stream store"
)


def count_message(event: dict[str, Any], clock: Callable[[], float] = time.time) -> None:
    """Count an allowed message toward the live stream; a failure is logged, never raised."""
    message_id = event.get("MessageId") if isinstance(event, dict) else None
    if not isinstance(message_id, str) or not message_id:
        return
    try:
        settings = Settings(
            {k: v for k, v in os.environ.items() if k in DEFAULTS}, "the function's environment"
        )
        if store_backend(settings) == "dynamodb":
            _stores.get("dynamodb", settings).chat_message(message_id, at=clock())
    except Exception as exc:  # the message is allowed whatever the store says
        logger.warning("chat message not counted: %s", exc)


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    answer = review(event)
    if answer["ReviewResult"] == ALLOW:
        count_message(event)
    return answer
