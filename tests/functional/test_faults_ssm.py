"""SSM Parameter Store unreachable on Lambda: a clear 503, and the next request works again.

The functions run the way Lambda runs them (the entry point's settings loader, the same
adapter, moto's SSM behind Powertools' parameters cache). An outage is played by making every
SSM call fail the way botocore fails when the service cannot be reached, times out or is
throttling, and then letting calls through again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.client
import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from faults_support import LEAKS, fresh_process
from moto import mock_aws
from twilio_credentials import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    AUTH_TOKEN,
    HOST_PASSWORD,
    HOST_SESSION_SECRET,
)

from livescreen.config import SETTINGS_UNAVAILABLE
from livescreen.devserver.http_api_event import build_http_api_v2_event
from livescreen.runtime import lambda_entry
from livescreen.runtime.api_gateway import handle_event
from twilio_emulator import EmulatorServer

__all__ = ["fresh_process"]  # a fixture used by name

PATH = "/live-screen-sharing/faults"
SECRETS = {
    "HOST_PASSWORD": HOST_PASSWORD,
    "HOST_SESSION_SECRET": HOST_SESSION_SECRET,
    "ACCOUNT_SID": ACCOUNT_SID,
    "AUTH_TOKEN": AUTH_TOKEN,
    "API_KEY_SID": API_KEY_SID,
    "API_KEY_SECRET": API_KEY_SECRET,
}

Failure = Callable[[], Exception]
ENDPOINT = "https://ssm.us-east-1.amazonaws.com/"


def client_error(code: str, status: int) -> Failure:
    return lambda: ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "GetParametersByPath",
    )


OUTAGES: dict[str, Failure] = {
    "unreachable": lambda: EndpointConnectionError(endpoint_url=ENDPOINT),
    "connect-timeout": lambda: ConnectTimeoutError(endpoint_url=ENDPOINT),
    "read-timeout": lambda: ReadTimeoutError(endpoint_url=ENDPOINT),
    "throttled": client_error("ThrottlingException", 400),
    "internal-error": client_error("InternalServerError", 500),
}


class SsmSwitch:
    """Every SSM call fails with ``failure()`` while ``failure`` is set; counts the calls."""

    def __init__(self) -> None:
        self.failure: Failure | None = None
        self.calls = 0


@pytest.fixture(scope="module")
def stored_secrets() -> Iterator[None]:
    """moto SSM holding the stack's secrets (one per module: starting moto takes a while)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            ssm = boto3.client("ssm")
            for key, value in SECRETS.items():
                ssm.put_parameter(Name=f"{PATH}/{key}", Value=value, Type="SecureString")
            yield


@pytest.fixture
def ssm_switch(
    monkeypatch: pytest.MonkeyPatch,
    stored_secrets: None,
    emulator: EmulatorServer,
    fresh_process: None,
) -> Iterator[SsmSwitch]:
    """A Lambda-shaped environment, an empty parameters cache, and the switch."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "faults-HostTokenFunction")
    monkeypatch.setenv("PARAMETER_PATH", PATH)
    monkeypatch.setenv("PARAMETER_MAX_AGE", "0")  # every request reads SSM
    monkeypatch.setenv("STREAM_PROVIDER", "twilio")
    monkeypatch.setenv("TWILIO_API_BASE_URL", emulator.base_url)
    switch = SsmSwitch()
    original = botocore.client.BaseClient._make_api_call

    def maybe_failing(self: Any, operation_name: str, api_params: Any) -> Any:
        if self.meta.service_model.service_name == "ssm":
            switch.calls += 1
            if switch.failure is not None:
                raise switch.failure()
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", maybe_failing)
    parameters.clear_caches()
    yield switch
    parameters.clear_caches()


def lambda_call(name: str, body: dict[str, Any]) -> dict[str, Any]:
    """One invocation as Lambda makes it: the entry point's settings loader, the adapter."""
    event = build_http_api_v2_event(
        method="POST",
        path=f"/{name}",
        headers={"content-type": "application/json"},
        body=json.dumps(body).encode(),
    )
    return handle_event(event, lambda_entry._registry, name, lambda_entry._settings)


def assert_settings_unavailable(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 503
    assert response["headers"]["retry-after"] == "5"
    assert json.loads(response["body"]) == {"error": SETTINGS_UNAVAILABLE}
    for leak in (*LEAKS, PATH, *SECRETS.values()):
        assert leak not in response["body"]


@pytest.mark.parametrize(
    ("name", "outage"),
    [("host_token", "unreachable"), *(("audience_token", outage) for outage in OUTAGES)],
)
def test_ssm_outage_is_a_clear_503_and_the_next_request_succeeds(
    ssm_switch: SsmSwitch, outage: str, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"password": HOST_PASSWORD} if name == "host_token" else {}
    # WHEN SSM cannot be read
    ssm_switch.failure = OUTAGES[outage]
    down = lambda_call(name, body)
    # THEN the caller is told to try again shortly, and the log says what failed
    assert_settings_unavailable(down)
    assert "SSM Parameter Store" in caplog.text
    # AND as soon as SSM answers, the very next request reads it and succeeds
    ssm_switch.failure = None
    calls_before = ssm_switch.calls
    up = lambda_call(name, body)
    assert up["statusCode"] == 200, up["body"]
    assert ssm_switch.calls == calls_before + 1


def test_an_outage_does_not_poison_the_cache_for_the_max_age(
    ssm_switch: SsmSwitch, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a long PARAMETER_MAX_AGE, a failed read is not remembered: only good values are."""
    monkeypatch.setenv("PARAMETER_MAX_AGE", "300")
    ssm_switch.failure = OUTAGES["unreachable"]
    for _ in range(3):
        assert_settings_unavailable(lambda_call("audience_token", {}))
    assert ssm_switch.calls == 3  # each request tried SSM again
    ssm_switch.failure = None
    assert lambda_call("audience_token", {})["statusCode"] == 200
    # AND the good values are then cached: an outage within the max age goes unnoticed
    ssm_switch.failure = OUTAGES["unreachable"]
    assert lambda_call("audience_token", {})["statusCode"] == 200
    assert ssm_switch.calls == 4


def test_a_role_that_may_not_read_ssm_is_a_deployment_error_not_an_outage(
    ssm_switch: SsmSwitch, caplog: pytest.LogCaptureFixture
) -> None:
    ssm_switch.failure = client_error("AccessDeniedException", 400)
    response = lambda_call("audience_token", {})
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"error": "Internal server error"}
    assert "ssm:GetParametersByPath" in caplog.text
