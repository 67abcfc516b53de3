"""Where IVS individual participant recording puts things in S3, and what its metadata says.

IVS writes each recorded participant session under its own prefix at the bucket's root:
``<stage id>/<stage session id>/<participant id>/<timestamp>/`` (the EventBridge event's
``recording_s3_key_prefix``; ``GetParticipant`` shows it without the timestamp), holding
``events/recording-started.json``, then ``recording-ended.json`` or ``recording-failed.json``,
and ``media/hls/multivariant.m3u8`` with one rendition per folder. docs/ivs.md cites the pages.

A recording's id is its prefix with ``.`` between the segments: every segment is one of IVS's
random identifiers (or the timestamp), checked against a strict pattern, so an id can neither be
guessed nor point anywhere else in the bucket.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

EVENTS = "events/"
STARTED = "recording-started.json"
ENDED = "recording-ended.json"
FAILED = "recording-failed.json"
DEFAULT_HLS_PATH = "media/hls"
DEFAULT_PLAYLIST = "multivariant.m3u8"

_ID = r"[A-Za-z0-9][A-Za-z0-9-]{0,63}"
STAGE_ID = re.compile(_ID)
SESSION_ID = re.compile(r"st-[A-Za-z0-9]{1,64}")
PARTICIPANT_ID = re.compile(_ID)
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z")
RECORDING_ID = re.compile(
    rf"(?P<stage>{_ID})\.(?P<session>st-[A-Za-z0-9]{{1,64}})\.(?P<participant>{_ID})"
    rf"(?:\.(?P<timestamp>\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}-\d{{2}}-\d{{2}}Z))?"
)
#: a relative path IVS names in its metadata (no "..", no leading "/")
_RELATIVE_PATH = re.compile(
    r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)*"
)


@dataclass(frozen=True)
class RecordingPrefix:
    """One participant session IVS recorded: where its files are."""

    stage_id: str
    session_id: str
    participant_id: str
    timestamp: str | None = None

    @property
    def key(self) -> str:
        """The S3 prefix, without the trailing slash."""
        parts = [self.stage_id, self.session_id, self.participant_id]
        if self.timestamp:
            parts.append(self.timestamp)
        return "/".join(parts)

    @property
    def id(self) -> str:
        return self.key.replace("/", ".")

    @property
    def timestamp_epoch(self) -> float | None:
        if not self.timestamp:
            return None
        moment = datetime.strptime(self.timestamp, "%Y-%m-%dT%H-%M-%SZ").replace(tzinfo=UTC)
        return moment.timestamp()


def prefix_of_id(recording_id: str) -> RecordingPrefix | None:
    """The prefix a recording id names, or None when it is not a well-formed id."""
    match = RECORDING_ID.fullmatch(recording_id)
    if match is None:
        return None
    return RecordingPrefix(
        match["stage"], match["session"], match["participant"], match["timestamp"]
    )


def last_segment(common_prefix: str) -> str:
    """``a/b/c/`` -> ``c``."""
    return common_prefix.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class RecordingMetadata:
    """What IVS's ``events/recording-*.json`` say about one recording."""

    status: str
    started_at: float | None
    duration_ms: int | None
    hls_path: str = DEFAULT_HLS_PATH
    playlist: str = DEFAULT_PLAYLIST
    stage_arn: str | None = None

    @property
    def finished(self) -> bool:
        """IVS is done with it: any status but ``RECORDING_STARTED`` (``RECORDING_ENDED``,
        ``RECORDING_ENDED_WITH_FAILURE``, ``RECORDING_START_FAILED``, or one added later)."""
        return self.status != "RECORDING_STARTED"


def parse_metadata(raw: bytes) -> RecordingMetadata:
    """Read one metadata file; ``ValueError`` when it is not what IVS documents."""
    document = json.loads(raw)
    if not isinstance(document, dict) or not isinstance(document.get("recording_status"), str):
        raise ValueError("not an IVS recording metadata file")
    hls: dict[str, Any] = (document.get("media") or {}).get("hls") or {}
    duration = hls.get("duration_ms")
    path = _text(hls.get("path"), DEFAULT_HLS_PATH)
    playlist = _text(hls.get("playlist"), DEFAULT_PLAYLIST)
    if not (_RELATIVE_PATH.fullmatch(path) and _RELATIVE_PATH.fullmatch(playlist)):
        raise ValueError("the HLS path in the metadata is not a plain relative path")
    return RecordingMetadata(
        status=document["recording_status"],
        started_at=_rfc3339(document.get("recording_started_at")),
        duration_ms=duration if isinstance(duration, int) and duration >= 0 else None,
        hls_path=path,
        playlist=playlist,
        stage_arn=document.get("stage_arn") if isinstance(document.get("stage_arn"), str) else None,
    )


def _text(value: Any, default: str) -> str:
    return value if isinstance(value, str) else default


def _rfc3339(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
