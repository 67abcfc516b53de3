"""A start that gets half way leaves nothing running.

``twilio`` makes two creates per start (a PlayerStreamer, then the MediaProcessor composing the
room into it) and ``ivs`` one per sign-in (the stage, with the host's token in the same call):
when the second step fails, or when the answer to a create is lost, whatever was made is found
and ended before the caller gets the error.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from faults_support import (
    NOTHING_RUNNING,
    assert_clear_error,
    call,
    fresh_process,
    sign_in,
    sleeps,
    use_ivs_client,
)
from ivs_support import APP_TAG, StubbedIvs, ivs_settings, stage_arn, summary
from twilio_faults import CLIENT_TIMEOUT

from livescreen.config import Settings
from livescreen.providers.ivs import provider as ivs_module
from twilio_emulator import EmulatorServer

__all__ = ["fresh_process", "sleeps"]  # fixtures used by name

PROCESSOR_CREATE = ("POST", "/media/v1/MediaProcessors")
STREAMER_CREATE = ("POST", "/media/v1/PlayerStreamers")
ROOM_FETCH = ("GET", "/video/v1/Rooms/{Sid}")

pytestmark = pytest.mark.usefixtures("fresh_process")


# -- twilio -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("sleeps")
@pytest.mark.parametrize("status", [500, 502, 503])
def test_twilio_composer_create_fails_and_the_new_player_streamer_is_ended(
    twilio_settings: Settings, emulator: EmulatorServer, status: int
) -> None:
    host = sign_in(twilio_settings)
    emulator.fail_next(*PROCESSOR_CREATE, status=status, retry_after=None)
    answer = call("stream_start", twilio_settings, {"session": host["session"]})
    assert_clear_error(answer, {502}, twilio_settings)
    # THEN the create was not retried (it might have been done) and nothing bills
    assert emulator.calls_to(*PROCESSOR_CREATE) == 1
    assert emulator.state.running() == {**NOTHING_RUNNING, "rooms": [host["room"]]}
    (streamer,) = emulator.state.player_streamers.values()
    assert (streamer.status, streamer.ended_reason) == ("ended", "ended-via-api")


@pytest.mark.usefixtures("sleeps")
def test_twilio_composer_created_but_its_answer_lost_is_found_by_room_and_ended(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    settings = twilio_settings.with_values(UPSTREAM_TIMEOUT=CLIENT_TIMEOUT)
    host = sign_in(twilio_settings)
    # WHEN Twilio starts the composer but the answer never arrives
    emulator.hang_next(*PROCESSOR_CREATE, after_processing=True)
    try:
        answer = call("stream_start", settings, {"session": host["session"]})
    finally:
        emulator.release_hung()
    assert_clear_error(answer, {503}, settings)
    # THEN the composer Twilio did start, and its streamer, were ended all the same
    assert len(emulator.state.media_processors) == 1
    assert emulator.state.running() == {**NOTHING_RUNNING, "rooms": [host["room"]]}


@pytest.mark.usefixtures("sleeps")
def test_twilio_player_streamer_created_but_its_answer_lost_is_ended(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    settings = twilio_settings.with_values(UPSTREAM_TIMEOUT=CLIENT_TIMEOUT)
    host = sign_in(twilio_settings)
    emulator.hang_next(*STREAMER_CREATE, after_processing=True)
    try:
        answer = call("stream_start", settings, {"session": host["session"]})
    finally:
        emulator.release_hung()
    assert_clear_error(answer, {503}, settings)
    assert len(emulator.state.player_streamers) == 1
    assert emulator.state.running() == {**NOTHING_RUNNING, "rooms": [host["room"]]}
    assert emulator.calls_to(*PROCESSOR_CREATE) == 0


@pytest.mark.usefixtures("sleeps")
def test_twilio_room_ended_during_the_start_is_a_conflict_and_nothing_is_left(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    host = sign_in(twilio_settings)
    room = host["room"]
    # WHEN the room ends right after the start checked it (the host left at that moment)

    def host_leaves() -> None:
        emulator.state.update_room(room, f"/v1/Rooms/{room}", {"Status": "completed"})

    emulator.after_call(*ROOM_FETCH, host_leaves)
    answer = call("stream_start", twilio_settings, {"session": host["session"]})
    # THEN the composer Twilio could not start is reported as the room having ended
    assert_clear_error(answer, {409}, twilio_settings)
    assert "go live again" in answer.json()["error"]
    assert emulator.state.running() == NOTHING_RUNNING


@pytest.mark.usefixtures("sleeps")
def test_twilio_room_created_but_its_answer_lost_is_completed(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    settings = twilio_settings.with_values(UPSTREAM_TIMEOUT=CLIENT_TIMEOUT)
    emulator.hang_next("POST", "/video/v1/Rooms", after_processing=True)
    try:
        answer = call("host_token", settings, {"password": settings["HOST_PASSWORD"]})
    finally:
        emulator.release_hung()
    assert_clear_error(answer, {503}, settings)
    (room,) = emulator.state.rooms.values()
    assert room.status == "completed"
    assert emulator.state.running() == NOTHING_RUNNING


# -- ivs ----------------------------------------------------------------------------------------

ROOM = "livestream-0123456789abcdef"
ARN = stage_arn()


@pytest.fixture
def ivs(monkeypatch: pytest.MonkeyPatch) -> StubbedIvs:
    stubbed = StubbedIvs.create()
    use_ivs_client(monkeypatch, stubbed.client)
    # The room name is random; fix it so the stubbed ListStages can describe the stage.
    monkeypatch.setattr(ivs_module, "secrets", SimpleNamespace(token_hex=lambda _: ROOM[11:]))
    return stubbed


def created(room: str, token: str | None) -> dict[str, Any]:
    tokens = [{"participantId": "Hp01", "token": token, "userId": "host"}] if token else []
    stage = {"arn": ARN, "name": room, "tags": {"app": APP_TAG, "livescreen:room": room}}
    return {"stage": stage, "participantTokens": tokens}


def test_ivs_stage_created_without_a_host_token_is_deleted(ivs: StubbedIvs) -> None:
    settings = ivs_settings()
    ivs.expect("create_stage", created(ROOM, token=None))
    ivs.expect("delete_stage", {}, {"arn": ARN})
    answer = call("host_token", settings, {"password": settings["HOST_PASSWORD"]})
    assert_clear_error(answer, {502}, settings)
    ivs.stubber.assert_no_pending_responses()
    assert ivs.operations == ["CreateStage", "DeleteStage"]


def test_ivs_stage_created_but_its_answer_lost_is_found_by_room_and_deleted(
    ivs: StubbedIvs,
) -> None:
    settings = ivs_settings()

    def lost_answer(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://ivsrealtime.us-east-1.amazonaws.com")

    # (the first event of a call: the Stubber checks and answers it in later ones)
    ivs.client.meta.events.register("provide-client-params.ivs-realtime.CreateStage", lost_answer)
    # IVS did create the stage (twice: botocore retries a create that timed out): ListStages
    # shows both, tagged with the room, next to another room's stage, which stays
    retried, other = stage_arn("Retried12345"), stage_arn("OtherRoom123")
    ivs.expect_list(
        summary(ARN, ROOM),
        summary(other, "livestream-ffffffffffffffff", live=True),
        summary(retried, ROOM),
        params={"maxResults": 100},
    )
    ivs.expect("delete_stage", {}, {"arn": ARN})
    ivs.expect("delete_stage", {}, {"arn": retried})
    answer = call("host_token", settings, {"password": settings["HOST_PASSWORD"]})
    error = assert_clear_error(answer, {503}, settings)["error"]
    assert "did not answer in time" in error
    ivs.stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status", "answered"),
    [("InternalServerException", 500, 502), ("ThrottlingException", 429, 503)],
)
def test_ivs_start_that_cannot_mark_the_stage_live_shows_viewers_nothing_and_stop_deletes_it(
    ivs: StubbedIvs, code: str, status: int, answered: int
) -> None:
    settings = ivs_settings(LIVE_LOOKUP_TTL="1")
    ivs.expect("create_stage", created(ROOM, token="host-publish-token"))
    host = sign_in(settings)
    # WHEN marking the stage live fails
    ivs.expect_list(summary(ARN, ROOM))
    ivs.expect_error("tag_resource", code, status)
    answer = call("stream_start", settings, {"session": host["session"]})
    assert_clear_error(answer, {answered}, settings)
    # THEN viewers are offered nothing (no stage is tagged live) ...
    ivs.expect_list(summary(ARN, ROOM))
    assert call("audience_token", settings).json()["token"] is None
    # ... AND the host's stop (the page sends one when going live fails) deletes the stage
    ivs.expect_list(summary(ARN, ROOM))
    ivs.expect("delete_stage", {}, {"arn": ARN})
    assert call("stream_stop", settings, {"session": host["session"]}).status == 200
    ivs.stubber.assert_no_pending_responses()


def test_ivs_stage_that_cannot_be_deleted_after_a_half_create_is_named_for_cleanup(
    ivs: StubbedIvs, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ivs_settings()
    ivs.expect("create_stage", created(ROOM, token=None))
    ivs.expect_error("delete_stage", "InternalServerException", 500)
    with caplog.at_level(logging.ERROR):
        answer = call("host_token", settings, {"password": settings["HOST_PASSWORD"]})
    assert_clear_error(answer, {502}, settings)
    assert ARN in caplog.text
