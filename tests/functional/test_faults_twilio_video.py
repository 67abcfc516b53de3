"""``TWILIO_AUDIENCE=video``: Twilio failing on every call the endpoints and room events make.

The same four faults as ``test_faults_twilio_upstream`` (429, 500, no answer, refused
connections), for as long as the provider keeps asking. An endpoint answers a clear 502/503 and
leaves nothing running that it started; a room event's handler fails loudly (the webhook answers
Twilio 502/503, see docs/failures.md); once Twilio answers again, the same request succeeds.
"""

from __future__ import annotations

from typing import Any

import pytest
from faults_support import NOTHING_RUNNING, assert_clear_error, call, fresh_process, sign_in
from twilio_faults import (
    EXPECTED_STATUS,
    FAULTS,
    TwilioCall,
    answer_while_failing,
    assert_told_clearly,
    body_for,
    inject,
    settings_for,
)

from livescreen.config import Settings
from livescreen.providers.twilio import factory as twilio_module
from livescreen.providers.twilio.rest import RetryPolicy, TwilioApiError
from livescreen.providers.twilio.room_events import handle_room_event
from livescreen.providers.twilio.video import TwilioVideoProvider
from livescreen.runtime.twilio_client import make_twilio_client
from twilio_emulator import EmulatorServer
from twilio_emulator.resources import Participant

__all__ = ["fresh_process"]  # fixture used by name

ROOM_CREATE = ("POST", "/video/v1/Rooms")
ROOMS_LIST = ("GET", "/video/v1/Rooms")
ROOM_FETCH = ("GET", "/video/v1/Rooms/{Sid}")
ROOM_UPDATE = ("POST", "/video/v1/Rooms/{Sid}")
PARTICIPANTS = ("GET", "/video/v1/Rooms/{Sid}/Participants")
PARTICIPANT_UPDATE = ("POST", "/video/v1/Rooms/{Sid}/Participants/{ParticipantSid}")
RULES_UPDATE = ("POST", "/video/v1/Rooms/{Sid}/Participants/{ParticipantSid}/SubscribeRules")
RECORDING_RULES = ("POST", "/video/v1/Rooms/{Sid}/RecordingRules")
COMPOSITIONS_LIST = ("GET", "/video/v1/Compositions")
ROOM_RECORDINGS = ("GET", "/video/v1/Rooms/{Sid}/Recordings")
COMPOSITION_CREATE = ("POST", "/video/v1/Compositions")

CALLS = (
    TwilioCall("host_token", *ROOM_CREATE),
    # RECORDING=on: a room whose rules cannot be set goes live unrecorded (logged)
    TwilioCall("host_token", *RECORDING_RULES, previous=ROOM_CREATE, fails_request=False),
    TwilioCall("stream_start", *ROOM_FETCH),
    TwilioCall("stream_start", *PARTICIPANTS, previous=ROOM_FETCH),
    # RECORDING=on: the room's SID (to compose it), then the completion, then the composition;
    # a failure around the composition never fails the stop (the next stop composes)
    TwilioCall("stream_stop", *ROOM_FETCH, fails_request=False),
    TwilioCall("stream_stop", *ROOM_UPDATE, previous=ROOM_FETCH),
    TwilioCall("stream_stop", *COMPOSITIONS_LIST, previous=ROOM_UPDATE, fails_request=False),
    TwilioCall("stream_stop", *ROOM_RECORDINGS, previous=COMPOSITIONS_LIST, fails_request=False),
    TwilioCall("stream_stop", *COMPOSITION_CREATE, previous=ROOM_RECORDINGS, fails_request=False),
    TwilioCall("audience_token", *ROOMS_LIST),
    TwilioCall("audience_token", *PARTICIPANTS, previous=ROOMS_LIST),
)
#: Each call with each fault; refused connections cannot hit the first call of a request alone
#: (every later call is refused too), so a first call the request survives is left out.
CASES = [
    pytest.param(target, fault, id=f"{target.id}-{fault}")
    for target in CALLS
    for fault in FAULTS
    if target.fails_request or target.previous is not None or fault != "refused"
]
#: Room events and the one call each makes.
EVENT_CALLS = {
    "participant-connected": RULES_UPDATE,
    "track-added": PARTICIPANT_UPDATE,
    "participant-disconnected": ROOM_UPDATE,
}


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every back-off pause the provider asked for; nothing really sleeps."""
    pauses: list[float] = []

    def fast_provider(settings: Settings) -> TwilioVideoProvider:
        retry = RetryPolicy(sleep=pauses.append)
        return TwilioVideoProvider(settings, make_twilio_client(settings), retry=retry)

    monkeypatch.setattr(twilio_module, "create_provider", fast_provider)
    return pauses


@pytest.fixture
def settings(twilio_video_settings: Settings) -> Settings:
    # LIVE_LOOKUP_TTL=0: a failed live lookup is not remembered, so the retry asks Twilio again.
    return twilio_video_settings.with_values(LIVE_LOOKUP_TTL="0")


def prepare(endpoint: str, settings: Settings, emulator: EmulatorServer) -> dict[str, Any]:
    """Signed in with the host's page in the room; live for stop and the audience."""
    if endpoint == "host_token":
        return {"password": settings["HOST_PASSWORD"]}
    host = sign_in(settings)
    participant = emulator.connect(host["token"])
    emulator.state.publish_track(participant.sid, "video", "screen")
    if endpoint in ("stream_stop", "audience_token"):
        assert call("stream_start", settings, {"session": host["session"]}).status == 200
    return {"session": host["session"], "room": host["room"], "host": participant}


def compositions(emulator: EmulatorServer) -> list[str]:
    return [c.sid for c in emulator.state.compositions.values() if c.status != "deleted"]


@pytest.mark.usefixtures("fresh_process")
@pytest.mark.parametrize(("target", "fault"), CASES)
def test_a_failing_twilio_call_gets_a_clear_answer_and_leaves_nothing_running(
    settings: Settings,
    emulator: EmulatorServer,
    sleeps: list[float],
    target: TwilioCall,
    fault: str,
) -> None:
    # GIVEN the state the endpoint is used in
    prepared = prepare(target.endpoint, settings, emulator)
    running_before = emulator.state.running()
    emulator.calls.clear()
    # WHEN that one Twilio call fails, however often it is tried
    answer = answer_while_failing(
        emulator, settings, target, fault, body_for(target.endpoint, prepared)
    )
    if not target.fails_request:
        # THEN a failure around recording does not fail the request
        assert answer.status == 200, answer.text
        if target.endpoint == "stream_stop":
            assert emulator.state.running() == NOTHING_RUNNING
            assert len(compositions(emulator)) <= 1
        else:
            assert emulator.state.running()["rooms"] == [answer.json()["room"]]
    else:
        # THEN the caller gets a clear 502/503
        assert_told_clearly(answer, fault, settings, sleeps)
        # AND nothing the failed request started is left running (a room whose create may
        # have happened is completed; a failed start or lookup leaves the host's room as it was)
        if target.endpoint == "host_token":
            assert emulator.state.running() == NOTHING_RUNNING
        elif target.endpoint != "stream_stop":
            assert emulator.state.running() == running_before
    # AND once Twilio answers again, the same request succeeds
    again = call(target.endpoint, settings, body_for(target.endpoint, prepared))
    assert again.status == 200, again.text
    if target.endpoint == "stream_stop":
        assert emulator.state.running() == NOTHING_RUNNING
        assert len(compositions(emulator)) == 1  # the room is composed once, whatever failed
    elif target.endpoint == "audience_token":
        assert again.json()["room"] == prepared["room"]


@pytest.mark.usefixtures("fresh_process", "sleeps")
def test_a_failed_live_lookup_is_remembered_for_live_lookup_ttl(
    settings: Settings, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming and a container that looks the live room up once a minute
    cached = settings.with_values(LIVE_LOOKUP_TTL="60")
    prepare("audience_token", cached, emulator)
    # WHEN Twilio fails that lookup, and a crowd of viewers arrives
    emulator.fail_next(*ROOMS_LIST, count=20, status=500)
    emulator.calls.clear()
    answers = [call("audience_token", cached) for _ in range(20)]
    emulator.clear_faults()
    # THEN every viewer is told clearly, and Twilio was asked once (with its retries)
    for answer in answers:
        assert_clear_error(answer, {502}, cached)
    assert emulator.calls_to(*ROOMS_LIST) == RetryPolicy().attempts


@pytest.mark.usefixtures("fresh_process")
def test_the_fault_table_lists_every_call_each_endpoint_makes(
    settings: Settings, emulator: EmulatorServer
) -> None:
    seen: dict[str, set[tuple[str, str]]] = {}

    def record(endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        emulator.calls.clear()
        answer = call(endpoint, settings, body)
        assert answer.status == 200, answer.text
        seen.setdefault(endpoint, set()).update(emulator.calls)
        return dict(answer.json())

    host = record("host_token", {"password": settings["HOST_PASSWORD"]})
    participant = emulator.connect(host["token"])
    emulator.state.publish_track(participant.sid, "video", "screen")
    record("stream_start", {"session": host["session"]})
    record("audience_token", {})
    record("stream_stop", {"session": host["session"]})
    listed: dict[str, set[tuple[str, str]]] = {}
    for target in CALLS:
        listed.setdefault(target.endpoint, set()).add((target.method, target.route))
    assert seen == listed


# -- room events ----------------------------------------------------------------------------------


def event_for(name: str, room: str, host: Participant, viewer: Participant) -> dict[str, str]:
    who = host if name == "participant-disconnected" else viewer
    return {
        "StatusCallbackEvent": name,
        "RoomName": room,
        "RoomSid": host.room_sid,
        "ParticipantSid": who.sid,
        "ParticipantIdentity": who.identity,
    }


@pytest.mark.usefixtures("fresh_process")
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", list(EVENT_CALLS))
def test_a_room_event_whose_twilio_call_fails_answers_an_error_then_works_when_sent_again(
    settings: Settings, emulator: EmulatorServer, sleeps: list[float], fault: str, name: str
) -> None:
    # GIVEN a host streaming to one viewer
    prepared = prepare("audience_token", settings, emulator)
    viewer = emulator.connect(call("audience_token", settings).json()["token"])
    event = event_for(name, prepared["room"], prepared["host"], viewer)
    method, route = EVENT_CALLS[name]
    # WHEN Twilio fails the one call the event needs, however often it is tried
    inject(emulator, fault, TwilioCall("room_events", method, route))
    try:
        with pytest.raises(TwilioApiError) as failed:
            handle_room_event(settings_for(fault, settings), event)
    finally:
        emulator.clear_faults()
    # THEN the webhook fails with Twilio's kind of failure (answered 502/503, in the log)
    assert failed.value.status == EXPECTED_STATUS[fault]
    # AND the same event handled again does its job
    assert handle_room_event(settings, event) is True
    if name == "participant-connected":
        assert viewer.subscribe_rules == [{"type": "include", "publisher": "host"}]
    elif name == "track-added":
        assert viewer.status == "disconnected"
    else:
        assert emulator.state.running() == NOTHING_RUNNING


@pytest.mark.usefixtures("fresh_process", "sleeps")
def test_a_room_event_call_that_fails_once_is_retried(
    settings: Settings, emulator: EmulatorServer
) -> None:
    # GIVEN a viewer in a live room, and Twilio failing the next kick once
    prepared = prepare("audience_token", settings, emulator)
    viewer = emulator.connect(call("audience_token", settings).json()["token"])
    emulator.fail_next(*PARTICIPANT_UPDATE, status=500)
    # WHEN the viewer publishes and the event arrives
    event = event_for("track-added", prepared["room"], prepared["host"], viewer)
    # THEN the call is retried (it is idempotent) and the viewer is disconnected
    assert handle_room_event(settings, event) is True
    assert viewer.status == "disconnected"
    assert emulator.calls_to(*PARTICIPANT_UPDATE) == 2


@pytest.mark.usefixtures("fresh_process", "sleeps")
def test_an_event_about_someone_who_already_left_is_answered_and_changes_nothing(
    settings: Settings, emulator: EmulatorServer
) -> None:
    prepared = prepare("audience_token", settings, emulator)
    viewer = emulator.connect(call("audience_token", settings).json()["token"])
    emulator.state.participant_leaves(viewer.sid)
    # Rules for someone no longer connected: Twilio refuses (53204), there is nothing to do
    event = event_for("participant-connected", prepared["room"], prepared["host"], viewer)
    assert handle_room_event(settings, event) is False
    # A kick of someone gone: Twilio takes the final status again, nothing changes
    event = event_for("track-added", prepared["room"], prepared["host"], viewer)
    handle_room_event(settings, event)
    assert viewer.status == "disconnected"
    assert emulator.state.running()["rooms"] == [prepared["room"]]


@pytest.mark.usefixtures("fresh_process", "sleeps")
def test_two_starts_and_two_stops_at_once_are_both_answered_200(
    settings: Settings, emulator: EmulatorServer
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    prepared = prepare("stream_start", settings, emulator)
    body = {"session": prepared["session"]}
    for endpoint, route in (("stream_start", ROOM_FETCH), ("stream_stop", ROOM_UPDATE)):
        # GIVEN both requests reach Twilio at the same moment (two containers)
        emulator.gate(*route, parties=2)
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(call, [endpoint] * 2, [settings] * 2, [body] * 2))
        # THEN both succeed with the same state: nothing is created by a start
        assert [a.status for a in answers] == [200, 200], [a.text for a in answers]
        assert len({a.json()["live"] for a in answers}) == 1
    assert emulator.state.running() == NOTHING_RUNNING
    assert emulator.calls_to(*ROOM_CREATE) == 1  # host_token's, nothing more
