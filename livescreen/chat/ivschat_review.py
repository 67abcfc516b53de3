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
"""

from __future__ import annotations

import logging
from typing import Any

from livescreen.chat.text import ChatTextError, check_message

logger = logging.getLogger(__name__)

ALLOW = "ALLOW"
DENY = "DENY"


def review(event: dict[str, Any]) -> dict[str, Any]:
    """The review of one message, as IVS Chat expects the handler's answer."""
    content = event.get("Content") if isinstance(event, dict) else None
    try:
        check_message(content)
    except ChatTextError as exc:
        sender = event.get("Sender") if isinstance(event, dict) else None
        user = sender.get("UserId") if isinstance(sender, dict) else None
        # the reason and who sent it, never the text itself
        logger.info("chat message denied (%s) from %s", exc, user or "an unknown sender")
        return {"ReviewResult": DENY}
    return {"ReviewResult": ALLOW, "Content": content}


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return review(event)
