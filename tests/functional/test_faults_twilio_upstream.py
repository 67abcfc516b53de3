"""Twilio failing on every call the four endpoints make: 429, 500, no answer, refused connections.

Each case fails one Twilio call (found in the emulator's call counters, see
``test_the_fault_table_lists_every_call_each_endpoint_makes``) for as long as the provider
keeps asking, through the endpoint a browser calls. The caller must get a 502 or 503 whose
``{"error"}`` says what to do; nothing the failed request started may be left running; and once
Twilio answers again, the same request succeeds.
"""

from __future__ import annotations

from typing import Any

import pytest
from faults_support import (
    NOTHING_RUNNING,
    assert_clear_error,
    call,
    fresh_process,
    sign_in,
    sleeps,
)
from twilio_faults import (
    FAULTS,
    TwilioCall,
    answer_while_failing,
    assert_told_clearly,
    body_for,
)

from livescreen.config import Settings
from livescreen.providers.sweeping import PLAYER_STREAMER
from livescreen.providers.twilio.rest import TwilioRest
from livescreen.providers.twilio.sweeper import TwilioSweeper
from livescreen.runtime.twilio_client import make_twilio_client
from twilio_emulator import EmulatorServer

__all__ = ["fresh_process", "sleeps"]  # fixtures used by name

START_LIST = ("GET", "/media/v1/MediaProcessors")
ROOM_FETCH = ("GET", "/video/v1/Rooms/{Sid}")
STREAMER_CREATE = ("POST", "/media/v1/PlayerStreamers")
PROCESSOR_CREATE = ("POST", "/media/v1/MediaProcessors")
STREAMER_END = ("POST", "/media/v1/PlayerStreamers/{Sid}")
PROCESSOR_END = ("POST", "/media/v1/MediaProcessors/{Sid}")
ROOM_UPDATE = ("POST", "/video/v1/Rooms/{Sid}")
ROOM_CREATE = ("POST", "/video/v1/Rooms")
GRANT_CREATE = ("POST", "/media/v1/PlayerStreamers/{Sid}/PlaybackGrant")


CALLS = (
    TwilioCall("host_token", *ROOM_CREATE),
    TwilioCall("stream_start", *START_LIST),
    TwilioCall("stream_start", *ROOM_FETCH, previous=START_LIST),
    TwilioCall("stream_start", *STREAMER_CREATE, previous=ROOM_FETCH),
    TwilioCall("stream_start", *PROCESSOR_CREATE, previous=STREAMER_CREATE),
    # The look for a second composer (another container starting the same room) comes after
    # the stream is up: when it fails, the start has still succeeded.
    TwilioCall("stream_start", *START_LIST, previous=PROCESSOR_CREATE, fails_request=False),
    TwilioCall("stream_stop", *START_LIST),
    TwilioCall("stream_stop", *STREAMER_END, previous=START_LIST),
    TwilioCall("stream_stop", *PROCESSOR_END, previous=STREAMER_END),
    TwilioCall("stream_stop", *ROOM_UPDATE, previous=PROCESSOR_END),
    # The look for a composer a racing start made before the room was completed: when it
    # fails, the stop has still succeeded.
    TwilioCall("stream_stop", *START_LIST, previous=ROOM_UPDATE, fails_request=False),
    TwilioCall("audience_token", *START_LIST),
    TwilioCall("audience_token", *GRANT_CREATE, previous=START_LIST),
)


@pytest.fixture
def settings(twilio_settings: Settings) -> Settings:
    # LIVE_LOOKUP_TTL=0: a failed live lookup is not remembered, so the retry asks Twilio again.
    return twilio_settings.with_values(LIVE_LOOKUP_TTL="0")


def prepare(endpoint: str, settings: Settings) -> dict[str, Any]:
    """The state each endpoint is called in: signed in; live for stop and the audience."""
    if endpoint == "host_token":
        return {"password": settings["HOST_PASSWORD"]}
    host = sign_in(settings)
    if endpoint in ("stream_stop", "audience_token"):
        assert call("stream_start", settings, {"session": host["session"]}).status == 200
    return {"session": host["session"], "room": host["room"]}


@pytest.mark.usefixtures("fresh_process")
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("target", CALLS, ids=[c.id for c in CALLS])
def test_a_failing_twilio_call_gets_a_clear_answer_and_leaves_nothing_running(
    settings: Settings,
    emulator: EmulatorServer,
    sleeps: list[float],
    target: TwilioCall,
    fault: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN the state the endpoint is used in
    prepared = prepare(target.endpoint, settings)
    running_before = emulator.state.running()
    emulator.calls.clear()
    # WHEN that one Twilio call fails, however often it is tried
    answer = answer_while_failing(
        emulator, settings, target, fault, body_for(target.endpoint, prepared)
    )
    # THEN (the call under test was really reached, and so the fault really hit it)
    if not target.fails_request:
        assert answer.status == 200, answer.text
        if target.endpoint == "stream_stop":
            assert emulator.state.running() == NOTHING_RUNNING
        else:
            assert_one_stream(emulator, prepared["room"])
        return
    # AND the caller gets a clear 502/503 with nothing inside that a user should not see
    assert_told_clearly(answer, fault, settings, sleeps)
    # AND whatever the failed request started is not left running
    running = emulator.state.running()
    if target.endpoint == "host_token":
        assert running == NOTHING_RUNNING
    elif target.endpoint == "stream_start" and fault == "refused" and target.previous:
        # Twilio vanished between the two creates: the PlayerStreamer cannot be ended now.
        # It is "created" (no composer writes to it), bounded by MaxDuration, named in the
        # log, and `livescreen cleanup` finds and ends it once Twilio answers again.
        assert_left_for_cleanup(emulator, settings, prepared["room"], caplog)
    elif target.endpoint == "stream_start":
        assert running == {**NOTHING_RUNNING, "rooms": [prepared["room"]]}
    elif target.endpoint == "audience_token":
        assert running == running_before  # the stream goes on
    # AND once Twilio answers again, the same request succeeds
    again = call(target.endpoint, settings, body_for(target.endpoint, prepared))
    assert again.status == 200, again.text
    if target.endpoint == "stream_stop":
        assert emulator.state.running() == NOTHING_RUNNING
    elif target.endpoint == "stream_start":
        assert_one_stream(emulator, prepared["room"])
    elif target.endpoint == "audience_token":
        assert again.json()["token"]


def assert_left_for_cleanup(
    emulator: EmulatorServer, settings: Settings, room: str, caplog: pytest.LogCaptureFixture
) -> None:
    running = emulator.state.running()
    assert running["media_processors"] == [] and running["rooms"] == [room]
    left = running["player_streamers"]
    if not left:
        return  # the refusal came before the PlayerStreamer was made
    assert emulator.state.player_streamers[left[0]].status == "created"
    assert "livescreen cleanup" in caplog.text
    sweeper = TwilioSweeper(TwilioRest(make_twilio_client(settings)))
    found = [r for r in sweeper.find().resources if r.kind == PLAYER_STREAMER]
    assert [r.ident for r in found] == left
    for resource in found:
        sweeper.end(resource)
    assert emulator.state.running()["player_streamers"] == []


def assert_one_stream(emulator: EmulatorServer, room: str) -> None:
    running = emulator.state.running()
    assert running["rooms"] == [room]
    assert len(running["media_processors"]) == len(running["player_streamers"]) == 1


@pytest.mark.usefixtures("fresh_process")
def test_the_fault_table_lists_every_call_each_endpoint_makes(
    settings: Settings, emulator: EmulatorServer
) -> None:
    """Walk the four endpoints over a whole stream and compare the calls made with ``CALLS``."""
    seen: dict[str, set[tuple[str, str]]] = {}

    def record(endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        emulator.calls.clear()
        answer = call(endpoint, settings, body)
        assert answer.status == 200, answer.text
        seen.setdefault(endpoint, set()).update(emulator.calls)
        return dict(answer.json())

    host = record("host_token", {"password": settings["HOST_PASSWORD"]})
    record("stream_start", {"session": host["session"]})
    record("audience_token", {})
    record("stream_stop", {"session": host["session"]})
    listed: dict[str, set[tuple[str, str]]] = {}
    for target in CALLS:
        listed.setdefault(target.endpoint, set()).add((target.method, target.route))
    assert seen == listed


@pytest.mark.usefixtures("fresh_process")
def test_one_rate_limited_answer_is_absorbed_by_a_retry(
    settings: Settings, emulator: EmulatorServer, sleeps: list[float]
) -> None:
    """Only a limit that lasts reaches the caller: a single 429 is waited out."""
    host = sign_in(settings)
    emulator.fail_next(*PROCESSOR_CREATE, status=429, retry_after=2)
    answer = call("stream_start", settings, {"session": host["session"]})
    assert answer.status == 200 and answer.json()["startedNow"] is True
    assert sleeps == [2.0]
    assert_one_stream(emulator, host["room"])


@pytest.mark.usefixtures("fresh_process", "sleeps")
def test_a_stop_that_failed_half_way_is_finished_by_the_next_stop(
    settings: Settings, emulator: EmulatorServer
) -> None:
    """The streamer was ended, then Twilio stopped answering: the composer still runs, and
    the page's next stop (or the room's callback, or cleanup) finds it and ends both."""
    host = sign_in(settings)
    call("stream_start", settings, {"session": host["session"]})
    emulator.refuse_connections_after(*STREAMER_END)
    try:
        failed = call("stream_stop", settings, {"session": host["session"]})
    finally:
        emulator.clear_faults()
    assert_clear_error(failed, {503}, settings)
    running = emulator.state.running()
    assert running["player_streamers"] == [] and len(running["media_processors"]) == 1
    assert call("stream_stop", settings, {"session": host["session"]}).status == 200
    assert emulator.state.running() == NOTHING_RUNNING
