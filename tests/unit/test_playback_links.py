"""Signed recording links: they open one recording, until they expire, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

import pytest

from livescreen.recordings.playback_links import InvalidLinkError, media_link, verify

SECRET = "unit-test-host-session-secret-0123456789"
ID = "CJ" + "ab" * 16
OTHER = "CJ" + "cd" * 16
NOW = 1_800_000_000.0


def query(link: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(link).query))


def test_a_signed_link_opens_its_recording_until_it_expires() -> None:
    # GIVEN a link signed for an hour
    link = media_link(ID, secret=SECRET, ttl_seconds=3600, now=lambda: NOW)
    event = query(link)
    # THEN it names the recording and verifies now, and until just before the hour is up
    assert urlsplit(link).path == "/recording_media" and event["id"] == ID
    verify(ID, event, secret=SECRET, now=lambda: NOW)
    verify(ID, event, secret=SECRET, now=lambda: NOW + 3599)
    # AND not once the hour is up
    with pytest.raises(InvalidLinkError, match="expired"):
        verify(ID, event, secret=SECRET, now=lambda: NOW + 3600)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: {**e, "sig": "0" * 64},
        lambda e: {**e, "expires": str(int(e["expires"]) + 86400)},
        lambda e: {k: v for k, v in e.items() if k != "sig"},
        lambda e: {k: v for k, v in e.items() if k != "expires"},
        lambda e: {**e, "expires": "soon"},
        lambda e: {**e, "sig": "é" * 64},
    ],
)
def test_a_changed_or_incomplete_link_is_refused(
    tamper: Callable[[dict[str, str]], dict[str, str]],
) -> None:
    event = query(media_link(ID, secret=SECRET, ttl_seconds=3600, now=lambda: NOW))
    with pytest.raises(InvalidLinkError):
        verify(ID, tamper(event), secret=SECRET, now=lambda: NOW)


def test_a_link_opens_neither_another_recording_nor_under_another_secret() -> None:
    event = query(media_link(ID, secret=SECRET, ttl_seconds=3600, now=lambda: NOW))
    with pytest.raises(InvalidLinkError):
        verify(OTHER, event, secret=SECRET, now=lambda: NOW)
    with pytest.raises(InvalidLinkError):
        verify(ID, event, secret=SECRET + "x", now=lambda: NOW)


def test_a_public_link_carries_no_signature() -> None:
    assert media_link(ID, secret=None, ttl_seconds=3600) == f"/recording_media?id={ID}"
