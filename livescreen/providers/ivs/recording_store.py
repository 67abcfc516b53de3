"""The ``ivs`` recordings: what IVS recorded into the stack's bucket (``RECORDINGS_BUCKET``).

Listing walks the bucket one level at a time (stage, session, participant, recording; S3's
``Delimiter``), then reads each recording's ``events/`` metadata. Stages are walked in parallel.
The whole list is kept ``LIST_TTL`` seconds per store (a Lambda container): with
``RECORDINGS_PUBLIC=true`` anyone may ask for it, and a crowd reloading the page must not turn
into S3 LIST requests. A finished recording never changes, so its entry is kept for the life of
the store; a recording in progress is read again on the next walk. A finished recording with no
media (a failed start, or a failure before the first segment) is left out: it cannot be played.
``delete`` removes every object under one recording's prefix and forgets the cached list. With
no bucket (``RECORDING=off``) there is nothing to list.
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from livescreen.config import Settings
from livescreen.errors import ProviderError, ProviderUnavailableError
from livescreen.providers.ivs.recording_layout import (
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
from livescreen.recordings import Recording, RecordingNotFoundError

logger = logging.getLogger(__name__)

#: S3 deletes at most this many keys per DeleteObjects call.
DELETE_BATCH = 1000
_WORKERS = 8
#: Seconds one walk of the bucket answers every list in the same process.
LIST_TTL = 30.0
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
        list_ttl: float = LIST_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bucket = bucket
        self._url = recordings_url.rstrip("/")
        self._client = client
        self._client_factory = client_factory
        self._lock = threading.Lock()
        # a finished recording's entry, or None when it is left out (nothing to play)
        self._finished: dict[str, Recording | None] = {}
        self._list_ttl = list_ttl
        self._clock = clock
        self._list_lock = threading.Lock()  # one walk at a time; the others wait for its answer
        self._listed: tuple[Recording, ...] | None = None
        self._listed_until = 0.0

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
        with self._list_lock:
            now = self._clock()
            if self._listed is None or now >= self._listed_until:
                self._listed = tuple(self._walk())
                self._listed_until = now + self._list_ttl
            return builtins.list(self._listed)

    def _forget_list(self) -> None:
        with self._list_lock:
            self._listed = None

    def _walk(self) -> builtins.list[Recording]:
        assert self._bucket is not None
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
        if prefix.key in self._finished:
            return self._finished[prefix.key]
        names = {key.rsplit("/", 1)[-1] for key in self._keys(f"{prefix.key}/{EVENTS}")}
        metadata = None
        for name in (ENDED, FAILED, STARTED):
            if name in names:
                metadata = self._metadata(f"{prefix.key}/{EVENTS}{name}")
                if metadata is not None:
                    break
        if (ENDED in names or FAILED in names) and (metadata is None or not metadata.finished):
            # IVS wrote its last file but it is unreadable (or says it is still recording):
            # the recording is over all the same, with no media we can trust
            started = metadata.started_at if metadata else None
            metadata = RecordingMetadata("RECORDING_ENDED_WITH_FAILURE", started, None)
        recording = self._describe(prefix, metadata)
        if metadata is not None and metadata.finished:
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
            return Recording(
                prefix.id,
                title,
                started,
                None,
                None,
                "hls",
                status="recording",
                stream_ref=prefix.stage_id,
            )
        if not metadata.duration_ms:
            return None  # over with no media (a failed start): nothing to play, not listed
        playlist = f"{prefix.key}/{metadata.hls_path}/{metadata.playlist}"
        return Recording(
            prefix.id,
            title,
            started,
            metadata.duration_ms / 1000,
            f"{self._url}/{playlist}",
            "hls",
            status="ready",
            stream_ref=prefix.stage_id,
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
        self._forget_list()
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
