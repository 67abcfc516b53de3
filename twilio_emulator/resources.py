"""The resources the emulator keeps, rendered as Twilio's snake_case JSON."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

VIDEO_URL = "https://video.twilio.com/v1"
MEDIA_URL = "https://media.twilio.com/v1"

#: Statuses that still cost money (and still count towards MaxDuration).
ACTIVE = frozenset({"created", "started"})


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Room:
    sid: str
    account_sid: str
    unique_name: str
    type: str
    created: float
    updated: float
    max_participants: int
    max_participant_duration: int = 14400
    #: Minutes an in-progress room stays open once empty / when nobody ever joined it
    empty_room_timeout: int = 5
    unused_room_timeout: int = 5
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status: str = "in-progress"
    end_time: float | None = None
    record_participants_on_connect: bool = False
    #: SequenceNumber of the next status callback (each room counts its own from 0)
    next_sequence: int = 0
    #: Everyone who ever connected, by participant SID
    participants: dict[str, Participant] = field(default_factory=dict)

    def connected(self) -> list[Participant]:
        """Everyone in the room: connected, or reconnecting (Twilio keeps their place)."""
        return [p for p in self.participants.values() if p.status != "disconnected"]

    def to_json(self) -> dict[str, Any]:
        url = f"{VIDEO_URL}/Rooms/{self.sid}"
        duration = None if self.end_time is None else int(self.end_time - self.created)
        return {
            "sid": self.sid,
            "status": self.status,
            "date_created": iso(self.created),
            "date_updated": iso(self.updated),
            "account_sid": self.account_sid,
            "enable_turn": True,
            "unique_name": self.unique_name,
            "status_callback": self.status_callback,
            "status_callback_method": self.status_callback_method,
            "end_time": iso(self.end_time),
            "duration": duration,
            "type": self.type,
            "max_participants": self.max_participants,
            "max_participant_duration": self.max_participant_duration,
            "max_concurrent_published_tracks": 170 if self.type.startswith("group") else None,
            "record_participants_on_connect": self.record_participants_on_connect,
            "video_codecs": ["VP8", "H264"],
            "media_region": "us1",
            "audio_only": False,
            "empty_room_timeout": self.empty_room_timeout,
            "unused_room_timeout": self.unused_room_timeout,
            "large_room": False,
            "url": url,
            "links": {
                "participants": f"{url}/Participants",
                "recordings": f"{url}/Recordings",
                "recording_rules": f"{url}/RecordingRules",
            },
        }


@dataclass
class MediaProcessor:
    sid: str
    account_sid: str
    extension: str
    extension_context: str
    created: float
    updated: float
    max_duration: int
    status: str = "started"
    ended_reason: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    outputs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "sid": self.sid,
            "date_created": iso(self.created),
            "date_updated": iso(self.updated),
            "extension": self.extension,
            "extension_context": self.extension_context,
            "status": self.status,
            "url": f"{MEDIA_URL}/MediaProcessors/{self.sid}",
            "ended_reason": self.ended_reason,
            "status_callback": self.status_callback,
            "status_callback_method": self.status_callback_method,
            "max_duration": self.max_duration,
        }


@dataclass
class PlaybackGrant:
    player_streamer_sid: str
    account_sid: str
    created: float
    expires: float
    grant: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "sid": self.player_streamer_sid,
            "url": f"{MEDIA_URL}/PlayerStreamers/{self.player_streamer_sid}/PlaybackGrant",
            "account_sid": self.account_sid,
            "date_created": iso(self.created),
            "grant": self.grant,
        }


@dataclass
class PlayerStreamer:
    sid: str
    account_sid: str
    created: float
    updated: float
    max_duration: int
    video: bool = True
    status: str = "created"
    ended_reason: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    grants: list[PlaybackGrant] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        url = f"{MEDIA_URL}/PlayerStreamers/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "date_created": iso(self.created),
            "date_updated": iso(self.updated),
            "video": self.video,
            "links": {
                "timed_metadata": f"{url}/TimedMetadata",
                "playback_grant": f"{url}/PlaybackGrant",
            },
            "sid": self.sid,
            "status": self.status,
            "url": url,
            "status_callback": self.status_callback,
            "status_callback_method": self.status_callback_method,
            "ended_reason": self.ended_reason,
            "max_duration": self.max_duration,
        }


@dataclass
class Participant:
    """One client connected to a Room (``PA`` SID), and the tracks it published."""

    sid: str
    room_sid: str
    account_sid: str
    identity: str
    created: float
    updated: float
    status: str = "connected"
    end_time: float | None = None
    #: Tracks published by this participant: SID -> (kind, name)
    tracks: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The Track Subscriptions API's rules for this participant (default: subscribe to all)
    subscribe_rules: list[dict[str, Any]] = field(
        default_factory=lambda: [{"type": "include", "all": True}]
    )
    rules_updated: float | None = None

    def to_json(self) -> dict[str, Any]:
        url = f"{VIDEO_URL}/Rooms/{self.room_sid}/Participants/{self.sid}"
        duration = None if self.end_time is None else int(self.end_time - self.created)
        return {
            "sid": self.sid,
            "room_sid": self.room_sid,
            "account_sid": self.account_sid,
            "status": self.status,
            "identity": self.identity,
            "date_created": iso(self.created),
            "date_updated": iso(self.updated),
            "start_time": iso(self.created),
            "end_time": iso(self.end_time),
            "duration": duration,
            "url": url,
            "links": {
                "published_tracks": f"{url}/PublishedTracks",
                "subscribed_tracks": f"{url}/SubscribedTracks",
                "subscribe_rules": f"{url}/SubscribeRules",
                "anonymize": f"{url}/Anonymize",
            },
        }

    def rules_json(self) -> dict[str, Any]:
        return {
            "participant_sid": self.sid,
            "room_sid": self.room_sid,
            "rules": self.subscribe_rules,
            "date_created": iso(self.rules_updated),
            "date_updated": iso(self.rules_updated),
        }
