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

from livescreen.cli import main as cli
from livescreen.cli.stack_parameters import configure
from livescreen.config import ConfigError

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
def aws(fake_aws_credentials: None) -> Iterator[dict[str, Any]]:
    with mock_aws():
        cloudformation = boto3.client("cloudformation")
        cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(TEMPLATE))
        yield {"ssm": boto3.client("ssm"), "cloudformation": cloudformation}


def offline_client(service: str) -> Any:
    """A real botocore client with dummy credentials, for use behind a Stubber."""
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def ivs() -> Iterator[tuple[Any, Stubber]]:
    client = offline_client("ivs-realtime")
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


def test_a_dev_env_file_does_not_replace_the_stored_session_secret(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a stack whose session secret is already stored
    aws["ssm"].put_parameter(
        Name=f"{PATH}/HOST_SESSION_SECRET", Value="p" * 40, Type="SecureString", Overwrite=True
    )
    # WHEN configure runs with the dev server's .env, which has a session secret of its own
    env_file = write_env(tmp_path, {**TWILIO_ENV, "HOST_SESSION_SECRET": "d" * 43})
    result = configure(
        ssm=aws["ssm"],
        cloudformation=aws["cloudformation"],
        stack_name=STACK,
        provider="twilio",
        env_file=env_file,
    )
    # THEN the stored one is kept (the host stays signed in), and the report says so
    assert stored(aws["ssm"])["HOST_SESSION_SECRET"]["Value"] == "p" * 40
    assert result.kept == ["HOST_SESSION_SECRET"]
    assert any("Kept the stored HOST_SESSION_SECRET" in line for line in result.report())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"HOST_SESSION_SECRET": "short"}, "HOST_SESSION_SECRET must be at least 32"),
        ({"IVS_PRIVATE_KEY": "x"}, "Only IVS_PRIVATE_KEY of the IVS key pair"),
        (
            {"IVS_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----", "IVS_PUBLIC_KEY_ARN": KEY_ARN},
            "IVS_PRIVATE_KEY is not an unencrypted P-384 private key",
        ),
    ],
    ids=["short-session-secret", "half-a-key-pair", "truncated-pem"],
)
def test_values_the_functions_could_never_use_are_refused_and_nothing_is_written(
    aws: dict[str, Any], tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    # GIVEN an env file with one unusable value among good ones
    env_file = write_env(tmp_path, {**TWILIO_ENV, **extra})
    # WHEN configure runs THEN it refuses, naming the key
    with pytest.raises(ConfigError, match=message):
        configure(
            ssm=aws["ssm"],
            cloudformation=aws["cloudformation"],
            stack_name=STACK,
            provider="twilio",
            env_file=env_file,
        )
    # AND nothing at all was stored
    assert stored(aws["ssm"]) == {}


def test_a_p384_private_key_from_an_env_file_is_accepted_on_one_line(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a key pair written to .env the documented way: one line, double quotes, \n escapes
    private_key = ec.generate_private_key(ec.SECP384R1())
    from cryptography.hazmat.primitives import serialization

    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    env_file = tmp_path / ".env"
    env_file.write_text(
        "".join(f"{k}={v}\n" for k, v in TWILIO_ENV.items())
        + 'IVS_PRIVATE_KEY="'
        + pem.replace("\n", "\\n")
        + '"\n'
        + f"IVS_PUBLIC_KEY_ARN={KEY_ARN}\n",
        encoding="utf-8",
    )
    # WHEN configure runs
    configure(
        ssm=aws["ssm"],
        cloudformation=aws["cloudformation"],
        stack_name=STACK,
        provider="ivs",
        env_file=env_file,
    )
    # THEN the stored key is the whole PEM, loadable as the same P-384 key
    stored_pem = stored(aws["ssm"])["IVS_PRIVATE_KEY"]["Value"]
    loaded = load_pem_private_key(stored_pem.encode(), password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    assert loaded.private_numbers() == private_key.private_numbers()


def test_credentials_that_cannot_read_the_stack_are_not_reported_as_a_missing_stack() -> None:
    # GIVEN credentials that CloudFormation refuses
    cloudformation = offline_client("cloudformation")
    with Stubber(cloudformation) as stubber:
        stubber.add_client_error(
            "describe_stacks", service_error_code="ExpiredToken", service_message="expired"
        )
        # WHEN configure looks the stack up THEN it says what is really wrong
        with pytest.raises(ConfigError, match=r"Could not read stack.*ExpiredToken.*credentials"):
            configure(ssm=None, cloudformation=cloudformation, stack_name=STACK)


def test_a_missing_env_file_is_reported_before_any_aws_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["configure", "--env-file", str(tmp_path / "nope.env")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
