"""The ivs provider against the real ivs-realtime API model (botocore Stubber)."""

from __future__ import annotations

import logging
import re
import threading

import jwt
import pytest
from botocore.stub import ANY
from ivs_support import (
    APP_TAG,
    FakeClock,
    StubbedIvs,
    ivs_settings,
    stage_arn,
    summary,
)

from livescreen.providers import ProviderError, ProviderUnavailableError
from livescreen.providers.ivs.provider import IvsProvider, create_provider

ROOM = "livestream-0123456789abcdef"
ARN = stage_arn()
LIST_PARAMS = {"maxResults": 100}


@pytest.fixture
def ivs() -> StubbedIvs:
    return StubbedIvs.create()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider(ivs: StubbedIvs, clock: FakeClock) -> IvsProvider:
    return IvsProvider(ivs_settings(), client=ivs.client, clock=clock)


def created_stage_response(room: str, issued: str | None = "host-participant-token") -> dict:
    tokens = []
    if issued:
        tokens.append(
            {
                "participantId": "Hp0123456789",
                "token": issued,
                "userId": "host",
                "capabilities": ["PUBLISH", "SUBSCRIBE"],
                "duration": 240,
            }
        )
    return {
        "stage": {"arn": ARN, "name": room, "tags": {"app": APP_TAG, "livescreen:room": room}},
        "participantTokens": tokens,
    }


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# -- host_token ------------------------------------------------------------------------------


def test_host_grant_creates_one_tagged_stage_with_a_publish_token_for_the_host(
    ivs, provider, clock
):
    # GIVEN IVS accepts the stage
    ivs.expect(
        "create_stage",
        created_stage_response(ROOM),
        {
            "name": ANY,
            "tags": ANY,
            "participantTokenConfigurations": [
                {"userId": "host", "capabilities": ["PUBLISH", "SUBSCRIBE"], "duration": 240}
            ],
        },
    )

    # WHEN the host asks for a token
    grant = provider.create_host_grant()

    # THEN the host gets IVS's token for a new room whose stage carries the app's tags, with its
    # creation time (IVS reports none; the scheduled reaper needs it)
    assert grant.token == "host-participant-token"
    assert grant.extra == {"stageArn": ARN}
    assert re.fullmatch(r"livestream-[0-9a-f]{16}", grant.room)
    ((operation, params),) = ivs.calls
    assert operation == "CreateStage"
    assert params["name"] == grant.room
    assert params["tags"] == {
        "app": APP_TAG,
        "livescreen:room": grant.room,
        "livescreen:created-at": str(int(clock.now)),
    }
    ivs.stubber.assert_no_pending_responses()


def test_host_token_lifetime_follows_host_token_ttl_rounded_up_to_minutes(ivs, clock):
    provider = IvsProvider(ivs_settings(HOST_TOKEN_TTL="3601"), client=ivs.client, clock=clock)
    ivs.expect(
        "create_stage",
        created_stage_response(ROOM),
        {
            "name": ANY,
            "tags": ANY,
            "participantTokenConfigurations": [
                {"userId": "host", "capabilities": ["PUBLISH", "SUBSCRIBE"], "duration": 61}
            ],
        },
    )

    provider.create_host_grant()

    ivs.stubber.assert_no_pending_responses()


def test_a_stage_created_without_a_host_token_is_deleted_so_nothing_bills(ivs, provider):
    # GIVEN IVS creates the stage but hands back no participant token
    ivs.expect("create_stage", created_stage_response(ROOM, issued=None))
    ivs.expect("delete_stage", {}, {"arn": ARN})

    # WHEN the host asks for a token THEN it fails clearly and the stage is gone again
    with pytest.raises(ProviderError, match="no host token"):
        provider.create_host_grant()
    assert ivs.operations == ["CreateStage", "DeleteStage"]
    ivs.stubber.assert_no_pending_responses()


def test_stage_quota_reached_says_how_to_free_stages(ivs, provider):
    ivs.expect_error("create_stage", "ServiceQuotaExceededException", 402)

    with pytest.raises(ProviderUnavailableError, match="livescreen cleanup") as raised:
        provider.create_host_grant()

    assert raised.value.status == 503
    assert ivs.operations == ["CreateStage"]  # nothing was created, so nothing to delete


def test_missing_permissions_name_the_fix(ivs, provider):
    ivs.expect_error("create_stage", "AccessDeniedException", 403)

    with pytest.raises(ProviderUnavailableError, match="permissions"):
        provider.create_host_grant()


# -- stream_start / stream_stop ----------------------------------------------------------------


def test_start_tags_the_rooms_stage_live(ivs, provider, clock):
    ivs.expect_list(
        summary(stage_arn("Other0000001"), "livestream-ffffffffffffffff"),
        summary(ARN, ROOM),
        params=LIST_PARAMS,
    )
    ivs.expect(
        "tag_resource",
        {},
        {
            "resourceArn": ARN,
            "tags": {"livescreen:live": "true", "livescreen:started-at": str(int(clock.now))},
        },
    )

    state = provider.start_stream(ROOM)

    assert (state.room, state.live, state.started_now) == (ROOM, True, True)
    ivs.stubber.assert_no_pending_responses()


def test_starting_twice_starts_nothing_new(ivs, provider):
    # GIVEN the stage already carries the live tags
    ivs.expect_list(summary(ARN, ROOM, live=True), params=LIST_PARAMS)

    state = provider.start_stream(ROOM)

    assert (state.live, state.started_now) == (True, False)
    assert ivs.operations == ["ListStages"]  # no TagResource


def test_start_finds_the_room_on_a_later_page_of_stages(ivs, provider, clock):
    ivs.expect_list(
        summary(stage_arn("Other0000001"), "livestream-ffffffffffffffff"),
        next_token="page2",
        params=LIST_PARAMS,
    )
    ivs.expect_list(summary(ARN, ROOM), params={"maxResults": 100, "nextToken": "page2"})
    ivs.expect("tag_resource", {}, {"resourceArn": ARN, "tags": ANY})

    assert provider.start_stream(ROOM).started_now is True
    ivs.stubber.assert_no_pending_responses()


def test_starting_a_room_whose_stage_is_gone_is_a_clear_conflict(ivs, provider):
    ivs.expect_list(params=LIST_PARAMS)

    with pytest.raises(ProviderError, match="no longer exists") as raised:
        provider.start_stream(ROOM)

    assert raised.value.status == 409


def test_a_stage_of_another_app_is_never_touched(ivs, provider):
    # GIVEN a stage with the same room tag but another app's tag
    ivs.expect_list(summary(ARN, ROOM, app="someone-else"), params=LIST_PARAMS)

    with pytest.raises(ProviderError, match="no longer exists"):
        provider.start_stream(ROOM)
    assert ivs.operations == ["ListStages"]


def test_stop_deletes_the_stage_and_a_second_stop_is_harmless(ivs, provider):
    ivs.expect_list(summary(ARN, ROOM, live=True), params=LIST_PARAMS)
    ivs.expect("delete_stage", {}, {"arn": ARN})
    ivs.expect_list(params=LIST_PARAMS)  # the stage is gone the second time

    first = provider.stop_stream(ROOM)
    second = provider.stop_stream(ROOM)

    assert (first.live, second.live) == (False, False)
    assert ivs.operations == ["ListStages", "DeleteStage", "ListStages"]
    ivs.stubber.assert_no_pending_responses()


def test_stop_succeeds_when_the_stage_vanishes_before_the_delete(ivs, provider):
    ivs.expect_list(summary(ARN, ROOM, live=True), params=LIST_PARAMS)
    ivs.expect_error("delete_stage", "ResourceNotFoundException", 404)

    assert provider.stop_stream(ROOM).live is False


def test_stop_reports_other_delete_failures(ivs, provider):
    ivs.expect_list(summary(ARN, ROOM, live=True), params=LIST_PARAMS)
    ivs.expect_error("delete_stage", "ThrottlingException", 429)

    with pytest.raises(ProviderUnavailableError, match="throttling"):
        provider.stop_stream(ROOM)


# -- audience_token -----------------------------------------------------------------------------


def test_audience_before_during_and_after_the_stream(ivs, provider, clock):
    # BEFORE: nothing is live
    ivs.expect_list(summary(ARN, ROOM), params=LIST_PARAMS)
    assert provider.audience_grant().token is None

    # DURING: the host went live (start invalidates the cached answer)
    ivs.expect_list(summary(ARN, ROOM), params=LIST_PARAMS)
    ivs.expect("tag_resource", {}, {"resourceArn": ARN, "tags": ANY})
    provider.start_stream(ROOM)
    ivs.expect_list(summary(ARN, ROOM, live=True), params=LIST_PARAMS)
    ivs.expect_get_stage(ARN)
    token = provider.audience_grant().token
    assert token is not None
    assert claims(token)["resource"] == ARN
    assert claims(token)["capabilities"] == {"allow_publish": False, "allow_subscribe": True}

    # AFTER: the host stopped; viewers get no token
    ivs.expect_list(summary(ARN, ROOM, live=True), params=LIST_PARAMS)
    ivs.expect("delete_stage", {}, {"arn": ARN})
    provider.stop_stream(ROOM)
    ivs.expect_list(params=LIST_PARAMS)
    assert provider.audience_grant().token is None
    ivs.stubber.assert_no_pending_responses()


def test_viewers_join_the_stage_that_went_live_last(ivs, provider):
    older, newer = stage_arn("Older0000001"), stage_arn("Newer0000001")
    ivs.expect_list(
        summary(newer, "livestream-2", live=True, started_at=1_750_000_100),
        summary(older, "livestream-1", live=True, started_at=1_750_000_000),
        params=LIST_PARAMS,
    )
    ivs.expect_get_stage(newer)

    token = provider.audience_grant().token

    assert claims(token)["resource"] == newer


def test_a_live_stage_of_another_app_is_not_offered_to_viewers(ivs, provider):
    ivs.expect_list(summary(ARN, ROOM, app="someone-else", live=True), params=LIST_PARAMS)

    assert provider.audience_grant().token is None


def test_the_live_answer_is_reused_until_the_lookup_ttl_passes(ivs, provider, clock):
    ivs.expect_list(params=LIST_PARAMS)
    assert provider.audience_grant().token is None

    clock.advance(4.9)
    assert provider.audience_grant().token is None
    assert ivs.operations == ["ListStages"]

    clock.advance(0.2)
    ivs.expect_list(params=LIST_PARAMS)
    provider.audience_grant()
    assert ivs.operations == ["ListStages", "ListStages"]


def test_a_throttled_lookup_fails_clearly_and_is_not_retried_by_every_viewer(ivs, provider):
    ivs.expect_error("list_stages", "ThrottlingException", 429)

    for _ in range(50):
        with pytest.raises(ProviderUnavailableError, match="throttling"):
            provider.audience_grant()

    assert ivs.operations == ["ListStages"]


def test_a_failed_refresh_keeps_serving_the_last_known_live_stage(ivs, provider, clock):
    ivs.expect_list(summary(ARN, ROOM, live=True), params=LIST_PARAMS)
    ivs.expect_get_stage(ARN)
    assert provider.audience_grant().token is not None

    clock.advance(6)
    ivs.expect_error("list_stages", "ThrottlingException", 429)

    assert claims(provider.audience_grant().token)["resource"] == ARN


def test_a_burst_of_simultaneous_viewers_costs_one_lookup(ivs, provider):
    ivs.expect_list(summary(ARN, ROOM, live=True), params=LIST_PARAMS)
    ivs.expect_get_stage(ARN)
    start = threading.Barrier(50)
    tokens: list[str | None] = []
    lock = threading.Lock()

    def viewer() -> None:
        start.wait()
        token = provider.audience_grant().token
        with lock:
            tokens.append(token)

    threads = [threading.Thread(target=viewer) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(tokens) == 50 and all(tokens)
    assert ivs.operations == ["ListStages", "GetStage"]


def test_ten_thousand_viewers_in_the_first_minute_make_at_most_twenty_control_calls(
    ivs, provider, clock
):
    # GIVEN IVS answers at most 20 control-plane calls (a 21st would fail the Stubber)
    ivs.expect_list(summary(ARN, ROOM, live=True), params=LIST_PARAMS)
    ivs.expect_get_stage(ARN)
    for _ in range(18):
        ivs.expect_list(summary(ARN, ROOM, live=True), params=LIST_PARAMS)

    # WHEN 10,000 viewers arrive evenly over the minute after the stream starts
    issued = 0
    for _ in range(10_000):
        if provider.audience_grant().token:
            issued += 1
        clock.advance(0.006)

    # THEN every viewer got a token, and IVS saw a lookup per LIVE_LOOKUP_TTL, not per viewer
    assert issued == 10_000
    assert len(ivs.calls) <= 20
    assert ivs.operations.count("GetStage") == 1


def test_nothing_secret_reaches_the_log(ivs, provider, caplog):
    caplog.set_level(logging.DEBUG, logger="livescreen")
    ivs.expect("create_stage", created_stage_response(ROOM))
    ivs.expect_list(summary(ARN, ROOM, live=True), params=LIST_PARAMS)
    ivs.expect_get_stage(ARN)

    host = provider.create_host_grant()
    viewer = provider.audience_grant()

    assert host.token not in caplog.text
    assert viewer.token and viewer.token not in caplog.text
    assert "PRIVATE KEY" not in caplog.text


# -- construction ---------------------------------------------------------------------------------


def test_a_malformed_private_key_is_named_without_echoing_it():
    with pytest.raises(ProviderUnavailableError, match="IVS_PRIVATE_KEY") as raised:
        create_provider(ivs_settings(IVS_PRIVATE_KEY="not-a-key-but-maybe-a-secret"))

    assert "not-a-key-but-maybe-a-secret" not in raised.value.message


def test_a_missing_public_key_arn_is_named():
    with pytest.raises(ProviderUnavailableError, match="IVS_PUBLIC_KEY_ARN"):
        create_provider(ivs_settings(IVS_PUBLIC_KEY_ARN=""))


def test_the_provider_is_registered_under_its_name():
    from livescreen.providers import clear_provider_cache, get_provider

    clear_provider_cache()
    try:
        provider = get_provider(ivs_settings())
    finally:
        clear_provider_cache()

    assert provider.name == "ivs"
