"""Recordings of past streams: where each provider keeps them, and how they are listed.

``RECORDING=on`` makes every stream recorded by its provider:

- ``local``: the host's browser records what it publishes (MediaRecorder) and uploads it to the
  dev server while live, which writes one file per stream under ``RECORDINGS_DIR``;
- ``ivs``: each stage records its host's participant to the stack's S3 bucket (HLS), served by
  CloudFront under ``/recordings/``;
- ``twilio``: the room records only the host's tracks, and one Composition (mp4) is made when
  the room ends.

Each provider's ``RecordingStore`` lists and deletes them; a service that fails or refuses
raises ``ProviderError`` (rendered as a clear 502/503 by the runtime). A recording's ``id`` is
random (or contains the service's random identifiers), so one that is not listed cannot be
guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from livescreen.config import Settings
from livescreen.errors import ProviderUnavailableError
from livescreen.per_settings import PerSettings

#: How a recording is played: ``hls`` with the vendored HLS player, the others in a ``<video>``.
FORMATS = ("hls", "webm", "mp4")
#: ``ready`` plays; ``recording`` is still being written (the stream is live); ``processing``
#: is being made by the service (a Twilio composition that is not ``completed`` yet).
STATUSES = ("ready", "recording", "processing")


class RecordingNotFoundError(Exception):
    """No recording has this id (or it is not one of this app's)."""


@dataclass(frozen=True)
class Recording:
    """One past (or current) stream's recording, as the list shows it."""

    id: str
    title: str
    #: seconds since the epoch when the recording began
    started_at: float
    #: seconds, or None while unknown (still recording, or not reported by the service)
    duration: float | None
    #: where the page plays it from (absolute, or a path on the same origin); None until ready
    playback_url: str | None
    format: str
    status: str = "ready"
    size_bytes: int | None = None
    #: the provider's name for the stream it recorded (the room's name, or the IVS stage id):
    #: what ``with_streams`` matches it to a stream's record by
    stream_ref: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "startedAt": datetime.fromtimestamp(self.started_at, UTC).isoformat(),
            "duration": None if self.duration is None else round(self.duration, 1),
            "playbackUrl": self.playback_url,
            "format": self.format,
            "status": self.status,
            "sizeBytes": self.size_bytes,
        }


class RecordingStore(Protocol):
    """Where one provider's recordings are kept."""

    def list(self) -> list[Recording]:
        """Every recording, newest first."""
        ...

    def delete(self, recording_id: str) -> None:
        """Delete one recording and its files; ``RecordingNotFoundError`` for an unknown id."""
        ...


def recording_enabled(settings: Settings) -> bool:
    """``RECORDING``: whether new streams are recorded."""
    return settings.get_flag("RECORDING")


def recordings_public(settings: Settings) -> bool:
    """``RECORDINGS_PUBLIC``: whether anyone (not only the host) may list the recordings."""
    return settings.get_flag("RECORDINGS_PUBLIC")


def newest_first(recordings: list[Recording]) -> list[Recording]:
    return sorted(recordings, key=lambda recording: recording.started_at, reverse=True)


#: provider name -> "module:factory"; each factory takes the Settings and returns a store.
_FACTORIES = {
    "local": "livescreen.providers.local.recording_store:create_store",
    "ivs": "livescreen.providers.ivs.recording_store:create_store",
    "twilio": "livescreen.providers.twilio.recording_store:create_store",
}
_stores: PerSettings[RecordingStore] = PerSettings(
    _FACTORIES,
    "recording store",
    dev_server_only={
        "local": lambda: ProviderUnavailableError(
            "Local recordings are kept only by the dev server (`livescreen dev`): a deployed "
            "stack records with STREAM_PROVIDER=ivs or twilio and Recording=on."
        )
    },
)


def get_store(settings: Settings, provider: str | None = None) -> RecordingStore:
    """The recording store of ``provider`` (default: ``STREAM_PROVIDER``), built once."""
    return _stores.get(provider or settings.provider, settings)


def clear_store_cache() -> None:
    _stores.clear()
