"""The folder of the ``local`` provider's recordings: a webm file per stream in RECORDINGS_DIR.

Each recording is ``<id>.webm`` (what the host's browser recorded, as uploaded) beside
``<id>.json`` (``title``, ``room``, ``startedAt`` in seconds since the epoch, ``duration`` in
seconds, ``complete``, ``size`` in bytes). The id is 32 random hex digits: a recording that is not
listed cannot be guessed, and no id can name a path outside the folder.

No file in the folder is ever opened through a symbolic link: every entry is opened with
``O_NOFOLLOW`` and must be a plain file (``plain_files``), so a ``<id>.webm`` linked to anything
else (the app's ``.env``, say) is not read, served, written, truncated or listed, and deleting a
recording removes its entries (links included) and never what they point to. The folder named by
``RECORDINGS_DIR`` may itself be a symbolic link (the operator's setting, e.g. a link to a
bigger disk): that one is followed. ``MAX_RECORDINGS_TOTAL_MB`` caps what the folder's plain
files add up to; ``MAX_RECORDING_MB`` caps one recording.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import threading
from pathlib import Path
from typing import Any, BinaryIO

from livescreen.config import Settings
from livescreen.providers.local.plain_files import (
    NotPlainFileError,
    append_bytes,
    holds,
    open_plain,
    plain_files,
    truncate,
)
from livescreen.recordings import RecordingNotFoundError

RECORDING_ID = re.compile(r"[0-9a-f]{32}")
MEDIA_SUFFIX = ".webm"
METADATA_SUFFIX = ".json"
#: Where the dev server serves ``<id>.webm`` (``devserver.relays.recordings``).
PLAYBACK_PATH = "/local/recording/files"
#: ``MAX_RECORDING_MB`` and ``MAX_RECORDINGS_TOTAL_MB`` count megabytes of 1,000,000 bytes.
MEGABYTE = 1_000_000
#: Kept free under ``MAX_RECORDINGS_TOTAL_MB`` for a recording's sidecar and the temporary copy
#: it is rewritten through (each a few hundred bytes), so the folder never goes past its cap.
SIDECAR_ROOM = 4096
#: A sidecar longer than this is not one this app wrote: it is not read.
MAX_SIDECAR_BYTES = 64 * 1024


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


class FolderFullError(Exception):
    """The recordings folder would go beyond ``MAX_RECORDINGS_TOTAL_MB``; nothing was written."""

    def __init__(self, used: int, max_total_bytes: int) -> None:
        super().__init__(
            f"The recordings folder is full ({_megabytes(used)} MB of "
            f"{_megabytes(max_total_bytes)} MB): delete old recordings "
            "(livescreen recordings delete ID) or raise MAX_RECORDINGS_TOTAL_MB"
        )
        self.used = used
        self.max_total_bytes = max_total_bytes


def _megabytes(size: int) -> str:
    """``size`` in MB, to one decimal when it is not a whole number of them."""
    return f"{size / MEGABYTE:.1f}".removesuffix(".0")


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

    def create(
        self,
        *,
        title: str,
        room: str,
        started_at: float,
        first_piece: int = 0,
        max_total_bytes: int | None = None,
    ) -> str:
        """A new, empty recording; its id. ``FolderFullError`` (and no file made) when the
        folder has no room for it and its ``first_piece`` of bytes under ``max_total_bytes``."""
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
            if max_total_bytes is not None:
                self._require_room(first_piece, max_total_bytes)
            media = self.media_path(recording_id)
            os.close(open_plain(media, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
            try:
                self._write_metadata(recording_id, metadata)
            except OSError:  # no sidecar, no recording: leave no empty file behind
                media.unlink(missing_ok=True)
                raise
        return recording_id

    def append(
        self,
        recording_id: str,
        offset: int,
        data: bytes,
        *,
        max_bytes: int,
        duration: float,
        max_total_bytes: int | None = None,
    ) -> int:
        """Write ``data`` at ``offset`` (the file's end) and record ``duration``; the new size.

        Bytes already there (a retry whose answer was lost) are accepted without writing them
        again. ``OffsetMismatchError`` for any other offset, ``RecordingLimitError`` beyond
        ``max_bytes``, ``FolderFullError`` when the folder would go beyond ``max_total_bytes``,
        ``RecordingNotFoundError`` when the recording was deleted (or its file is not a plain
        file any more). Nothing is written when any of them is raised.
        """
        with self._lock:
            metadata = self._read_metadata(recording_id)
            try:
                fd = open_plain(self.media_path(recording_id), os.O_RDWR | os.O_APPEND)
            except (FileNotFoundError, NotPlainFileError):
                raise RecordingNotFoundError(recording_id) from None
            with os.fdopen(fd, "r+b", buffering=0) as media:
                size = os.fstat(fd).st_size
                if offset != size:
                    if offset < size and offset + len(data) <= size and holds(media, offset, data):
                        return size
                    raise OffsetMismatchError(
                        f"The recording is {size} bytes long: an upload must continue at that "
                        "offset"
                    )
                if size + len(data) > max_bytes:
                    raise RecordingLimitError.of(max_bytes)
                if max_total_bytes is not None:
                    self._require_room(len(data), max_total_bytes)
                try:
                    append_bytes(media, data)
                except OSError:
                    truncate(media, size)  # a partial write would make the next offset a 409
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
        """The ids of every recording whose sidecar and media are both in the folder, as plain
        files (a symbolic link is not one)."""
        plain = {name for name, _size in plain_files(self.root)}
        ids = (name[: -len(METADATA_SUFFIX)] for name in plain if name.endswith(METADATA_SUFFIX))
        return sorted(
            recording_id
            for recording_id in ids
            if is_recording_id(recording_id) and recording_id + MEDIA_SUFFIX in plain
        )

    def used_bytes(self) -> int:
        """What the folder's plain files add up to, in bytes (symbolic links and subfolders are
        not counted: nothing of theirs is written by this app)."""
        return sum(size for _name, size in plain_files(self.root))

    def open_media(self, recording_id: str) -> tuple[BinaryIO, int]:
        """The webm file of ``recording_id``, open for reading, and its size; never through a
        symbolic link. ``RecordingNotFoundError`` when it is not a plain file of the folder."""
        try:
            fd = open_plain(self.media_path(recording_id), os.O_RDONLY)
        except OSError:
            raise RecordingNotFoundError(recording_id) from None
        media = os.fdopen(fd, "rb")
        return media, os.fstat(fd).st_size

    def media_size(self, recording_id: str) -> int:
        """The size of the webm file of ``recording_id``, without opening it;
        ``RecordingNotFoundError`` when it is not a plain file of the folder."""
        try:
            info = os.lstat(self.media_path(recording_id))
        except OSError:
            raise RecordingNotFoundError(recording_id) from None
        if not stat.S_ISREG(info.st_mode):
            raise RecordingNotFoundError(recording_id)
        return info.st_size

    def delete(self, recording_id: str) -> None:
        """Remove both files; ``RecordingNotFoundError`` for an unknown or malformed id.

        A symbolic link among them is removed itself: what it points to is never touched."""
        with self._lock:
            metadata = self._path(recording_id, METADATA_SUFFIX)
            try:
                entry = os.lstat(metadata)  # the entry itself, a link included
            except OSError:
                raise RecordingNotFoundError(recording_id) from None
            if stat.S_ISDIR(entry.st_mode):
                raise RecordingNotFoundError(recording_id)
            self.media_path(recording_id).unlink(missing_ok=True)  # unlink(2): the link itself
            metadata.unlink()

    # -- internals ------------------------------------------------------------------------

    def _path(self, recording_id: str, suffix: str) -> Path:
        if not is_recording_id(recording_id):
            raise RecordingNotFoundError(recording_id)
        return self.root / f"{recording_id}{suffix}"

    def _require_room(self, adding: int, max_total_bytes: int) -> None:
        used = self.used_bytes()
        if used + adding + SIDECAR_ROOM > max_total_bytes:
            raise FolderFullError(used, max_total_bytes)

    def _read_metadata(self, recording_id: str) -> dict[str, Any]:
        try:
            fd = open_plain(self._path(recording_id, METADATA_SUFFIX), os.O_RDONLY)
            with os.fdopen(fd, "rb") as sidecar:
                text = sidecar.read(MAX_SIDECAR_BYTES + 1)
            if len(text) > MAX_SIDECAR_BYTES:
                raise ValueError("not a sidecar this app wrote")
            data = json.loads(text.decode("utf-8"))
        except (OSError, ValueError):
            raise RecordingNotFoundError(recording_id) from None
        if not isinstance(data, dict):
            raise RecordingNotFoundError(recording_id)
        return data

    def _write_metadata(self, recording_id: str, metadata: dict[str, Any]) -> None:
        target = self._path(recording_id, METADATA_SUFFIX)
        partial = target.with_name(target.name + ".tmp")
        partial.unlink(missing_ok=True)  # one left behind, or a link put there: never written
        fd = open_plain(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(json.dumps(metadata).encode("utf-8"))
            os.replace(partial, target)  # replaces the entry (a link included), not its target
        except OSError:
            partial.unlink(missing_ok=True)
            raise


_folders: dict[Path, RecordingFolder] = {}
_folders_lock = threading.Lock()


def recordings_folder(settings: Settings) -> RecordingFolder:
    """The folder named by ``RECORDINGS_DIR`` (relative to where the dev server runs); one
    instance per folder, so that its writers share one lock."""
    root = Path(settings.require("RECORDINGS_DIR")).absolute()
    with _folders_lock:
        return _folders.setdefault(root, RecordingFolder(root))
