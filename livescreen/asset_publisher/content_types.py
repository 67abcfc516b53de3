"""The Content-Type and Cache-Control of each file the app serves.

The asset publisher sets both on every object it puts in the pages bucket; the dev server serves
the same files with the same Content-Type.

The table is explicit because ``mimetypes`` depends on the host's configuration and does not
know ``.wasm`` everywhere; a player's ``.wasm`` served with any other type fails to compile.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def content_type(key: str) -> str:
    """The Content-Type for a file name or key such as ``vendor/player.wasm``."""
    return CONTENT_TYPES.get(PurePosixPath(key).suffix.lower(), DEFAULT_CONTENT_TYPE)


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
