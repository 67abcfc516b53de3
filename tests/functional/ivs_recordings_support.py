"""A moto S3 bucket laid out exactly as IVS individual participant recording writes it.

Layout and metadata follow the IVS Real-Time User Guide ("IVS Individual Participant
Recording"): ``<stage id>/<stage session id>/<participant id>/<timestamp>/`` holding
``events/recording-started.json`` then ``recording-ended.json`` (or ``recording-failed.json``),
and ``media/hls/multivariant.m3u8`` over one rendition folder, ``high``, of fMP4 segments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "live-screen-sharing-recordings-test"


@dataclass(frozen=True)
class Layout:
    stage_id: str
    session_id: str
    participant_id: str
    timestamp: str

    @property
    def prefix(self) -> str:
        return f"{self.stage_id}/{self.session_id}/{self.participant_id}/{self.timestamp}"

    @property
    def id(self) -> str:
        return self.prefix.replace("/", ".")

    @property
    def playlist_key(self) -> str:
        return f"{self.prefix}/media/hls/multivariant.m3u8"


def _metadata(layout: Layout, status: str, started: str, **extra: Any) -> bytes:
    hls: dict[str, Any] = {
        "path": "media/hls",
        "playlist": "multivariant.m3u8",
        "renditions": [{"path": "high", "playlist": "playlist.m3u8"}],
    }
    if "duration_ms" in extra:
        hls = {"duration_ms": extra.pop("duration_ms"), **hls}
    document = {
        "version": "v1",
        "stage_arn": f"arn:aws:ivs:{REGION}:{ACCOUNT}:stage/{layout.stage_id}",
        "session_id": layout.session_id,
        "participant_id": layout.participant_id,
        "recording_started_at": started,
        "recording_status": status,
        "media": {"hls": hls},
        **extra,
    }
    return json.dumps(document).encode()


def write_recording(
    s3: Any,
    layout: Layout,
    *,
    started: str,
    ended: str | None = None,
    duration_ms: int | None = None,
    failed: bool = False,
    segments: int = 3,
) -> None:
    """Put one recording's objects; without ``ended`` it is still being recorded."""

    def put(key: str, body: bytes, content_type: str) -> None:
        s3.put_object(
            Bucket=BUCKET, Key=f"{layout.prefix}/{key}", Body=body, ContentType=content_type
        )

    put(
        "events/recording-started.json",
        _metadata(layout, "RECORDING_STARTED", started),
        "application/json",
    )
    put(
        "media/hls/multivariant.m3u8",
        b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2500000\nhigh/playlist.m3u8\n",
        "application/x-mpegURL",
    )
    put(
        "media/hls/high/playlist.m3u8",
        b"#EXTM3U\n#EXT-X-TARGETDURATION:6\n",
        "application/x-mpegURL",
    )
    for number in range(1, segments + 1):
        put(f"media/hls/high/{number}.mp4", b"\x00" * 16, "video/mp4")
    if ended is not None:
        name = "recording-failed.json" if failed else "recording-ended.json"
        status = "RECORDING_ENDED_WITH_FAILURE" if failed else "RECORDING_ENDED"
        body = _metadata(
            layout,
            status,
            started,
            recording_ended_at=ended,
            recording_status_message="",
            duration_ms=duration_ms,
        )
        put(f"events/{name}", body, "application/json")


def keys_under(s3: Any, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys
