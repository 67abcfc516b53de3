"""Track recordings (``RT``), recording rules and compositions (``CJ``), as Twilio renders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from twilio_emulator.resources import VIDEO_URL, iso


@dataclass
class TrackRecording:
    """One published track recorded by the room (Recordings resource)."""

    sid: str
    account_sid: str
    room_sid: str
    participant_sid: str
    track_sid: str
    track_name: str
    kind: str
    created: float
    status: str = "processing"
    ended: float | None = None

    @property
    def container(self) -> str:
        return "mka" if self.kind == "audio" else "mkv"

    def _common_json(self, url: str) -> dict[str, Any]:
        """What both renderings share: the Recording and the Room Recording resources."""
        duration = None if self.ended is None else int(self.ended - self.created)
        return {
            "account_sid": self.account_sid,
            "status": self.status,
            "date_created": iso(self.created),
            "sid": self.sid,
            "source_sid": self.track_sid,
            "size": None if self.status != "completed" else 1024,
            "url": url,
            "type": self.kind,
            "duration": duration,
            "container_format": self.container,
            "codec": "OPUS" if self.kind == "audio" else "VP8",
            "grouping_sids": {
                "room_sid": self.room_sid,
                "participant_sid": self.participant_sid,
            },
            "track_name": self.track_name,
            "offset": 0,
            "media_external_location": None,
            "links": {"media": f"{url}/Media"},
        }

    def to_json(self) -> dict[str, Any]:
        """As ``/v1/Recordings`` renders it."""
        return {
            **self._common_json(f"{VIDEO_URL}/Recordings/{self.sid}"),
            "status_callback": None,
            "status_callback_method": "POST",
        }

    def room_json(self) -> dict[str, Any]:
        """As ``/v1/Rooms/{RoomSid}/Recordings`` renders it: its own URL under the room, the
        room's SID, and no status callback (the Room Recording resource has none)."""
        url = f"{VIDEO_URL}/Rooms/{self.room_sid}/Recordings/{self.sid}"
        return {**self._common_json(url), "room_sid": self.room_sid}


@dataclass(frozen=True)
class RoomRecording:
    """A track recording seen through its room (Room Recordings resource)."""

    recording: TrackRecording

    @property
    def sid(self) -> str:
        return self.recording.sid

    @property
    def status(self) -> str:
        return self.recording.status

    def to_json(self) -> dict[str, Any]:
        return self.recording.room_json()


@dataclass
class RecordingRules:
    """A room's recording rules (RecordingRules resource); empty means nothing is recorded."""

    room_sid: str
    rules: list[dict[str, Any]] = field(default_factory=list)
    created: float | None = None
    updated: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "room_sid": self.room_sid,
            "rules": self.rules,
            "date_created": iso(self.created),
            "date_updated": iso(self.updated),
        }


@dataclass
class Composition:
    """A composition of a room's recordings into one media file (Compositions resource)."""

    sid: str
    account_sid: str
    room_sid: str
    created: float
    format: str
    resolution: str
    trim: bool
    audio_sources: list[str]
    video_layout: dict[str, Any]
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status: str = "enqueued"
    completed: float | None = None
    deleted: float | None = None
    duration: int = 0
    size: int | None = None

    def to_json(self) -> dict[str, Any]:
        url = f"{VIDEO_URL}/Compositions/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "status": self.status,
            "date_created": iso(self.created),
            "date_completed": iso(self.completed),
            "date_deleted": iso(self.deleted),
            "sid": self.sid,
            "room_sid": self.room_sid,
            "audio_sources": self.audio_sources,
            "audio_sources_excluded": [],
            "video_layout": self.video_layout,
            "resolution": self.resolution,
            "trim": self.trim,
            "format": self.format,
            "bitrate": 0 if self.size is None else 1000,
            "size": self.size,
            "duration": self.duration,
            "media_external_location": None,
            "status_callback": self.status_callback,
            "status_callback_method": self.status_callback_method,
            "url": url,
            "links": {"media": f"{url}/Media"},
        }
