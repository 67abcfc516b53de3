"""UI tests of the pages with the ``twilio`` provider module, against doubles of the Twilio SDKs.

Twilio cannot be reached from here: the back end's replies are routed in the browser and the
SDK files under /vendor/ are replaced by the doubles in ``twilio_doubles``. What is tested is
the page and ``js/providers/twilio.js``; the real SDKs' behaviour is not.
"""

from __future__ import annotations

import json
from typing import Any

from browser_pages import VIDEO, HostPage, ViewerPage, polls_after, screenshot
from twilio_doubles import serve_doubles

HOST_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJncmFudHMiOnt9fQ.host-signature"
PLAY_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJncmFudHMiOnt9fQ.play-signature"
ROOM = "livestream-0123456789abcdef"


def reply(route: Any, payload: dict[str, Any], status: int = 200) -> None:
    route.fulfill(status=status, content_type="application/json", body=json.dumps(payload))


class TwilioBackEnd:
    """The four endpoints as the twilio provider answers them, recording what the page sent."""

    def __init__(self, page: Any) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.live = False
        for name in ("host_token", "stream_start", "stream_stop", "audience_token"):
            page.route(f"**/{name}", self._handler(name))

    def _handler(self, name: str) -> Any:
        def handle(route: Any) -> None:
            body = json.loads(route.request.post_data or "{}")
            self.requests.append((name, body))
            if name == "host_token":
                reply(
                    route,
                    {
                        "provider": "twilio",
                        "room": ROOM,
                        "token": HOST_TOKEN,
                        "identity": "host",
                        "session": "session-1",
                        "sessionExpiresAt": 4102444800,
                    },
                )
            elif name in ("stream_start", "stream_stop"):
                self.live = name == "stream_start"
                reply(route, {"provider": "twilio", "room": ROOM, "live": self.live})
            else:
                reply(route, {"provider": "twilio", "token": PLAY_TOKEN if self.live else None})

        return handle

    def calls(self, name: str) -> list[dict[str, Any]]:
        return [body for called, body in self.requests if called == name]


def test_host_publishes_screen_and_microphone_into_the_twilio_room(
    server: Any, open_page: Any
) -> None:
    page = open_page()
    serve_doubles(page)
    back_end = TwilioBackEnd(page)
    host = HostPage(page, server.url).open()

    host.go_live("any password")

    # THEN the page joined the room named by /host_token with its token, sharing two tracks
    connects = page.evaluate(
        """() => window.__twilio.connects.map(c => ({
          token: c.token, name: c.name,
          tracks: c.tracks.map(t => [t.kind, t.mediaStreamTrack.readyState]),
        }))"""
    )
    assert connects == [
        {"token": HOST_TOKEN, "name": ROOM, "tracks": [["video", "live"], ["audio", "live"]]}
    ]
    assert back_end.calls("stream_start") == [{"session": "session-1"}]

    # WHEN the host mutes the microphone
    page.click("#micButton")
    assert page.evaluate("() => window.__twilio.connects[0].tracks[1].isEnabled") is False

    # WHEN the host switches off
    with page.expect_request("**/stream_stop"):
        page.click("#liveSwitch")

    # THEN the page leaves the room, releases the tracks and stops the stream
    host.wait_until("offline")
    page.wait_for_function("() => window.__twilio.disconnects === 1")
    assert page.evaluate("() => window.__twilio.connects[0].tracks.map(t => t.isStopped)") == [
        True,
        True,
    ]
    assert back_end.calls("stream_stop") == [{"session": "session-1"}]


def test_host_goes_offline_when_twilio_drops_the_room(server: Any, open_page: Any) -> None:
    page = open_page()
    serve_doubles(page)
    back_end = TwilioBackEnd(page)
    host = HostPage(page, server.url).open()
    host.go_live("any password")

    # WHEN Twilio disconnects the host (for example the room was completed)
    with page.expect_request("**/stream_stop"):
        page.evaluate("() => window.__twilio.room.disconnect()")

    # THEN the host is told, is offline, and the stream is stopped on the server
    host.wait_until("offline")
    assert "The stream has ended" in page.inner_text("#notice")
    assert host.is_offline()
    assert back_end.calls("stream_stop") == [{"session": "session-1"}]


def test_audience_plays_the_twilio_live_stream_and_sees_it_end(server: Any, open_page: Any) -> None:
    page = open_page()
    serve_doubles(page)
    back_end = TwilioBackEnd(page)
    back_end.live = True
    viewer = ViewerPage(page, server.url).open()

    # THEN the player plays (muted, saying so) once the wasm assets resolved from /vendor
    playing = viewer.wait_for_video((1280, 720))
    assert (playing["width"], playing["muted"]) == (1280, True)
    assert page.evaluate("() => window.__twilio.players.map(p => p.token)") == [PLAY_TOKEN]
    screenshot(page, "audience-twilio-double")

    # WHEN the viewer clicks the video
    page.click(VIDEO)
    assert page.evaluate("() => window.__twilio.players[0].isMuted") is False

    # WHEN the stream ends on Twilio's side
    back_end.live = False
    page.evaluate("() => window.__twilio.players[0]._end()")

    # THEN the viewer is told, and the page keeps waiting: it still says so after asking again
    viewer.wait_for_status("The stream has ended.", timeout=3_000)
    polls_after(page, 2)
    assert viewer.status() == "The stream has ended."


def test_audience_is_told_when_the_browser_cannot_play(server: Any, open_page: Any) -> None:
    page = open_page()
    serve_doubles(page, player_supported=False)
    back_end = TwilioBackEnd(page)
    back_end.live = True

    viewer = ViewerPage(page, server.url).open()

    viewer.wait_for_status(
        "This browser cannot play the stream. Try a recent Chrome, Edge, Firefox or Safari."
    )
    assert page.evaluate("() => window.__twilio.players.length") == 0
