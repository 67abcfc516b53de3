"""The recording of the ``local`` provider's live stream, as the host's browser uploads it.

The host's page records what it publishes and uploads it in order, chunk by chunk, while the
stream is live. The first chunk of a room starts its recording (one file per stream, see
``providers.local.recording_store``); each later one must continue it; when the hub ends the
room (the host stopped, another stream replaced it, or the host's page has been gone too long)
the recording is finished: complete, with its duration on the hub's clock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from livescreen.providers.local.hub import HUB, Hub
from livescreen.providers.local.recording_folder import (
    FolderFullError,
    OffsetMismatchError,
    RecordingFolder,
    RecordingLimitError,
)
from livescreen.providers.local.room import Room

#: Where the host's page uploads its recording, under the provider's signalling path.
UPLOAD_PATH = "/recording/upload"
#: The page uploads at most this much at once (the dev server reads at most 1 MiB a request).
CHUNK_BYTES = 512 * 1024

logger = logging.getLogger("livescreen.recordings")

WallClock = Callable[[], float]


class StreamNotLiveError(Exception):
    """The room's stream is not live (not started yet, or ended): nothing is recorded."""


@dataclass
class _Active:
    """The recording of one live room."""

    id: str
    folder: RecordingFolder
    started_at: float  # hub clock
    last_chunk_at: float  # hub clock


class LocalRecordings:
    """The recordings of live rooms, by room name; finished when the hub ends a room."""

    def __init__(self, hub: Hub = HUB, wall_clock: WallClock = time.time) -> None:
        self._hub = hub
        # what the times people see are read from: recordings' start times
        self.wall_clock = wall_clock
        self._lock = threading.Lock()
        self._active: dict[str, _Active] = {}
        hub.add_end_listener(self._room_ended)

    def append(
        self,
        room: Room,
        folder: RecordingFolder,
        offset: int,
        data: bytes,
        *,
        max_bytes: int,
        max_total_bytes: int | None = None,
    ) -> tuple[str, int]:
        """Add the host's next chunk to ``room``'s recording; ``(recording id, new size)``.

        Raises ``StreamNotLiveError``, or the recording folder's ``OffsetMismatchError``,
        ``RecordingLimitError``, ``FolderFullError`` (the folder has no room under
        ``max_total_bytes``: what the recording holds stays, and a recording that would begin
        with the refused chunk is not made) and ``RecordingNotFoundError`` (it was deleted).
        """
        with self._lock:
            # The hub marks a room ended before it tells us, under our lock: no chunk lands
            # in a recording after it was finished.
            if room.ended or not room.live or room.started_at is None:
                raise StreamNotLiveError(room.name)
            now = self._hub.now()
            active = self._active.get(room.name)
            if active is None:
                if offset != 0:
                    raise OffsetMismatchError("A recording must begin at offset 0")
                if len(data) > max_bytes:  # refused before a file is made for it
                    raise RecordingLimitError.of(max_bytes)
                began = self.wall_clock() - (now - room.started_at)
                recording_id = folder.create(
                    title=room.name,
                    room=room.name,
                    started_at=began,
                    first_piece=len(data),
                    max_total_bytes=max_total_bytes,
                )
                active = _Active(recording_id, folder, room.started_at, now)
                self._active[room.name] = active
            try:
                size = active.folder.append(
                    active.id,
                    offset,
                    data,
                    max_bytes=max_bytes,
                    duration=now - active.started_at,
                    max_total_bytes=max_total_bytes,
                )
            except FolderFullError:
                if offset == 0:  # its first chunk: an empty recording is no recording
                    self._active.pop(room.name, None)
                    active.folder.delete(active.id)
                raise
            active.last_chunk_at = now
            return active.id, size

    def is_recording(self, recording_id: str) -> bool:
        """Whether ``recording_id`` is the recording of a live room of this process.

        The hub first ends a room whose host has been gone past its grace period (a tab that
        died without a word): otherwise nothing might call into the hub, and that recording
        would stay ``recording`` for ever. Called without this object's lock held, since the
        hub calls ``_room_ended`` with its own lock held."""
        self._hub.end_expired()
        with self._lock:
            return any(active.id == recording_id for active in self._active.values())

    def _room_ended(self, room: Room) -> None:
        with self._lock:
            active = self._active.pop(room.name, None)
            if active is None:
                return
            try:
                active.folder.finish(active.id, duration=active.last_chunk_at - active.started_at)
            except OSError:
                logger.exception("Could not finish recording %s", active.id)


#: The recordings of this process's hub.
LOCAL_RECORDINGS = LocalRecordings()
