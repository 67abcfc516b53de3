"""One contract for both stream stores: the SQLite file and the DynamoDB table (moto).

Every test runs against each back end. ``make_store()`` gives another store on the same file
or table: a second dev server process, or a second Lambda container handling the same events.
Every DynamoDB call is checked against AWS's own service model and DynamoDB's expression rules
(``dynamodb_call_checks``), since moto accepts much that AWS refuses.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from dynamodb_call_checks import check_every_call
from moto import mock_aws
from streams_table import create_streams_table

from livescreen.config import ConfigError, Settings
from livescreen.store import (
    PARTITION_KEY,
    SORT_KEY,
    TTL_ATTRIBUTE,
    StoreUnavailableError,
    StreamDetails,
    StreamNotFoundError,
    StreamRecord,
    StreamStore,
)
from livescreen.store import dynamodb as dynamodb_store
from livescreen.store import dynamodb_items as items
from livescreen.store import sqlite as sqlite_store

T0 = 1_800_000_000.0
TABLE = "streams-test"
RETENTION_DAYS = 30
DETAILS = StreamDetails("Friday build", "Line one\nLine two", planned_start=T0 + 600, updated_at=T0)

MakeStore = Callable[[], StreamStore]


def create_table(client: Any) -> None:
    """The table as template.yaml declares it."""
    create_streams_table(TABLE, client)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's DynamoDB with the stream table, and a client to look inside it."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client)
        yield client


@pytest.fixture(params=["sqlite", "dynamodb"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> MakeStore:
    if request.param == "sqlite":
        settings = Settings(raw={"STREAMS_DB": str(tmp_path / "data" / "streams.db")})
        return lambda: sqlite_store.create_store(settings)
    request.getfixturevalue("aws")
    settings = Settings(raw={"STREAMS_TABLE": TABLE, "STREAMS_RETENTION_DAYS": str(RETENTION_DAYS)})

    def make() -> StreamStore:
        store = dynamodb_store.create_store(settings)
        check_every_call(store.client)
        return store

    return make


@pytest.fixture
def store(make_store: MakeStore) -> StreamStore:
    return make_store()


def live(store: StreamStore, stream: str = "room-1", at: float = T0) -> None:
    store.stream_started(stream, provider="local", at=at)


# -- details -------------------------------------------------------------------------------


def test_details_round_trip_and_a_new_save_replaces_them(store: StreamStore) -> None:
    # Given a store where no details were ever set
    assert store.get_details() is None
    # When the host saves details, then saves others
    store.put_details(DETAILS)
    assert store.get_details() == DETAILS
    newer = StreamDetails("Saturday build", "", planned_start=None, updated_at=T0 + 5)
    store.put_details(newer)
    # Then the last ones are kept, whole (the planned start is gone)
    assert store.get_details() == newer


def test_a_stream_takes_the_details_and_the_plan_comes_true(store: StreamStore) -> None:
    # Given details with a planned start
    store.put_details(DETAILS)
    # When the stream starts
    record = store.stream_started("room-1", provider="ivs", at=T0 + 700, media_ref="arn:stage/a")
    # Then its record has the title and description, and the planned start is cleared
    assert (record.title, record.description, record.provider) == (
        DETAILS.title,
        DETAILS.description,
        "ivs",
    )
    assert record.started_at == T0 + 700 and record.ended_at is None
    assert store.get("room-1") == record
    details = store.get_details()
    assert details is not None and details.title == DETAILS.title
    assert details.planned_start is None


def test_starting_a_stream_again_changes_nothing(store: StreamStore) -> None:
    # Given a started stream that counted a viewer
    store.put_details(DETAILS)
    first = store.stream_started("room-1", provider="local", at=T0)
    assert store.viewer_joined("room-1", "v1", at=T0 + 1)
    # When its start is reported again, later, after the details changed
    store.put_details(StreamDetails("Another title", updated_at=T0 + 2))
    again = store.stream_started("room-1", provider="twilio", at=T0 + 3)
    # Then the record is the one already kept
    assert (again.title, again.provider, again.started_at) == (first.title, "local", T0)
    assert again.numbers.joins == 1


def test_a_stream_without_details_is_untitled(store: StreamStore) -> None:
    record = store.stream_started("room-1", provider="local", at=T0)
    assert (record.title, record.description) == ("Untitled stream", "")


def test_new_details_while_live_retitle_the_live_stream_only(store: StreamStore) -> None:
    # Given an ended stream and a live one
    live(store, "old", at=T0)
    store.stream_ended("old", at=T0 + 10)
    live(store, "room-1", at=T0 + 20)
    # When the host saves details naming each as the live stream
    store.put_details(StreamDetails("Live now", "desc", updated_at=T0 + 30), live_stream="room-1")
    store.put_details(StreamDetails("Later", updated_at=T0 + 31), live_stream="old")
    # Then the live stream took the first; the ended one kept its title
    live_record = store.get("room-1")
    old_record = store.get("old")
    assert live_record is not None and live_record.title == "Live now"
    assert live_record.description == "desc"
    assert old_record is not None and old_record.title == "Untitled stream"


def test_a_stream_whose_end_never_came_ends_when_the_next_one_starts(store: StreamStore) -> None:
    # Given a stream with a viewer watching and a chat message, whose end is never reported
    live(store, "first", at=T0)
    assert store.viewer_joined("first", "a", at=T0 + 10)
    assert store.chat_message("m1", at=T0 + 20)
    # When the next stream starts
    second = store.stream_started("second", provider="local", at=T0 + 100)
    # Then the first ended as it began, its viewer counted as watching until then
    first = store.get("first")
    assert first is not None and first.ended_at == T0 + 100
    assert (first.numbers.current, first.numbers.viewer_seconds) == (0, 90.0)
    assert not store.viewer_joined("first", "late", at=T0 + 101)
    # And chat counts toward the second only
    assert store.chat_message("m2", at=T0 + 110)
    first, now = store.get("first"), store.get("second")
    assert first is not None and now is not None and second.ended_at is None
    assert (first.numbers.chat_messages, now.numbers.chat_messages) == (1, 1)
    assert [(r.id, r.to_json()["live"]) for r in store.list()] == [
        ("second", True),
        ("first", False),
    ]


# -- counting ------------------------------------------------------------------------------


def test_joins_and_leaves_count_current_peak_viewers_and_minutes(store: StreamStore) -> None:
    live(store)
    # When three viewers join, one leaves after 2 minutes, another joins
    for viewer, at in (("a", T0 + 0), ("b", T0 + 60), ("c", T0 + 60)):
        assert store.viewer_joined("room-1", viewer, at=at)
    assert store.viewer_left("room-1", "a", at=T0 + 120)
    assert store.viewer_joined("room-1", "d", at=T0 + 180)
    record = store.get("room-1")
    # Then three watch now, three at most, four came, and a watched two minutes
    assert record is not None
    assert record.numbers.to_json() == {
        "currentViewers": 3,
        "peakViewers": 3,
        "viewers": 4,
        "viewerMinutes": 2.0,
        "chatMessages": 0,
    }
    # When the stream ends 5 minutes in: b and c watched 4 minutes each, d 2
    ended = store.stream_ended("room-1", at=T0 + 300)
    assert ended is not None and ended.numbers.to_json() == {
        "currentViewers": 0,
        "peakViewers": 3,
        "viewers": 4,
        "viewerMinutes": 12.0,
        "chatMessages": 0,
    }
    assert ended.to_json()["duration"] == 300.0 and ended.to_json()["live"] is False
    assert store.get("room-1") == ended


def test_each_viewer_counts_once_however_often_reported(store: StreamStore) -> None:
    live(store)
    # Given a viewer whose join and leave both arrive twice
    assert store.viewer_joined("room-1", "a", at=T0)
    assert not store.viewer_joined("room-1", "a", at=T0 + 5)
    assert store.viewer_left("room-1", "a", at=T0 + 60)
    assert not store.viewer_left("room-1", "a", at=T0 + 90)
    # And a viewer whose join comes after its leave, then rejoins
    assert store.viewer_left("room-1", "b", at=T0 + 30)
    assert not store.viewer_joined("room-1", "b", at=T0 + 10)
    # Then a counted once (one minute), b once with no minutes, nobody watching now
    record = store.get("room-1")
    assert record is not None
    assert (record.numbers.joins, record.numbers.current) == (2, 0)
    assert record.numbers.viewer_seconds == 60.0
    assert record.numbers.peak == 1


def test_nothing_counts_for_a_stream_not_recorded_or_ended(store: StreamStore) -> None:
    assert not store.viewer_joined("nowhere", "a", at=T0)
    assert not store.viewer_left("nowhere", "a", at=T0)
    assert store.stream_ended("nowhere", at=T0) is None
    live(store)
    assert store.viewer_joined("room-1", "a", at=T0)
    store.stream_ended("room-1", at=T0 + 60)
    # When a viewer joins, and another one leaves, after the end
    assert not store.viewer_joined("room-1", "late", at=T0 + 61)
    assert not store.viewer_left("room-1", "a", at=T0 + 120)
    # Then the end's numbers stand
    record = store.get("room-1")
    assert record is not None
    assert (record.numbers.joins, record.numbers.viewer_seconds) == (1, 60.0)


def test_the_end_closes_a_session_whose_leave_never_came(store: StreamStore) -> None:
    live(store)
    assert store.viewer_joined("room-1", "a", at=T0 + 100)
    # When the stream ends, the end being reported twice, the second time later
    first = store.stream_ended("room-1", at=T0 + 400)
    again = store.stream_ended("room-1", at=T0 + 900)
    # Then the viewer watched until the first end: five minutes, once
    assert first is not None and again == first
    assert (first.ended_at, first.numbers.viewer_seconds, first.numbers.current) == (
        T0 + 400,
        300.0,
        0,
    )


# -- chat ----------------------------------------------------------------------------------


def test_chat_messages_count_once_and_only_while_live(store: StreamStore) -> None:
    # Given nothing live
    assert not store.chat_message("m0", at=T0)
    live(store)
    # When messages arrive, one of them twice
    assert store.chat_message("m1", at=T0 + 1)
    assert store.chat_message("m2", at=T0 + 2)
    assert not store.chat_message("m1", at=T0 + 3)
    store.stream_ended("room-1", at=T0 + 10)
    assert not store.chat_message("m3", at=T0 + 11)
    # Then the stream counted two
    record = store.get("room-1")
    assert record is not None and record.numbers.chat_messages == 2


def test_chat_counts_toward_the_stream_started_last(store: StreamStore) -> None:
    live(store, "first", at=T0)
    store.stream_ended("first", at=T0 + 5)
    live(store, "second", at=T0 + 10)
    assert store.chat_message("m1", at=T0 + 11)
    first, second = store.get("first"), store.get("second")
    assert first is not None and second is not None
    assert (first.numbers.chat_messages, second.numbers.chat_messages) == (0, 1)


# -- two containers ------------------------------------------------------------------------


def test_two_stores_replaying_the_same_events_count_them_once(make_store: MakeStore) -> None:
    # Given two stores on the same file or table (two processes, two Lambda containers)
    one, two = make_store(), make_store()
    one.put_details(DETAILS)
    events: list[Callable[[StreamStore], object]] = [
        lambda s: s.stream_started("room-1", provider="ivs", at=T0, media_ref="arn:stage/x"),
        lambda s: s.viewer_joined("room-1", "a", at=T0 + 10),
        lambda s: s.viewer_joined("room-1", "b", at=T0 + 20),
        lambda s: s.chat_message("m1", at=T0 + 30),
        lambda s: s.viewer_left("room-1", "a", at=T0 + 70),
        lambda s: s.viewer_left("room-1", "c", at=T0 + 80),
        lambda s: s.stream_ended("room-1", at=T0 + 140),
    ]
    # When each event is handled by both, in turn
    for event in events:
        event(one)
        event(two)
    # Then both read the numbers of a single telling
    record = one.get("room-1")
    assert record == two.get("room-1")
    assert record is not None
    assert record.numbers.to_json() == {
        "currentViewers": 0,
        "peakViewers": 2,
        "viewers": 3,
        "viewerMinutes": 3.0,  # a 60 s, b 120 s, c none
        "chatMessages": 1,
    }


def test_two_stores_interleaving_joins_and_leaves_keep_the_peak(make_store: MakeStore) -> None:
    # Given two stores on the same file or table, taking turns with one stream's viewers
    one, two = make_store(), make_store()
    live(one)
    assert one.viewer_joined("room-1", "a", at=T0 + 1)
    assert two.viewer_joined("room-1", "b", at=T0 + 2)
    assert one.viewer_left("room-1", "a", at=T0 + 3)
    assert two.viewer_left("room-1", "b", at=T0 + 4)
    assert one.viewer_joined("room-1", "c", at=T0 + 5)
    # And each replays an event the other handled
    assert not two.viewer_joined("room-1", "a", at=T0 + 1)
    assert not one.viewer_left("room-1", "b", at=T0 + 4)
    # Then the peak is the two watching at once, whoever counted them
    record = two.get("room-1")
    assert record is not None
    assert (record.numbers.peak, record.numbers.current, record.numbers.joins) == (2, 1, 3)


# -- reading and deleting ------------------------------------------------------------------


def test_streams_are_listed_newest_first(store: StreamStore) -> None:
    for index, stream in enumerate(["b-first", "a-second", "c-third"]):
        live(store, stream, at=T0 + 1000 * index)
        store.stream_ended(stream, at=T0 + 1000 * index + 500)
    assert [record.id for record in store.list()] == ["c-third", "a-second", "b-first"]


def test_a_stream_is_found_by_its_media(store: StreamStore) -> None:
    store.stream_started("room-1", provider="ivs", at=T0, media_ref="arn:aws:ivs:stage/AbC")
    assert store.stream_for_media("arn:aws:ivs:stage/AbC") == "room-1"
    assert store.stream_for_media("arn:aws:ivs:stage/other") is None


def test_a_deleted_stream_is_gone_with_its_counting(store: StreamStore) -> None:
    # Given two streams, one counted viewers and a message
    store.stream_started("room-1", provider="ivs", at=T0, media_ref="arn:stage/1")
    store.viewer_joined("room-1", "a", at=T0 + 1)
    store.chat_message("m1", at=T0 + 2)
    store.stream_ended("room-1", at=T0 + 60)
    live(store, "room-2", at=T0 + 100)
    # When the first is deleted
    store.delete("room-1")
    # Then it is nowhere, a second delete says so, and the other stream stays
    assert store.get("room-1") is None
    assert store.stream_for_media("arn:stage/1") is None
    assert [record.id for record in store.list()] == ["room-2"]
    with pytest.raises(StreamNotFoundError):
        store.delete("room-1")
    assert leftovers(store, "room-1") == []
    # And the same room going live again starts from nothing
    again = store.stream_started("room-1", provider="ivs", at=T0 + 200)
    assert again.numbers.joins == 0
    assert store.viewer_joined("room-1", "a", at=T0 + 201)


def leftovers(store: StreamStore, stream_id: str) -> list[Any]:
    """Whatever the store still keeps of the stream: rows of the file, items of the table."""
    if isinstance(store, sqlite_store.SqliteStreamStore):
        with sqlite3.connect(store.path) as db:
            return [
                *db.execute("SELECT * FROM streams WHERE id = ?", (stream_id,)),
                *db.execute("SELECT * FROM sessions WHERE stream_id = ?", (stream_id,)),
                *db.execute("SELECT * FROM chat_messages WHERE stream_id = ?", (stream_id,)),
            ]
    assert isinstance(store, dynamodb_store.DynamoStreamStore)
    names = {stream_id, f"stream#{stream_id}"}
    return [
        item
        for item in store.client.scan(TableName=TABLE, ConsistentRead=True)["Items"]
        if any(
            value.get("S") in names or str(value.get("S", "")).endswith(f"#{stream_id}")
            for value in item.values()
        )
    ]


# -- what only the DynamoDB table shows --------------------------------------------------------


def dynamo_store(**overrides: str) -> Any:
    raw = {"STREAMS_TABLE": TABLE, "STREAMS_RETENTION_DAYS": str(RETENTION_DAYS), **overrides}
    store = dynamodb_store.create_store(Settings(raw=raw))
    check_every_call(store.client)
    return store


def test_every_item_of_a_stream_expires_after_the_retention(aws: Any) -> None:
    # Given a stream with a viewer, a chat message and its stage
    store = dynamo_store()
    store.put_details(DETAILS)
    store.stream_started("room-1", provider="ivs", at=T0 + 0.5, media_ref="arn:stage/1")
    store.viewer_joined("room-1", "a", at=T0 + 10)
    store.viewer_left("room-1", "b", at=T0 + 20)
    store.chat_message("m1", at=T0 + 30)
    # When the table is read whole
    table = aws.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    expiry = {(i[PARTITION_KEY]["S"], i[SORT_KEY]["S"]): i.get(TTL_ATTRIBUTE) for i in table}
    # Then every item but the channel's details expires 30 days after the stream began
    assert expiry.pop(("details", "details")) is None
    assert len(expiry) >= 6  # record, two sessions, list entry, stage alias, chat mark, live
    assert set(map(str, expiry.values())) == {str({"N": str(int(T0) + 30 * 86400)})}


def test_the_call_checks_catch_a_call_aws_would_refuse(aws: Any) -> None:
    # Given a client checked like the store's
    client = check_every_call(boto3.client("dynamodb"))
    # When a query defines a value its expression never uses, or names an attribute bare
    with pytest.raises(AssertionError, match="values used"):
        client.query(
            TableName=TABLE,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": "pk"},
            ExpressionAttributeValues={":pk": {"S": "x"}, ":unused": {"S": "y"}},
        )
    with pytest.raises(AssertionError, match="bare"):
        client.update_item(
            TableName=TABLE,
            Key={"pk": {"S": "x"}, "sk": {"S": "y"}},
            UpdateExpression="SET current = :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )


def test_a_missing_table_is_reported_as_unavailable(aws: Any) -> None:
    # Given a store whose table does not exist
    store = dynamo_store(STREAMS_TABLE="no-such-table")
    # Then every read and write says the store is unavailable, naming the table
    with pytest.raises(StoreUnavailableError, match="no-such-table"):
        store.get("room-1")
    with pytest.raises(StoreUnavailableError, match="no-such-table"):
        store.viewer_joined("room-1", "a", at=T0)


def test_a_table_that_cannot_be_reached_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a DynamoDB endpoint nobody answers on (a closed local port)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    store = dynamo_store()
    # Then a read fails with StoreUnavailableError, not botocore's own error
    with pytest.raises(StoreUnavailableError, match="could not be reached"):
        store.get_details()


def test_a_dynamodb_store_needs_its_table_named() -> None:
    with pytest.raises(ConfigError, match="STREAMS_TABLE"):
        dynamodb_store.create_store(Settings(raw={"STREAMS_TABLE": " "}))


def cancelled(stubber: Stubber, *codes: str) -> None:
    """The next TransactWriteItems is cancelled for these reasons, one per write."""
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message=f"Transaction cancelled [{', '.join(codes)}]",
        http_status_code=400,
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


@pytest.mark.parametrize(
    "codes",
    [
        ("None", "ThrottlingError"),
        ("ValidationError", "None"),
        ("ProvisionedThroughputExceeded", "ConditionalCheckFailed"),
        ("TransactionConflict", "None"),
    ],
)
def test_a_transaction_cancelled_for_another_reason_than_a_condition_is_unavailable(
    aws: Any, codes: tuple[str, ...]
) -> None:
    # Given a live stream, whose record the table returns
    store = dynamo_store()
    record = items.record_item(StreamRecord("room-1", "ivs", "t", "", started_at=T0))
    with Stubber(store.client) as stubber:
        stubber.add_response("get_item", {"Item": record})
        # When the join's transaction is cancelled for that reason (a conflict, every time)
        for _ in range(3 if "TransactionConflict" in codes else 1):
            cancelled(stubber, *codes)
        # Then the join is not taken for one already counted: the store says it is unavailable
        with pytest.raises(StoreUnavailableError, match="TransactionCanceledException"):
            store.viewer_joined("room-1", "a", at=T0 + 1)
        stubber.assert_no_pending_responses()


def test_a_transaction_whose_condition_failed_only_is_a_no(aws: Any) -> None:
    # Given a live stream that counted a viewer
    store = dynamo_store()
    live(store)
    record = store.client.get_item(TableName=TABLE, Key=items.record_key("room-1"))["Item"]
    with Stubber(store.client) as stubber:
        stubber.add_response("get_item", {"Item": record})
        # When a conflict, then a failed condition, cancel the join's transaction
        cancelled(stubber, "TransactionConflict", "None")
        cancelled(stubber, "ConditionalCheckFailed", "None")
        stubber.add_response("update_item", {})  # the peak, raised whatever the answer
        # Then the join answers "not counted", without an error
        assert not store.viewer_joined("room-1", "a", at=T0 + 1)
        stubber.assert_no_pending_responses()


def fail_calls(client: Any, operation: str, match: Callable[[dict[str, Any]], bool]) -> list[int]:
    """Make the client's calls of ``operation`` whose parameters ``match`` be refused (access
    denied), while the returned list holds a 1: empty it to let them through again."""
    failing = [1]

    def refuse(params: dict[str, Any], **_: Any) -> Any:
        if failing and match(json.loads(params["body"])):
            error = {"Code": "AccessDeniedException", "Message": "not authorized"}
            return AWSResponse("https://dynamodb", 400, {}, None), {"Error": error}
        return None

    client.meta.events.register(f"before-call.dynamodb.{operation}", refuse)
    return failing


def test_a_join_whose_peak_was_lost_still_counts_in_the_peak(aws: Any) -> None:
    # Given a live stream, and a container whose raise of the peak fails after the join counted
    store, other = dynamo_store(), dynamo_store()
    live(store)
    failing = fail_calls(
        store.client, "UpdateItem", lambda p: "SET #peakViewers" in p["UpdateExpression"]
    )
    with pytest.raises(StoreUnavailableError):
        store.viewer_joined("room-1", "a", at=T0 + 1)
    # When another container counts the viewer's leave
    assert other.viewer_left("room-1", "a", at=T0 + 60)
    # Then the peak counts the viewer, and the minute watched
    record = other.get("room-1")
    assert record is not None
    assert (record.numbers.peak, record.numbers.joins, record.numbers.viewer_seconds) == (1, 1, 59)
    # And a replayed join repairs a lost peak too
    assert other.viewer_joined("room-1", "b", at=T0 + 61)
    failing.clear()
    assert not store.viewer_joined("room-1", "b", at=T0 + 61)
    record = other.get("room-1")
    assert record is not None and record.numbers.peak == 1


def test_the_live_stream_is_written_with_the_start_itself(aws: Any) -> None:
    # Given a table that refuses every single PutItem (only the start's transaction goes through)
    store = dynamo_store()
    fail_calls(store.client, "PutItem", lambda p: True)
    # When a stream starts
    live(store)
    # Then chat already counts toward it
    assert store.chat_message("m1", at=T0 + 1)
    record = store.get("room-1")
    assert record is not None and record.numbers.chat_messages == 1


def test_a_start_that_cannot_end_the_stream_left_open_is_still_recorded(
    aws: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a stream left open, and a start whose reads of the sessions are refused (Query)
    store = dynamo_store()
    live(store, "first", at=T0)
    assert store.viewer_joined("first", "a", at=T0 + 10)
    failing = fail_calls(store.client, "Query", lambda p: True)
    # When the next stream starts
    with caplog.at_level(logging.WARNING, logger="livescreen.store.dynamodb"):
        live(store, "second", at=T0 + 100)
    # Then it is recorded and live, the first marked ended, and the failure logged
    assert "the stream first, still open, could not be ended" in caplog.text
    assert store.chat_message("m1", at=T0 + 101)
    first, second = store.get("first"), store.get("second")
    assert first is not None and first.ended_at == T0 + 100
    assert second is not None and second.numbers.chat_messages == 1
    # And the first's end, when it comes, closes its viewer's session as of its end
    failing.clear()
    ended = store.stream_ended("first", at=T0 + 500)
    assert ended is not None and ended.numbers.viewer_seconds == 90.0
