"""Answering CloudFormation: a custom resource must PUT its outcome to the pre-signed URL.

Without that answer the stack waits (up to the resource's ServiceTimeout) and then fails.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any, Literal
from urllib.parse import urlparse

logger = logging.getLogger(__name__)

Status = Literal["SUCCESS", "FAILED"]

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def build_body(
    event: dict[str, Any],
    status: Status,
    physical_resource_id: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> bytes:
    return json.dumps(
        {
            "Status": status,
            # CloudFormation shows at most 4 KB of the reason.
            "Reason": reason[:3000] or status,
            "PhysicalResourceId": physical_resource_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": False,
            "Data": data or {},
        }
    ).encode("utf-8")


def send(
    event: dict[str, Any],
    status: Status,
    physical_resource_id: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
    *,
    timeout: float = 30.0,
) -> None:
    """PUT the outcome to ``event["ResponseURL"]`` (an HTTPS pre-signed S3 URL)."""
    url = event["ResponseURL"]
    parsed = urlparse(url)
    # CloudFormation always sends an https URL; plain http is accepted for loopback only.
    if parsed.scheme != "https" and not (parsed.scheme == "http" and parsed.hostname in _LOOPBACK):
        raise ValueError("the CloudFormation response URL must be https")
    body = build_body(event, status, physical_resource_id, reason, data)
    # The pre-signed URL was signed without a Content-Type: send an empty one.
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        logger.info("answered CloudFormation", extra={"status": status, "http": response.status})
