"""`livescreen configure` refuses a host password that is quick to guess, writing nothing.

Against moto (CloudFormation outputs, SSM), as ``test_configure.py``: from an ``--env-file``
and from the hidden prompt alike, a HOST_PASSWORD under 12 characters stops the command before
any parameter is written; the message says why without repeating the password.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from livescreen.cli import main as cli
from livescreen.cli.stack_parameters import configure
from livescreen.config import ConfigError

STACK = "weak-password-test"
PATH = f"/live-screen-sharing/{STACK}"
TEMPLATE = {
    "Parameters": {"StreamProvider": {"Type": "String", "Default": "twilio"}},
    "Resources": {"AssetsBucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {"ParameterPath": {"Value": {"Fn::Sub": "/live-screen-sharing/${AWS::StackName}"}}},
}


@pytest.fixture
def aws(fake_aws_credentials: None) -> Iterator[dict[str, Any]]:
    with mock_aws():
        cloudformation = boto3.client("cloudformation")
        cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(TEMPLATE))
        yield {"ssm": boto3.client("ssm"), "cloudformation": cloudformation}


def stored_names(ssm: Any) -> set[str]:
    response = ssm.get_parameters_by_path(Path=PATH)
    return {p["Name"].rsplit("/", 1)[-1] for p in response["Parameters"]}


def test_a_short_password_in_the_env_file_is_refused_and_nothing_is_written(
    aws: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("HOST_PASSWORD=a\nAUTH_TOKEN=auth-token-0123456789abcdef\n")

    code = cli.main(["configure", "--stack", STACK, "--env-file", str(env_file), "--no-input"])

    err = capsys.readouterr().err
    assert code == 2
    assert "HOST_PASSWORD is only 1 character long: use at least 12" in err
    assert "nothing was changed" in err
    assert stored_names(aws["ssm"]) == set()


def test_a_short_password_typed_at_the_prompt_is_refused_and_nothing_is_written(
    aws: dict[str, Any],
) -> None:
    answers = {"HOST_PASSWORD": "hunter2", "AUTH_TOKEN": "auth-token-0123456789abcdef"}

    with pytest.raises(ConfigError, match="use at least 12") as refused:
        configure(
            ssm=aws["ssm"],
            cloudformation=aws["cloudformation"],
            stack_name=STACK,
            prompt=lambda key: answers.get(key, ""),
        )

    assert "hunter2" not in str(refused.value)
    assert stored_names(aws["ssm"]) == set()


def test_a_long_enough_password_is_stored(aws: dict[str, Any]) -> None:
    result = configure(
        ssm=aws["ssm"],
        cloudformation=aws["cloudformation"],
        stack_name=STACK,
        prompt=lambda key: "twelve chars" if key == "HOST_PASSWORD" else "",
    )

    assert "HOST_PASSWORD" in result.written
    assert "HOST_PASSWORD" in stored_names(aws["ssm"])
