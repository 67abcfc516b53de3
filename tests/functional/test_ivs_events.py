"""The stage-event handler: the host stops publishing -> the stage is deleted."""

from __future__ import annotations

import copy

import pytest
from ivs_support import APP_TAG, StubbedIvs, load_event, stage_arn

from livescreen.providers.ivs import stage_events as ivs_events
from livescreen.providers.ivs.stage_events import handle_stage_update

ARN = stage_arn("AbCdEfGh1234")
SESSION = "st-1AbCdEfGhIjKl"
OUR_TAGS = {"app": APP_TAG, "livescreen:room": "livestream-0123456789abcdef"}


@pytest.fixture
def ivs() -> StubbedIvs:
    return StubbedIvs.create()


@pytest.fixture
def event() -> dict:
    return load_event("ivs_stage_update_host_unpublished.json")


def handle(event: dict, ivs: StubbedIvs) -> dict[str, str]:
    return handle_stage_update(event, ivs.client, app_tag=APP_TAG, host_identity="host")


def participants(*states: str) -> dict:
    return {
        "participants": [
            {"participantId": f"P{i}", "userId": "host", "state": state, "published": True}
            for i, state in enumerate(states)
        ]
    }


def test_the_host_leaving_deletes_the_apps_stage(ivs, event):
    # GIVEN the app's stage, whose host has disconnected
    ivs.expect_get_stage(ARN, tags=OUR_TAGS)
    ivs.expect(
        "list_participants",
        participants("DISCONNECTED"),
        {"stageArn": ARN, "sessionId": SESSION, "filterByUserId": "host"},
    )
    ivs.expect("delete_stage", {}, {"arn": ARN})

    # WHEN IVS reports the host stopped publishing
    result = handle(event, ivs)

    # THEN the stage is deleted (everyone disconnected, billing stops)
    assert result["action"] == "deleted"
    assert ivs.operations == ["GetStage", "ListParticipants", "DeleteStage"]
    ivs.stubber.assert_no_pending_responses()


def test_a_host_who_is_still_connected_keeps_the_stage(ivs, event):
    ivs.expect_get_stage(ARN, tags=OUR_TAGS)
    ivs.expect(
        "list_participants",
        participants("DISCONNECTED", "CONNECTED"),
        {"stageArn": ARN, "sessionId": SESSION, "filterByUserId": "host"},
    )

    result = handle(event, ivs)

    assert result["action"] == "ignored"
    assert "DeleteStage" not in ivs.operations


def test_a_second_delivery_of_the_same_event_is_harmless(ivs, event):
    ivs.expect_error("get_stage", "ResourceNotFoundException", 404)

    result = handle(event, ivs)

    assert result == {
        "action": "ignored",
        "reason": "the stage is already deleted",
        "stageArn": ARN,
    }
    assert ivs.operations == ["GetStage"]


def test_the_stage_vanishing_before_the_delete_still_counts_as_deleted(ivs, event):
    ivs.expect_get_stage(ARN, tags=OUR_TAGS)
    ivs.expect("list_participants", participants(), None)
    ivs.expect_error("delete_stage", "ResourceNotFoundException", 404)

    assert handle(event, ivs)["action"] == "deleted"


def test_a_stage_of_another_app_is_left_alone(ivs, event):
    ivs.expect_get_stage(ARN, tags={"app": "someone-else"})

    result = handle(event, ivs)

    assert result["action"] == "ignored"
    assert ivs.operations == ["GetStage"]


def test_a_viewer_leaving_changes_nothing(ivs, event):
    viewer = copy.deepcopy(event)
    viewer["detail"]["user_id"] = "viewer-0123456789ab"

    assert handle(viewer, ivs)["action"] == "ignored"
    assert ivs.calls == []


@pytest.mark.parametrize("name", ["Participant Published", "Participant Publish Error"])
def test_other_stage_events_change_nothing(ivs, event, name):
    other = copy.deepcopy(event)
    other["detail"]["event_name"] = name

    assert handle(other, ivs)["action"] == "ignored"
    assert ivs.calls == []


def test_events_from_other_sources_change_nothing(ivs, event):
    other = copy.deepcopy(event)
    other["detail-type"] = "IVS Stream State Change"

    assert handle(other, ivs)["action"] == "ignored"
    assert ivs.calls == []


def test_the_lambda_entry_point_reads_settings_and_acts(ivs, event, monkeypatch, tmp_path):
    # GIVEN settings from the environment (no .env) and the Lambda's cached client
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APP_TAG", APP_TAG)
    monkeypatch.setenv("HOST_IDENTITY", "host")
    monkeypatch.setattr(ivs_events, "_client", ivs.client)
    ivs.expect_get_stage(ARN, tags=OUR_TAGS)
    ivs.expect("list_participants", participants("DISCONNECTED"), None)
    ivs.expect("delete_stage", {}, {"arn": ARN})

    result = ivs_events.handler(event, None)

    assert result["action"] == "deleted"
    ivs.stubber.assert_no_pending_responses()
