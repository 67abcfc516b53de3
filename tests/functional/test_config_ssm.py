"""Settings on Lambda: secrets from SSM Parameter Store (moto), through Powertools' cache."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.client
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from livescreen import config
from livescreen.config import ConfigError

PATH = "/live-screen-sharing/test-stack"


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch, fake_aws_credentials: None) -> Iterator[Any]:
    """moto SSM, and an environment shaped like the template's function environment."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "test-HostTokenFunction")
    monkeypatch.setenv("PARAMETER_PATH", PATH)
    monkeypatch.setenv("STREAM_PROVIDER", "twilio")
    monkeypatch.setenv("PARAMETER_MAX_AGE", "60")
    parameters.clear_caches()
    with mock_aws():
        yield boto3.client("ssm")
    parameters.clear_caches()


@pytest.fixture
def ssm_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every SSM API call any boto3 client makes, by operation name."""
    calls: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        if self.meta.service_model.service_name == "ssm":
            calls[operation_name] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def put_secrets(ssm: Any, values: dict[str, str], path: str = PATH) -> None:
    for key, value in values.items():
        ssm.put_parameter(Name=f"{path}/{key}", Value=value, Type="SecureString", Overwrite=True)


TWILIO_SECRETS = {
    "HOST_PASSWORD": "correct horse battery staple",
    "HOST_SESSION_SECRET": "s" * 40,
    "ACCOUNT_SID": "AC" + "1f" * 16,
    "AUTH_TOKEN": "auth-token-0123456789",
    "API_KEY_SID": "SK" + "2e" * 16,
    "API_KEY_SECRET": "api-key-secret-0123456789",
}


def test_secure_strings_under_the_stack_path_become_decrypted_settings(ssm: Any) -> None:
    # GIVEN `livescreen configure` stored the secrets as SecureStrings under the stack's path
    put_secrets(ssm, TWILIO_SECRETS)
    # AND another stack's secrets live next door
    put_secrets(ssm, {"HOST_PASSWORD": "not ours"}, path="/live-screen-sharing/other-stack")
    # WHEN a function loads its settings on Lambda
    settings = config.load_lambda()
    # THEN it sees the decrypted values of its own stack only
    assert settings["HOST_PASSWORD"] == "correct horse battery staple"
    assert settings["AUTH_TOKEN"] == "auth-token-0123456789"
    # AND the plain settings come from the function's environment
    assert settings.provider == "twilio"
    settings.check()


def test_a_second_load_within_max_age_makes_no_ssm_call(ssm: Any, ssm_calls: Counter[str]) -> None:
    put_secrets(ssm, TWILIO_SECRETS)
    ssm_calls.clear()
    # WHEN two invocations in one container load their settings within PARAMETER_MAX_AGE
    config.load_lambda()
    config.load_lambda()
    # THEN SSM was asked once
    assert ssm_calls == Counter({"GetParametersByPath": 1})


def test_a_rotated_secret_is_picked_up_once_max_age_has_passed(
    ssm: Any, ssm_calls: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARAMETER_MAX_AGE", "1")
    put_secrets(ssm, TWILIO_SECRETS)
    assert config.load_lambda()["HOST_PASSWORD"] == "correct horse battery staple"
    # WHEN the host password is changed in SSM
    put_secrets(ssm, {"HOST_PASSWORD": "a brand new password"})
    # THEN a warm container keeps the cached value for at most PARAMETER_MAX_AGE seconds
    time.sleep(1.2)
    assert config.load_lambda()["HOST_PASSWORD"] == "a brand new password"
    assert ssm_calls["GetParametersByPath"] == 2


def test_a_missing_secret_is_named_with_the_place_it_was_looked_for(ssm: Any) -> None:
    # GIVEN the stack was deployed but API_KEY_SECRET was never stored
    put_secrets(ssm, {k: v for k, v in TWILIO_SECRETS.items() if k != "API_KEY_SECRET"})
    settings = config.load_lambda()
    # WHEN the settings are checked at start-up
    with pytest.raises(ConfigError) as raised:
        settings.check()
    # THEN the error names the key and the SSM path to put it under
    message = str(raised.value)
    assert "API_KEY_SECRET" in message
    assert f"SSM Parameter Store under {PATH}" in message
    assert "HOST_PASSWORD" not in message


def test_a_function_without_parameter_path_says_what_the_template_must_set(
    ssm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARAMETER_PATH")
    with pytest.raises(ConfigError, match="PARAMETER_PATH"):
        config.load_lambda()
