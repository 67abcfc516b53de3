"""The audience page with ``TWILIO_AUDIENCE=live`` on the REAL Twilio Live Player SDK.

No double: the page loads /vendor/twilio-live-player.min.js, whose wasm worker fetches the
playback URL named in the access token. Twilio Live is retired and unreachable, so what comes
back over the wire is faked (``twilio_live_wire``): ``/audience_token`` hands out playback
tokens, and the playback host answers either with an error or with a live HLS stream of real
H.264 video (recorded by the browser itself) that loses the network for a while or ends. Both
ways out of the SDK (its error, the stream's end) release its inner player and video element
before the page hears of them; the page must then leave the player, not keep a dead one on
screen. What cannot be checked here is what Twilio's playback host really answered when a
stream ended (an end tag or a 404, both covered) and how its streams were segmented.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from browser_pages import ViewerPage, polls_after
from browser_settings import settings_for
from twilio_live_wire import (
    H264_MP4,
    PLAYBACK_URL,
    LiveBackEnd,
    LiveHlsStream,
    PlaybackHost,
    record_test_pattern,
    split_fragmented_mp4,
)

#: What the page says while the stream is lost: the player is getting it back by itself, or
#: the page has dropped a failed player and is about to ask for the stream again.
RECONNECTING = "Reconnecting…"
NOT_STREAMING = "Not currently streaming."
ENDED = "The stream has ended."
#: Length of the recorded stream (s).
MEDIA_SECONDS = 4


@dataclass
class LiveViewer:
    """An audience page, the playback host its player reaches, what its console said and the
    errors thrown in it."""

    page: Any
    playback_host: PlaybackHost
    console: list[str]
    errors: list[str]


def wait_for_status_without_player(page: Any, status: str, timeout: float) -> float:
    """Waits until no player is on the page and it says ``status``; returns when that was
    (``time.monotonic()``)."""
    page.wait_for_function(
        """text => !document.querySelector('#player video')
          && document.body.dataset.status === text""",
        arg=status,
        timeout=timeout,
    )
    return time.monotonic()


def wait_for_status(page: Any, status: str, timeout: float) -> float:
    """Waits until the page says ``status``; returns when that was (``time.monotonic()``)."""
    page.wait_for_function(
        "text => document.body.dataset.status === text", arg=status, timeout=timeout
    )
    return time.monotonic()


def open_live_viewer(server: Any, open_page: Any, playback_status: int) -> LiveViewer:
    """A viewer whose one playback token names a playback URL answering ``playback_status``."""
    server.settings = settings_for("twilio")  # the pages under the twilio provider's CSP
    page = open_page()
    console: list[str] = []
    errors: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    LiveBackEnd(page, streams=1)
    playback_host = PlaybackHost(playback_status).install(page)
    ViewerPage(page, server.url).open()
    return LiveViewer(page, playback_host, console, errors)


@pytest.mark.parametrize(
    ("playback_status", "error", "timeout"),
    [
        # the player's own retries of a 5xx take a few seconds
        pytest.param(500, "A network error occurred", 15_000, id="playlist-500"),
        # a 404 is "not available yet" to the SDK: it retries with a jittered backoff for
        # 16 s, then gives up (17 to 28 s)
        pytest.param(404, "The stream is not available", 45_000, id="playlist-404"),
    ],
)
def test_a_failing_live_stream_sends_the_viewer_back_to_looking_for_it(
    server: Any, open_page: Any, playback_status: int, error: str, timeout: float
) -> None:
    # GIVEN a viewer whose Live player is handed a playback URL that answers with an error
    viewer = open_live_viewer(server, open_page, playback_status)

    # THEN the player gives up, and the page drops it (no dead player left on screen) ...
    dropped_at = wait_for_status_without_player(viewer.page, RECONNECTING, timeout)
    # ... and asks for the stream again, which is over now
    wait_for_status_without_player(viewer.page, NOT_STREAMING, 10_000)

    # the real player fetched the playlist from the token's URL and reported the SDK's error
    host = viewer.playback_host
    assert host.urls and set(host.urls) == {PLAYBACK_URL}
    assert any(f"The Live player failed: Error: {error}" in text for text in viewer.console)
    assert viewer.errors == []
    assert host.first_answer_at is not None
    print(
        f"\nLive player, playback URL answering {playback_status}: the page dropped the player "
        f"{dropped_at - host.first_answer_at:.2f} s after the first faulty answer"
    )


def test_a_live_stream_that_ends_tells_the_viewer_and_leaves_no_player(
    server: Any, open_page: Any
) -> None:
    server.settings = settings_for("twilio")  # the pages under the twilio provider's CSP
    page = open_page("about:blank")
    if not page.evaluate("type => MediaRecorder.isTypeSupported(type)", H264_MP4):
        pytest.skip("this Chromium cannot record H.264 into MP4")
    init, segments = split_fragmented_mp4(record_test_pattern(page, MEDIA_SECONDS), 1)
    stream = LiveHlsStream(init, segments, segment_seconds=MEDIA_SECONDS).install(page)
    LiveBackEnd(page, streams=1)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # GIVEN a viewer playing the live stream with the real player
    viewer = ViewerPage(page, server.url).open()
    playing = viewer.wait_for_video()
    assert (playing["width"], playing["muted"]) == (320, True)

    # WHEN the stream ends: its media playlist now carries the end tag
    stream.end()

    # THEN the player plays out what it has, ends, and the page says so with no player left
    told_at = wait_for_status_without_player(page, ENDED, 15_000)
    assert stream.ended_at is not None
    # nothing threw on the way (the SDK had released its player before the page heard of it)
    assert errors == []
    # and the page keeps waiting for the next stream, still saying this one ended
    polls_after(page, 2)
    assert viewer.status() == ENDED
    print(
        f"\nLive player, stream ended: the page said so {told_at - stream.ended_at:.2f} s after "
        f"the playlist first could carry the end tag ({MEDIA_SECONDS} s of media)"
    )


#: True once the page's <video> has moved on since the previous poll, with nothing on the
#: status line.
VIDEO_MOVES = """() => {
  const video = document.querySelector('#player video');
  if (!video || video.paused || document.body.dataset.status) return false;
  const moved = window.__lastVideo === video && video.currentTime > window.__lastTime;
  window.__lastVideo = video;
  window.__lastTime = video.currentTime;
  return moved;
}"""
DROP_SECONDS = 5


def test_a_viewer_whose_network_drops_for_5_s_plays_again_and_was_told_meanwhile(
    server: Any, open_page: Any
) -> None:
    server.settings = settings_for("twilio")  # the pages under the twilio provider's CSP
    page = open_page("about:blank")
    if not page.evaluate("type => MediaRecorder.isTypeSupported(type)", H264_MP4):
        pytest.skip("this Chromium cannot record H.264 into MP4")
    init, segments = split_fragmented_mp4(record_test_pattern(page, 2 * MEDIA_SECONDS), 2)
    stream = LiveHlsStream(init, segments, segment_seconds=MEDIA_SECONDS).install(page)
    back_end = LiveBackEnd(page, streams=100)

    # GIVEN a viewer playing the live stream (its first segment) with the real player
    viewer = ViewerPage(page, server.url).open()
    viewer.wait_for_video()
    page.evaluate("() => { window.__firstVideo = document.querySelector('#player video'); }")

    # WHEN the viewer's network drops for 5 s (every request of the player fails) ...
    stream.network_down = True
    dropped_at = time.monotonic()
    # (the page says so while the network is still down)
    told_after = wait_for_status(page, RECONNECTING, 10_000) - dropped_at
    page.wait_for_timeout(max(0.0, DROP_SECONDS - (time.monotonic() - dropped_at)) * 1000)
    # ... and returns, the stream having gone on meanwhile
    stream.publish_all()
    stream.network_down = False
    back_at = time.monotonic()

    # THEN the video plays again within 10 s, the page having said "Reconnecting…" in between
    page.wait_for_function(VIDEO_MOVES, polling=100, timeout=10_000)
    playing_after = time.monotonic() - back_at
    # the same player got the stream back by itself: the page never asked for it again
    assert back_end.asks == 1
    assert page.evaluate("() => document.querySelector('#player video') === window.__firstVideo")
    print(
        f"\nLive player, network down {DROP_SECONDS} s: 'Reconnecting…' {told_after:.2f} s after "
        f"the drop; playing again {playing_after:.2f} s after the network returned"
    )
