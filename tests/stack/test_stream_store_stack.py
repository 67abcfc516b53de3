"""The stream store on AWS: its table, who may use it, and the IVS functions that count into it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from iam_grants import role_grants
from moto.events.models import EventPattern
from stack_support import ROOT

from livescreen import store
from livescreen.providers.ivs import stage_events

pytestmark = pytest.mark.stack

EVENTS = ROOT / "tests" / "events"
STORE_ENVIRONMENT = {
    "STREAM_STORE": "dynamodb",
    "STREAMS_TABLE": {"Ref": "StreamsTable"},
    "STREAMS_RETENTION_DAYS": {"Ref": "RecordingRetentionDays"},
}
#: the functions whose code reads or writes the stream store
STORE_USERS = {
    "StreamStartFunction",
    "StreamStopFunction",
    "StreamDetailsFunction",
    "StreamStatsFunction",
    "RecordingsFunction",
    "RoomEventsFunction",
    "IvsStageEventsFunction",
    "IvsStageReaperFunction",
    "ChatReviewFunction",
}


def event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def test_the_table_is_on_demand_keyed_and_expiring_as_the_code_expects(
    resources: dict[str, Any],
) -> None:
    table = resources["StreamsTable"]
    # the numbers are the user's: kept on `sam delete` and on a replacement
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = table["Properties"]
    # nothing billed while idle
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in properties
    # THEN the key schema is the code's, both strings, and there is no index
    assert properties["KeySchema"] == [
        {"AttributeName": store.PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": store.SORT_KEY, "KeyType": "RANGE"},
    ]
    assert sorted(properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        [
            {"AttributeName": store.PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": store.SORT_KEY, "AttributeType": "S"},
        ],
        key=lambda a: a["AttributeName"],
    )
    assert "GlobalSecondaryIndexes" not in properties
    # AND items expire on the attribute the code writes, PITR and encryption at rest are on
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": store.TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True


def test_every_function_that_uses_the_store_is_told_where_it_is_and_may_use_only_that_table(
    resources: dict[str, Any],
) -> None:
    functions = {
        name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
    }
    for name, function in functions.items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        grants = [g for g in role_grants(resources, name) if g.action.startswith("dynamodb:")]
        if name not in STORE_USERS:
            # AND a function that keeps nothing neither knows the table nor may touch it
            assert "STREAMS_TABLE" not in variables, name
            assert grants == [], name
            continue
        # THEN the store is DynamoDB (sqlite is refused on Lambda), the table this stack's
        assert {k: variables.get(k) for k in STORE_ENVIRONMENT} == STORE_ENVIRONMENT, name
        # AND every DynamoDB grant names that table's ARN, no wildcard
        assert grants, name
        for grant in grants:
            assert grant.resource == "arn:aws:dynamodb:us-east-1:123456789012:table/streamstable"
            assert "*" not in grant.action


#: IVS Stage Update events AWS documents ("Using Amazon EventBridge with IVS Real-Time
#: Streaming"): publishing only. A viewer never publishes, so none of them is a viewer's.
DOCUMENTED_STAGE_EVENTS = {
    "Participant Published",
    "Participant Unpublished",
    "Participant Publish Error",
    "Participant Replication Started",
    "Participant Replication Stopped",
    "Token Exchanged",
}
#: the functions that count an IVS stream's audience from the stage's participant records
IVS_COUNTERS = {
    "StreamStopFunction",
    "StreamStatsFunction",
    "IvsStageEventsFunction",
    "IvsStageReaperFunction",
}


def test_the_ivs_audience_is_read_from_the_stages_records_by_the_functions_that_count_it(
    resources: dict[str, Any],
) -> None:
    functions = {
        name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
    }
    stage_arns = "arn:aws:ivs:us-east-1:123456789012:stage/*"
    for name in functions:
        actions = {
            g.action
            for g in role_grants(resources, name)
            if g.resource == stage_arns
            and g.action in {"ivs:ListParticipants", "ivs:ListParticipantEvents"}
        }
        # THEN exactly the counting functions may read the participants and their events,
        # on this account's stages, and each of them keeps what it counts in the store
        if name in IVS_COUNTERS:
            assert actions == {"ivs:ListParticipants", "ivs:ListParticipantEvents"}, name
            assert name in STORE_USERS, name
        else:
            assert "ivs:ListParticipantEvents" not in actions, name
    # AND every EventBridge rule on IVS stage updates listens for events AWS does send
    rules = [
        source["Properties"]["Pattern"]
        for function in functions.values()
        for source in function["Properties"].get("Events", {}).values()
        if source["Type"] == "EventBridgeRule"
    ]
    stage_rules = [r for r in rules if r.get("detail-type") == ["IVS Stage Update"]]
    assert stage_rules, "no rule carries the host's stage events"
    for pattern in stage_rules:
        assert set(pattern["detail"]["event_name"]) <= DOCUMENTED_STAGE_EVENTS, pattern
    # AND the one that counts on the host's leaving is the host's own "Participant Unpublished"
    (host_left,) = (
        source["Properties"]
        for source in functions["IvsStageEventsFunction"]["Properties"]["Events"].values()
    )
    pattern = host_left["Pattern"]
    assert pattern["detail"]["event_name"] == sorted(stage_events.HOST_GONE_EVENTS)
    assert pattern["detail"]["user_id"] == [{"Ref": "HostIdentity"}]
    rendered = json.loads(json.dumps(pattern).replace('{"Ref": "HostIdentity"}', '"host"'))
    assert EventPattern.load(json.dumps(rendered)).matches_event(
        event("ivs_stage_update_host_unpublished.json")
    )


def test_the_new_routes_are_throttled_like_their_neighbours(resources: dict[str, Any]) -> None:
    routes = resources["HttpApi"]["Properties"]["RouteSettings"]
    # the POST carries the host password: no more than /host_token's door allows
    assert routes["POST /stream_details"] == routes["POST /host_token"]
    # the audience's read and the host's poll stay under the default
    assert routes["GET /stream_details"]["ThrottlingRateLimit"] <= 500
    assert routes["POST /stream_stats"]["ThrottlingRateLimit"] <= 10


def test_the_dev_servers_store_modules_are_left_out_of_every_lambda_package() -> None:
    makefile = Path(ROOT / "sam" / "Makefile").read_text(encoding="utf-8")
    for module in ("livescreen/store/sqlite.py", "livescreen/store/counting.py"):
        assert f"--exclude={module}" in makefile
