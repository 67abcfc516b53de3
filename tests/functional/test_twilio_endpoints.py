"""The endpoints with ``STREAM_PROVIDER=twilio``, through the same adapter Lambda runs.

Each request goes functions/<name>.py -> provider -> real twilio client -> HTTP -> emulator, so
what a test sees is what a browser would see, and the emulator shows what Twilio would bill.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from livescreen.config import Settings
from livescreen.devserver.invoke import InvokeResult, invoke
from livescreen.providers import clear_provider_cache
from livescreen.security import host_session
from livescreen.security.password_guard import throttle
from twilio_emulator import EmulatorServer

NOTHING_RUNNING: dict[str, list[str]] = {
    "media_processors": [],
    "player_streamers": [],
    "rooms": [],
}


@pytest.fixture(autouse=True)
def fresh_process() -> Iterator[None]:
    """Each test starts like a new container: no cached provider, no throttled address."""
    clear_provider_cache()
    throttle.reset()
    yield
    clear_provider_cache()
    throttle.reset()


def call(name: str, settings: Settings, body: dict[str, Any] | None = None) -> InvokeResult:
    return invoke(name, body or {}, settings=settings)


def host_token(settings: Settings) -> dict[str, Any]:
    answer = call("host_token", settings, {"password": settings["HOST_PASSWORD"]})
    assert answer.status == 200, answer.text
    return dict(answer.json())


def test_host_goes_live_viewers_watch_host_stops(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    # GIVEN the host signed in
    host = host_token(twilio_settings)
    assert host["provider"] == "twilio"
    assert host["room"].startswith("livestream-") and host["token"] and host["session"]
    assert isinstance(host["sessionExpiresAt"], int)
    # WHEN the host goes live
    started = call("stream_start", twilio_settings, {"session": host["session"]})
    assert started.status == 200
    assert started.json() == {
        "provider": "twilio",
        "room": host["room"],
        "live": True,
        "startedNow": True,
        "details": {"title": "Untitled stream", "description": ""},
    }
    # THEN a viewer gets a playback token
    viewer = call("audience_token", twilio_settings)
    assert viewer.status == 200
    assert viewer.json()["provider"] == "twilio" and viewer.json()["token"]
    # AND when the host stops, nothing is left running at Twilio
    stopped = call("stream_stop", twilio_settings, {"session": host["session"]})
    assert stopped.status == 200
    answer = stopped.json()
    summary = answer.pop("summary")
    assert answer == {"provider": "twilio", "room": host["room"], "live": False}
    assert (summary["id"], summary["live"]) == (host["room"], False)
    assert emulator.state.running() == NOTHING_RUNNING


def test_wrong_password_is_refused_before_any_room_is_made(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    answer = call("host_token", twilio_settings, {"password": "not the password"})
    assert answer.status == 401
    assert answer.json() == {"error": "Invalid password"}
    assert emulator.state.rooms == {}
    assert emulator.total_calls() == 0


def forged(room: str) -> str:
    return host_session.issue(room, secret="some other secret", ttl_seconds=600)[0]


def expired(room: str, settings: Settings) -> str:
    secret = settings["HOST_SESSION_SECRET"]
    return host_session.issue(room, secret=secret, ttl_seconds=60, now=lambda: 1_000_000.0)[0]


@pytest.mark.parametrize("endpoint", ["stream_start", "stream_stop"])
@pytest.mark.parametrize("session", ["missing", "expired", "forged", "tampered"])
def test_host_only_endpoints_need_a_valid_session(
    twilio_settings: Settings, emulator: EmulatorServer, endpoint: str, session: str
) -> None:
    host = host_token(twilio_settings)
    body = {
        "missing": {},
        "expired": {"session": expired(host["room"], twilio_settings)},
        "forged": {"session": forged(host["room"])},
        "tampered": {"session": "x" + host["session"][1:]},
    }[session]
    answer = call(endpoint, twilio_settings, body)
    assert answer.status == 401
    assert "session" in answer.json()["error"]
    # AND nothing was started or stopped at Twilio
    assert emulator.state.media_processors == {}
    assert emulator.state.running()["rooms"] == [host["room"]]


def test_session_for_a_room_that_has_ended_cannot_go_live(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    host = host_token(twilio_settings)
    call("stream_stop", twilio_settings, {"session": host["session"]})
    answer = call("stream_start", twilio_settings, {"session": host["session"]})
    assert answer.status == 409
    assert "ended" in answer.json()["error"]
    assert emulator.state.running() == NOTHING_RUNNING


def test_a_session_stops_its_own_room_only(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    first, second = host_token(twilio_settings), host_token(twilio_settings)
    for host in (first, second):
        call("stream_start", twilio_settings, {"session": host["session"]})
    call("stream_stop", twilio_settings, {"session": first["session"]})
    running = emulator.state.running()
    assert running["rooms"] == [second["room"]]
    assert len(running["media_processors"]) == len(running["player_streamers"]) == 1


def test_starting_twice_starts_once(twilio_settings: Settings, emulator: EmulatorServer) -> None:
    host = host_token(twilio_settings)
    first = call("stream_start", twilio_settings, {"session": host["session"]})
    again = call("stream_start", twilio_settings, {"session": host["session"]})
    assert (first.json()["startedNow"], again.json()["startedNow"]) == (True, False)
    assert again.json()["live"] is True
    assert len(emulator.state.media_processors) == len(emulator.state.player_streamers) == 1


def test_stopping_twice_is_fine(twilio_settings: Settings, emulator: EmulatorServer) -> None:
    host = host_token(twilio_settings)
    call("stream_start", twilio_settings, {"session": host["session"]})
    for _ in range(2):
        answer = call("stream_stop", twilio_settings, {"session": host["session"]})
        assert answer.status == 200 and answer.json()["live"] is False
    assert emulator.state.running() == NOTHING_RUNNING


def test_session_header_works_like_the_body_field(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    host = host_token(twilio_settings)
    answer = invoke(
        "stream_start", {}, settings=twilio_settings, headers={"X-Host-Session": host["session"]}
    )
    assert answer.status == 200 and answer.json()["live"] is True


def test_audience_before_during_and_after(twilio_settings: Settings) -> None:
    assert call("audience_token", twilio_settings).json() == {
        "provider": "twilio",
        "token": None,
        "recordingsPublic": False,
    }
    host = host_token(twilio_settings)
    call("stream_start", twilio_settings, {"session": host["session"]})
    assert call("audience_token", twilio_settings).json()["token"]
    call("stream_stop", twilio_settings, {"session": host["session"]})
    assert call("audience_token", twilio_settings).json()["token"] is None


def test_viewers_share_one_playback_grant(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    # (one lookup period longer than the 25 calls can take, however slow the machine)
    settings = twilio_settings.with_values(LIVE_LOOKUP_TTL="60")
    host = host_token(settings)
    call("stream_start", settings, {"session": host["session"]})
    emulator.calls.clear()
    tokens = {call("audience_token", settings).json()["token"] for _ in range(25)}
    assert len(tokens) == 25  # each viewer has a token (and identity) of their own
    assert emulator.calls_to("POST", "/media/v1/PlayerStreamers/{Sid}/PlaybackGrant") == 1
    assert emulator.calls_to("GET", "/media/v1/MediaProcessors") == 1


def test_retired_twilio_live_answers_a_clear_503(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    emulator.media_retired = True
    host = host_token(twilio_settings)  # Video still works
    for answer in (
        call("stream_start", twilio_settings, {"session": host["session"]}),
        call("audience_token", twilio_settings),
    ):
        assert answer.status == 503
        assert answer.headers.get("content-type", "").startswith("application/json")
        error = answer.json()["error"]
        assert "retired" in error and "2023-11-30" in error
        assert "STREAM_PROVIDER=ivs" in error and "STREAM_PROVIDER=local" in error
        assert "Traceback" not in answer.text
