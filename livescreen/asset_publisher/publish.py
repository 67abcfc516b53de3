"""Make the assets bucket hold exactly the built assets/ folder, and tell CloudFront.

A file is uploaded when its bytes, Content-Type or Cache-Control differ from the object in the
bucket (objects are SSE-S3 encrypted and put in one request, so their ETag is the MD5 of the
bytes); objects with no file any more are deleted. CloudFront is invalidated only for paths
whose content changed or disappeared: a deploy that changes nothing costs nothing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livescreen.asset_publisher.content_types import cache_control, content_type

logger = logging.getLogger(__name__)

#: Above this many changed paths one wildcard invalidation is cheaper than listing them.
MAX_LISTED_INVALIDATION_PATHS = 15
_DELETE_BATCH = 1000


@dataclass(frozen=True)
class AssetFile:
    """One file of the build as it must appear in the bucket."""

    key: str
    path: Path
    md5: str
    content_type: str
    cache_control: str


@dataclass
class PublishResult:
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    invalidation_id: str | None = None


def scan(assets_dir: Path) -> dict[str, AssetFile]:
    """Every file under ``assets_dir`` keyed by its bucket key; hidden files are left out."""
    if not assets_dir.is_dir():
        raise FileNotFoundError(f"No built assets at {assets_dir}: run `npm run build` first")
    files: dict[str, AssetFile] = {}
    for path in sorted(assets_dir.rglob("*")):
        relative = path.relative_to(assets_dir)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        key = relative.as_posix()
        files[key] = AssetFile(
            key=key,
            path=path,
            md5=hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest(),
            content_type=content_type(key),
            cache_control=cache_control(key),
        )
    return files


def _list_objects(s3: Any, bucket: str) -> Iterator[dict[str, Any]]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        yield from page.get("Contents", [])


def _needs_upload(s3: Any, bucket: str, asset: AssetFile, etag: str | None) -> bool:
    if etag is None or etag.strip('"') != asset.md5:
        return True
    head = s3.head_object(Bucket=bucket, Key=asset.key)
    return bool(
        head.get("ContentType") != asset.content_type
        or head.get("CacheControl") != asset.cache_control
    )


def _delete(s3: Any, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), _DELETE_BATCH):
        batch = keys[start : start + _DELETE_BATCH]
        response = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
        errors = response.get("Errors") or []
        if errors:
            raise RuntimeError(f"Could not delete {len(errors)} object(s), first: {errors[0]}")


def invalidation_paths(changed_keys: list[str]) -> list[str]:
    """The CloudFront paths to invalidate for these keys (``index.html`` is also ``/``)."""
    paths = sorted({"/" + key for key in changed_keys})
    if any(key == "index.html" for key in changed_keys):
        paths.insert(0, "/")
    if len(paths) > MAX_LISTED_INVALIDATION_PATHS:
        return ["/*"]
    return paths


def publish(
    s3: Any, cloudfront: Any, bucket: str, distribution_id: str, assets_dir: Path
) -> PublishResult:
    """Upload what changed, delete what is gone, invalidate only if something was replaced."""
    wanted = scan(assets_dir)
    existing = {obj["Key"]: obj.get("ETag") for obj in _list_objects(s3, bucket)}
    result = PublishResult()
    # Pages last: a page never points at a script or SDK file that is not uploaded yet.
    for key, asset in sorted(wanted.items(), key=lambda item: item[0].endswith(".html")):
        if not _needs_upload(s3, bucket, asset, existing.get(key)):
            result.unchanged += 1
            continue
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=asset.path.read_bytes(),
            ContentType=asset.content_type,
            CacheControl=asset.cache_control,
        )
        result.uploaded.append(key)
    result.deleted = sorted(set(existing) - set(wanted))
    _delete(s3, bucket, result.deleted)

    # A brand-new key was never cached, so only replaced or deleted ones need invalidating.
    stale = [key for key in result.uploaded if key in existing] + result.deleted
    if stale:
        paths = invalidation_paths(stale)
        response = cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": f"livescreen-{time.time_ns()}",
            },
        )
        result.invalidation_id = response["Invalidation"]["Id"]
    logger.info(
        "assets published",
        extra={
            "uploaded": len(result.uploaded),
            "deleted": len(result.deleted),
            "unchanged": result.unchanged,
            "invalidation": result.invalidation_id,
        },
    )
    return result


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object so CloudFormation can delete the bucket; a missing bucket is empty."""
    try:
        keys = [obj["Key"] for obj in _list_objects(s3, bucket)]
    except s3.exceptions.NoSuchBucket:
        return 0
    _delete(s3, bucket, keys)
    return len(keys)
