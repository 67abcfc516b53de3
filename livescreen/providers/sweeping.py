"""Find and end the paid resources a livestream can leave running: what every sweeper shares.

``livescreen cleanup`` automates the "avoid unexpected charges" chore: for ``twilio`` it finds
MediaProcessors and PlayerStreamers still ``started`` (or ``created``) and the app's Video rooms
(``livestream-*``) still in progress (``twilio.sweeper``); for ``ivs`` it finds the stages tagged
with ``APP_TAG`` (``ivs.sweeper``). A sweeper lists them (``find``) and ends one at a time
(``end``); the service is the state of record, so running cleanup twice is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from livescreen.errors import ProviderError

MEDIA_PROCESSOR = "MediaProcessor"
PLAYER_STREAMER = "PlayerStreamer"
VIDEO_ROOM = "Video room"
IVS_STAGE = "IVS stage"
#: The order resources are ended in: a composer first, so it stops writing to its streamer.
END_ORDER = (MEDIA_PROCESSOR, PLAYER_STREAMER, VIDEO_ROOM, IVS_STAGE)


class CleanupError(Exception):
    """Listing or ending failed in a way the user must fix; the message says how."""


@dataclass(frozen=True)
class Resource:
    """One running paid resource: ``ident`` is a Twilio SID or an AWS ARN."""

    kind: str
    ident: str
    status: str
    started_at: datetime | None = None
    room: str = ""


@dataclass
class Inventory:
    """What is running, plus notes worth telling the user (a retired API, for instance)."""

    resources: list[Resource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    ended: list[Resource] = field(default_factory=list)
    failed: list[tuple[Resource, str]] = field(default_factory=list)


class Sweeper(Protocol):
    provider: str

    def find(self) -> Inventory: ...

    def end(self, resource: Resource) -> None: ...


def end_all(sweeper: Sweeper, resources: Iterable[Resource]) -> Outcome:
    """End every resource in ``END_ORDER``; a failure is recorded and the rest still ended."""
    outcome = Outcome()
    for resource in sorted(resources, key=lambda r: END_ORDER.index(r.kind)):
        try:
            sweeper.end(resource)
        except (CleanupError, ProviderError) as exc:
            outcome.failed.append((resource, str(exc)))
        else:
            outcome.ended.append(resource)
    return outcome
