"""Cache-Control for each published file; Content-Type comes from ``livescreen.content_types``."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from livescreen.content_types import content_type

__all__ = ["cache_control", "content_type"]

#: HTML must be revalidated on every visit so a deploy shows up at once.
HTML_CACHE_CONTROL = "no-cache, must-revalidate"
#: A file whose name carries its version never changes: browsers may keep it for a year.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
#: Everything else is revalidated (a cheap 304 when unchanged).
REVALIDATE_CACHE_CONTROL = "no-cache"

# "1.7.0", "1-7-0" or "v2.36.0" as a segment of the file name.
_VERSIONED_NAME = re.compile(r"(?:^|[-_.@/v])\d+[.-]\d+[.-]\d+(?:[-_.]|$)")


def cache_control(key: str) -> str:
    path = PurePosixPath(key)
    if path.suffix.lower() == ".html":
        return HTML_CACHE_CONTROL
    if path.parts[:1] == ("vendor",) and _VERSIONED_NAME.search(path.name):
        return IMMUTABLE_CACHE_CONTROL
    return REVALIDATE_CACHE_CONTROL
