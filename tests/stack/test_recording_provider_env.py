"""With Recording=on, every deployed function that builds the ivs provider works from its own
environment (the Globals merged, as SAM does): only /host_token creates stages, so only it needs
the storage configuration, and the others must not answer 503 for want of it."""

from __future__ import annotations

import ast
import re
from typing import Any

import botocore.session
import pytest
from botocore.stub import ANY, Stubber
from cfn_conditions import deployed
from stack_support import ROOT

from livescreen.config import Settings
from livescreen.providers.ivs.keys import generate_key_pair
from livescreen.providers.ivs.provider import IvsProvider
from livescreen.providers.ivs.stages import room_tags

pytestmark = pytest.mark.stack

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "live-test"
STORAGE_ARN = f"arn:aws:ivs:{REGION}:{ACCOUNT}:storage-configuration/Sc0123456789"
STAGE_ARN = f"arn:aws:ivs:{REGION}:{ACCOUNT}:stage/AbCdEfGh1234"
ROOM = "livestream-0123456789abcdef"
PRIVATE_PEM, _ = generate_key_pair()


def resolve(value: Any, parameters: dict[str, str]) -> str:
    """The value CloudFormation would give a plain environment variable (Recording=on, ivs)."""
    names = {"AWS::StackName": STACK, "AWS::Region": REGION, **parameters}
    if isinstance(value, dict) and "Ref" in value:
        return {"RecordingsBucket": "live-test-recordingsbucket"}.get(
            value["Ref"], str(names.get(value["Ref"], ""))
        )
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        assert value["Fn::GetAtt"] == ["IvsStorageConfiguration", "Arn"], value
        return STORAGE_ARN
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(names[m.group(1)]), value["Fn::Sub"])
    assert not isinstance(value, dict), value
    return str(value)


def provider_methods(endpoint: str) -> list[str]:
    """The provider methods functions/<endpoint>.py calls ([] when it builds no provider)."""
    tree = ast.parse((ROOT / "functions" / f"{endpoint}.py").read_text(encoding="utf-8"))
    names = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id == "provider_of"
    }
    if not names:
        return []
    return sorted(
        {
            node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "provider"
        }
    )


def provider_functions(template: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Logical id -> resolved environment, for every function that builds the stream provider."""
    parameters = {"Recording": "on", "StreamProvider": "ivs"}
    stack = deployed(template, **parameters)
    merged_parameters = {
        name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()
    }
    merged_parameters.update(parameters)
    found = {}
    for name, resource in stack["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
        variables.update(resource["Properties"].get("Environment", {}).get("Variables", {}))
        endpoint = variables.get("LIVESCREEN_FUNCTION")
        if not endpoint or not (ROOT / "functions" / f"{endpoint}.py").is_file():
            continue
        if provider_methods(str(endpoint)):
            found[name] = {k: resolve(v, merged_parameters) for k, v in variables.items()}
    return found


def stubbed_client() -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        "ivs-realtime",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client, Stubber(client)


def expect_calls(stubber: Stubber, method: str, app_tag: str) -> None:
    """The ivs-realtime answers the provider method needs, checked against the real model."""
    stage = {"arn": STAGE_ARN, "name": ROOM, "tags": room_tags(app_tag, ROOM, 1_750_000_000)}
    if method == "create_host_grant":
        stubber.add_response(
            "create_stage",
            {"stage": stage, "participantTokens": [{"token": "host-token"}]},
            {
                "name": ANY,
                "tags": ANY,
                "participantTokenConfigurations": ANY,
                "autoParticipantRecordingConfiguration": ANY,
            },
        )
    elif method in {"start_stream", "stop_stream"}:
        stubber.add_response("list_stages", {"stages": [stage]}, {"maxResults": ANY})
        operation = "tag_resource" if method == "start_stream" else "delete_stage"
        stubber.add_response(operation, {}, None)
    elif method == "audience_grant":
        stubber.add_response("list_stages", {"stages": []}, {"maxResults": ANY})
    elif method == "refresh_audience":
        # the room's stage, not live yet: nothing to count
        stubber.add_response("list_stages", {"stages": [stage]}, {"maxResults": ANY})
    else:
        raise AssertionError(f"no stubbed answers for IvsProvider.{method}")


#: The functions that build the stream provider: the four stream endpoints, and the host's
#: live numbers (``refresh_audience`` reads the stage's participants with ``ivs``).
PROVIDER_FUNCTIONS = (
    "HostTokenFunction",
    "StreamStartFunction",
    "StreamStopFunction",
    "AudienceTokenFunction",
    "StreamStatsFunction",
)
#: Provider methods that take the room's name.
ROOM_METHODS = {"start_stream", "stop_stream", "refresh_audience"}
#: Provider methods that answer nothing (they only do their work).
NO_ANSWER = {"refresh_audience"}


def test_the_functions_that_build_the_provider_are_the_stream_endpoints(
    template: dict[str, Any],
) -> None:
    assert set(provider_functions(template)) == set(PROVIDER_FUNCTIONS)


@pytest.mark.parametrize("function", PROVIDER_FUNCTIONS)
def test_with_recording_on_each_function_works_from_its_own_environment(
    template: dict[str, Any], function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the function's environment as deployed with Recording=on, on Lambda, and the
    # secrets `livescreen configure` stores in SSM
    env = provider_functions(template)[function]
    assert env["RECORDING"] == "on" and env["STREAM_PROVIDER"] == "ivs"
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", f"{STACK}-{function}")
    settings = Settings(
        {
            **env,
            "IVS_PRIVATE_KEY": PRIVATE_PEM,
            "IVS_PUBLIC_KEY_ARN": f"arn:aws:ivs:{REGION}:{ACCOUNT}:public-key/Pk0123456789",
            "HOST_PASSWORD": "a stack test password",
            "HOST_SESSION_SECRET": "stack-test-session-secret-0123456789",
        },
        source="the stack's environment",
    )
    client, stubber = stubbed_client()
    methods = provider_methods(env["LIVESCREEN_FUNCTION"])
    for method in methods:
        expect_calls(stubber, method, env["APP_TAG"])
    # WHEN the provider is built and the function's calls are made (no ConfigError, no 503)
    with stubber:
        provider = IvsProvider(settings, client=client)
        for method in methods:
            answer = getattr(provider, method)(*([ROOM] if method in ROOM_METHODS else []))
            assert (answer is None) == (method in NO_ANSWER), method
        stubber.assert_no_pending_responses()
