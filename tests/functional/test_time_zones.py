"""Every time the app writes or reads is the same whatever time zone its process runs in.

The dev server, the command line and the Twilio emulator run on a developer's machine, in its
zone; Lambda runs in UTC. Each check below runs with the process in UTC, in a zone 14 hours
ahead of it (``Pacific/Kiritimati``), one 10 hours behind with daylight saving
(``America/Adak``) and one whose offset is not a whole hour (``Pacific/Chatham``), at an instant
when those zones are on different days and years: 2026-12-31 23:59:30 UTC.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from livescreen.cli.cleanup import table
from livescreen.cli.recordings import table as recordings_table
from livescreen.devserver.http_api_event import build_http_api_v2_event, request_time
from livescreen.providers.ivs.recording_layout import RecordingPrefix
from livescreen.providers.sweeping import VIDEO_ROOM, Resource
from livescreen.providers.twilio.timestamps import parse_time
from livescreen.recordings import Recording
from twilio_emulator.resources import iso

ZONES = ["UTC", "Pacific/Kiritimati", "America/Adak", "Pacific/Chatham"]

#: The last seconds of 2026 in UTC; already 2027 in Kiritimati and Chatham.
INSTANT = datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)
EPOCH = INSTANT.timestamp()


@pytest.fixture(params=ZONES, autouse=True)
def process_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The process's local time zone, for the test; the previous one is put back after."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield str(request.param)
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_the_zone_is_really_in_force(process_zone: str) -> None:
    offsets = {
        "UTC": 0,
        "Pacific/Kiritimati": 14 * 3600,
        "America/Adak": -10 * 3600,
        "Pacific/Chatham": 13 * 3600 + 45 * 60,  # summer time in December
    }
    assert time.localtime(EPOCH).tm_gmtoff == offsets[process_zone]


def test_twilio_times_are_read_as_the_instant_they_name() -> None:
    assert parse_time("2026-12-31T23:59:30Z") == INSTANT
    # a time written with another offset is the same instant, and is kept in UTC
    assert parse_time("2027-01-01T13:59:30+14:00") == INSTANT
    assert parse_time("2027-01-01T13:59:30+14:00").utcoffset() == timedelta(0)  # type: ignore[union-attr]
    # a time with no offset is UTC, as Twilio means it, not local time
    assert parse_time("2026-12-31T23:59:30") == INSTANT


def test_cleanup_lists_start_times_in_utc_as_its_header_says() -> None:
    started = parse_time("2027-01-01T13:59:30+14:00")
    resource = Resource(VIDEO_ROOM, "RM0123", "in-progress", started_at=started, room="live")

    header, row = table([resource], now=INSTANT + timedelta(minutes=3, seconds=5))

    assert "STARTED (UTC)" in header
    assert "2026-12-31 23:59:30" in row
    assert "3m 05s" in row


def test_the_emulator_writes_twilio_dates_in_utc() -> None:
    assert iso(EPOCH) == "2026-12-31T23:59:30Z"


def test_the_dev_server_stamps_requests_as_api_gateway_does() -> None:
    assert request_time(EPOCH) == "31/Dec/2026:23:59:30 +0000"
    assert request_time(datetime(2027, 5, 3, 4, 5, 6, tzinfo=UTC).timestamp()) == (
        "03/May/2027:04:05:06 +0000"
    )
    event = build_http_api_v2_event(
        method="GET", path="/index.html", headers={}, body=b"", source_ip="127.0.0.1"
    )
    context = event["requestContext"]
    assert context["time"] == request_time(context["timeEpoch"] / 1000)


def test_recordings_start_at_the_same_instant_for_the_page_and_the_command_line() -> None:
    recording = Recording(
        id="a" * 32,
        title="Year end",
        started_at=EPOCH,
        duration=7.0,
        playback_url=None,
        format="webm",
        status="ready",
    )

    assert recording.to_json()["startedAt"] == "2026-12-31T23:59:30+00:00"
    header, row = recordings_table([recording]).splitlines()
    assert "STARTED (UTC)" in header
    assert "2026-12-31 23:59:30" in row


def test_an_ivs_recording_prefix_time_is_utc() -> None:
    prefix = RecordingPrefix("stage", "session", "participant", "2026-12-31T23-59-30Z")
    assert prefix.timestamp_epoch == EPOCH
