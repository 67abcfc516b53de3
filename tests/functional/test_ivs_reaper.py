"""The scheduled reaper: which of the app's stages it deletes, and which it leaves alone."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from ivs_support import APP_TAG, FakeClock, StubbedIvs, stage_arn

from livescreen.providers.ivs import reaper as ivs_reaper
from livescreen.providers.ivs.reaper import GRACE_SECONDS, ReaperError, sweep

MAX_DURATION = 14400
SESSION = "st-1AbCdEfGhIjKl"
LIST_PARAMS = {"maxResults": 100}


@pytest.fixture
def ivs() -> StubbedIvs:
    return StubbedIvs.create()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def stage(
    stage_id: str,
    *,
    app: str | None = APP_TAG,
    created_at: float | None = None,
    started_at: float | None = None,
    unattended_since: float | None = None,
    session: str | None = None,
) -> dict[str, Any]:
    """A stage as ListStages returns it, tagged the way the app tags its stages."""
    tags = {"livescreen:room": f"livestream-{stage_id.lower()}"}
    if app is not None:
        tags["app"] = app
    if created_at is not None:
        tags["livescreen:created-at"] = str(int(created_at))
    if started_at is not None:
        tags.update({"livescreen:live": "true", "livescreen:started-at": str(int(started_at))})
    if unattended_since is not None:
        tags["livescreen:unattended-since"] = str(int(unattended_since))
    summary: dict[str, Any] = {"arn": stage_arn(stage_id), "name": tags["livescreen:room"]}
    summary["tags"] = tags
    if session:
        summary["activeSessionId"] = session
    return summary


def publishers(*states: str, next_token: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "participants": [
            {"participantId": f"P{i}", "userId": "host", "state": state, "published": True}
            for i, state in enumerate(states)
        ]
    }
    if next_token:
        response["nextToken"] = next_token
    return response


def publisher_params(stage_id: str, next_token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "stageArn": stage_arn(stage_id),
        "sessionId": SESSION,
        "filterByPublished": True,
        "maxResults": 100,
    }
    if next_token:
        params["nextToken"] = next_token
    return params


def run(ivs: StubbedIvs, clock: FakeClock) -> dict[str, Any]:
    result = sweep(ivs.client, app_tag=APP_TAG, max_duration=MAX_DURATION, clock=clock)
    ivs.stubber.assert_no_pending_responses()
    return result


def deleted(result: dict[str, Any]) -> list[str]:
    return [entry["stageArn"] for entry in result["deleted"]]


# -- a stage that never went live ------------------------------------------------------------


def test_a_stage_that_never_went_live_is_deleted_once_the_grace_period_is_over(ivs, clock):
    # GIVEN a host asked for a token 11 minutes ago and never went live
    ivs.expect_list(stage("Old1", created_at=clock.now - GRACE_SECONDS - 60), params=LIST_PARAMS)
    ivs.expect("delete_stage", {}, {"arn": stage_arn("Old1")})

    # WHEN the reaper runs
    result = run(ivs, clock)

    # THEN the stage is deleted, and the report says why
    assert deleted(result) == [stage_arn("Old1")]
    assert "never went live" in result["deleted"][0]["reason"]


def test_a_stage_created_within_the_grace_period_is_left_for_its_host(ivs, clock):
    ivs.expect_list(stage("New1", created_at=clock.now - GRACE_SECONDS + 60), params=LIST_PARAMS)

    result = run(ivs, clock)

    assert result == {"checked": 1, "deleted": []}
    assert ivs.operations == ["ListStages"]


def test_a_stage_of_unknown_age_gets_its_clock_started_and_is_deleted_a_grace_period_later(
    ivs, clock
):
    # GIVEN an app stage without a creation time (created before stages carried one)
    ivs.expect_list(stage("Aged"), params=LIST_PARAMS)
    ivs.expect(
        "tag_resource",
        {},
        {"resourceArn": stage_arn("Aged"), "tags": {"livescreen:created-at": str(int(clock.now))}},
    )

    # WHEN the reaper first sees it, THEN it only records when it saw it
    assert deleted(run(ivs, clock)) == []

    # AND WHEN it runs again after the grace period, THEN the stage is deleted
    clock.advance(GRACE_SECONDS + 1)
    ivs.expect_list(stage("Aged", created_at=clock.now - GRACE_SECONDS - 1), params=LIST_PARAMS)
    ivs.expect("delete_stage", {}, {"arn": stage_arn("Aged")})
    assert deleted(run(ivs, clock)) == [stage_arn("Aged")]


# -- a live stage ----------------------------------------------------------------------------


def test_a_stage_live_for_longer_than_max_duration_is_deleted_even_with_its_host_publishing(
    ivs, clock
):
    long_ago = clock.now - MAX_DURATION - 1
    ivs.expect_list(
        stage("Long", created_at=long_ago - 30, started_at=long_ago, session=SESSION),
        params=LIST_PARAMS,
    )
    ivs.expect("delete_stage", {}, {"arn": stage_arn("Long")})

    result = run(ivs, clock)

    assert deleted(result) == [stage_arn("Long")]
    assert "MAX_DURATION" in result["deleted"][0]["reason"]
    assert "ListParticipants" not in ivs.operations


def test_a_live_stage_with_its_host_publishing_is_kept(ivs, clock):
    started = clock.now - 3600
    ivs.expect_list(
        stage("Live", created_at=started - 30, started_at=started, session=SESSION),
        params=LIST_PARAMS,
    )
    ivs.expect(
        "list_participants", publishers("DISCONNECTED", "CONNECTED"), publisher_params("Live")
    )

    assert run(ivs, clock) == {"checked": 1, "deleted": []}
    assert ivs.operations == ["ListStages", "ListParticipants"]


def test_a_connected_publisher_on_a_later_page_still_counts(ivs, clock):
    started = clock.now - 3600
    ivs.expect_list(
        stage("Live", created_at=started, started_at=started, session=SESSION), params=LIST_PARAMS
    )
    ivs.expect(
        "list_participants",
        publishers("DISCONNECTED", next_token="page-2"),
        publisher_params("Live"),
    )
    ivs.expect("list_participants", publishers("CONNECTED"), publisher_params("Live", "page-2"))

    assert deleted(run(ivs, clock)) == []


def test_a_live_stage_whose_publisher_left_is_deleted_after_the_grace_period(ivs, clock):
    started = clock.now - 3600
    # GIVEN a live stage whose session only has viewers left
    ivs.expect_list(
        stage("Gone", created_at=started, started_at=started, session=SESSION), params=LIST_PARAMS
    )
    ivs.expect("list_participants", publishers("DISCONNECTED"), publisher_params("Gone"))
    ivs.expect(
        "tag_resource",
        {},
        {
            "resourceArn": stage_arn("Gone"),
            "tags": {"livescreen:unattended-since": str(int(clock.now))},
        },
    )

    # WHEN the reaper first notices, THEN it keeps the stage (the host may be reconnecting)
    assert deleted(run(ivs, clock)) == []

    # WHEN the stage is still unattended a grace period later, THEN it is deleted
    noticed = clock.now
    clock.advance(GRACE_SECONDS + 1)
    ivs.expect_list(
        stage(
            "Gone",
            created_at=started,
            started_at=started,
            unattended_since=noticed,
            session=SESSION,
        ),
        params=LIST_PARAMS,
    )
    ivs.expect("list_participants", publishers("DISCONNECTED"), publisher_params("Gone"))
    ivs.expect("delete_stage", {}, {"arn": stage_arn("Gone")})
    result = run(ivs, clock)
    assert deleted(result) == [stage_arn("Gone")]
    assert "no connected publisher" in result["deleted"][0]["reason"]


def test_a_live_stage_with_no_session_at_all_counts_as_unattended_without_asking_ivs(ivs, clock):
    started = clock.now - 3600
    ivs.expect_list(
        stage(
            "Empty",
            created_at=started,
            started_at=started,
            unattended_since=clock.now - GRACE_SECONDS - 1,
        ),
        params=LIST_PARAMS,
    )
    ivs.expect("delete_stage", {}, {"arn": stage_arn("Empty")})

    assert deleted(run(ivs, clock)) == [stage_arn("Empty")]
    assert "ListParticipants" not in ivs.operations


def test_a_stage_unattended_for_less_than_the_grace_period_is_kept(ivs, clock):
    started = clock.now - 3600
    ivs.expect_list(
        stage(
            "Blip",
            created_at=started,
            started_at=started,
            unattended_since=clock.now - GRACE_SECONDS + 60,
            session=SESSION,
        ),
        params=LIST_PARAMS,
    )
    ivs.expect("list_participants", publishers("DISCONNECTED"), publisher_params("Blip"))

    assert deleted(run(ivs, clock)) == []
    assert ivs.operations == ["ListStages", "ListParticipants"]


def test_a_publisher_coming_back_clears_the_unattended_mark(ivs, clock):
    started = clock.now - 3600
    ivs.expect_list(
        stage(
            "Back",
            created_at=started,
            started_at=started,
            unattended_since=clock.now - GRACE_SECONDS - 1,
            session=SESSION,
        ),
        params=LIST_PARAMS,
    )
    ivs.expect("list_participants", publishers("CONNECTED"), publisher_params("Back"))
    ivs.expect(
        "untag_resource",
        {},
        {"resourceArn": stage_arn("Back"), "tagKeys": ["livescreen:unattended-since"]},
    )

    assert deleted(run(ivs, clock)) == []


# -- what the reaper never does --------------------------------------------------------------


@pytest.mark.parametrize("app", [None, "someone-else"])
def test_stages_without_the_apps_tag_are_never_touched_however_old(ivs, clock, app):
    ancient = clock.now - 10 * MAX_DURATION
    ivs.expect_list(
        stage("Othr1", app=app, created_at=ancient),
        stage("Othr2", app=app, created_at=ancient, started_at=ancient, session=SESSION),
        stage("Othr3", app=app),
        params=LIST_PARAMS,
    )

    assert run(ivs, clock) == {"checked": 0, "deleted": []}
    assert ivs.operations == ["ListStages"]


def test_one_sweep_over_every_case_deletes_exactly_the_expired_stages(ivs, clock):
    now = clock.now
    recent = now - 60
    ivs.expect_list(
        stage("Fresh", created_at=recent),
        stage("Stale", created_at=now - GRACE_SECONDS - 1),
        stage("Other", app="someone-else", created_at=now - GRACE_SECONDS - 1),
        next_token="page-2",
        params=LIST_PARAMS,
    )
    ivs.expect_list(
        stage("Over", created_at=now - MAX_DURATION - 99, started_at=now - MAX_DURATION - 60),
        stage("OnAir", created_at=recent, started_at=recent, session=SESSION),
        params={"maxResults": 100, "nextToken": "page-2"},
    )
    ivs.expect("delete_stage", {}, {"arn": stage_arn("Stale")})
    ivs.expect("delete_stage", {}, {"arn": stage_arn("Over")})
    ivs.expect("list_participants", publishers("CONNECTED"), publisher_params("OnAir"))

    result = run(ivs, clock)

    assert result["checked"] == 4
    assert deleted(result) == [stage_arn("Stale"), stage_arn("Over")]


def test_a_stage_already_gone_is_fine_and_a_second_run_does_nothing_more(ivs, clock):
    old = clock.now - GRACE_SECONDS - 1
    ivs.expect_list(stage("Old1", created_at=old), params=LIST_PARAMS)
    ivs.expect_error("delete_stage", "ResourceNotFoundException", 404)
    assert deleted(run(ivs, clock)) == [stage_arn("Old1")]

    ivs.expect_list(params=LIST_PARAMS)
    assert run(ivs, clock) == {"checked": 0, "deleted": []}


def test_a_stage_deleted_while_being_marked_is_not_an_error(ivs, clock):
    ivs.expect_list(stage("Racy"), params=LIST_PARAMS)
    ivs.expect_error("tag_resource", "ResourceNotFoundException", 404)

    assert run(ivs, clock) == {"checked": 1, "deleted": []}


def test_a_failure_on_one_stage_does_not_spare_the_others_and_fails_the_run(ivs, clock, caplog):
    old = clock.now - GRACE_SECONDS - 1
    ivs.expect_list(stage("Stuck", created_at=old), stage("Next1", created_at=old))
    ivs.expect_error("delete_stage", "ThrottlingException", 429)
    ivs.expect("delete_stage", {}, {"arn": stage_arn("Next1")})

    with caplog.at_level(logging.INFO), pytest.raises(ReaperError, match="1 of 2") as failure:
        sweep(ivs.client, app_tag=APP_TAG, max_duration=MAX_DURATION, clock=clock)

    assert stage_arn("Stuck") in str(failure.value)
    assert ivs.operations == ["ListStages", "DeleteStage", "DeleteStage"]
    # AND the log names what was deleted and what failed
    assert f"deleted IVS stage {stage_arn('Next1')}" in caplog.text
    assert "ThrottlingException" in caplog.text


def test_ivs_refusing_the_listing_fails_the_run_without_touching_anything(ivs, clock):
    ivs.expect_error("list_stages", "AccessDeniedException", 403)

    with pytest.raises(Exception, match="AccessDenied"):
        sweep(ivs.client, app_tag=APP_TAG, max_duration=MAX_DURATION, clock=clock)
    assert ivs.operations == ["ListStages"]


# -- the Lambda entry point ------------------------------------------------------------------


def test_the_lambda_entry_point_reads_settings_and_sweeps(ivs, monkeypatch, tmp_path, caplog):
    # GIVEN settings from the environment (no .env), MAX_DURATION one hour, and a stage live
    # for longer than that
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APP_TAG", APP_TAG)
    monkeypatch.setenv("MAX_DURATION", "3600")
    monkeypatch.setattr(ivs_reaper, "_client", ivs.client)
    clock = FakeClock()
    monkeypatch.setattr(ivs_reaper, "_clock", clock)
    started = clock.now - 3601
    ivs.expect_list(
        stage("Hour", created_at=started, started_at=started, session=SESSION), params=LIST_PARAMS
    )
    ivs.expect("delete_stage", {}, {"arn": stage_arn("Hour")})

    # WHEN the schedule fires
    with caplog.at_level(logging.INFO):
        result = ivs_reaper.handler({"source": "aws.events", "detail": {}}, None)

    # THEN the stage is deleted and the log says which one and why
    assert deleted(result) == [stage_arn("Hour")]
    assert "MAX_DURATION (3600 s)" in caplog.text
    ivs.stubber.assert_no_pending_responses()
