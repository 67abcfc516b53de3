"""The interface every streaming provider implements.

A provider owns the paid (or local) media resources of a livestream. The endpoints in
``functions/`` call it; they never talk to Twilio, IVS or the local signalling hub directly.
A provider's state of record is the service itself (or a store the provider owns); an
instance may cache what it reads for a few seconds, never longer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from livescreen.errors import ProviderError, ProviderUnavailableError

__all__ = [
    "AudienceGrant",
    "HostGrant",
    "ProviderError",
    "ProviderUnavailableError",
    "StreamProvider",
    "StreamState",
]


@dataclass(frozen=True)
class HostGrant:
    """What ``host_token`` hands the host: the room it owns and the media token to publish with.

    ``extra`` holds provider-specific fields that are merged into the JSON response
    (for example an IVS stage ARN); keep it JSON-serialisable.
    """

    room: str
    token: str | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamState:
    """The outcome of ``start_stream`` / ``stop_stream`` for one room."""

    room: str
    live: bool
    started_now: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AudienceGrant:
    """What ``audience_token`` hands a viewer; ``token`` is None when nothing is live."""

    token: str | None
    extra: dict[str, Any] = field(default_factory=dict)


class StreamProvider(Protocol):
    """One streaming back end: ``local``, ``twilio`` or ``ivs``."""

    name: str

    def create_host_grant(self) -> HostGrant:
        """Create a fresh room for a host and return the host's media token for it."""
        ...

    def start_stream(self, room: str) -> StreamState:
        """Make ``room`` live. Idempotent: a second call for the same room starts nothing new."""
        ...

    def stop_stream(self, room: str) -> StreamState:
        """End the stream of ``room`` and release its resources. Idempotent."""
        ...

    def audience_grant(self) -> AudienceGrant:
        """A playback token for the live stream, or ``AudienceGrant(token=None)``."""
        ...

    def refresh_audience(self, room: str) -> None:
        """Bring the stream store's audience numbers for ``room`` up to date, for the host's
        live numbers. A provider told of every join and leave as it happens (``local``'s hub,
        ``twilio``'s room callbacks) has nothing to do; ``ivs`` reads the stage's participant
        records, because IVS sends no event when a viewer joins or leaves. Never raises."""
        ...
