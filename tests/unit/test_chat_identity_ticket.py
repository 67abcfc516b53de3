"""Chat identity tickets: a page keeps its chat identity, and nobody can choose one.

Decided: a ticket that is forged, tampered with, expired, malformed or for another role is
refused outright (``InvalidTicketError``; ``/chat_token`` answers 403 and issues no token), never
answered with a new identity instead, so garbage cannot shed an identity the host disconnected.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from livescreen.chat import HOST, VIEWER, ChatGrant
from livescreen.chat.identity_ticket import (
    TTL_SECONDS,
    InvalidTicketError,
    grant_with_ticket,
    issue,
    verify,
)
from livescreen.security import host_session
from livescreen.security.host_session import b64decode, b64encode

SECRET = "identity-ticket-test-secret-0123456789abcdef"
NOW = 1_800_000_000.0


def clock(at: float = NOW) -> Any:
    return lambda: at


def test_a_ticket_names_the_identity_it_was_issued_for() -> None:
    ticket = issue("viewer-00aa", VIEWER, secret=SECRET, now=clock())

    assert verify(ticket, secret=SECRET, role=VIEWER, now=clock(NOW + TTL_SECONDS - 1)) == (
        "viewer-00aa"
    )


@pytest.mark.parametrize(
    "ticket",
    [None, "", 42, "no-dot", "a.b", "é.x", "viewer-00aa"],
)
def test_malformed_tickets_are_refused(ticket: object) -> None:
    with pytest.raises(InvalidTicketError, match="not valid"):
        verify(ticket, secret=SECRET, role=VIEWER, now=clock())


def test_a_ticket_signed_with_another_secret_is_refused() -> None:
    forged = issue("viewer-00aa", VIEWER, secret="another-secret-0123456789abcdefgh", now=clock())

    with pytest.raises(InvalidTicketError, match="not valid"):
        verify(forged, secret=SECRET, role=VIEWER, now=clock())


def test_a_ticket_whose_claims_were_changed_is_refused() -> None:
    payload, _, signed = issue("viewer-00aa", VIEWER, secret=SECRET, now=clock()).partition(".")
    claims = json.loads(b64decode(payload))
    for change in ({"id": "viewer-00bb"}, {"role": HOST, "id": "host-00aa"}, {"exp": 2**40}):
        tampered = b64encode(json.dumps({**claims, **change}).encode())
        with pytest.raises(InvalidTicketError, match="not valid"):
            verify(f"{tampered}.{signed}", secret=SECRET, role=VIEWER, now=clock())


def test_a_host_session_is_no_ticket_and_a_ticket_no_host_session() -> None:
    session, _ = host_session.issue("room", secret=SECRET, ttl_seconds=600, now=clock())
    ticket = issue("host-00aa", HOST, secret=SECRET, now=clock())

    with pytest.raises(InvalidTicketError):
        verify(session, secret=SECRET, role=HOST, now=clock())
    with pytest.raises(host_session.InvalidSessionError):
        host_session.verify(ticket, secret=SECRET, now=clock())


def test_an_expired_ticket_is_refused_and_says_so() -> None:
    ticket = issue("viewer-00aa", VIEWER, secret=SECRET, now=clock())

    with pytest.raises(InvalidTicketError, match="expired"):
        verify(ticket, secret=SECRET, role=VIEWER, now=clock(NOW + TTL_SECONDS))


def test_a_viewers_ticket_never_becomes_a_hosts() -> None:
    ticket = issue("viewer-00aa", VIEWER, secret=SECRET, now=clock())

    with pytest.raises(InvalidTicketError, match="not a host's"):
        verify(ticket, secret=SECRET, role=HOST, now=clock())


class RecordingChat:
    """A provider that keeps identities, recording what it was asked for."""

    name = "test"
    keeps_identity = True

    def __init__(self) -> None:
        self.asked: list[str | None] = []

    def grant(
        self, *, name: str, role: str, address: str | None = None, identity: str | None = None
    ) -> ChatGrant:
        self.asked.append(identity)
        return ChatGrant("test", "token", identity or f"{role}-new", name, role, NOW + 60, "", ())


def test_a_grant_keeps_the_tickets_identity_and_hands_out_a_fresh_ticket() -> None:
    chat = RecordingChat()
    first = grant_with_ticket(
        chat, name="Vee", role=VIEWER, address=None, ticket=None, secret=SECRET, now=clock()
    )
    again = grant_with_ticket(
        chat,
        name="Vee",
        role=VIEWER,
        address=None,
        ticket=first.ticket,
        secret=SECRET,
        now=clock(NOW + 60),
    )

    assert chat.asked == [None, "viewer-new"]
    assert again.identity == first.identity == "viewer-new"
    assert again.ticket and again.ticket != first.ticket


@pytest.mark.parametrize("ticket", ["forged.ticket", "expired", "host"])
def test_a_bad_ticket_gets_no_grant_and_no_new_identity(ticket: str) -> None:
    chat = RecordingChat()
    presented = {
        "expired": issue("viewer-00aa", VIEWER, secret=SECRET, now=clock(NOW - TTL_SECONDS)),
        "host": issue("host-00aa", HOST, secret=SECRET, now=clock()),
    }.get(ticket, ticket)

    with pytest.raises(InvalidTicketError):
        grant_with_ticket(
            chat,
            name="Vee",
            role=VIEWER,
            address=None,
            ticket=presented,
            secret=SECRET,
            now=clock(),
        )
    assert chat.asked == []


def test_a_provider_that_cannot_keep_identities_ignores_tickets() -> None:
    class Forgetful:
        name = "forgetful"

        def grant(self, *, name: str, role: str, address: str | None = None) -> ChatGrant:
            return ChatGrant("forgetful", "t", f"{role}-new", name, role, NOW + 60, "", ())

    grant = grant_with_ticket(
        Forgetful(), name="Vee", role=VIEWER, address=None, ticket="garbage", secret="", now=clock()
    )
    assert grant.identity == "viewer-new"
    assert grant.ticket is None
