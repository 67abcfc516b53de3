"""The ``ivs`` recordings: what IVS recorded into the stack's bucket (``RECORDINGS_BUCKET``).

Listing walks the bucket one level at a time (stage, session, participant, recording; S3's
``Delimiter``), then reads each recording's ``events/`` metadata. Stages are walked in parallel.
A finished recording never changes, so its entry is kept for the life of the store (a Lambda
container); a recording in progress is read again on every list. ``delete`` removes every object
under one recording's prefix. With no bucket (``RECORDING=off``) there is nothing to list.
"""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from livescreen.config import Settings
from livescreen.providers.base import ProviderError, ProviderUnavailableError
from livescreen.recordings import Recording, RecordingNotFoundError
from livescreen.recordings.ivs_layout import (
    ENDED,
    EVENTS,
    FAILED,
    PARTICIPANT_ID,
    SESSION_ID,
    STAGE_ID,
    STARTED,
    TIMESTAMP,
    RecordingMetadata,
    RecordingPrefix,
    last_segment,
    parse_metadata,
    prefix_of_id,
)

logger = logging.getLogger(__name__)

#: S3 deletes at most this many keys per DeleteObjects call.
DELETE_BATCH = 1000
_WORKERS = 8
_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "AllAccessDisabled"})


def make_client(settings: Settings) -> Any:
    """An S3 client with the same short timeouts as the other AWS calls."""
    import boto3
    from botocore.config import Config

    timeout = settings.get_int("UPSTREAM_TIMEOUT", minimum=1, maximum=60)
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"mode": "standard", "max_attempts": 2},
    )
    return boto3.client("s3", region_name=settings.get("IVS_REGION") or None, config=config)


def create_store(settings: Settings) -> IvsRecordingStore:
    return IvsRecordingStore(
        bucket=(settings.get("RECORDINGS_BUCKET") or "").strip() or None,
        recordings_url=settings["RECORDINGS_URL"],
        client_factory=lambda: make_client(settings),
    )


class IvsRecordingStore:
    """IVS participant recordings in one S3 bucket, laid out as IVS writes them."""

    def __init__(
        self,
        *,
        bucket: str | None,
        recordings_url: str,
        client: Any = None,
        client_factory: Any = None,
    ) -> None:
        self._bucket = bucket
        self._url = recordings_url.rstrip("/")
        self._client = client
        self._client_factory = client_factory
        self._lock = threading.Lock()
        self._finished: dict[str, Recording] = {}

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client

    # -- list ------------------------------------------------------------------------------

    def list(self) -> builtins.list[Recording]:
        if self._bucket is None:
            return []
        stages = [p for p in self._children("") if STAGE_ID.fullmatch(last_segment(p))]
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            found = [r for batch in pool.map(self._stage_recordings, stages) for r in batch]
        return sorted(found, key=lambda recording: recording.started_at, reverse=True)

    def _stage_recordings(self, stage: str) -> builtins.list[Recording]:
        recordings = []
        for prefix in self._prefixes_under(stage):
            recording = self._recording(prefix)
            if recording is not None:
                recordings.append(recording)
        return recordings

    def _prefixes_under(self, stage: str) -> Iterator[RecordingPrefix]:
        stage_id = last_segment(stage)
        for session in self._children(stage):
            session_id = last_segment(session)
            if not SESSION_ID.fullmatch(session_id):
                continue
            for participant in self._children(session):
                participant_id = last_segment(participant)
                if not PARTICIPANT_ID.fullmatch(participant_id):
                    continue
                for child in self._children(participant):
                    name = last_segment(child)
                    if TIMESTAMP.fullmatch(name):
                        yield RecordingPrefix(stage_id, session_id, participant_id, name)
                    elif f"{name}/" == EVENTS:
                        yield RecordingPrefix(stage_id, session_id, participant_id)

    def _recording(self, prefix: RecordingPrefix) -> Recording | None:
        cached = self._finished.get(prefix.key)
        if cached is not None:
            return cached
        names = {key.rsplit("/", 1)[-1] for key in self._keys(f"{prefix.key}/{EVENTS}")}
        metadata = None
        for name in (ENDED, FAILED, STARTED):
            if name in names:
                metadata = self._metadata(f"{prefix.key}/{EVENTS}{name}")
                if metadata is not None:
                    break
        recording = self._describe(prefix, metadata)
        if recording is not None and metadata is not None and metadata.finished:
            self._finished[prefix.key] = recording
        return recording

    def _describe(
        self, prefix: RecordingPrefix, metadata: RecordingMetadata | None
    ) -> Recording | None:
        started = (metadata.started_at if metadata else None) or prefix.timestamp_epoch
        if started is None:
            return None  # nothing says when it began yet: IVS is still writing its first file
        title = f"Stage {prefix.stage_id}"
        if metadata is None or not metadata.finished:
            return Recording(prefix.id, title, started, None, None, "hls", status="recording")
        duration = None if metadata.duration_ms is None else metadata.duration_ms / 1000
        playable = bool(metadata.duration_ms)
        playlist = f"{prefix.key}/{metadata.hls_path}/{metadata.playlist}"
        return Recording(
            prefix.id,
            title,
            started,
            duration,
            f"{self._url}/{playlist}" if playable else None,
            "hls",
            status="ready",
        )

    def _metadata(self, key: str) -> RecordingMetadata | None:
        body = self._call("reading a recording's metadata", "get_object", Key=key)
        try:
            return parse_metadata(body["Body"].read())
        except ValueError as exc:
            logger.warning("skipping unreadable recording metadata %s: %s", key, exc)
            return None

    # -- delete ----------------------------------------------------------------------------

    def delete(self, recording_id: str) -> None:
        prefix = prefix_of_id(recording_id)
        if prefix is None or self._bucket is None:
            raise RecordingNotFoundError(recording_id)
        keys = list(self._keys(f"{prefix.key}/"))
        if not keys:
            raise RecordingNotFoundError(recording_id)
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            answer = self._call(
                "deleting a recording",
                "delete_objects",
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            errors = answer.get("Errors") or []
            if errors:
                codes = sorted({str(error.get("Code")) for error in errors})
                raise ProviderError(
                    f"S3 kept {len(errors)} file(s) of recording {recording_id} "
                    f"({', '.join(codes)}): run the delete again"
                )
        self._finished.pop(prefix.key, None)
        logger.info("deleted recording %s (%d files)", recording_id, len(keys))

    # -- S3 --------------------------------------------------------------------------------

    def _children(self, prefix: str) -> Iterator[str]:
        """The "folders" right under ``prefix`` (every page)."""
        for page in self._pages(Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes") or []:
                yield common["Prefix"]

    def _keys(self, prefix: str) -> Iterator[str]:
        for page in self._pages(Prefix=prefix):
            for item in page.get("Contents") or []:
                yield item["Key"]

    def _pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            extra: dict[str, str] = {"ContinuationToken": token} if token else {}
            page = self._call("listing the recordings", "list_objects_v2", **kwargs, **extra)
            yield page
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def _call(self, action: str, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, operation)(Bucket=self._bucket, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise s3_error(action, self._bucket or "", exc) from exc


def s3_error(action: str, bucket: str, exc: Exception) -> ProviderError:
    """A botocore failure as a ProviderError whose message says what to do next."""
    code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))
    logger.warning("S3 call failed while %s: %s", action, code or type(exc).__name__)
    if code in _DENIED:
        return ProviderUnavailableError(
            f"S3 denied {action} in bucket {bucket}: the function's role (or your AWS "
            "credentials) needs s3:ListBucket and s3:GetObject on RECORDINGS_BUCKET "
            "(and s3:DeleteObject to delete)"
        )
    if code == "NoSuchBucket":
        return ProviderUnavailableError(
            f"The recordings bucket {bucket} does not exist: check RECORDINGS_BUCKET "
            "(the stack's RecordingsBucket output)"
        )
    if isinstance(exc, BotoCoreError):
        return ProviderUnavailableError(
            f"Could not reach S3 while {action}: check the network, then try again"
        )
    return ProviderError(f"S3 failed {action} ({code or type(exc).__name__})")
