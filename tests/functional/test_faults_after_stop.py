"""A host session used after ``stream_stop`` cannot start anything.

Decided behaviour, for every provider: a host session is bound to one room, and ``stream_stop``
releases that room for good. ``stream_start`` with that session afterwards is refused with a
409 that tells the host to go live again (sign in: ``/host_token`` makes a fresh room and a new
session); it creates nothing, anywhere. ``stream_stop`` with it stays a harmless 200.
"""

from __future__ import annotations

import pytest
from faults_support import (
    NOTHING_RUNNING,
    assert_clear_error,
    call,
    fresh_process,
    session_of,
    sign_in,
    sleeps,
    use_ivs_client,
)
from ivs_support import StubbedIvs, ivs_settings, stage_arn, summary

from livescreen.config import Settings
from livescreen.devserver.relays import signalling as local_signalling
from livescreen.devserver.relays.http import RelayError
from livescreen.providers.local.hub import HUB
from twilio_emulator import EmulatorServer

__all__ = ["fresh_process", "sleeps"]  # fixtures used by name

pytestmark = pytest.mark.usefixtures("fresh_process")

LOCAL = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": "after stop test password",
        "HOST_SESSION_SECRET": "after-stop-test-session-secret-0123456789",
    },
    "the test settings",
)


def assert_refused_after_stop(settings: Settings, session: str) -> None:
    answer = call("stream_start", settings, {"session": session})
    error = assert_clear_error(answer, {409}, settings)["error"]
    assert "again" in error  # it says what to do: go live again (a new room)
    again = call("stream_stop", settings, {"session": session})
    assert again.status == 200 and again.json()["live"] is False


def test_local_session_after_stop_starts_nothing() -> None:
    host = sign_in(LOCAL)
    call("stream_start", LOCAL, {"session": host["session"]})
    call("stream_stop", LOCAL, {"session": host["session"]})
    assert_refused_after_stop(LOCAL, host["session"])
    assert HUB.live_room() is None
    assert call("audience_token", LOCAL).json()["token"] is None
    # AND the room's host token no longer opens its signalling either
    with pytest.raises(RelayError) as refused:
        local_signalling.host_channel({"token": host["token"]})
    assert refused.value.status == 401


def test_local_going_live_again_means_a_new_room() -> None:
    first = sign_in(LOCAL)
    call("stream_start", LOCAL, {"session": first["session"]})
    call("stream_stop", LOCAL, {"session": first["session"]})
    second = sign_in(LOCAL)
    assert second["room"] != first["room"]
    answer = call("stream_start", LOCAL, {"session": second["session"]})
    assert answer.status == 200 and answer.json()["startedNow"] is True


@pytest.mark.usefixtures("sleeps")
@pytest.mark.parametrize("went_live", [True, False], ids=["stopped-live", "stopped-unstarted"])
def test_twilio_session_after_stop_starts_nothing(
    twilio_settings: Settings, emulator: EmulatorServer, went_live: bool
) -> None:
    host = sign_in(twilio_settings)
    if went_live:
        call("stream_start", twilio_settings, {"session": host["session"]})
    call("stream_stop", twilio_settings, {"session": host["session"]})
    emulator.calls.clear()
    assert_refused_after_stop(twilio_settings, host["session"])
    # THEN nothing was created at Twilio: no room, no streamer, no composer
    assert not [key for key in emulator.calls if key[0] == "POST" and "{Sid}" not in key[1]]
    assert emulator.state.running() == NOTHING_RUNNING


@pytest.mark.usefixtures("sleeps")
def test_twilio_going_live_again_means_a_new_room(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    first = sign_in(twilio_settings)
    call("stream_start", twilio_settings, {"session": first["session"]})
    call("stream_stop", twilio_settings, {"session": first["session"]})
    second = sign_in(twilio_settings)
    assert call("stream_start", twilio_settings, {"session": second["session"]}).status == 200
    running = emulator.state.running()
    assert running["rooms"] == [second["room"]] and len(running["media_processors"]) == 1


def test_ivs_session_after_stop_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    ivs = StubbedIvs.create()
    use_ivs_client(monkeypatch, ivs.client)
    settings = ivs_settings()
    room, arn = "livestream-0123456789abcdef", stage_arn()
    session = session_of(room, settings)
    # GIVEN the host stopped: the room's stage was deleted
    ivs.expect_list(summary(arn, room, live=True))
    ivs.expect("delete_stage", {}, {"arn": arn})
    assert call("stream_stop", settings, {"session": session}).status == 200
    # WHEN the same session starts again, IVS lists no stage for the room
    ivs.expect_list()
    ivs.expect_list()  # the second stop finds nothing to delete
    assert_refused_after_stop(settings, session)
    # THEN nothing was created or tagged
    ivs.stubber.assert_no_pending_responses()
    assert ivs.operations == ["ListStages", "DeleteStage", "ListStages", "ListStages"]
