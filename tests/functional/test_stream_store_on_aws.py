"""A stream's details and numbers through the deployed functions, with the stack's DynamoDB store.

The host's and the audience's endpoints run through the same adapter Lambda runs, with
``STREAM_STORE=dynamodb`` and the ``ivs`` provider: the stream table (created with the keys
``livescreen.store`` names) and the recordings bucket are moto's, IVS is botocore's Stubber
(every request and canned answer checked against AWS's model). IVS Chat's review handler is
called as IVS Chat invokes it, configured by its environment as the stack deploys it. What is
checked is what the host and the audience see: the details, the live and final numbers, and
the streams the recordings page lists by title.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import ANY
from faults_support import session_of, use_ivs_client
from ivs_recordings_support import BUCKET, Layout, write_recording
from ivs_support import StubbedIvs, ivs_settings, stage_arn, summary
from moto import mock_aws
from streams_table import create_streams_table

from livescreen.chat.ivschat import review
from livescreen.config import Settings
from livescreen.devserver.invoke import InvokeResult, invoke
from livescreen.providers import clear_provider_cache
from livescreen.recordings import clear_store_cache as clear_recordings_cache
from livescreen.security import password_guard
from livescreen.store import clear_store_cache

TABLE = "livescreen-streams-test"
STAGE_ID = "AbCdEfGh1234"
ARN = stage_arn(STAGE_ID)
ROOM = "livestream-0123456789abcdef"
SESSION = "st-1AbCdEfGhIjKl"
#: The host's participant recording on the room's stage, as IVS writes it to the bucket.
RECORDING = Layout(STAGE_ID, SESSION, "hostParticipant01", "2025-06-15T13-03-30Z")
#: An offset that is not a whole hour, far from the test run's own zone.
KATHMANDU = timezone(timedelta(hours=5, minutes=45))
LIST_PARAMS = {"maxResults": 100}
CHAT_ROOM_ARN = "arn:aws:ivschat:us-east-1:123456789012:room/AbCdEf123456"


def create_stream_table() -> None:
    create_streams_table(TABLE)


def forget() -> None:
    """A new container: no cached provider or store, no throttled address, no sender counted."""
    clear_provider_cache()
    clear_store_cache()
    clear_recordings_cache()
    password_guard.throttle.reset()
    review.sender_rate.reset()


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The ``ivs`` settings of the deployed functions: the stream store in a moto table, the
    recordings in a moto bucket (with the host's recording of the room's stage)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    forget()
    with mock_aws():
        create_stream_table()
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        write_recording(
            s3,
            RECORDING,
            started="2025-06-15T13:03:31Z",
            ended="2025-06-15T14:03:20Z",
            duration_ms=3_589_000,
        )
        yield ivs_settings(
            STREAM_STORE="dynamodb",
            STREAMS_TABLE=TABLE,
            RECORDING="on",
            RECORDINGS_BUCKET=BUCKET,
        )
        forget()


@pytest.fixture
def ivs(monkeypatch: pytest.MonkeyPatch) -> StubbedIvs:
    stubbed = StubbedIvs.create()
    use_ivs_client(monkeypatch, stubbed.client)
    return stubbed


@pytest.fixture
def reviewer_environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chat reviewer's environment as template.yaml sets it (it reads no other setting)."""
    monkeypatch.setenv("STREAM_STORE", "dynamodb")
    monkeypatch.setenv("STREAMS_TABLE", TABLE)
    monkeypatch.setenv("STREAMS_RETENTION_DAYS", "30")


def host_call(name: str, settings: Settings, body: dict[str, Any]) -> InvokeResult:
    """A host's POST carrying the host session in its header, as the host page sends it."""
    return invoke(
        name, body, settings=settings, headers={"X-Host-Session": session_of(ROOM, settings)}
    )


def viewer_participant(joined: datetime) -> dict[str, Any]:
    """A viewer still watching, as ListParticipants answers it."""
    return {
        "participantId": "viewerParticipant1",
        "userId": "viewer-1a2b3c4d5e6f",
        "state": "CONNECTED",
        "firstJoinTime": joined,
        "published": False,
        "recordingState": "DISABLED",
        "replicationType": "NONE",
    }


HOST = {
    "participantId": "hostParticipant01",
    "userId": "host",
    "state": "CONNECTED",
    "firstJoinTime": datetime(2025, 6, 15, 13, 3, 30, tzinfo=UTC),
    "published": True,
    "recordingState": "ACTIVE",
    "replicationType": "NONE",
}


def chat_message(message_id: str, content: str = "hello from the audience") -> dict[str, Any]:
    """A SendMessage as IVS Chat hands it to the review handler."""
    return {
        "Content": content,
        "MessageId": message_id,
        "RoomArn": CHAT_ROOM_ARN,
        "Attributes": {},
        "Sender": {
            "Attributes": {"displayName": "Vee", "role": "viewer"},
            "UserId": "viewer-0123456789abcdef",
            "Ip": "203.0.113.7",
        },
    }


def expect_live_stage(ivs: StubbedIvs, viewer: dict[str, Any]) -> None:
    """ListStages finds the room's live stage; its session has the host and one viewer."""
    ivs.expect_list(
        {**summary(ARN, ROOM, live=True), "activeSessionId": SESSION}, params=LIST_PARAMS
    )
    ivs.expect(
        "list_participants",
        {"participants": [HOST, viewer]},
        {"stageArn": ARN, "sessionId": SESSION, "maxResults": 100},
    )


def test_a_stream_from_its_details_to_its_recording(
    settings: Settings, ivs: StubbedIvs, reviewer_environment: None
) -> None:
    # GIVEN the host, not live yet, plans tomorrow's stream with the password (a time in
    # Kathmandu's zone, to the second)
    planned = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).astimezone(KATHMANDU)
    saved = invoke(
        "stream_details",
        {
            "password": settings["HOST_PASSWORD"],
            "title": "  Friday build  ",
            "description": "Wiring the store.\nQuestions welcome.",
            "plannedStart": planned.isoformat(),
        },
        settings=settings,
    )
    assert saved.status == 200, saved.text
    assert saved.json()["details"]["title"] == "Friday build"

    # WHEN anyone asks for the details
    read = invoke("stream_details", method="GET", settings=settings)
    # THEN they are the saved ones, never cached, the planned start the same instant
    assert read.status == 200, read.text
    assert read.headers.get("cache-control") == "no-store"
    details = read.json()
    assert details["store"] is True
    assert details["details"]["title"] == "Friday build"
    assert details["details"]["description"] == "Wiring the store.\nQuestions welcome."
    assert datetime.fromisoformat(details["details"]["plannedStart"]) == planned

    # WHEN the host goes live on the room's stage
    ivs.expect_list(summary(ARN, ROOM), params=LIST_PARAMS)
    ivs.expect("tag_resource", {}, {"resourceArn": ARN, "tags": ANY})
    started = host_call("stream_start", settings, {})
    # THEN the stream carries the planned details, and the plan came true (no planned start)
    assert started.status == 200, started.text
    assert started.json()["details"] == {
        "title": "Friday build",
        "description": "Wiring the store.\nQuestions welcome.",
    }
    after = invoke("stream_details", method="GET", settings=settings).json()["details"]
    assert after["title"] == "Friday build" and after["plannedStart"] is None

    # WHEN the host renames the live stream from its page (the host session)
    renamed = host_call("stream_details", settings, {"title": "Friday build: the store"})
    assert renamed.status == 200, renamed.text
    # AND a viewer chats, IVS Chat asking the reviewer about the message (twice: a retry)
    for _ in range(2):
        assert review.handler(chat_message("MsgAbCdEf0001"), None)["ReviewResult"] == "ALLOW"
    # AND the host's page asks for the live numbers, one viewer on the stage
    expect_live_stage(ivs, viewer_participant(datetime.now(UTC)))
    stats = host_call("stream_stats", settings, {})

    # THEN the host sees the new title, one viewer watching and one chat message (counted once)
    assert stats.status == 200, stats.text
    live = stats.json()["stream"]
    assert (live["id"], live["title"], live["live"]) == (ROOM, "Friday build: the store", True)
    assert (live["currentViewers"], live["peakViewers"], live["viewers"]) == (1, 1, 1)
    assert live["chatMessages"] == 1

    # WHEN the host, signed in on another device with the password, renames it again
    again = invoke(
        "stream_details",
        {"password": settings["HOST_PASSWORD"], "title": "Friday build: the DynamoDB store"},
        settings=settings,
    )
    assert again.status == 200, again.text
    # AND stops the stream (the stage's audience counted before it is deleted)
    expect_live_stage(ivs, viewer_participant(datetime.now(UTC)))
    ivs.expect("delete_stage", {}, {"arn": ARN})
    stopped = host_call("stream_stop", settings, {})

    # THEN the summary has the final title and numbers: nobody left watching, one at the peak
    assert stopped.status == 200, stopped.text
    final = stopped.json()["summary"]
    assert (final["title"], final["live"]) == ("Friday build: the DynamoDB store", False)
    assert (final["currentViewers"], final["peakViewers"], final["viewers"]) == (0, 1, 1)
    assert final["chatMessages"] == 1 and final["duration"] is not None
    assert 0 <= final["viewerMinutes"] < 1  # the viewer watched from its join to the stop
    ivs.stubber.assert_no_pending_responses()

    # WHEN the host lists the recordings
    listed = invoke(
        "recordings",
        method="GET",
        settings=settings,
        headers={"X-Host-Session": session_of(ROOM, settings)},
    )
    # THEN the stream is listed by its title with its numbers, and its stage's recording is
    # its recording, titled like it
    assert listed.status == 200, listed.text
    body = listed.json()
    (stream,) = body["streams"]
    assert (stream["id"], stream["title"]) == (ROOM, "Friday build: the DynamoDB store")
    assert (stream["peakViewers"], stream["viewers"], stream["chatMessages"]) == (1, 1, 1)
    assert stream["recordingIds"] == [RECORDING.id]
    (recording,) = body["recordings"]
    assert (recording["id"], recording["streamId"]) == (RECORDING.id, ROOM)
    assert recording["title"] == "Friday build: the DynamoDB store"


def test_a_chat_message_while_nothing_is_live_is_allowed_and_counted_nowhere(
    settings: Settings, reviewer_environment: None
) -> None:
    # GIVEN no stream live
    # WHEN a message is reviewed
    answer = review.handler(chat_message("MsgAbCdEf0002"), None)
    # THEN it is allowed unchanged, and no stream is listed with it
    assert answer == {"ReviewResult": "ALLOW", "Content": "hello from the audience"}
    listed = invoke(
        "recordings",
        method="GET",
        settings=settings,
        headers={"X-Host-Session": session_of(ROOM, settings)},
    )
    assert listed.status == 200, listed.text
    assert listed.json()["streams"] == []


def test_a_chat_message_is_allowed_when_the_stream_table_cannot_be_reached(
    settings: Settings,
    reviewer_environment: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN the reviewer's table does not exist (a misconfigured or deleted table)
    monkeypatch.setenv("STREAMS_TABLE", "no-such-table")
    # WHEN a message is reviewed
    with caplog.at_level(logging.WARNING):
        answer = review.handler(chat_message("MsgAbCdEf0003"), None)
    # THEN it is allowed all the same, and why it was not counted is logged (not its text)
    assert answer == {"ReviewResult": "ALLOW", "Content": "hello from the audience"}
    assert "chat message not counted" in caplog.text and "no-such-table" in caplog.text
    assert "hello from the audience" not in caplog.text


def test_a_stream_whose_end_never_came_ends_when_the_next_one_starts(
    settings: Settings, ivs: StubbedIvs
) -> None:
    # GIVEN a stream live with one viewer counted, whose host's tab then crashed: no stop came,
    # and the stage is gone (deleted by the reaper, whose count of it was lost)
    ivs.expect_list(summary(ARN, ROOM), params=LIST_PARAMS)
    ivs.expect("tag_resource", {}, {"resourceArn": ARN, "tags": ANY})
    assert host_call("stream_start", settings, {}).status == 200
    expect_live_stage(ivs, viewer_participant(datetime.now(UTC) - timedelta(minutes=2)))
    assert host_call("stream_stats", settings, {}).json()["stream"]["currentViewers"] == 1

    # WHEN the host signs in again and goes live in a new room on a new stage
    room, arn = "livestream-fedcba9876543210", stage_arn("NeXtStAgE123")
    ivs.expect_list(summary(arn, room), params=LIST_PARAMS)
    ivs.expect("tag_resource", {}, {"resourceArn": arn, "tags": ANY})
    started = invoke(
        "stream_start",
        {},
        settings=settings,
        headers={"X-Host-Session": session_of(room, settings)},
    )
    assert started.status == 200, started.text

    # THEN the stream left open is over, its viewer counted as watching until the new start,
    # and only the new stream is live
    listed = invoke(
        "recordings",
        method="GET",
        settings=settings,
        headers={"X-Host-Session": session_of(room, settings)},
    ).json()["streams"]
    assert [(s["id"], s["live"]) for s in listed] == [(room, True), (ROOM, False)]
    old = listed[1]
    assert (old["currentViewers"], old["peakViewers"], old["viewers"]) == (0, 1, 1)
    assert old["viewerMinutes"] >= 2
    ivs.stubber.assert_no_pending_responses()
