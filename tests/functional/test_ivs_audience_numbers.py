"""An IVS stream's audience, read from IVS's participant records into the DynamoDB store.

IVS sends no EventBridge event for a viewer (a viewer only subscribes), so the app reads the
stage session's participants (``ListParticipants``) and, for those who left, when they left
(``ListParticipantEvents``), within a deadline, and writes them to the store after the stage is
deleted. IVS is botocore's Stubber (every request and canned answer checked
against AWS's model); the store is the DynamoDB back end on moto. The host's stop, the host's
leaving (the stage-events function) and the live refresh all count through the real code.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from faults_support import call, session_of, use_ivs_client
from ivs_support import APP_TAG, FakeClock, StubbedIvs, ivs_settings, load_event, stage_arn, summary
from moto import mock_aws
from streams_table import create_streams_table

from livescreen.config import Settings
from livescreen.providers import clear_provider_cache
from livescreen.providers.ivs import reaper, stage_events
from livescreen.providers.ivs.audience import (
    AudienceCount,
    CountedViewers,
    apply_audience,
    read_audience,
)
from livescreen.providers.ivs.provider import AUDIENCE_REFRESH_SECONDS, IvsProvider
from livescreen.store import (
    StreamRecord,
    StreamStore,
    clear_store_cache,
    get_stream_store,
)

TABLE = "livescreen-streams-test"
ROOM = "livestream-0123456789abcdef"
ARN = stage_arn("AbCdEfGh1234")
SESSION = "st-1AbCdEfGhIjKl"  # the session the recorded host-unpublished event names
#: the recorded event's time: 2025-06-15T14:03:26Z
EVENT_AT = datetime(2025, 6, 15, 14, 3, 26, tzinfo=UTC).timestamp()
T0 = EVENT_AT - 3600  # the stream went live an hour before the host left


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


def participant(pid: str, user: str, joined: float, state: str = "CONNECTED") -> dict[str, Any]:
    """A participant as ListParticipants answers (fields of AWS's ParticipantSummary)."""
    return {
        "participantId": pid,
        "userId": user,
        "state": state,
        "firstJoinTime": at(joined),
        "published": user == "host",
        "recordingState": "DISABLED",
        "replicationType": "NONE",
    }


HOST = participant("hostParticipant01", "host", 0)
#: joined at +60 s, left at +600 s
FIRST = participant("viewerParticipant1", "viewer-1a2b3c4d5e6f", 60, "DISCONNECTED")
#: joined at +120 s, still watching
SECOND = participant("viewerParticipant2", "viewer-2b3c4d5e6f7a", 120)
#: joined at +180 s; its leave never reached IVS's records before the end (still CONNECTED)
THIRD = participant("viewerParticipant3", "viewer-3c4d5e6f7a8b", 180)
FIRST_LEFT_AT = 600


def first_viewers_events() -> dict[str, Any]:
    """FIRST's events as ListParticipantEvents answers: joined, watched the host, left."""
    pid = FIRST["participantId"]
    return {
        "events": [
            {"name": "JOINED", "participantId": pid, "eventTime": at(60)},
            {
                "name": "SUBSCRIBE_STARTED",
                "participantId": pid,
                "remoteParticipantId": HOST["participantId"],
                "eventTime": at(61),
            },
            {
                "name": "SUBSCRIBE_STOPPED",
                "participantId": pid,
                "remoteParticipantId": HOST["participantId"],
                "eventTime": at(FIRST_LEFT_AT),
            },
            {"name": "LEFT", "participantId": pid, "eventTime": at(FIRST_LEFT_AT)},
        ]
    }


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """IVS settings with the DynamoDB stream store, its table in moto."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    clear_store_cache()
    clear_provider_cache()
    with mock_aws():
        create_streams_table(TABLE)
        yield ivs_settings(STREAM_STORE="dynamodb", STREAMS_TABLE=TABLE)
        clear_store_cache()
        clear_provider_cache()


@pytest.fixture
def store(settings: Settings) -> StreamStore:
    """The store, with the room's stream recorded live at T0 on the stage (as /stream_start
    records it)."""
    found = get_stream_store(settings)
    assert found is not None
    found.stream_started(ROOM, provider="ivs", at=T0, media_ref=ARN)
    return found


@pytest.fixture
def ivs() -> StubbedIvs:
    return StubbedIvs.create()


def expect_participants(ivs: StubbedIvs, *pages: list[dict[str, Any]]) -> None:
    """ListParticipants answering ``pages`` in turn (each page but the last with a token)."""
    for number, page in enumerate(pages):
        response: dict[str, Any] = {"participants": page}
        params: dict[str, Any] = {"stageArn": ARN, "sessionId": SESSION, "maxResults": 100}
        if number + 1 < len(pages):
            response["nextToken"] = f"page{number + 2}"
        if number:
            params["nextToken"] = f"page{number + 1}"
        ivs.expect("list_participants", response, params)


def expect_first_viewers_leave(ivs: StubbedIvs) -> None:
    ivs.expect(
        "list_participant_events",
        first_viewers_events(),
        {
            "stageArn": ARN,
            "sessionId": SESSION,
            "participantId": FIRST["participantId"],
            "maxResults": 100,
        },
    )


def numbers(record: StreamRecord | None) -> tuple[int, int, int]:
    assert record is not None
    return record.numbers.current, record.numbers.peak, record.numbers.joins


def count(
    ivs: StubbedIvs, store: StreamStore, counted: CountedViewers, *, final: bool = False
) -> AudienceCount:
    """Read IVS's records (10 s, calls of at most 1 s), then write them to the store."""
    clock = FakeClock(EVENT_AT)
    read = read_audience(
        ivs.client,
        stage_arn=ARN,
        session_id=SESSION,
        host_identity="host",
        deadline=EVENT_AT + 10,
        call_limit=1.0,
        counted=counted,
        clock=clock,
        sleep=clock.advance,
    )
    return apply_audience(
        store,
        read,
        stream_id=ROOM,
        final=final,
        deadline=clock.now + 10,
        counted=counted,
        clock=clock,
    )


class SlowIvs:
    """Each IVS call takes ``seconds`` of the fake clock (IVS answering slowly)."""

    def __init__(self, ivs: StubbedIvs, clock: FakeClock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        ivs.client.meta.events.register("before-parameter-build.ivs-realtime.*", self._call)

    def _call(self, **_: Any) -> None:
        self.clock.advance(self.seconds)


def test_three_viewers_one_leaving_one_leave_lost_counted_once_and_closed_at_the_end(
    ivs: StubbedIvs, store: StreamStore
) -> None:
    # GIVEN IVS's records: the host, and three viewers of whom the first left at +600 s; the
    # first is listed twice (once on each page)
    expect_participants(ivs, [HOST, FIRST, SECOND], [THIRD, FIRST])
    expect_first_viewers_leave(ivs)

    # WHEN the audience is counted
    result = count(ivs, store, CountedViewers())

    # THEN three viewers were counted in, all three watching at once at the peak, two now;
    # the host is no viewer and the first viewer's leave was asked for once
    assert numbers(store.get(ROOM)) == (2, 3, 3)
    assert (result.joins, result.leaves, result.incomplete) == (3, 1, False)
    assert ivs.operations == ["ListParticipants", "ListParticipants", "ListParticipantEvents"]

    # WHEN another container counts the same records again
    expect_participants(ivs, [HOST, FIRST, SECOND, THIRD])
    expect_first_viewers_leave(ivs)
    again = count(ivs, store, CountedViewers())
    # THEN nothing is counted twice
    assert (again.joins, again.leaves) == (0, 0)
    assert numbers(store.get(ROOM)) == (2, 3, 3)

    # WHEN the stream ends an hour after it began
    ended = store.stream_ended(ROOM, at=T0 + 3600)

    # THEN the viewer whose leave never came is closed at the end: 9 + 58 + 57 minutes watched
    assert numbers(ended) == (0, 3, 3)
    assert ended is not None
    assert ended.numbers.viewer_seconds == pytest.approx(540 + 3480 + 3420)


def test_one_container_asks_ivs_for_a_leave_once(ivs: StubbedIvs, store: StreamStore) -> None:
    counted = CountedViewers()
    # GIVEN a first count in this container
    expect_participants(ivs, [HOST, FIRST, SECOND])
    expect_first_viewers_leave(ivs)
    count(ivs, store, counted)
    # WHEN it counts again and a third viewer has joined
    expect_participants(ivs, [HOST, FIRST, SECOND, THIRD])
    result = count(ivs, store, counted)
    # THEN only the list was read again, and only the newcomer counted in
    assert ivs.operations[-1] == "ListParticipants"
    assert ivs.operations.count("ListParticipantEvents") == 1
    assert (result.joins, result.leaves) == (1, 0)
    # (the first had left before the third came: never three at once)
    assert numbers(store.get(ROOM)) == (2, 2, 3)
    ivs.stubber.assert_no_pending_responses()


def test_calls_are_paced_and_a_leave_not_read_in_time_is_counted_only_at_the_end(
    ivs: StubbedIvs, store: StreamStore
) -> None:
    # GIVEN two viewers who left, and a deadline leaving time to start calls for 0.3 s (each
    # call may take 1 s): two calls 0.25 s apart
    left_unread = {**SECOND, "state": "DISCONNECTED"}
    expect_participants(ivs, [HOST, FIRST, left_unread, THIRD])
    expect_first_viewers_leave(ivs)
    clock = FakeClock(EVENT_AT)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    # WHEN the audience is read
    read = read_audience(
        ivs.client,
        stage_arn=ARN,
        session_id=SESSION,
        host_identity="host",
        deadline=EVENT_AT + 1.3,
        call_limit=1.0,
        clock=clock,
        sleep=sleep,
    )
    # THEN the second call waited its turn and no third was made (the second viewer's leave)
    assert ivs.operations == ["ListParticipants", "ListParticipantEvents"]
    assert sleeps == [0.25]
    assert not read.complete

    # WHEN a live count writes what was read
    counted = CountedViewers()
    live = apply_audience(
        store,
        read,
        stream_id=ROOM,
        final=False,
        deadline=clock.now + 10,
        counted=counted,
        clock=clock,
    )
    # THEN the viewer gone whose leave was not read is not counted as watching: one watching,
    # never more than two at once (counted in, it would make two watching and a peak of three)
    assert (live.joins, live.leaves, live.incomplete) == (2, 1, True)
    assert numbers(store.get(ROOM)) == (1, 2, 2)

    # WHEN the final count writes the same read, and the stream ends an hour after it began
    final = apply_audience(
        store,
        read,
        stream_id=ROOM,
        final=True,
        deadline=clock.now + 10,
        counted=counted,
        clock=clock,
    )
    ended = store.stream_ended(ROOM, at=T0 + 3600)
    # THEN that viewer is counted, joined and left at once: no minutes, the peak unchanged
    assert (final.joins, final.leaves) == (1, 1)
    assert numbers(ended) == (0, 2, 3)
    assert ended is not None
    assert ended.numbers.viewer_seconds == pytest.approx(540 + 3420)


def test_an_apply_past_its_deadline_starts_no_write(ivs: StubbedIvs, store: StreamStore) -> None:
    # GIVEN IVS's records of three viewers, read in time
    expect_participants(ivs, [HOST, FIRST, SECOND, THIRD])
    expect_first_viewers_leave(ivs)
    clock = FakeClock(EVENT_AT)
    read = read_audience(
        ivs.client,
        stage_arn=ARN,
        session_id=SESSION,
        host_identity="host",
        deadline=EVENT_AT + 10,
        call_limit=1.0,
        clock=clock,
        sleep=clock.advance,
    )
    writes: list[str] = []
    joined = store.viewer_joined

    def slow_join(stream_id: str, viewer_id: str, *, at: float) -> bool:
        writes.append(viewer_id)
        clock.advance(1)  # each write takes a second
        return joined(stream_id, viewer_id, at=at)

    store.viewer_joined = slow_join  # type: ignore[method-assign]
    # WHEN it is written with 1.5 s to go
    result = apply_audience(
        store, read, stream_id=ROOM, final=True, deadline=clock.now + 1.5, clock=clock
    )
    # THEN the writes stop at the deadline: the first two joins only, and it says so
    assert writes == [FIRST["participantId"], SECOND["participantId"]]
    assert (result.joins, result.leaves, result.incomplete) == (2, 0, True)
    assert numbers(store.get(ROOM)) == (2, 2, 2)


def test_a_live_refresh_that_cannot_read_a_leave_in_time_does_not_raise_the_numbers(
    ivs: StubbedIvs, store: StreamStore, settings: Settings
) -> None:
    clock = FakeClock(EVENT_AT)
    slow = SlowIvs(ivs, clock, seconds=2.5)
    provider = IvsProvider(settings, client=ivs.client, clock=clock, sleep=clock.advance)
    # GIVEN the live stage, IVS answering in 2.5 s: time for two calls of the count; two
    # viewers gone (the first's leave is read, the second's is not), one watching
    left_unread = {**SECOND, "state": "DISCONNECTED"}
    ivs.expect_list({**summary(ARN, ROOM, live=True), "activeSessionId": SESSION})
    expect_participants(ivs, [HOST, FIRST, left_unread, THIRD])
    expect_first_viewers_leave(ivs)

    # WHEN the host's page polls
    provider.refresh_audience(ROOM)

    # THEN the viewer whose leave was not read is not counted as still watching
    assert ivs.operations == ["ListStages", "ListParticipants", "ListParticipantEvents"]
    assert numbers(store.get(ROOM)) == (1, 2, 2)

    # WHEN the host stops, IVS now answering in 4 s: the count can make one call only
    slow.seconds = 4
    ivs.expect_list({**summary(ARN, ROOM, live=True), "activeSessionId": SESSION})
    expect_participants(ivs, [HOST, FIRST, left_unread, THIRD])
    ivs.expect("delete_stage", {}, {"arn": ARN})
    provider.stop_stream(ROOM)
    ended = store.stream_ended(ROOM, at=T0 + 3600)  # (as /stream_stop does next)

    # THEN the stage is deleted, and the final count counts that viewer, with no minutes
    assert ivs.operations[3:] == ["ListStages", "ListParticipants", "DeleteStage"]
    ivs.stubber.assert_no_pending_responses()
    assert numbers(ended) == (0, 2, 3)
    assert ended is not None
    assert ended.numbers.viewer_seconds == pytest.approx(540 + 3420)


def test_a_stop_with_no_time_left_for_the_count_still_deletes_the_stage(
    ivs: StubbedIvs, store: StreamStore, settings: Settings
) -> None:
    clock = FakeClock(EVENT_AT)
    SlowIvs(ivs, clock, seconds=16)  # two attempts of UPSTREAM_TIMEOUT=4 s, twice over
    provider = IvsProvider(settings, client=ivs.client, clock=clock, sleep=clock.advance)
    # GIVEN the room's live stage, found only after IVS's slowest answer
    ivs.expect_list({**summary(ARN, ROOM, live=True), "activeSessionId": SESSION})
    ivs.expect("delete_stage", {}, {"arn": ARN})
    # WHEN the host stops
    state = provider.stop_stream(ROOM)
    # THEN the count made no call that could keep the DeleteStage past the timeout
    assert state.live is False
    assert ivs.operations == ["ListStages", "DeleteStage"]
    ivs.stubber.assert_no_pending_responses()


def test_the_host_stopping_counts_the_stage_before_deleting_it(
    ivs: StubbedIvs, store: StreamStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_ivs_client(monkeypatch, ivs.client)
    # GIVEN the room's live stage, its session's participants and the first viewer's leave
    ivs.expect_list({**summary(ARN, ROOM, live=True), "activeSessionId": SESSION})
    expect_participants(ivs, [HOST, FIRST, SECOND, THIRD])
    expect_first_viewers_leave(ivs)
    ivs.expect("delete_stage", {}, {"arn": ARN})

    # WHEN the host stops
    answer = call("stream_stop", settings, {"session": session_of(ROOM, settings)})

    # THEN the stage was read before it was deleted, and the summary has the audience
    assert answer.status == 200, answer.text
    assert ivs.operations == [
        "ListStages",
        "ListParticipants",
        "ListParticipantEvents",
        "DeleteStage",
    ]
    summary_ = answer.json()["summary"]
    assert (summary_["currentViewers"], summary_["peakViewers"], summary_["viewers"]) == (0, 3, 3)
    assert summary_["live"] is False


def test_a_counting_failure_never_keeps_the_stage_or_fails_the_host(
    ivs: StubbedIvs, store: StreamStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_ivs_client(monkeypatch, ivs.client)
    # GIVEN IVS refuses to list the participants
    ivs.expect_list({**summary(ARN, ROOM, live=True), "activeSessionId": SESSION})
    ivs.expect_error("list_participants", "AccessDeniedException", 403)
    ivs.expect("delete_stage", {}, {"arn": ARN})
    # WHEN the host stops
    answer = call("stream_stop", settings, {"session": session_of(ROOM, settings)})
    # THEN the stage is deleted and the stream ended all the same
    assert answer.status == 200, answer.text
    assert ivs.operations[-1] == "DeleteStage"
    assert answer.json()["summary"]["live"] is False


def test_a_store_failure_after_the_read_never_keeps_the_stage_or_fails_the_host(
    ivs: StubbedIvs,
    store: StreamStore,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_ivs_client(monkeypatch, ivs.client)
    # GIVEN the room's live stage and its viewers, and a store that fails to count a join
    ivs.expect_list({**summary(ARN, ROOM, live=True), "activeSessionId": SESSION})
    expect_participants(ivs, [HOST, SECOND])
    ivs.expect("delete_stage", {}, {"arn": ARN})

    def fail(*_: Any, **__: Any) -> bool:
        raise RuntimeError("the table is unreachable")

    monkeypatch.setattr(store, "viewer_joined", fail)
    # WHEN the host stops
    answer = call("stream_stop", settings, {"session": session_of(ROOM, settings)})
    # THEN the stage was read, deleted, and the stream ended all the same
    assert answer.status == 200, answer.text
    assert ivs.operations == ["ListStages", "ListParticipants", "DeleteStage"]
    assert answer.json()["summary"]["live"] is False


def test_the_live_numbers_are_refreshed_at_most_once_per_interval(
    ivs: StubbedIvs, store: StreamStore, settings: Settings
) -> None:
    clock = FakeClock(EVENT_AT)
    provider = IvsProvider(settings, client=ivs.client, clock=clock, sleep=clock.advance)
    # GIVEN the live stage with two viewers watching
    ivs.expect_list({**summary(ARN, ROOM, live=True), "activeSessionId": SESSION})
    expect_participants(ivs, [HOST, SECOND, THIRD])
    # WHEN the host's page polls three times within the interval
    provider.refresh_audience(ROOM)
    provider.refresh_audience(ROOM)
    clock.advance(AUDIENCE_REFRESH_SECONDS - 1)
    provider.refresh_audience(ROOM)
    # THEN IVS was read once and the numbers are in the store
    assert ivs.operations == ["ListStages", "ListParticipants"]
    assert numbers(store.get(ROOM)) == (2, 2, 2)
    # WHEN the interval has passed and the first viewer's record shows up
    clock.advance(1)
    ivs.expect_list({**summary(ARN, ROOM, live=True), "activeSessionId": SESSION})
    expect_participants(ivs, [HOST, FIRST, SECOND, THIRD])
    expect_first_viewers_leave(ivs)
    provider.refresh_audience(ROOM)
    # THEN it is read again: the late record joins and leaves (peak from the time order)
    assert numbers(store.get(ROOM)) == (2, 3, 3)
    ivs.stubber.assert_no_pending_responses()


def as_a_scheduled_function(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, settings: Settings
) -> None:
    """The environment template.yaml gives the stage-events function and the reaper."""
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    for name in ("APP_TAG", "HOST_IDENTITY", "STREAM_STORE", "STREAMS_TABLE"):
        monkeypatch.setenv(name, settings[name])


def expect_the_apps_stage_with_its_host_gone(ivs: StubbedIvs) -> None:
    """What the stage-events function reads first: the stage is the app's, the host left."""
    ivs.expect_get_stage(ARN, tags={"app": APP_TAG, "livescreen:room": ROOM})
    ivs.expect(
        "list_participants",
        {"participants": [{**HOST, "state": "DISCONNECTED"}]},
        {"stageArn": ARN, "sessionId": SESSION, "filterByUserId": "host"},
    )


def test_the_host_leaving_counts_the_stage_through_the_stage_events_function(
    ivs: StubbedIvs,
    store: StreamStore,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    # GIVEN the function's environment (as template.yaml sets it) and its IVS client
    as_a_scheduled_function(monkeypatch, tmp_path, settings)
    monkeypatch.setattr(stage_events, "_client", ivs.client)
    monkeypatch.setattr(stage_events, "_counted", CountedViewers())
    # AND IVS's records: the app's stage, the host gone, three viewers
    expect_the_apps_stage_with_its_host_gone(ivs)
    expect_participants(ivs, [{**HOST, "state": "DISCONNECTED"}, FIRST, SECOND, THIRD])
    expect_first_viewers_leave(ivs)
    ivs.expect("delete_stage", {}, {"arn": ARN})

    # WHEN the recorded "Participant Unpublished" of the host arrives
    result = stage_events.handler(load_event("ivs_stage_update_host_unpublished.json"), None)

    # THEN the audience was counted before the stage was deleted, and the stream ended at the
    # event's time, closing the viewers still open then
    assert result["action"] == "deleted"
    assert ivs.operations == [
        "GetStage",
        "ListParticipants",
        "ListParticipants",
        "ListParticipantEvents",
        "DeleteStage",
    ]
    record = store.get(ROOM)
    assert numbers(record) == (0, 3, 3)
    assert record is not None and record.ended_at == EVENT_AT
    assert record.numbers.viewer_seconds == pytest.approx(540 + 3480 + 3420)


def test_the_reaper_counts_a_stage_before_it_deletes_it(
    ivs: StubbedIvs,
    store: StreamStore,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    # GIVEN the reaper's environment, and the room's stage live for longer than MAX_DURATION
    as_a_scheduled_function(monkeypatch, tmp_path, settings)
    monkeypatch.setenv("MAX_DURATION", "3600")
    clock = FakeClock(EVENT_AT)
    monkeypatch.setattr(reaper, "_client", ivs.client)
    monkeypatch.setattr(reaper, "_clock", clock)
    monkeypatch.setattr(reaper, "_sleep", clock.advance)
    listed = summary(ARN, ROOM, live=True, started_at=int(T0) - 1)
    ivs.expect_list({**listed, "activeSessionId": SESSION}, params={"maxResults": 100})
    expect_participants(ivs, [HOST, FIRST, SECOND, THIRD])
    expect_first_viewers_leave(ivs)
    ivs.expect("delete_stage", {}, {"arn": ARN})

    # WHEN the schedule fires
    result = reaper.handler({"source": "aws.events", "detail": {}}, None)

    # THEN the audience was counted before the stage went, and the stream ended at the sweep
    assert [d["stageArn"] for d in result["deleted"]] == [ARN]
    assert ivs.operations == [
        "ListStages",
        "ListParticipants",
        "ListParticipantEvents",
        "DeleteStage",
    ]
    record = store.get(ROOM)
    assert numbers(record) == (0, 3, 3)
    assert record is not None and record.ended_at == pytest.approx(clock.now)


def test_the_hosts_live_numbers_come_from_the_stages_records(
    ivs: StubbedIvs, store: StreamStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_ivs_client(monkeypatch, ivs.client)
    # GIVEN the room's live stage with two viewers watching and one gone
    ivs.expect_list({**summary(ARN, ROOM, live=True), "activeSessionId": SESSION})
    expect_participants(ivs, [HOST, FIRST, SECOND, THIRD])
    expect_first_viewers_leave(ivs)
    # WHEN the host's page asks for the numbers twice in a row
    first = call("stream_stats", settings, {"session": session_of(ROOM, settings)})
    second = call("stream_stats", settings, {"session": session_of(ROOM, settings)})
    # THEN IVS's records were read once, and both answers have the audience
    assert first.status == 200, first.text
    assert ivs.operations == ["ListStages", "ListParticipants", "ListParticipantEvents"]
    for answer in (first, second):
        stream = answer.json()["stream"]
        assert (stream["currentViewers"], stream["peakViewers"], stream["viewers"]) == (2, 3, 3)
        assert stream["live"] is True


class LambdaContext:
    """What the Lambda runtime passes: the time the function has left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def test_the_stage_events_function_with_little_time_left_deletes_before_it_counts(
    ivs: StubbedIvs,
    store: StreamStore,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    # GIVEN the function's environment, the app's stage and the host gone
    as_a_scheduled_function(monkeypatch, tmp_path, settings)
    monkeypatch.setattr(stage_events, "_client", ivs.client)
    monkeypatch.setattr(stage_events, "_counted", CountedViewers())
    expect_the_apps_stage_with_its_host_gone(ivs)
    ivs.expect("delete_stage", {}, {"arn": ARN})

    # WHEN the host's "Participant Unpublished" arrives with 12 s left of the function
    result = stage_events.handler(
        load_event("ivs_stage_update_host_unpublished.json"), LambdaContext(12)
    )

    # THEN no count call was started that could keep the DeleteStage past the timeout, the
    # stage is deleted and the stream ended at the event's time
    assert result["action"] == "deleted"
    assert ivs.operations == ["GetStage", "ListParticipants", "DeleteStage"]
    record = store.get(ROOM)
    assert record is not None and record.ended_at == EVENT_AT
