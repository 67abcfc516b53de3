"""Signed identity tickets: one chat identity for the life of a page.

IVS Chat names a chatter by the ``userId`` of its token, and the host's Disconnect and the
page's "mine" markers aim at that name. A page that renews its token (a reconnect, a token
refresh) must keep it, yet no client may pick an identity of its own choosing (it could speak,
or dodge a Disconnect, as somebody else). So ``/chat_token`` answers every grant with a ticket:
``base64url(json claims) "." base64url(HMAC-SHA256)`` over the identity, its role and an
expiry, signed with a key derived from ``HOST_SESSION_SECRET`` (so no ticket is ever a valid
host session or device token, or the other way round). The page presents it when it renews;
the new token carries the same identity, and a fresh ticket (a later expiry) comes with it.

A ticket that is forged, tampered with, expired, malformed or of another role is refused
(``InvalidTicketError``, a 403 at the endpoint): the caller gets no token at all, never a new
identity in its place, so a page cannot shed an identity the host has disconnected by
presenting garbage. The page drops its ticket only when the person asks to join again.
A viewer's ticket never becomes a host's: the role is signed, and a host grant needs the host
session as well.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, cast

from livescreen.chat import ChatGrant, ChatProvider
from livescreen.security.host_session import b64decode, b64encode, signature

VERSION = 1
#: Separates the key of these tickets from everything else HOST_SESSION_SECRET signs.
PURPOSE = "chat-identity-ticket"
#: How long a ticket may go unrenewed. Every renewal (at the latest one session,
#: ``CHAT_SESSION_MINUTES`` <= 180, after the last) hands out a fresh one, so an open page
#: never holds an expired ticket; a page left asleep longer than this starts afresh.
TTL_SECONDS = 12 * 3600


class InvalidTicketError(Exception):
    """The ticket is malformed, forged, tampered with, expired or for another role."""


class IdentityKeepingChat(ChatProvider, Protocol):
    """A chat provider that can issue a token for an identity it issued before."""

    keeps_identity: bool

    def grant(
        self, *, name: str, role: str, address: str | None = None, identity: str | None = None
    ) -> ChatGrant: ...


def _key(secret: str) -> str:
    return signature(secret, PURPOSE)


def issue(
    identity: str,
    role: str,
    *,
    secret: str,
    ttl_seconds: int = TTL_SECONDS,
    now: Callable[[], float] = time.time,
) -> str:
    claims = {"v": VERSION, "id": identity, "role": role, "exp": int(now()) + ttl_seconds}
    payload = b64encode(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{signature(_key(secret), payload)}"


def verify(ticket: object, *, secret: str, role: str, now: Callable[[], float] = time.time) -> str:
    """The identity ``ticket`` was issued for, as ``role``; or ``InvalidTicketError``."""
    refused = "The chat identity ticket is not valid: join the chat again"
    if not isinstance(ticket, str) or not ticket.isascii():
        raise InvalidTicketError(refused)
    payload, dot, signed = ticket.partition(".")
    if not dot or not hmac.compare_digest(signature(_key(secret), payload), signed):
        raise InvalidTicketError(refused)
    try:
        claims = json.loads(b64decode(payload))
        identity, claimed_role, expires = str(claims["id"]), str(claims["role"]), int(claims["exp"])
        version = claims["v"]
    except (ValueError, KeyError, TypeError):
        raise InvalidTicketError(refused) from None
    if version != VERSION or not identity.startswith(f"{claimed_role}-"):
        raise InvalidTicketError(refused)
    if expires <= now():
        raise InvalidTicketError("The chat identity ticket has expired: join the chat again")
    if claimed_role != role:
        raise InvalidTicketError(f"The chat identity ticket is not a {role}'s: join the chat again")
    return identity


def keeps_identity(chat: ChatProvider) -> bool:
    return bool(getattr(chat, "keeps_identity", False))


def grant_with_ticket(
    chat: ChatProvider,
    *,
    name: str,
    role: str,
    address: str | None,
    ticket: object,
    secret: str,
    now: Callable[[], float] = time.time,
) -> ChatGrant:
    """A grant for ``ticket``'s identity (a new one when ``ticket`` is None or empty) and a fresh
    ticket for it. A provider that cannot keep identities ignores tickets and hands out none."""
    if not keeps_identity(chat):
        return chat.grant(name=name, role=role, address=address)
    keeping = cast(IdentityKeepingChat, chat)
    identity = None
    if ticket not in (None, ""):
        identity = verify(ticket, secret=secret, role=role, now=now)
    grant = keeping.grant(name=name, role=role, address=address, identity=identity)
    return replace(grant, ticket=issue(grant.identity, role, secret=secret, now=now))
