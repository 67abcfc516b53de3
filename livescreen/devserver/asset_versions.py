"""Revalidating the pages' files: every answer names the file's version (``ETag``), and a
browser that already holds that version is answered ``304 Not Modified`` with no body.

This is how S3 and CloudFront answer the stack's pages bucket, whose Cache-Control asks browsers
to revalidate (``asset_publisher.content_types``). It matters most when one browser opens many
tabs: each tab revalidates the page's modules and styles instead of downloading them again.
"""

from __future__ import annotations

import os


def entity_tag(stat: os.stat_result) -> str:
    """The file's version as a strong entity tag: it changes when the file is written again."""
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def is_current(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` field names ``etag`` (RFC 9110 §13.1.2: weak comparison,
    and ``*`` names any current version)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))
