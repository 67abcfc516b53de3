"""Two ``stream_start`` calls at once give one stream; two ``stream_stop`` calls at once are fine.

Each pair is released together by a barrier. Where the provider could let both through its
check before either acts, the test makes sure they really do overlap: the Twilio emulator's
``gate`` holds the first create until both starts have reached it, and the IVS tests hold
both ``ListStages`` answers until both calls have one. No test sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from botocore.stub import ANY
from faults_support import (
    NOTHING_RUNNING,
    call,
    fresh_process,
    session_of,
    sign_in,
    sleeps,
    use_ivs_client,
)
from ivs_support import StubbedIvs, ivs_settings, stage_arn, summary

from livescreen.config import Settings
from livescreen.devserver.invoke import InvokeResult
from livescreen.providers import StreamState
from livescreen.providers.local.hub import HUB
from livescreen.providers.twilio.provider import TwilioProvider
from livescreen.providers.twilio.rest import RetryPolicy
from livescreen.runtime.twilio_client import make_twilio_client
from twilio_emulator import EmulatorServer

__all__ = ["fresh_process", "sleeps"]  # fixtures used by name

T = TypeVar("T")
#: The longest any test waits for its two callers (they normally take milliseconds).
WAIT = 10.0

pytestmark = pytest.mark.usefixtures("fresh_process")

LOCAL = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": "concurrency test password",
        "HOST_SESSION_SECRET": "concurrency-test-session-secret-0123456789",
    },
    "the test settings",
)


def at_once(*actions: Callable[[], T]) -> list[T]:
    """Run ``actions`` on threads of their own, released together by a barrier."""
    barrier = threading.Barrier(len(actions), timeout=WAIT)

    def released(action: Callable[[], T]) -> T:
        barrier.wait()
        return action()

    with ThreadPoolExecutor(len(actions)) as pool:
        futures = [pool.submit(released, action) for action in actions]
        return [future.result(timeout=WAIT) for future in futures]


def twice(name: str, settings: Settings, body: dict[str, Any]) -> list[InvokeResult]:
    return at_once(lambda: call(name, settings, body), lambda: call(name, settings, body))


# -- local --------------------------------------------------------------------------------------


def test_local_two_starts_at_once_give_one_live_room() -> None:
    host = sign_in(LOCAL)
    answers = twice("stream_start", LOCAL, {"session": host["session"]})
    assert [a.status for a in answers] == [200, 200]
    assert sorted(a.json()["startedNow"] for a in answers) == [False, True]
    live = HUB.live_room()
    assert live is not None and live.name == host["room"]


def test_local_two_stops_at_once_are_both_fine() -> None:
    host = sign_in(LOCAL)
    call("stream_start", LOCAL, {"session": host["session"]})
    answers = twice("stream_stop", LOCAL, {"session": host["session"]})
    assert [(a.status, a.json()["live"]) for a in answers] == [(200, False), (200, False)]
    assert HUB.live_room() is None


# -- twilio ---------------------------------------------------------------------------------------

STREAMER_CREATE = ("POST", "/media/v1/PlayerStreamers")
PROCESSOR_LIST = ("GET", "/media/v1/MediaProcessors")


def assert_one_stream(emulator: EmulatorServer, room: str) -> None:
    running = emulator.state.running()
    assert running["rooms"] == [room]
    assert len(running["media_processors"]) == len(running["player_streamers"]) == 1


@pytest.mark.usefixtures("sleeps")
def test_twilio_two_starts_at_once_in_one_container_give_one_stream(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    host = sign_in(twilio_settings)
    answers = twice("stream_start", twilio_settings, {"session": host["session"]})
    assert [(a.status, a.json()["live"]) for a in answers] == [(200, True), (200, True)]
    assert sorted(a.json()["startedNow"] for a in answers) == [False, True]
    assert_one_stream(emulator, host["room"])
    assert emulator.calls_to(*STREAMER_CREATE) == 1


@pytest.mark.usefixtures("sleeps")
def test_twilio_two_stops_at_once_in_one_container_are_both_fine(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    host = sign_in(twilio_settings)
    call("stream_start", twilio_settings, {"session": host["session"]})
    emulator.gate(*PROCESSOR_LIST, parties=2)  # both stops see the stream running
    answers = twice("stream_stop", twilio_settings, {"session": host["session"]})
    assert [(a.status, a.json()["live"]) for a in answers] == [(200, False), (200, False)]
    assert emulator.state.running() == NOTHING_RUNNING


@pytest.fixture
def containers(twilio_settings: Settings) -> Iterator[tuple[TwilioProvider, TwilioProvider]]:
    """Two provider instances, as two Lambda containers would each build one."""

    def container() -> TwilioProvider:
        retry = RetryPolicy(sleep=lambda _: None)
        return TwilioProvider(twilio_settings, make_twilio_client(twilio_settings), retry=retry)

    yield container(), container()


def test_twilio_two_starts_at_once_in_two_containers_give_one_stream(
    containers: tuple[TwilioProvider, TwilioProvider],
    twilio_settings: Settings,
    emulator: EmulatorServer,
) -> None:
    first, second = containers
    room = first.create_host_grant().room
    # GIVEN both starts get past "is this room streaming already?" before either creates
    emulator.gate(*STREAMER_CREATE, parties=2)
    states: list[StreamState] = at_once(
        lambda: first.start_stream(room), lambda: second.start_stream(room)
    )
    # THEN both made a stream, and exactly one of them is left running
    assert emulator.calls_to(*STREAMER_CREATE) == 2
    assert all(state.live for state in states)
    assert any(state.started_now for state in states)
    assert_one_stream(emulator, room)
    # AND a later start (either container) finds it and starts nothing new
    assert first.start_stream(room).started_now is False
    assert_one_stream(emulator, room)
    # AND the viewers get the one stream
    assert call("audience_token", twilio_settings).json()["token"]


def test_twilio_a_start_racing_a_stop_in_another_container_leaves_nothing_running(
    containers: tuple[TwilioProvider, TwilioProvider], emulator: EmulatorServer
) -> None:
    """The start composes the room after the stop looked for composers, before it completed
    the room: the stop looks again once the room is completed and ends what it finds."""
    starter, stopper = containers
    room = starter.create_host_grant().room
    started: list[StreamState] = []
    # WHEN the stop's look for composers (finding none) is answered only after a whole start
    emulator.after_call(*PROCESSOR_LIST, lambda: started.append(starter.start_stream(room)))
    stopped = stopper.stop_stream(room)
    # THEN the start did compose the room meanwhile ...
    assert [s.started_now for s in started] == [True] and stopped.live is False
    assert len(emulator.state.media_processors) == 1
    # ... AND nothing is left running: the stop ended it after completing the room
    assert emulator.state.running() == NOTHING_RUNNING


def test_twilio_two_stops_at_once_in_two_containers_are_both_fine(
    containers: tuple[TwilioProvider, TwilioProvider], emulator: EmulatorServer
) -> None:
    first, second = containers
    room = first.create_host_grant().room
    first.start_stream(room)
    emulator.gate(*PROCESSOR_LIST, parties=2)
    states = at_once(lambda: first.stop_stream(room), lambda: second.stop_stream(room))
    assert [state.live for state in states] == [False, False]
    assert emulator.state.running() == NOTHING_RUNNING


# -- ivs ------------------------------------------------------------------------------------------

ROOM = "livestream-0123456789abcdef"
ARN = stage_arn()


@pytest.fixture
def ivs(monkeypatch: pytest.MonkeyPatch) -> StubbedIvs:
    stubbed = StubbedIvs.create()
    use_ivs_client(monkeypatch, stubbed.client)
    return stubbed


def overlap_list_stages(ivs: StubbedIvs) -> None:
    """Hold each ListStages answer until both callers have one: both see the same stage."""
    barrier = threading.Barrier(2, timeout=WAIT)
    ivs.client.meta.events.register(
        "after-call.ivs-realtime.ListStages", lambda **_: barrier.wait()
    )


def test_ivs_two_starts_at_once_give_one_live_stage(ivs: StubbedIvs) -> None:
    settings = ivs_settings()
    session = session_of(ROOM, settings)
    overlap_list_stages(ivs)
    for _ in range(2):
        ivs.expect_list(summary(ARN, ROOM))
    for _ in range(2):
        ivs.expect("tag_resource", {}, {"resourceArn": ARN, "tags": ANY})
    answers = twice("stream_start", settings, {"session": session})
    # THEN both answer live for the same stage: the room has one stage, and tags are idempotent
    assert [(a.status, a.json()["live"]) for a in answers] == [(200, True), (200, True)]
    assert {a.json()["stageArn"] for a in answers} == {ARN}
    ivs.stubber.assert_no_pending_responses()
    assert {params["resourceArn"] for op, params in ivs.calls if op == "TagResource"} == {ARN}
    assert "CreateStage" not in ivs.operations


def test_ivs_two_stops_at_once_are_both_fine(ivs: StubbedIvs) -> None:
    settings = ivs_settings()
    session = session_of(ROOM, settings)
    overlap_list_stages(ivs)
    for _ in range(2):
        ivs.expect_list(summary(ARN, ROOM, live=True))
    ivs.expect("delete_stage", {}, {"arn": ARN})
    ivs.expect_error("delete_stage", "ResourceNotFoundException", 404)  # the other one won
    answers = twice("stream_stop", settings, {"session": session})
    assert [(a.status, a.json()["live"]) for a in answers] == [(200, False), (200, False)]
    ivs.stubber.assert_no_pending_responses()
