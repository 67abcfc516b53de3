"""`livescreen configure` against moto (CloudFormation outputs, SSM) and IVS through Stubber.

moto has no ivs-realtime; botocore's Stubber checks every request and response against the
real service model instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from moto import mock_aws

from livescreen import cli
from livescreen.config import ConfigError
from livescreen.configure import configure

STACK = "live-test"
PATH = f"/live-screen-sharing/{STACK}"
KEY_ARN = "arn:aws:ivs:us-east-1:123456789012:public-key/AbCdEf123456"

TEMPLATE = {
    "Parameters": {"StreamProvider": {"Type": "String", "Default": "ivs"}},
    "Resources": {"AssetsBucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {"ParameterPath": {"Value": {"Fn::Sub": "/live-screen-sharing/${AWS::StackName}"}}},
}

TWILIO_ENV = {
    "HOST_PASSWORD": "correct horse battery staple",
    "ACCOUNT_SID": "AC" + "1f" * 16,
    "AUTH_TOKEN": "auth-token-0123456789abcdef",
    "API_KEY_SID": "SK" + "2e" * 16,
    "API_KEY_SECRET": "api-key-secret-0123456789abcdef",
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        cloudformation = boto3.client("cloudformation")
        cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(TEMPLATE))
        yield {"ssm": boto3.client("ssm"), "cloudformation": cloudformation}


@pytest.fixture
def ivs() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "ivs-realtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def stored(ssm: Any) -> dict[str, dict[str, Any]]:
    """Every parameter under the stack's path, decrypted, by setting name."""
    response = ssm.get_parameters_by_path(Path=PATH, WithDecryption=True)
    return {p["Name"].rsplit("/", 1)[-1]: p for p in response["Parameters"]}


def write_env(tmp_path: Path, values: dict[str, str]) -> Path:
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return env_file


def test_ivs_stack_gets_a_session_secret_and_a_key_pair_whose_public_half_is_in_ivs(
    aws: dict[str, Any], ivs: tuple[Any, Stubber]
) -> None:
    client, stubber = ivs
    # GIVEN a freshly deployed ivs stack; IVS accepts the public key
    stubber.add_response(
        "import_public_key",
        {"publicKey": {"arn": KEY_ARN, "name": "live-test-key", "tags": {"app": STACK}}},
        {"publicKeyMaterial": ANY, "name": ANY, "tags": {"app": STACK}},
    )
    # WHEN configure runs without any input
    result = configure(
        ssm=aws["ssm"],
        cloudformation=aws["cloudformation"],
        stack_name=STACK,
        ivs_client_factory=lambda: client,
    )
    # THEN the session secret and the IVS key pair are stored as SecureStrings
    values = stored(aws["ssm"])
    assert set(values) == {"HOST_SESSION_SECRET", "IVS_PRIVATE_KEY", "IVS_PUBLIC_KEY_ARN"}
    assert {p["Type"] for p in values.values()} == {"SecureString"}
    assert values["IVS_PUBLIC_KEY_ARN"]["Value"] == KEY_ARN
    assert len(values["HOST_SESSION_SECRET"]["Value"]) >= 32
    # AND the private key is an ES384 (P-384) key whose public half is the one sent to IVS
    private_key = load_pem_private_key(values["IVS_PRIVATE_KEY"]["Value"].encode(), None)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    assert private_key.curve.name == "secp384r1"
    # AND the user is told the host password is still missing, with no value shown
    assert result.provider == "ivs"
    assert result.missing == ["HOST_PASSWORD"]
    report = "\n".join(result.report())
    assert "Still missing for the ivs provider: HOST_PASSWORD" in report
    for parameter in values.values():
        assert parameter["Value"] not in report


def test_twilio_secrets_from_an_env_file_overwrite_what_was_stored(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN an old auth token already stored
    aws["ssm"].put_parameter(
        Name=f"{PATH}/AUTH_TOKEN", Value="old-token", Type="SecureString", Overwrite=True
    )
    env_file = write_env(tmp_path, {**TWILIO_ENV, "ROOM_TYPE": "group-small"})
    # WHEN configure runs for the twilio provider with the .env file
    result = configure(
        ssm=aws["ssm"],
        cloudformation=aws["cloudformation"],
        stack_name=STACK,
        provider="twilio",
        env_file=env_file,
    )
    # THEN every secret is stored, the token replaced, the session secret generated
    values = stored(aws["ssm"])
    assert {k: values[k]["Value"] for k in TWILIO_ENV} == TWILIO_ENV
    assert set(values) == {*TWILIO_ENV, "HOST_SESSION_SECRET"}
    # AND plain settings from the file stay out of SSM (the stack parameters own them)
    assert "ROOM_TYPE" not in values
    assert result.generated == ["HOST_SESSION_SECRET"]
    assert result.missing == []
    assert "Nothing is missing for the twilio provider." in result.report()


def test_running_again_changes_nothing_and_imports_no_second_key(
    aws: dict[str, Any], ivs: tuple[Any, Stubber], tmp_path: Path
) -> None:
    client, stubber = ivs
    stubber.add_response(
        "import_public_key",
        {"publicKey": {"arn": KEY_ARN}},
        {"publicKeyMaterial": ANY, "name": ANY, "tags": ANY},
    )
    env_file = write_env(tmp_path, {"HOST_PASSWORD": "correct horse battery staple"})
    kwargs: dict[str, Any] = {
        "ssm": aws["ssm"],
        "cloudformation": aws["cloudformation"],
        "stack_name": STACK,
        "ivs_client_factory": lambda: client,
    }
    configure(**kwargs, env_file=env_file)
    first = {k: p["Value"] for k, p in stored(aws["ssm"]).items()}
    # WHEN configure runs a second time (the Stubber has no second IVS answer)
    result = configure(**kwargs)
    # THEN the stored values are untouched
    assert {k: p["Value"] for k, p in stored(aws["ssm"]).items()} == first
    assert result.written == []
    assert result.missing == []


def test_prompts_ask_only_for_what_is_missing(aws: dict[str, Any], tmp_path: Path) -> None:
    env_file = write_env(tmp_path, {"ACCOUNT_SID": TWILIO_ENV["ACCOUNT_SID"]})
    asked: list[str] = []

    def prompt(key: str) -> str:
        asked.append(key)
        return "" if key == "API_KEY_SECRET" else TWILIO_ENV[key]

    result = configure(
        ssm=aws["ssm"],
        cloudformation=aws["cloudformation"],
        stack_name=STACK,
        provider="twilio",
        env_file=env_file,
        prompt=prompt,
    )
    # THEN the session secret is generated, not asked for, and ACCOUNT_SID came from the file
    assert asked == ["HOST_PASSWORD", "AUTH_TOKEN", "API_KEY_SID", "API_KEY_SECRET"]
    # AND a skipped answer is reported as missing
    assert result.missing == ["API_KEY_SECRET"]


def test_an_unknown_stack_is_reported_with_what_to_do(aws: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="sam deploy --guided"):
        configure(ssm=aws["ssm"], cloudformation=aws["cloudformation"], stack_name="nope")


def test_the_command_line_never_prints_a_secret(
    aws: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = write_env(tmp_path, TWILIO_ENV)
    # WHEN the user runs the documented command
    code = cli.main(
        ["configure", "--stack", STACK, "--env-file", str(env_file), "--provider", "twilio"]
    )
    # THEN it succeeds and names the keys it set
    out = capsys.readouterr()
    assert code == 0
    assert "Set: HOST_PASSWORD, HOST_SESSION_SECRET, ACCOUNT_SID" in out.out
    # AND no secret value appears anywhere in its output
    session_secret = stored(aws["ssm"])["HOST_SESSION_SECRET"]["Value"]
    for secret in [*TWILIO_ENV.values(), session_secret]:
        assert secret not in out.out + out.err
