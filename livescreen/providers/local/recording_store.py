"""The ``local`` provider's recording store: the recordings in the folder, as the app lists them.

A recording of this process's live stream shows as ``recording`` until the hub finishes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from livescreen.config import Settings
from livescreen.providers.local.recorder import LOCAL_RECORDINGS
from livescreen.providers.local.recording_folder import (
    MEDIA_SUFFIX,
    PLAYBACK_PATH,
    RecordingFolder,
    recordings_folder,
)
from livescreen.recordings import Recording, RecordingNotFoundError


class LocalRecordingStore:
    """``RecordingStore`` of the ``local`` provider: the folder's recordings."""

    def __init__(self, folder: RecordingFolder, is_recording: Callable[[str], bool]) -> None:
        self.folder = folder
        self._is_recording = is_recording

    def list(self) -> list[Recording]:
        recordings = []
        for recording_id in self.folder.ids():
            try:
                recordings.append(self._recording(recording_id, self.folder.read(recording_id)))
            except (RecordingNotFoundError, KeyError, TypeError, ValueError):
                continue  # deleted meanwhile, or a sidecar this app did not write
        # newest first; two that started at the same instant keep one order (by id)
        return sorted(
            recordings, key=lambda recording: (recording.started_at, recording.id), reverse=True
        )

    def delete(self, recording_id: str) -> None:
        self.folder.delete(recording_id)

    def _recording(self, recording_id: str, metadata: dict[str, Any]) -> Recording:
        live = not metadata.get("complete") and self._is_recording(recording_id)
        return Recording(
            id=recording_id,
            title=str(metadata["title"]),
            started_at=float(metadata["startedAt"]),
            duration=float(metadata["duration"]),
            playback_url=f"{PLAYBACK_PATH}/{recording_id}{MEDIA_SUFFIX}",
            format="webm",
            status="recording" if live else "ready",
            size_bytes=int(metadata["size"]),
            stream_ref=_text_or_none(metadata.get("room")),
        )


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def create_store(settings: Settings) -> LocalRecordingStore:
    """The local recordings; those of this process's live stream show as ``recording``."""
    return LocalRecordingStore(recordings_folder(settings), LOCAL_RECORDINGS.is_recording)
