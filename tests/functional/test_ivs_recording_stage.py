"""Stages record their host when RECORDING is on: CreateStage, checked against the real
ivs-realtime model by botocore's Stubber, carries the participant recording configuration."""

from __future__ import annotations

import logging

import pytest
from botocore.stub import ANY
from ivs_support import ACCOUNT, APP_TAG, REGION, FakeClock, StubbedIvs, ivs_settings, stage_arn

from livescreen.providers import ProviderUnavailableError
from livescreen.providers.ivs.provider import IvsProvider, create_provider
from livescreen.providers.ivs.recording import RECONNECT_WINDOW_SECONDS

STORAGE_ARN = f"arn:aws:ivs:{REGION}:{ACCOUNT}:storage-configuration/Sc0123456789"
HOST_TOKEN_CONFIGURATION = [
    {"userId": "host", "capabilities": ["PUBLISH", "SUBSCRIBE"], "duration": 240}
]


def created(room: str = "livestream-0123456789abcdef") -> dict:
    return {
        "stage": {"arn": stage_arn(), "name": room, "tags": {"app": APP_TAG}},
        "participantTokens": [{"participantId": "Hp0123456789", "token": "host-token"}],
    }


@pytest.fixture
def ivs() -> StubbedIvs:
    return StubbedIvs.create()


def test_with_recording_on_the_stage_records_the_hosts_audio_and_video_to_the_storage_configuration(
    ivs: StubbedIvs,
) -> None:
    # GIVEN recording is on and the stack's storage configuration is known
    settings = ivs_settings(RECORDING="on", IVS_STORAGE_CONFIGURATION_ARN=STORAGE_ARN)
    provider = IvsProvider(settings, client=ivs.client, clock=FakeClock())
    ivs.expect(
        "create_stage",
        created(),
        {
            "name": ANY,
            "tags": ANY,
            "participantTokenConfigurations": HOST_TOKEN_CONFIGURATION,
            "autoParticipantRecordingConfiguration": ANY,
        },
    )

    # WHEN the host asks for a token
    grant = provider.create_host_grant()

    # THEN the one CreateStage (validated against the ivs-realtime model) asks IVS to record
    # every publisher, audio and video, into the storage configuration: only the host publishes
    assert grant.token == "host-token"
    ((operation, params),) = ivs.calls
    assert operation == "CreateStage"
    assert params["autoParticipantRecordingConfiguration"] == {
        "storageConfigurationArn": STORAGE_ARN,
        "mediaTypes": ["AUDIO_VIDEO"],
        "thumbnailConfiguration": {"recordingMode": "DISABLED"},
        "recordingReconnectWindowSeconds": RECONNECT_WINDOW_SECONDS,
        "hlsConfiguration": {"targetSegmentDurationSeconds": 6},
    }
    ivs.stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "overrides",
    [
        {"RECORDING": "off", "IVS_STORAGE_CONFIGURATION_ARN": STORAGE_ARN},
        {"RECORDING": "false"},
    ],
)
def test_with_recording_off_the_stage_records_nothing(ivs: StubbedIvs, overrides) -> None:
    provider = IvsProvider(ivs_settings(**overrides), client=ivs.client, clock=FakeClock())
    ivs.expect(
        "create_stage",
        created(),
        {"name": ANY, "tags": ANY, "participantTokenConfigurations": HOST_TOKEN_CONFIGURATION},
    )

    provider.create_host_grant()

    ((_, params),) = ivs.calls
    assert "autoParticipantRecordingConfiguration" not in params
    ivs.stubber.assert_no_pending_responses()


def test_on_a_developers_machine_recording_on_without_a_storage_configuration_records_nothing(
    ivs: StubbedIvs, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the dev server's default RECORDING=on, and no storage configuration
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    provider = IvsProvider(ivs_settings(RECORDING="on"), client=ivs.client, clock=FakeClock())
    ivs.expect(
        "create_stage",
        created(),
        {"name": ANY, "tags": ANY, "participantTokenConfigurations": HOST_TOKEN_CONFIGURATION},
    )
    with caplog.at_level(logging.WARNING):
        provider.create_host_grant()
    # THEN the stream still works, unrecorded, and the log says which setting is missing
    assert "IVS_STORAGE_CONFIGURATION_ARN" in caplog.text
    ivs.stubber.assert_no_pending_responses()


def test_on_lambda_recording_on_without_a_storage_configuration_refuses_to_create_a_stage(
    ivs: StubbedIvs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a function on Lambda with RECORDING=on and no storage configuration
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "host-token")
    provider = create_provider(ivs_settings(RECORDING="on"))
    provider._client = ivs.client
    # WHEN the host asks for a stage THEN a clear 503 names the setting, and no stage is made
    with pytest.raises(ProviderUnavailableError) as raised:
        provider.create_host_grant()
    assert raised.value.status == 503
    assert "IVS_STORAGE_CONFIGURATION_ARN" in raised.value.message
    assert "Recording=on" in raised.value.message
    assert ivs.calls == []


def test_on_lambda_recording_on_without_a_storage_configuration_leaves_the_viewers_and_stop_alone(
    ivs: StubbedIvs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN what the stack gives /audience_token and /stream_stop: RECORDING=on, no ARN (only
    # /host_token creates stages, so only it is given the storage configuration)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "audience-token")
    provider = create_provider(ivs_settings(RECORDING="on"))
    provider._client = ivs.client
    ivs.expect("list_stages", {"stages": []}, {"maxResults": ANY})
    ivs.expect("list_stages", {"stages": []}, {"maxResults": ANY})
    # THEN viewers are answered and the host can stop: recording plays no part there
    assert provider.audience_grant().token is None
    assert provider.stop_stream("livestream-0123456789abcdef").live is False
    ivs.stubber.assert_no_pending_responses()


def test_a_storage_configuration_arn_that_is_not_one_is_refused_by_name(ivs: StubbedIvs) -> None:
    settings = ivs_settings(RECORDING="on", IVS_STORAGE_CONFIGURATION_ARN="my-bucket")
    provider = IvsProvider(settings, client=ivs.client, clock=FakeClock())
    with pytest.raises(ProviderUnavailableError, match="IVS_STORAGE_CONFIGURATION_ARN"):
        provider.create_host_grant()
    assert ivs.calls == []
