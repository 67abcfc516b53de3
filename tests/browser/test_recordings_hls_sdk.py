"""HLS recordings (IVS) on recordings.html, played by the REAL vendored hls.js in Chromium.

The recordings are made at test time by Chromium's MediaRecorder (fMP4, H.264) and served by
``page.route`` as the recordings' origin would (``hls_origin.py``); faults are injected only
there: a segment that answers 500, a dropped connection, a corrupt segment, a slow
``/vendor/hls.min.js``. Everything between (hls.js, MSE, the page) is real.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from hls_media import HlsRecording, corrupted, record_hls
from hls_origin import HlsOrigin, list_recordings
from recordings_pages import RecordingsPage

#: Long enough for several segments of about a second, with room to play past a fault.
RECORDED_SECONDS = 5
#: The two recordings differ in size, so the picture says which one plays.
SIZES = {"first": (320, 180), "second": (256, 144)}
TITLES = {"first": "Monday's stream", "second": "Tuesday's stream"}

#: Counts every Hls the page makes, and notes the errors each reports and when it is destroyed
#: (hls.js's own ERROR and DESTROYING events), by wrapping the global that hls.min.js defines,
#: the moment it defines it. It only watches: the page's calls reach hls.js unchanged.
WATCH_HLS_PLAYERS = """
  window.hlsPlayers = [];
  let wrapped;
  Object.defineProperty(window, 'Hls', {
    configurable: true,
    get: () => wrapped,
    set: (Hls) => {
      wrapped = class extends Hls {
        constructor(...args) {
          super(...args);
          const player = { destroyed: false, errors: [] };
          window.hlsPlayers.push(player);
          this.on(Hls.Events.DESTROYING, () => { player.destroyed = true; });
          this.on(Hls.Events.ERROR, (_event, data) => {
            player.errors.push({ type: data.type, details: data.details, fatal: data.fatal });
          });
        }
      };
    },
  });
"""


@pytest.fixture(scope="session")
def hls_recordings(chromium_browser: Any) -> dict[str, HlsRecording]:
    made = record_hls(chromium_browser, list(SIZES.values()), RECORDED_SECONDS)
    return dict(zip(SIZES, made, strict=True))


def open_recordings(
    open_page: Callable[..., Any],
    server: Any,
    hls_recordings: dict[str, HlsRecording],
    *,
    hls_script: Callable[[Any], None] | None = None,
) -> tuple[RecordingsPage, HlsOrigin]:
    page = open_page(init_script=WATCH_HLS_PLAYERS)
    if hls_script:
        page.route("**/vendor/hls.min.js", hls_script)
    origin = HlsOrigin(page, server.url, hls_recordings)
    list_recordings(page, origin, TITLES)
    recordings = RecordingsPage(page, server.url).open()
    assert len(recordings.items()) == len(TITLES)
    return recordings, origin


def wait_past(recordings: RecordingsPage, seconds: float, timeout: float = 20_000) -> float:
    """Waits until the player plays past ``seconds`` of the recording; returns when
    (time.monotonic())."""
    recordings.page.wait_for_function(
        "s => document.getElementById('player').currentTime > s", arg=seconds, timeout=timeout
    )
    return time.monotonic()


def error_text(recordings: RecordingsPage) -> str | None:
    locator = recordings.page.locator("#error")
    return None if locator.is_hidden() else str(locator.inner_text())


def hls_players(recordings: RecordingsPage) -> list[dict[str, Any]]:
    """Each Hls the page made: whether it was destroyed, and the errors it reported."""
    players: list[dict[str, Any]] = recordings.page.evaluate("() => window.hlsPlayers")
    return players


def test_a_segment_that_answers_500_then_200_is_fetched_again_and_playback_goes_on(
    server: Any, open_page: Any, hls_recordings: dict[str, HlsRecording]
) -> None:
    # GIVEN a recording whose third segment answers 500 the first time
    recordings, origin = open_recordings(open_page, server, hls_recordings)
    recording = hls_recordings["first"]
    flaky = recording.segments[2]
    origin.fail("first", f"high/{flaky.name}", 500)

    # WHEN the viewer plays it
    recordings.play(0)

    # THEN it plays past that segment, with no error shown
    played = wait_past(recordings, flaky.start + flaky.duration + 0.3)
    assert error_text(recordings) is None
    [failed, served] = origin.answers("first", f"high/{flaky.name}")
    assert (failed.outcome, served.outcome) == (500, 200)
    print(
        f"\n500 then 200: fetched again after {served.at - failed.at:.2f} s; "
        f"played past it {played - failed.at:.2f} s after the 500"
    )


def test_a_playlist_that_fails_past_hls_js_retries_is_loaded_again_when_it_comes_back(
    server: Any, open_page: Any, hls_recordings: dict[str, HlsRecording]
) -> None:
    # GIVEN a recording whose rendition playlist answers 500 three times (hls.js tries it three
    # times, then reports a fatal network error), then 200
    recordings, origin = open_recordings(open_page, server, hls_recordings)
    origin.fail("first", "high/playlist.m3u8", 500, 500, 500)

    # WHEN the viewer plays it
    recordings.play(0)

    # THEN the page has hls.js load again: the recording plays, with no error shown
    played = wait_past(recordings, 1.0)
    assert error_text(recordings) is None
    [player] = hls_players(recordings)
    assert {"type": "networkError", "details": "levelLoadError", "fatal": True} in player["errors"]
    [first, *_, given_up, served] = origin.answers("first", "high/playlist.m3u8")
    assert [first.outcome, given_up.outcome, served.outcome] == [500, 500, 200]
    print(
        f"\nplaylist 500 x3: loaded again {served.at - given_up.at:.2f} s after the last 500 "
        f"({served.at - first.at:.2f} s after the first); playing "
        f"{played - first.at:.2f} s after the first"
    )


def test_a_corrupt_segment_is_fetched_again_and_playback_goes_on(
    server: Any, open_page: Any, hls_recordings: dict[str, HlsRecording]
) -> None:
    # GIVEN a recording whose third segment comes corrupt the first time (its pictures cannot
    # be decoded), and whole after
    recordings, origin = open_recordings(open_page, server, hls_recordings)
    recording = hls_recordings["first"]
    broken = recording.segments[2]
    origin.fail("first", f"high/{broken.name}", corrupted(broken))

    # WHEN the viewer plays it
    recordings.play(0)

    # THEN it plays past that segment, with no error shown: hls.js 1.7.4 resets its
    # MediaSource itself (a media error it does not call fatal) and fetches the segment again
    played = wait_past(recordings, broken.start + broken.duration + 0.3)
    assert error_text(recordings) is None
    [player] = hls_players(recordings)
    assert {"type": "mediaError", "details": "mediaSourceRequiresReset", "fatal": False} in (
        player["errors"]
    )
    [first, last] = origin.answers("first", f"high/{broken.name}")
    assert (first.outcome, last.outcome) == ("corrupt", 200)
    print(
        f"\ncorrupt segment: fetched whole after {last.at - first.at:.2f} s; "
        f"played past it {played - first.at:.2f} s after"
    )


def test_the_latest_recording_chosen_while_hls_js_loads_is_the_one_that_plays(
    server: Any, open_page: Any, hls_recordings: dict[str, HlsRecording]
) -> None:
    # GIVEN a slow /vendor/hls.min.js: held until the test lets it through
    held: list[Any] = []
    recordings, origin = open_recordings(
        open_page, server, hls_recordings, hls_script=lambda route: held.append(route)
    )

    # WHEN the viewer chooses one recording, then another, while hls.min.js is still loading
    recordings.play(0)
    recordings.page.wait_for_function("() => document.getElementById('playerTitle').textContent")
    recordings.play(1)
    assert recordings.page.inner_text("#playerTitle").startswith(TITLES["second"])
    asked_by = time.monotonic() + 10
    while not held:  # the route's handler runs while Playwright waits on the page
        assert time.monotonic() < asked_by, "the page never asked for /vendor/hls.min.js"
        recordings.page.wait_for_timeout(50)
    [request] = held
    request.continue_()

    # THEN the second plays (its picture's size), under its own title, from one Hls player
    recordings.wait_until_playing()
    assert (recordings.video()["width"], recordings.video()["height"]) == SIZES["second"]
    assert recordings.page.inner_text("#playerTitle").startswith(TITLES["second"])
    players = hls_players(recordings)
    live = [player for player in players if not player["destroyed"]]
    assert len(live) == 1, players
    assert {answer.recording for answer in origin.log} == {"second"}
    assert error_text(recordings) is None
