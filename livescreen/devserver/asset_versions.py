"""Revalidating the pages' files: every answer names the file's version (``ETag``), and a
browser that already holds that version is answered ``304 Not Modified`` with no body.

This is how S3 and CloudFront answer the stack's pages bucket, whose Cache-Control asks browsers
to revalidate (``asset_publisher.content_types``). It matters most when one browser opens many
tabs: each tab revalidates the page's modules and styles instead of downloading them again.
"""

from __future__ import annotations

import hashlib


def entity_tag(content: bytes) -> str:
    """A strong entity tag for ``content``: a digest of the bytes themselves, so it changes
    exactly when they do (a copy that kept the file's time, an edit within one clock tick)."""
    return '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'


def is_current(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` field (its lines joined with commas) names ``etag``
    (RFC 9110 §13.1.2: weak comparison, and ``*`` names any current version). Our tags hold no
    comma, so the list splits on commas."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))
