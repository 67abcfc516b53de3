"""Twilio room status callbacks end the stream when its host leaves.

Real HTTP both ways: the dev server runs the functions, the emulator plays Twilio and posts its
signed callbacks to ``PUBLIC_API_URL/room_events`` on the dev server, as Twilio would on AWS.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from devserver_support import free_port
from twilio.request_validator import RequestValidator

from livescreen.config import Settings
from livescreen.devserver import DevServer
from livescreen.providers import clear_provider_cache
from livescreen.security.password_guard import throttle
from twilio_emulator import EmulatorServer

NOTHING_RUNNING: dict[str, list[str]] = {
    "media_processors": [],
    "player_streamers": [],
    "rooms": [],
}


@pytest.fixture
def server(twilio_settings: Settings) -> Iterator[DevServer]:
    """The dev server with the twilio provider, telling Twilio to report room events to it."""
    clear_provider_cache()
    throttle.reset()
    port = free_port()
    settings = twilio_settings.with_values(PUBLIC_API_URL=f"http://localhost:{port}")
    dev = DevServer(settings, port=port)
    assert dev.url == settings["PUBLIC_API_URL"]
    dev.start_background()
    try:
        yield dev
    finally:
        dev.shutdown()
        clear_provider_cache()
        throttle.reset()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def call(server: DevServer, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a JSON body to a function; the answer must be a 200."""
    status, answer = post(
        f"{server.url}/{name}", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    assert status == 200, answer
    return dict(answer)


def live_host(server: DevServer) -> dict[str, Any]:
    """A host who signed in and went live."""
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    assert call(server, "stream_start", {"session": host["session"]})["live"] is True
    return host


def room_callbacks(emulator: EmulatorServer, event: str) -> list[Any]:
    assert emulator.callbacks.wait_idle(timeout=10), "callbacks still pending"
    return [d for d in emulator.callbacks.deliveries if d.params["StatusCallbackEvent"] == event]


def test_the_stream_stops_when_twilio_reports_the_host_left(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming (a room, a MediaProcessor and a PlayerStreamer are billing)
    host = live_host(server)
    running = emulator.state.running()
    assert running["rooms"] == [host["room"]]
    assert len(running["media_processors"]) == len(running["player_streamers"]) == 1
    # WHEN the host's tab vanishes without a goodbye and Twilio reports the disconnect
    emulator.state.disconnect_participant(host["room"], host["identity"])
    # THEN the signed callback reached /room_events, which stopped the stream
    (left,) = room_callbacks(emulator, "participant-disconnected")
    assert left.url == f"{server.url}/room_events"
    assert (left.status, json.loads(left.body)) == (200, {"handled": True})
    # AND nothing bills any more: processor and streamer ended, room completed
    assert emulator.state.running() == NOTHING_RUNNING
    # AND the room-ended report that followed was answered too (a second stop does nothing)
    (ended,) = room_callbacks(emulator, "room-ended")
    assert ended.status == 200
    assert emulator.state.running() == NOTHING_RUNNING


def test_a_callback_without_a_valid_signature_is_refused_and_changes_nothing(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming
    host = live_host(server)
    before = emulator.state.running()
    url = f"{server.url}/room_events"
    form = {"StatusCallbackEvent": "room-ended", "RoomName": host["room"]}
    forged = RequestValidator("not-the-auth-token").compute_signature(url, form)
    content = {"content-type": "application/x-www-form-urlencoded"}
    for headers in (content, {**content, "x-twilio-signature": forged}):
        # WHEN someone else posts a room-ended event, unsigned or signed with another key
        status, answer = post(url, urlencode(form).encode(), headers)
        # THEN it is refused, and the stream runs on
        assert status == 401
        assert answer == {"error": "Missing or invalid X-Twilio-Signature"}
    assert emulator.state.running() == before


def test_a_viewer_or_the_composer_leaving_does_not_stop_the_stream(
    server: DevServer, emulator: EmulatorServer
) -> None:
    host = live_host(server)
    before = emulator.state.running()
    # WHEN another participant leaves the room
    emulator.state.disconnect_participant(host["room"], "live-stream")
    # THEN Twilio's report is answered but nothing is stopped
    (left,) = room_callbacks(emulator, "participant-disconnected")
    assert (left.status, json.loads(left.body)) == (200, {"handled": False})
    assert emulator.state.running() == before


def test_room_ended_after_the_host_stopped_the_stream_is_answered_and_changes_nothing(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host who went live and stopped (the room is completed)
    host = live_host(server)
    call(server, "stream_stop", {"session": host["session"]})
    assert emulator.state.running() == NOTHING_RUNNING
    # WHEN Twilio reports the room ended (the stop completed it), and reports it again
    url = f"{server.url}/room_events"
    form = {
        "StatusCallbackEvent": "room-ended",
        "RoomName": host["room"],
        "RoomStatus": "completed",
    }
    signature = RequestValidator(server.settings["AUTH_TOKEN"]).compute_signature(url, form)
    status, answer = post(
        url,
        urlencode(form).encode(),
        {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature},
    )
    # THEN both reports are answered 200 and nothing fails or restarts
    assert (status, answer) == (200, {"handled": True})
    (ended,) = room_callbacks(emulator, "room-ended")
    assert ended.status == 200
    assert emulator.state.running() == NOTHING_RUNNING
