"""Local recordings in Debian's chromium: the host's page records while live, recordings.html
lists and plays what it recorded, and the pages link to the list."""

from __future__ import annotations

import json
from datetime import datetime
from datetime import time as time_of_day
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser_pages import PASSWORD, HostPage, ViewerPage, screenshot
from page_world import PageWorld, WorldClock, date_time_text, plain_spaces
from recordings_pages import RecordingsPage

from livescreen.providers import clear_provider_cache
from livescreen.providers.local.recording_folder import RecordingFolder

#: How long the main test records: long enough that the player's time can advance by a second
#: well before the end, however long the page takes to learn the duration.
RECORDED_SECONDS = 7

#: Clocks at which a start time in the list holds a duration-like "0:mm:ss" (10:27, 20:00, 22:27
#: hold "0:27:ss" or "0:00:ss"), in a 12-hour and a 24-hour locale.
LIST_WORLDS = [
    PageWorld(locale, zone, starts_at)
    for locale, zone in (("en-US", "America/New_York"), ("de-DE", "Europe/Berlin"))
    for starts_at in (time_of_day(10, 27), time_of_day(22, 27), time_of_day(20, 0))
]


def duration_text(seconds: int) -> str:
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@pytest.mark.parametrize("page_world", LIST_WORLDS, ids=lambda world: world.id)
def test_a_stream_is_recorded_and_plays_on_the_recordings_page(
    server: Any, open_page: Any, world_clock: WorldClock
) -> None:
    # GIVEN a host live and recording for at least RECORDED_SECONDS, by the server's own count:
    # its clock on the page, and that many one-second pieces uploaded and accepted
    host = HostPage(open_page(), server.url).open()
    uploads: list[int] = []
    host.page.on(
        "response",
        lambda response: (
            uploads.append(response.status) if "/local/recording/upload" in response.url else None
        ),
    )
    grant = host.go_live(PASSWORD)
    assert grant["recording"]["upload"] == "/local/recording/upload"
    host.page.locator("#recordingBadge").wait_for()
    host.page.wait_for_function(
        "s => document.getElementById('onAir').textContent >= s",
        arg=f"0:00:{RECORDED_SECONDS:02d}",
        timeout=60_000,
    )
    while len(uploads) < RECORDED_SECONDS:
        host.page.wait_for_event("response", timeout=30_000)
    screenshot(host.page, "host-recording")

    # WHEN the host switches the stream off
    with host.page.expect_response("**/stream_stop") as stopped:
        host.page.click("#liveSwitch")
    assert stopped.value.ok
    assert host.page.locator("#recordingBadge").is_hidden()
    assert set(uploads) == {200}

    # THEN the recordings page asks for the host password, then lists the stream (by its
    # title: the host set none), ready, as
    # long as it was recorded, started when the host went live by the viewer's own clock, in
    # the viewer's time zone and locale
    recordings = RecordingsPage(open_page(), server.url).open()
    recordings.sign_in(PASSWORD)
    [item] = recordings.listed()
    assert (item["title"], item["status"]) == ("Untitled stream", "Ready")
    assert item["seconds"] >= RECORDED_SECONDS - 1
    assert item["duration"] == duration_text(item["seconds"])
    world = world_clock.world
    started = datetime.fromisoformat(item["startedAt"]).astimezone(ZoneInfo(world.timezone_id))
    assert world.starts_at is not None
    assert (started.hour, started.minute) == (world.starts_at.hour, world.starts_at.minute)
    assert plain_spaces(item["start"]) == date_time_text(world.locale, started)

    # WHEN the host plays it
    recordings.play()

    # THEN the page learns how long it is (MediaRecorder's webm does not say), so it can seek
    duration = recordings.wait_for_duration()
    assert duration != "unknown"
    assert float(duration) >= RECORDED_SECONDS - 1
    # AND the video plays: its time advances and it has a picture
    playing = recordings.wait_until_playing()
    assert playing["width"] > 0 and playing["height"] > 0
    assert playing["src"].endswith(".webm")
    assert playing["duration"] == float(duration)
    path = screenshot(recordings.page, "recordings-playing")
    assert path.stat().st_size > 0


def test_a_wrong_password_on_the_recordings_page_says_so(server: Any, open_page: Any) -> None:
    recordings = RecordingsPage(open_page(), server.url).open()

    recordings.sign_in("not the password")

    assert recordings.error() == "Invalid password"
    assert recordings.page.locator("#passwordForm").is_visible()


def test_with_no_recordings_the_page_says_so(server: Any, open_page: Any) -> None:
    recordings = RecordingsPage(open_page(), server.url).open()

    recordings.sign_in(PASSWORD)

    assert recordings.items() == []
    assert "No recordings yet" in recordings.page.inner_text("#empty")


def test_the_host_sees_when_the_recording_stops_and_the_stream_goes_on(
    server: Any, open_page: Any
) -> None:
    # GIVEN the server refuses the recording as over its limit
    page = open_page()
    refusal = {"error": "The recording reached its limit of 500 MB (MAX_RECORDING_MB)"}
    page.route(
        "**/local/recording/upload**",
        lambda route: route.fulfill(
            status=413, content_type="application/json", body=json.dumps(refusal)
        ),
    )
    host = HostPage(page, server.url).open()

    # WHEN the host goes live and the first piece is uploaded
    host.go_live(PASSWORD)
    alert = host.page.locator("#recordingAlert")
    alert.wait_for()

    # THEN the host is told why the recording stopped, and is still live
    assert alert.inner_text() == (
        "Recording stopped: The recording reached its limit of 500 MB (MAX_RECORDING_MB). "
        "The stream goes on."
    )
    assert host.page.locator("#recordingBadge").is_hidden()
    assert host.page.evaluate("() => document.body.dataset.state") == "live"


def test_a_server_that_cannot_write_the_recording_stops_it_at_once_and_says_why(
    server: Any, open_page: Any
) -> None:
    # GIVEN a dev server whose RECORDINGS_DIR cannot be written (its answer: 507)
    page = open_page()
    refusal = {"error": "The dev server cannot write to RECORDINGS_DIR (rec): Permission denied"}
    tries: list[str] = []

    def unwritable(route: Any) -> None:
        tries.append(route.request.url)
        route.fulfill(status=507, content_type="application/json", body=json.dumps(refusal))

    page.route("**/local/recording/upload**", unwritable)
    host = HostPage(page, server.url).open()

    # WHEN the host goes live and the first piece is uploaded
    host.go_live(PASSWORD)
    alert = host.page.locator("#recordingAlert")
    alert.wait_for()

    # THEN the host sees the server's reason at once (no retries), and is still live
    assert alert.inner_text() == (
        "Recording stopped: The dev server cannot write to RECORDINGS_DIR (rec): "
        "Permission denied. The stream goes on."
    )
    assert len(tries) == 1
    assert host.page.locator("#recordingBadge").is_hidden()
    assert host.page.evaluate("() => document.body.dataset.state") == "live"


def test_a_full_recordings_folder_stops_the_recording_and_tells_the_host_what_to_do(
    server: Any, open_page: Any
) -> None:
    # GIVEN MAX_RECORDINGS_TOTAL_MB=1 and an old recording that takes nearly all of it
    server.settings = server.settings.with_values(MAX_RECORDINGS_TOTAL_MB="1")
    folder = RecordingFolder(Path(server.settings["RECORDINGS_DIR"]))
    old = folder.create(title="old", room="old", started_at=0.0)
    folder.append(old, 0, b"x" * 999_000, max_bytes=10**9, duration=1.0)
    host = HostPage(open_page(), server.url).open()

    # WHEN the host goes live and the first piece is uploaded
    host.go_live(PASSWORD)
    alert = host.page.locator("#recordingAlert")
    alert.wait_for()

    # THEN the host reads why the recording stopped and what to do; the stream goes on, and
    # the old recording is whole
    assert alert.inner_text() == (
        "Recording stopped: The recordings folder is full (1 MB of 1 MB): delete old recordings "
        "(livescreen recordings delete ID) or raise MAX_RECORDINGS_TOTAL_MB. The stream goes on."
    )
    assert host.page.evaluate("() => document.body.dataset.state") == "live"
    assert folder.ids() == [old]
    assert folder.media_path(old).read_bytes() == b"x" * 999_000


def test_the_host_page_always_links_to_the_recordings_in_a_new_tab(
    server: Any, open_page: Any
) -> None:
    host = HostPage(open_page(), server.url).open()

    link = host.page.locator("#recordingsLink")

    assert link.is_visible()
    assert link.get_attribute("href") == "/recordings.html"
    assert link.get_attribute("target") == "_blank"


def test_the_audience_page_links_to_the_recordings_only_when_they_are_public(
    server: Any, open_page: Any
) -> None:
    # GIVEN private recordings (the default): no link
    viewer = ViewerPage(open_page(), server.url).open()
    viewer.wait_for_status("Not currently streaming.")
    assert viewer.page.locator("#recordingsLink").is_hidden()

    # WHEN the recordings are made public
    server.settings = server.settings.with_values(RECORDINGS_PUBLIC="true")
    clear_provider_cache()
    public = ViewerPage(open_page(), server.url).open()

    # THEN the audience page links to them, and anyone may see the list
    public.page.locator("#recordingsLink").wait_for()
    assert public.page.get_attribute("#recordingsLink", "href") == "/recordings.html"
    recordings = RecordingsPage(open_page(), server.url).open()
    assert recordings.items() == []
    assert recordings.page.locator("#passwordForm").is_hidden()


def test_an_upload_that_never_reached_the_server_is_sent_again_and_nothing_is_missing(
    server: Any, open_page: Any, tmp_path: Any
) -> None:
    # GIVEN a network that drops the first upload of the recording before it reaches the server
    page = open_page()
    dropped: list[str] = []

    def drop_first(route: Any) -> None:
        if not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/local/recording/upload**", drop_first)
    host = HostPage(page, server.url).open()

    # WHEN the host is live for two seconds, then stops
    grant = host.go_live(PASSWORD)
    host.page.wait_for_function(
        "() => document.getElementById('onAir').textContent >= '0:00:02'", timeout=10_000
    )
    with host.page.expect_response("**/stream_stop"):
        host.page.click("#liveSwitch")

    # THEN the dropped piece was sent again: the file begins with webm's header (EBML), the
    # host saw no warning, and the recording is complete
    assert dropped and dropped[0].endswith("offset=0")
    assert host.page.locator("#recordingAlert").is_hidden()
    folder = tmp_path / "recordings"
    [sidecar] = folder.glob("*.json")
    metadata = json.loads(sidecar.read_text())
    assert (metadata["title"], metadata["complete"]) == (grant["room"], True)
    media = sidecar.with_suffix(".webm").read_bytes()
    assert media[:4] == b"\x1a\x45\xdf\xa3"
    assert len(media) == metadata["size"] > 0


def test_an_upload_written_but_whose_answer_was_lost_is_not_written_twice(
    server: Any, open_page: Any, tmp_path: Any
) -> None:
    # GIVEN a network that delivers the first upload to the server (which writes it) and then
    # loses the server's answer: the page sees a network error
    page = open_page()
    sent: list[tuple[str, bytes]] = []
    lost: list[int] = []

    def lose_first_answer(route: Any) -> None:
        offset = route.request.url.rsplit("offset=", 1)[1]
        sent.append((offset, route.request.post_data_buffer or b""))
        if lost:
            route.continue_()
            return
        answer = route.fetch()  # the server receives and writes the piece
        lost.append(answer.status)
        route.abort("connectionreset")  # its answer never reaches the page

    page.route("**/local/recording/upload**", lose_first_answer)
    host = HostPage(page, server.url).open()

    # WHEN the host is live for three seconds, then stops
    grant = host.go_live(PASSWORD)
    host.page.wait_for_function(
        "() => document.getElementById('onAir').textContent >= '0:00:03'", timeout=30_000
    )
    with host.page.expect_response("**/stream_stop"):
        host.page.click("#liveSwitch")

    # THEN the server had written the first piece, and the page sent the same piece again
    assert lost == [200]
    (first_offset, first_piece), (again_offset, again_piece) = sent[:2]
    assert (first_offset, again_offset) == ("0", "0") and again_piece == first_piece
    # AND the file holds it once: every piece once, in order
    folder = tmp_path / "recordings"
    [sidecar] = folder.glob("*.json")
    metadata = json.loads(sidecar.read_text())
    assert (metadata["title"], metadata["complete"]) == (grant["room"], True)
    media = sidecar.with_suffix(".webm").read_bytes()
    expected = first_piece + b"".join(piece for _, piece in sent[2:])
    assert [int(offset) for offset, _ in sent[2:]] == [
        len(first_piece) + sum(len(piece) for _, piece in sent[2:i]) for i in range(2, len(sent))
    ]
    assert media == expected
    assert media[:4] == b"\x1a\x45\xdf\xa3"  # webm's header (EBML), once at the start
    assert len(media) == metadata["size"]
    assert host.page.locator("#recordingAlert").is_hidden()
