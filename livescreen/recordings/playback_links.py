"""Signed, expiring links to one recording's media, for lists only the host may see.

A ``<video src>`` cannot send the host session header, so with ``RECORDINGS_PUBLIC=false`` the
host-only list hands out ``/recording_media?id=<id>&expires=<unix time>&sig=<hex>``: an
HMAC-SHA256 with ``HOST_SESSION_SECRET`` over the id and the expiry, valid as long as a host
session (``HOST_SESSION_TTL``). Whoever holds the link may play that one recording until then,
exactly like whoever was shown the list; nothing else can be derived from it. With
``RECORDINGS_PUBLIC=true`` links carry no signature (anyone may list, hence play).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

MEDIA_PATH = "/recording_media"
#: Distinguishes these signatures from anything else HOST_SESSION_SECRET signs.
PURPOSE = "recording-media"


class InvalidLinkError(Exception):
    """The link has no signature, a wrong one, or has expired."""


def _signature(secret: str, recording_id: str, expires: int) -> str:
    message = f"{PURPOSE}:{recording_id}:{expires}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def media_link(
    recording_id: str,
    *,
    secret: str | None,
    ttl_seconds: int,
    now: Callable[[], float] = time.time,
) -> str:
    """The playback URL of ``recording_id``: signed when ``secret`` is given, plain otherwise."""
    query: dict[str, str | int] = {"id": recording_id}
    if secret is not None:
        expires = int(now()) + ttl_seconds
        query.update(expires=expires, sig=_signature(secret, recording_id, expires))
    return f"{MEDIA_PATH}?{urlencode(query)}"


def verify(
    recording_id: str,
    event: Mapping[str, object],
    *,
    secret: str,
    now: Callable[[], float] = time.time,
) -> None:
    """Raise ``InvalidLinkError`` unless ``event`` carries a valid, unexpired signature."""
    raw_expires, signature = event.get("expires"), event.get("sig")
    if not isinstance(raw_expires, str) or not isinstance(signature, str):
        raise InvalidLinkError(
            "This recording link is not signed: open it from the recordings page"
        )
    try:
        expires = int(raw_expires)
    except ValueError:
        raise InvalidLinkError("This recording link is not valid") from None
    expected = _signature(secret, recording_id, expires)
    if not signature.isascii() or not hmac.compare_digest(expected, signature):
        raise InvalidLinkError("This recording link is not valid")
    if expires <= now():
        raise InvalidLinkError("This recording link has expired: reload the recordings page")
