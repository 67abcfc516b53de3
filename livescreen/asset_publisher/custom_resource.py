"""The custom resource's Lambda handler: Create/Update publish, Delete empties the bucket.

Whatever happens (an exception, or the function about to time out) CloudFormation gets exactly
one answer, so a failed publish fails the deploy quickly instead of hanging it.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from livescreen.asset_publisher import cfn_response
from livescreen.asset_publisher.publish import empty_bucket, publish

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

#: The package root holds livescreen/ and the built assets/ side by side.
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
#: How long before the Lambda timeout the watchdog answers FAILED.
TIMEOUT_MARGIN_SECONDS = 10.0


class _Answer:
    """Sends the CloudFormation response once, from the handler or from the watchdog."""

    def __init__(self, event: dict[str, Any]) -> None:
        self._event = event
        self._lock = threading.Lock()
        self._sent = False

    def __call__(
        self, status: cfn_response.Status, physical_id: str, reason: str = "", data: Any = None
    ) -> None:
        with self._lock:
            if self._sent:
                return
            # Marked sent only once it was: if a SUCCESS answer fails to go out, the FAILED
            # answer that follows still reaches CloudFormation instead of leaving it waiting.
            cfn_response.send(self._event, status, physical_id, reason, data)
            self._sent = True


def _physical_id(bucket: str) -> str:
    return f"assets-{bucket}"


def _clients() -> tuple[Any, Any]:
    import boto3

    return boto3.client("s3"), boto3.client("cloudfront")


def handler(event: dict[str, Any], context: Any) -> None:
    properties = event.get("ResourceProperties") or {}
    bucket = str(properties.get("BucketName", ""))
    physical_id = event.get("PhysicalResourceId") or _physical_id(bucket or "unknown")
    answer = _Answer(event)

    watchdog = None
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        delay = max(remaining_ms() / 1000 - TIMEOUT_MARGIN_SECONDS, 1.0)
        watchdog = threading.Timer(
            delay, answer, ("FAILED", physical_id, "Publishing the assets timed out")
        )
        watchdog.daemon = True
        watchdog.start()
    try:
        if not bucket:
            raise ValueError("The custom resource needs a BucketName property")
        s3, cloudfront = _clients()
        request_type = event["RequestType"]
        if request_type == "Delete":
            removed = empty_bucket(s3, bucket)
            answer("SUCCESS", physical_id, f"Emptied {bucket}", {"Deleted": removed})
            return
        assets_dir = Path(os.environ.get("ASSETS_DIR") or DEFAULT_ASSETS_DIR)
        result = publish(s3, cloudfront, bucket, str(properties["DistributionId"]), assets_dir)
        answer(
            "SUCCESS",
            _physical_id(bucket),
            f"{len(result.uploaded)} uploaded, {len(result.deleted)} deleted",
            {
                "Uploaded": len(result.uploaded),
                "Deleted": len(result.deleted),
                "InvalidationId": result.invalidation_id or "",
            },
        )
    except Exception as exc:
        logger.exception("asset publishing failed")
        answer("FAILED", physical_id, f"{type(exc).__name__}: {exc}")
    finally:
        if watchdog is not None:
            watchdog.cancel()
