"""Signed, expiring host sessions bound to one room.

``/host_token`` issues one after the password check; ``/stream_start`` and ``/stream_stop``
require it. Format: ``base64url(json claims) "." base64url(HMAC-SHA256)``; the key is the
``HOST_SESSION_SECRET`` setting (random, never derived from the password, so a leaked session
cannot be used to guess the password offline).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

VERSION = 1


class InvalidSessionError(Exception):
    """The session is missing, malformed, forged, expired or for another room."""


@dataclass(frozen=True)
class HostSession:
    room: str
    expires_at: int
    session_id: str


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), payload.encode("ascii"), hashlib.sha256).digest()
    return b64encode(digest)


def issue(
    room: str, *, secret: str, ttl_seconds: int, now: Callable[[], float] = time.time
) -> tuple[str, HostSession]:
    session = HostSession(room, int(now()) + ttl_seconds, secrets.token_hex(8))
    claims = {"v": VERSION, "room": room, "exp": session.expires_at, "sid": session.session_id}
    payload = b64encode(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{signature(secret, payload)}", session


def verify(
    token: object,
    *,
    secret: str,
    room: str | None = None,
    now: Callable[[], float] = time.time,
) -> HostSession:
    """The session ``token`` stands for, or ``InvalidSessionError`` saying why not."""
    if not isinstance(token, str) or not token:
        raise InvalidSessionError("A host session is required: sign in on the host page first")
    payload, dot, signed = token.partition(".")
    # Non-ASCII text cannot be a session we issued (and would make the comparison raise).
    if not dot or not token.isascii():
        raise InvalidSessionError("The host session is not valid: sign in again")
    if not hmac.compare_digest(signature(secret, payload), signed):
        raise InvalidSessionError("The host session is not valid: sign in again")
    try:
        claims = json.loads(b64decode(payload))
        session = HostSession(str(claims["room"]), int(claims["exp"]), str(claims["sid"]))
    except (ValueError, KeyError, TypeError):
        raise InvalidSessionError("The host session is not valid: sign in again") from None
    if session.expires_at <= now():
        raise InvalidSessionError("The host session has expired: sign in again")
    if room is not None and session.room != room:
        raise InvalidSessionError("The host session is for another room")
    return session
