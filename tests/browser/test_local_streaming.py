"""A host goes live with the local provider and real viewers watch, in Debian's chromium."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import time as time_of_day
from typing import Any

import pytest
from browser_pages import (
    PASSWORD,
    RECORD_CAPTURES,
    VIDEO,
    HostPage,
    ViewerPage,
    audience_token,
    screenshot,
)
from page_world import PageWorld, WorldClock

from livescreen.providers.local.hub import HUB


def test_viewers_before_and_after_going_live_watch_until_the_host_stops(
    server: Any, open_page: Any
) -> None:
    # GIVEN a viewer waiting before the host is live
    early = ViewerPage(open_page(), server.url).open()
    early.wait_for_status("Not currently streaming.")
    host = HostPage(open_page(), server.url).open()

    # WHEN the host goes live, and a second viewer arrives afterwards
    host.go_live(PASSWORD)
    late = ViewerPage(open_page(), server.url).open()

    # THEN both play the shared screen at the size the host sends, with the microphone's audio,
    # muted (autoplay rules) and saying so
    sent = host.shared_video_settings()
    assert (sent["width"], sent["height"]) == (1280, 720)
    for viewer in (early, late):
        playing = viewer.wait_for_video((sent["width"], sent["height"]))
        assert (playing["width"], playing["height"]) == (sent["width"], sent["height"])
        assert playing["audioTracks"] == 1
        assert playing["muted"] is True
        assert playing["hint"] == "Muted · click to unmute"
    host.page.locator("#viewerCount").filter(has_text="2 viewers").wait_for()
    screenshot(host.page, "host-live")
    screenshot(late.page, "audience-playing")

    # WHEN a viewer clicks the video, twice
    late.page.click(VIDEO)
    unmuted = late.video()
    late.page.click(VIDEO)

    # THEN the sound goes on, then off again
    assert (unmuted["muted"], unmuted["hint"]) == (False, "Sound on · click to mute")
    assert late.video()["muted"] is True

    # WHEN the host switches the stream off
    host.page.click("#liveSwitch")

    # THEN both viewers say so within 3 s, and nothing is live any more
    for viewer in (early, late):
        viewer.wait_for_status("The stream has ended.", timeout=3_000)
        assert viewer.video() is None
    assert host.is_offline()
    assert audience_token(host.page, server.url)["token"] is None
    screenshot(early.page, "audience-ended")


def test_a_viewer_that_saw_the_end_joins_the_next_stream_without_reloading(
    server: Any, open_page: Any
) -> None:
    host = HostPage(open_page(), server.url).open()
    host.go_live(PASSWORD)
    viewer = ViewerPage(open_page(), server.url).open()
    assert viewer.wait_for_video().get("width", 0) > 0
    host.page.click("#liveSwitch")
    viewer.wait_for_status("The stream has ended.")

    # WHEN the host goes live again
    host.go_live(PASSWORD)

    # THEN the same page plays the new stream by itself
    assert viewer.wait_for_video((1280, 720))["width"] == 1280


def test_closing_the_host_tab_ends_the_stream(server: Any, open_page: Any) -> None:
    host = HostPage(open_page(), server.url).open()
    grant = host.go_live(PASSWORD)
    viewer = ViewerPage(open_page(), server.url).open()
    assert viewer.wait_for_video().get("width", 0) > 0

    # WHEN the host closes the tab
    host.page.close(run_before_unload=True)

    # THEN the viewer sees the end and the server has no live stream
    viewer.wait_for_status("The stream has ended.", timeout=3_000)
    assert audience_token(viewer.page, server.url)["token"] is None
    assert HUB.room(grant["room"]) is None


def test_stopping_the_share_from_the_browser_ends_the_stream(server: Any, open_page: Any) -> None:
    host = HostPage(open_page(), server.url).open()
    host.go_live(PASSWORD)
    viewer = ViewerPage(open_page(), server.url).open()
    assert viewer.wait_for_video().get("width", 0) > 0

    # WHEN the shared track ends the way Chrome's own "Stop sharing" button ends it
    host.page.evaluate(
        """() => {
          const track = document.getElementById('preview').srcObject.getVideoTracks()[0];
          track.stop();
          track.dispatchEvent(new Event('ended'));
        }"""
    )

    # THEN the host is offline and says why, and the viewer sees the end
    host.wait_until("offline")
    assert host.is_offline()
    assert "Sharing stopped" in host.page.inner_text("#notice")
    viewer.wait_for_status("The stream has ended.", timeout=3_000)
    assert audience_token(viewer.page, server.url)["token"] is None


def test_the_camera_option_publishes_the_camera(server: Any, open_page: Any) -> None:
    host = HostPage(open_page(), server.url).open()

    host.go_live(PASSWORD, source="camera")

    sent = host.shared_video_settings()
    assert not sent["label"].startswith("screen")  # the fake camera, not the fake screen
    assert sent["deviceId"] != "screen:-3:0"
    viewer = ViewerPage(open_page(), server.url).open()
    playing = viewer.wait_for_video((sent["width"], sent["height"]))
    assert (playing["width"], playing["height"]) == (sent["width"], sent["height"])


def test_the_host_can_mute_and_unmute_the_microphone(server: Any, open_page: Any) -> None:
    host = HostPage(open_page(init_script=RECORD_CAPTURES), server.url).open()
    host.go_live(PASSWORD)
    mic_enabled = "() => window.__captured.flatMap(s => s.getAudioTracks()).map(t => t.enabled)"
    assert host.page.evaluate(mic_enabled) == [True]

    host.page.click("#micButton")

    assert host.page.evaluate(mic_enabled) == [False]
    assert host.page.inner_text("#micButton") == "Unmute microphone"
    assert host.page.get_attribute("#micButton", "aria-pressed") == "true"

    host.page.click("#micButton")

    assert host.page.evaluate(mic_enabled) == [True]
    assert host.page.inner_text("#micButton") == "Mute microphone"


def test_a_viewer_reconnects_after_losing_the_stream(server: Any, open_page: Any) -> None:
    host = HostPage(open_page(), server.url).open()
    host.go_live(PASSWORD)
    viewer = ViewerPage(open_page(), server.url).open()
    assert viewer.wait_for_video().get("width", 0) > 0
    viewer.page.evaluate(
        "() => { window.__videos = new Set(); new MutationObserver(() => "
        "document.querySelectorAll('#player video').forEach(v => window.__videos.add(v)))"
        ".observe(document.getElementById('player'), {childList: true}); }"
    )

    # WHEN the viewer's connection drops (the server loses it; the host's peer goes away)
    room = HUB.live_room()
    assert room is not None
    for lost in list(room.viewers.values()):
        HUB.drop_viewer(room, lost)

    # THEN the page notices, and plays the stream again on a new connection by itself
    viewer.page.wait_for_function("() => window.__videos.size >= 1", timeout=20_000)
    assert viewer.wait_for_video((1280, 720), timeout=20_000)["width"] == 1280
    host.page.locator("#viewerCount").filter(has_text="1 viewer").wait_for()


ON_AIR_AT_LEAST = "s => document.getElementById('onAir').textContent >= s"


@pytest.mark.parametrize(
    "page_world", [PageWorld("en-GB", "Europe/London", time_of_day(0, 59, 58))], ids=lambda w: w.id
)
def test_the_time_on_air_goes_on_when_the_computers_clock_is_set(
    server: Any, open_page: Any, world_clock: WorldClock
) -> None:
    # GIVEN a host on air for a second
    host = HostPage(open_page(), server.url).open()
    host.go_live(PASSWORD)
    host.page.wait_for_function(ON_AIR_AT_LEAST, arg="0:00:01")

    # WHEN the computer's clock is put an hour forward (by hand, or by a time sync)
    host.page.context.clock.set_system_time(datetime.fromtimestamp(world_clock() + 3600, UTC))

    # THEN the time on air counts on from where it was instead of jumping an hour
    host.page.wait_for_function(ON_AIR_AT_LEAST, arg="0:00:02")
    assert host.page.inner_text("#onAir").startswith("0:00:")
