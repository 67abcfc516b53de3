"""Stream details and audience numbers with the local provider, in Debian's chromium: the host
names and schedules a stream, the waiting audience sees it in its own time zone with a
countdown, the host sees the audience while live and a summary after, and the stream is listed
by its title with its numbers on recordings.html and by ``livescreen streams``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser_pages import PASSWORD, HostPage, ViewerPage, screenshot
from browser_settings import settings_for
from page_world import PageWorld, WorldClock, plain_spaces
from recordings_pages import RecordingsPage
from stream_details_pages import HostDetails, StreamsList, WaitingAudience

from livescreen.chat import clear_chat_cache
from livescreen.chat.local.room import CHAT_ROOM
from livescreen.providers import clear_provider_cache
from livescreen.providers.local.hub import HUB
from livescreen.security import password_guard
from livescreen.store import clear_store_cache
from livescreen.store.counting import clear_counter

ROOT = Path(__file__).resolve().parents[2]
LIVESCREEN = Path(sys.executable).parent / "livescreen"

#: A zone whose offset is not a whole hour, in a 24-hour locale; the pages' clocks are the real
#: one (the server checks a planned start against its own clock).
KATHMANDU = PageWorld("de-DE", "Asia/Kathmandu", None)
#: How long the viewers who stay watch at least, by the host's clock on air.
WATCHED_SECONDS = 6


@pytest.fixture
def streams_db(tmp_path: Path) -> str:
    """The stream store's file for one test."""
    return str(tmp_path / "streams.db")


@pytest.fixture
def details_server(tmp_path: Path, streams_db: str, world_clock: WorldClock) -> Iterator[Any]:
    """A dev server with the local provider and chat, and a stream store of its own."""
    from livescreen.devserver import DevServer

    password_guard.throttle.reset()
    HUB.reset()
    CHAT_ROOM.reset()
    clear_provider_cache()
    clear_chat_cache()
    clear_store_cache()
    clear_counter()
    settings = settings_for(RECORDINGS_DIR=str(tmp_path / "recordings"), STREAMS_DB=streams_db)
    dev = DevServer(settings, port=0, root=ROOT)
    dev.start_background()
    yield dev
    dev.shutdown()
    HUB.reset()
    CHAT_ROOM.reset()
    clear_provider_cache()
    clear_chat_cache()
    clear_counter()
    clear_store_cache()


def on_air_seconds(host: HostPage) -> int:
    hours, minutes, seconds = host.page.inner_text("#onAir").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds)


def start_text(moment: datetime) -> str:
    """``moment`` as a de-DE viewer reads it (Intl dateStyle medium, timeStyle short)."""
    return f"{moment:%d.%m.%Y}, {moment:%H:%M}"


def streams_json(streams_db: str) -> list[dict[str, Any]]:
    """What ``livescreen streams --json`` prints, with the dev server's store settings."""
    env = {"STREAM_STORE": "sqlite", "STREAMS_DB": streams_db, "PATH": "/usr/bin:/bin"}
    printed = subprocess.run(
        [str(LIVESCREEN), "streams", "--json", "--env-file", "/dev/null"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listed: list[dict[str, Any]] = json.loads(printed.stdout)
    return listed


@pytest.mark.parametrize("page_world", [KATHMANDU], ids=lambda world: world.id)
def test_a_named_and_scheduled_stream_is_announced_counted_and_listed_by_its_title(
    details_server: Any, streams_db: str, open_page: Any, world_clock: WorldClock
) -> None:
    server = details_server
    zone = ZoneInfo(world_clock.world.timezone_id)
    title = "Friday <b>demo</b> & questions"

    # GIVEN a host, signed out, who names the next stream and plans it 2 minutes ahead (a
    # whole minute in the host's own zone, as the date-time field takes it)
    host = HostPage(open_page(), server.url).open()
    details = HostDetails(host.page)
    now = datetime.now(zone)
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=2)
    state = details.save(title, description="Bring questions.", start=start, password=PASSWORD)
    assert state == "saved", details.error()

    # WHEN a viewer opens the audience page while nothing is live
    waiting = ViewerPage(open_page(), server.url).open()
    audience = WaitingAudience(waiting.page)

    # THEN it names the stream and its start in the viewer's own zone and locale, as text (not
    # HTML), with a countdown to it that runs down
    status = audience.wait_for_status("^Next: ")
    assert plain_spaces(status) == f"Next: {title}, {start_text(start)}"
    assert waiting.page.locator("#status b").count() == 0
    left = audience.countdown_seconds()
    assert left is not None, audience.countdown()
    assert abs(left - (start.timestamp() - time.time())) <= 2
    waiting.page.wait_for_function(
        "text => document.getElementById('countdown').textContent !== text",
        arg=audience.countdown(),
    )
    assert (audience.countdown_seconds() or 0) < left
    screenshot(waiting.page, "audience-next-stream")

    # WHEN the host goes live and three viewers watch (the waiting one among them)
    grant = host.go_live(PASSWORD)
    viewers = [waiting] + [ViewerPage(open_page(), server.url).open() for _ in range(2)]
    for viewer in viewers:
        assert viewer.wait_for_video().get("width", 0) > 0

    # THEN the audience sees the title and description beside the player and in the tab title
    watching = viewers[1].page
    watching.locator("#details").wait_for()
    assert watching.inner_text("#detailsTitle") == title
    assert watching.inner_text("#detailsDescription") == "Bring questions."
    watching.wait_for_function("t => document.title === t", arg=f"{title} \u2013 Live")
    assert audience.countdown() is None
    screenshot(watching, "audience-live-details")

    # WHEN one of them leaves (closes the page)
    joined_at = on_air_seconds(host)
    viewers[2].page.close()

    # THEN the host sees two watching and a peak of three (the peak from the server's count)
    details.wait_for_numbers(current=2, peak=3)
    screenshot(host.page, "host-live-numbers")

    # WHEN the two who stay have watched a few seconds more, and the host stops
    host.page.wait_for_function(
        "s => document.getElementById('onAir').textContent >= s",
        arg=f"0:00:{joined_at + WATCHED_SECONDS:02d}",
        timeout=30_000,
    )
    with host.page.expect_response("**/stream_stop") as stopped:
        host.page.click("#liveSwitch")
    summary = stopped.value.json()["summary"]

    # THEN the host sees the stream's summary: its title, peak 3, 3 viewers, viewer-minutes
    shown = details.summary()
    assert shown["title"] == title
    assert (shown["peak"], shown["viewers"]) == (3, 3)
    assert shown["viewer-minutes"] == summary["viewerMinutes"] >= 2 * WATCHED_SECONDS / 60 - 0.1
    screenshot(host.page, "host-summary")

    # AND recordings.html lists the stream by its title with the same numbers and its recording
    recordings = RecordingsPage(open_page(), server.url).open()
    recordings.sign_in(PASSWORD)
    [listed] = StreamsList(recordings.page).streams()
    assert (listed["id"], listed["title"]) == (grant["room"], title)
    assert (listed["peak"], listed["viewers"]) == (3, 3)
    assert listed["viewer-minutes"] == summary["viewerMinutes"] > 0
    assert listed["chat-messages"] == 0
    assert listed["seconds"] >= joined_at + WATCHED_SECONDS
    assert len(listed["recordings"]) == 1
    screenshot(recordings.page, "recordings-streams")

    # AND `livescreen streams --json` prints the same
    [printed] = streams_json(streams_db)
    assert (printed["id"], printed["title"], printed["description"]) == (
        grant["room"],
        title,
        "Bring questions.",
    )
    assert (printed["peakViewers"], printed["viewers"]) == (3, 3)
    assert printed["viewerMinutes"] == summary["viewerMinutes"]
    assert printed["live"] is False


@pytest.mark.parametrize("page_world", [KATHMANDU], ids=lambda world: world.id)
def test_after_the_planned_start_the_audience_is_told_starting_soon_then_the_usual(
    details_server: Any, open_page: Any, world_clock: WorldClock
) -> None:
    # GIVEN a stream planned 2 minutes ahead
    host = HostPage(open_page(), details_server.url).open()
    zone = ZoneInfo(world_clock.world.timezone_id)
    start = datetime.now(zone).replace(second=0, microsecond=0) + timedelta(minutes=2)
    assert HostDetails(host.page).save("Soon", start=start, password=PASSWORD) == "saved"
    # AND an audience page whose clock the test moves (Playwright's clock, from now)
    page = open_page()
    page.context.clock.install(time=datetime.now(UTC))
    viewer = ViewerPage(page, details_server.url).open()
    audience = WaitingAudience(page)
    audience.wait_for_status("^Next: Soon, ")

    # WHEN the planned time passes with nothing live
    page.clock.fast_forward(int(start.timestamp() - time.time() + 1) * 1000)

    # THEN it says "Starting soon…", with no countdown
    assert audience.wait_for_status("^Starting soon…$") == "Starting soon…"
    assert audience.countdown() is None
    screenshot(page, "audience-starting-soon")

    # WHEN 15 minutes more pass
    page.clock.fast_forward("15:00")

    # THEN the usual text is back
    viewer.wait_for_status("Not currently streaming.")


def test_the_host_sees_why_details_are_refused_and_nothing_changes(
    details_server: Any, open_page: Any
) -> None:
    host = HostPage(open_page(), details_server.url).open()
    details = HostDetails(host.page)
    assert details.save("Kept", password=PASSWORD) == "saved"

    # WHEN the host saves a title with an invisible character
    state = details.save("Hidden\u200bcharacter")

    # THEN the server's reason is shown, and the audience still gets the saved details
    assert state == "error"
    assert re.search(r"invisible|control", details.error(), re.IGNORECASE), details.error()
    answer = host.page.request.get(f"{details_server.url}/stream_details").json()
    assert answer["details"]["title"] == "Kept"
    screenshot(host.page, "host-details-error")


def test_share_copies_the_audience_address_or_shows_it_selected(
    details_server: Any, open_page: Any
) -> None:
    # GIVEN a host page that may write to the clipboard
    page = open_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    HostPage(page, details_server.url).open()

    # WHEN the host clicks Share, then the embed button
    page.click("#shareButton")
    page.locator("#shareStatus", has_text="Link copied.").wait_for()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    page.click("#embedButton")
    page.locator("#shareStatus", has_text="Embed code copied.").wait_for()
    snippet = page.evaluate("() => navigator.clipboard.readText()")

    # THEN the audience page's address, then an iframe of the embed page, are on the clipboard
    assert copied == f"{details_server.url}/"
    assert snippet.startswith(f'<iframe src="{details_server.url}/embed.html"')
    assert 'allow="autoplay; fullscreen"' in snippet

    # GIVEN a browser that refuses the clipboard
    blocked = HostPage(
        open_page(init_script="Object.defineProperty(navigator, 'clipboard', {value: undefined})"),
        details_server.url,
    ).open()

    # WHEN the host clicks Share
    blocked.page.click("#shareButton")

    # THEN the address is shown selected, to copy by hand
    field = blocked.page.locator("#shareText")
    field.wait_for()
    assert field.input_value() == f"{details_server.url}/"
    selected = blocked.page.evaluate(
        "() => { const f = document.getElementById('shareText');"
        " return [f.selectionStart, f.selectionEnd, document.activeElement === f]; }"
    )
    assert selected == [0, len(f"{details_server.url}/"), True]
    screenshot(blocked.page, "host-share-fallback")


def test_a_rename_while_live_reaches_the_viewers_already_watching(
    details_server: Any, open_page: Any
) -> None:
    # GIVEN a live stream, and a viewer watching it whose page clock the test moves
    host = HostPage(open_page(), details_server.url).open()
    details = HostDetails(host.page)
    assert details.save("First title", password=PASSWORD) == "saved", details.error()
    host.go_live(PASSWORD)
    page = open_page()
    page.context.clock.install(time=datetime.now(UTC))
    viewer = ViewerPage(page, details_server.url).open()
    assert viewer.wait_for_video().get("width", 0) > 0
    page.wait_for_function("() => document.title === 'First title \u2013 Live'")

    # WHEN the host renames the stream while live
    assert details.save("Second title") == "saved", details.error()
    # AND a minute passes on the viewer's page
    page.clock.fast_forward("01:01")

    # THEN the viewer sees the new title, without a reload
    page.wait_for_function("() => document.title === 'Second title \u2013 Live'")
    assert page.inner_text("#detailsTitle") == "Second title"
