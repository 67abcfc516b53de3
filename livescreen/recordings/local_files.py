"""The ``local`` provider's recordings: one webm file per stream in ``RECORDINGS_DIR``.

Each recording is ``<id>.webm`` (what the host's browser recorded, as uploaded) beside
``<id>.json`` (``title``, ``room``, ``startedAt`` in seconds since the epoch, ``duration`` in
seconds, ``complete``, ``size`` in bytes). The id is 32 random hex digits: a recording that is not
listed cannot be guessed, and no id can name a path outside the folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livescreen.config import Settings
from livescreen.recordings import Recording, RecordingNotFoundError

RECORDING_ID = re.compile(r"[0-9a-f]{32}")
MEDIA_SUFFIX = ".webm"
METADATA_SUFFIX = ".json"
#: Where the dev server serves ``<id>.webm`` (``local_recording_routes``).
PLAYBACK_PATH = "/local/recording/files"
#: ``MAX_RECORDING_MB`` counts megabytes of 1,000,000 bytes, as its name says.
MEGABYTE = 1_000_000


class OffsetMismatchError(Exception):
    """An upload does not continue the file where it ends (and does not repeat its last bytes)."""


class RecordingLimitError(Exception):
    """An upload would take the file beyond its size limit; nothing was written."""

    @classmethod
    def of(cls, max_bytes: int) -> RecordingLimitError:
        return cls(
            f"The recording reached its limit of {max_bytes // MEGABYTE} MB "
            "(MAX_RECORDING_MB): the rest of the stream is not recorded"
        )


def is_recording_id(value: str) -> bool:
    return RECORDING_ID.fullmatch(value) is not None


class RecordingFolder:
    """The files of the local recordings. Safe to call from any thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def media_path(self, recording_id: str) -> Path:
        """The webm file of ``recording_id``; ``RecordingNotFoundError`` for a malformed id."""
        return self._path(recording_id, MEDIA_SUFFIX)

    def create(self, *, title: str, room: str, started_at: float) -> str:
        """A new, empty recording; its id."""
        recording_id = secrets.token_hex(16)
        metadata = {
            "title": title,
            "room": room,
            "startedAt": started_at,
            "duration": 0.0,
            "complete": False,
            "size": 0,
        }
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            media = self.media_path(recording_id)
            media.touch(exist_ok=False)
            try:
                self._write_metadata(recording_id, metadata)
            except OSError:  # no sidecar, no recording: leave no empty file behind
                media.unlink(missing_ok=True)
                raise
        return recording_id

    def append(
        self, recording_id: str, offset: int, data: bytes, *, max_bytes: int, duration: float
    ) -> int:
        """Write ``data`` at ``offset`` (the file's end) and record ``duration``; the new size.

        Bytes already there (a retry whose answer was lost) are accepted without writing them
        again. ``OffsetMismatchError`` for any other offset, ``RecordingLimitError`` beyond
        ``max_bytes``, ``RecordingNotFoundError`` when the recording was deleted.
        """
        with self._lock:
            metadata = self._read_metadata(recording_id)
            path = self.media_path(recording_id)
            size = path.stat().st_size
            if offset != size:
                if offset < size and offset + len(data) <= size and _holds(path, offset, data):
                    return size
                raise OffsetMismatchError(
                    f"The recording is {size} bytes long: an upload must continue at that offset"
                )
            if size + len(data) > max_bytes:
                raise RecordingLimitError.of(max_bytes)
            try:
                _append_bytes(path, data)
            except OSError:
                _truncate(path, size)  # a partial write would make the next offset a 409
                raise
            metadata.update(size=size + len(data), duration=max(0.0, duration))
            self._write_metadata(recording_id, metadata)
            return size + len(data)

    def finish(self, recording_id: str, *, duration: float) -> None:
        """Mark the recording complete, with its final ``duration``; nothing for a deleted one."""
        with self._lock:
            try:
                metadata = self._read_metadata(recording_id)
            except RecordingNotFoundError:
                return
            metadata.update(complete=True, duration=max(0.0, duration))
            self._write_metadata(recording_id, metadata)

    def read(self, recording_id: str) -> dict[str, Any]:
        """The metadata of ``recording_id``, or ``RecordingNotFoundError``."""
        with self._lock:
            return self._read_metadata(recording_id)

    def ids(self) -> list[str]:
        """The ids of every recording with its metadata in the folder."""
        if not self.root.is_dir():
            return []
        ids = (path.name[: -len(METADATA_SUFFIX)] for path in self.root.glob("*" + METADATA_SUFFIX))
        return [recording_id for recording_id in ids if is_recording_id(recording_id)]

    def delete(self, recording_id: str) -> None:
        """Remove both files; ``RecordingNotFoundError`` for an unknown or malformed id."""
        with self._lock:
            metadata = self._path(recording_id, METADATA_SUFFIX)
            if not metadata.is_file():
                raise RecordingNotFoundError(recording_id)
            self.media_path(recording_id).unlink(missing_ok=True)
            metadata.unlink()

    # -- internals ------------------------------------------------------------------------

    def _path(self, recording_id: str, suffix: str) -> Path:
        if not is_recording_id(recording_id):
            raise RecordingNotFoundError(recording_id)
        return self.root / f"{recording_id}{suffix}"

    def _read_metadata(self, recording_id: str) -> dict[str, Any]:
        try:
            data = json.loads(self._path(recording_id, METADATA_SUFFIX).read_text("utf-8"))
        except (OSError, ValueError):
            raise RecordingNotFoundError(recording_id) from None
        if not isinstance(data, dict):
            raise RecordingNotFoundError(recording_id)
        return data

    def _write_metadata(self, recording_id: str, metadata: dict[str, Any]) -> None:
        target = self._path(recording_id, METADATA_SUFFIX)
        partial = target.with_name(target.name + ".tmp")
        partial.write_text(json.dumps(metadata), "utf-8")
        os.replace(partial, target)


def _append_bytes(path: Path, data: bytes) -> None:
    with path.open("ab") as media:
        media.write(data)
        media.flush()  # a full disk fails here, inside the try, rather than on close


def _truncate(path: Path, size: int) -> None:
    with contextlib.suppress(OSError):  # the write error is what the caller reports
        os.truncate(path, size)


def is_disk_full(error: OSError) -> bool:
    """Whether ``error`` says the disk (or the user's quota) has no room left."""
    return error.errno in (errno.ENOSPC, errno.EDQUOT)


def _holds(path: Path, offset: int, data: bytes) -> bool:
    with path.open("rb") as media:
        media.seek(offset)
        return media.read(len(data)) == data


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
        )


_folders: dict[Path, RecordingFolder] = {}
_folders_lock = threading.Lock()


def recordings_folder(settings: Settings) -> RecordingFolder:
    """The folder named by ``RECORDINGS_DIR`` (relative to where the dev server runs); one
    instance per folder, so that its writers share one lock."""
    root = Path(settings.require("RECORDINGS_DIR")).absolute()
    with _folders_lock:
        return _folders.setdefault(root, RecordingFolder(root))


def create_store(settings: Settings) -> LocalRecordingStore:
    """The local recordings; those of this process's live stream show as ``recording``."""
    from livescreen.providers.local_recording import LOCAL_RECORDINGS

    return LocalRecordingStore(recordings_folder(settings), LOCAL_RECORDINGS.is_recording)
