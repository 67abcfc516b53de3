"""One subscription of a page's socket: the events of one inbox, sent to the page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livescreen.providers.local.inbox import Inbox


@dataclass
class Channel:
    """One subscription of a page's socket: every event put in ``inbox`` is sent to the page.

    The channel ends after an event named in ``final_events``, or when the page unsubscribes
    or its socket goes away; ``close`` is then called once (it releases what the channel
    holds: a viewer's slot, the host's connection, a chatter's stream). While no event comes,
    ``on_idle`` is called every ``idle_seconds`` (it ends whatever is past its deadline).
    ``welcome`` is what the ``subscribed`` event that confirms the subscription carries.
    """

    inbox: Inbox
    close: Callable[[], object]
    idle_seconds: float
    on_idle: Callable[[], object]
    final_events: frozenset[str] = frozenset({"ended", "error"})
    welcome: dict[str, Any] = field(default_factory=dict)
