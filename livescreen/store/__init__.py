"""Stream details and audience numbers: the app's own store, one interface, two back ends.

A *stream* is one go-live of one room, keyed by the room's name (``HostGrant.room``, the same
for every provider). Its record is the state of record for the stream's title, description and
audience numbers; whether it is live stays the provider's business (the service itself).

Besides the streams, the store holds the channel's *details*: the title, description and
planned start the host has set for the current or next stream. ``stream_started`` copies them
into the new stream's record (and clears the planned start: the plan came true).

Counting is idempotent: a viewer is counted once per (stream, viewer id) however many times its
join or leave is reported, a chat message once per message id, and ``stream_ended`` closes
every session still open (a leave that never arrived). Writes are conditional, so two Lambda
containers or a replayed event cannot count twice. Counting runs off the viewer's join path:
in the dev server a background ``counting.Counter`` applies the hub's events; on AWS the
event functions (IVS participant events, Twilio room callbacks) call the store.

Back ends (``STREAM_STORE``):

- ``sqlite``: a file (``STREAMS_DB``) for the dev server, nothing to install;
- ``dynamodb``: one on-demand table (``STREAMS_TABLE``) on AWS: nothing billed while idle;
  items expire (TTL attribute ``expiresAt``) ``STREAMS_RETENTION_DAYS`` after the stream began;
- ``off``: no store (details and numbers are not kept; the endpoints say so).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from livescreen.config import ConfigError, Settings
from livescreen.per_settings import PerSettings

#: ``STREAM_STORE`` values.
BACKENDS = ("sqlite", "dynamodb", "off")

#: The DynamoDB table's key schema and TTL attribute (template.yaml declares the same).
PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expiresAt"


class StreamNotFoundError(Exception):
    """No stream has this id."""


class StoreUnavailableError(Exception):
    """The store could not be read or written just now (the message says why)."""


def iso(seconds: float | None) -> str | None:
    """Seconds since the epoch as an ISO 8601 UTC timestamp, as every answer writes times."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()


@dataclass(frozen=True)
class StreamDetails:
    """What the host has set for the current or next stream."""

    title: str
    description: str = ""
    #: seconds since the epoch when the next stream is planned to start, or None
    planned_start: float | None = None
    #: seconds since the epoch of the last change
    updated_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "plannedStart": iso(self.planned_start),
            "updatedAt": iso(self.updated_at),
        }


@dataclass(frozen=True)
class AudienceNumbers:
    """One stream's audience, as counted so far."""

    #: viewers watching now (0 once the stream has ended)
    current: int = 0
    #: the most viewers watching at once
    peak: int = 0
    #: viewers who joined (each viewer id once)
    joins: int = 0
    #: seconds watched, summed over the viewers' closed sessions
    viewer_seconds: float = 0.0
    #: chat messages sent while the stream was live
    chat_messages: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "currentViewers": self.current,
            "peakViewers": self.peak,
            "viewers": self.joins,
            "viewerMinutes": round(self.viewer_seconds / 60, 1),
            "chatMessages": self.chat_messages,
        }


@dataclass(frozen=True)
class StreamRecord:
    """One stream: its details as they were while live, its times and its numbers."""

    id: str
    provider: str
    title: str
    description: str
    started_at: float
    ended_at: float | None = None
    #: the provider's own name for the stream's media (the IVS stage ARN), if any
    media_ref: str | None = None
    numbers: AudienceNumbers = field(default_factory=AudienceNumbers)

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else max(0.0, self.ended_at - self.started_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "title": self.title,
            "description": self.description,
            "startedAt": iso(self.started_at),
            "endedAt": iso(self.ended_at),
            "duration": None if self.duration is None else round(self.duration, 1),
            "live": self.ended_at is None,
            **self.numbers.to_json(),
        }


class StreamStore(Protocol):
    """Where stream details and audience numbers are kept. Every method is thread-safe.

    Times are seconds since the epoch, passed in by the caller (tests pass their own clock).
    A back end that cannot be reached raises ``StoreUnavailableError``.
    """

    # -- the channel's details ------------------------------------------------------------

    def get_details(self) -> StreamDetails | None:
        """The details set for the current or next stream, or None if none were ever set."""
        ...

    def put_details(self, details: StreamDetails, *, live_stream: str | None = None) -> None:
        """Replace the details; with ``live_stream``, also that stream's title and description
        (when it exists and has not ended)."""
        ...

    # -- a stream's life ------------------------------------------------------------------

    def stream_started(
        self, stream_id: str, *, provider: str, at: float, media_ref: str | None = None
    ) -> StreamRecord:
        """Create the stream's record from the current details (title "Untitled stream" when
        none were set) and clear the planned start. A stream still open (its end never came:
        a server killed, an event lost) is ended at ``at`` first, its open sessions closed as
        ``stream_ended`` closes them. Idempotent: a stream already recorded is returned as it
        is."""
        ...

    def stream_ended(self, stream_id: str, *, at: float) -> StreamRecord | None:
        """Mark the stream ended at ``at`` and close every viewer session still open (each
        counted as watched until ``at``). Idempotent; None for a stream never recorded."""
        ...

    # -- counting ---------------------------------------------------------------------------

    def viewer_joined(self, stream_id: str, viewer_id: str, *, at: float) -> bool:
        """Count a viewer in. False (nothing changes) for a viewer already counted for this
        stream, a stream never recorded, or one that has ended."""
        ...

    def viewer_left(self, stream_id: str, viewer_id: str, *, at: float) -> bool:
        """Close the viewer's session. A viewer whose join was never reported is counted as
        having joined, with no minutes. False for a leave already counted, a stream never
        recorded, or one that has ended (its sessions were closed then)."""
        ...

    def chat_message(self, message_id: str, *, at: float) -> bool:
        """Count one chat message toward the live stream (the latest started and not ended),
        if it began at or before ``at``. False when nothing is live, the live stream began
        after the message was sent, or this message id was counted already."""
        ...

    # -- reading and deleting -------------------------------------------------------------

    def get(self, stream_id: str) -> StreamRecord | None: ...

    def stream_for_media(self, media_ref: str) -> str | None:
        """The id of the stream whose ``media_ref`` this is (an IVS stage ARN), or None."""
        ...

    def list(self) -> builtins.list[StreamRecord]:
        """Every stream, newest first."""
        ...

    def delete(self, stream_id: str) -> None:
        """Delete a stream's record and its counting; ``StreamNotFoundError`` if unknown."""
        ...


def store_backend(settings: Settings) -> str:
    name = settings["STREAM_STORE"].strip().lower()
    if name not in BACKENDS:
        raise ConfigError(
            f"Setting STREAM_STORE must be one of {', '.join(BACKENDS)}, got {name!r}"
        )
    return name


#: backend name -> "module:factory"; each factory takes the Settings and returns a store.
_FACTORIES = {
    "sqlite": "livescreen.store.sqlite:create_store",
    "dynamodb": "livescreen.store.dynamodb:create_store",
}
_stores: PerSettings[StreamStore] = PerSettings(
    _FACTORIES,
    "stream store",
    dev_server_only={
        "sqlite": lambda: ConfigError(
            "STREAM_STORE=sqlite keeps its file on the dev server's disk: a deployed stack uses "
            "STREAM_STORE=dynamodb (template.yaml sets it)"
        )
    },
)


def get_stream_store(settings: Settings) -> StreamStore | None:
    """The configured stream store, built once per settings; None with ``STREAM_STORE=off``."""
    name = store_backend(settings)
    if name == "off":
        return None
    return _stores.get(name, settings)


def clear_store_cache() -> None:
    _stores.clear()
