"""cfn-lint, AWS's own linter with the CloudFormation resource schemas, on every way the stack is
deployed, with the longest stack name CloudFormation allows.

CloudFormation accepts stack names of up to 128 characters, and the stack names several of its
resources after itself: a name that fits a short stack name and not a long one fails only at
deploy time. So every combination of the parameters the tests use is linted with a 128-character
stack name written into the template, and every text derived from the stack's name or ID is
also held to the limits the schemas state only in words ("You can specify up to 64
characters").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from cfn_conditions import deployed
from cfn_names import derived_texts
from cfnlint.api import ManualArgs, lint
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from stack_support import TEMPLATE_PATH

pytestmark = pytest.mark.stack

REGION = "us-east-1"
#: CloudFormation's longest stack name: a letter, then letters, digits and hyphens, 128 in all
LONGEST_STACK_NAME = "live-screen-sharing-" + "x" * 107 + "9"
LONGEST_STACK_ID = (
    f"arn:aws:cloudformation:{REGION}:123456789012:stack/{LONGEST_STACK_NAME}/"
    "8f0c5a70-3d9e-11f1-9b2a-0a1b2c3d4e5f"
)

#: every parameter combination the stack tests deploy, and a custom domain
COMBINATIONS: list[dict[str, str]] = [
    {"StreamProvider": provider, "Recording": recording, "Chat": chat}
    for provider in ("ivs", "twilio")
    for recording in ("off", "on")
    for chat in ("ivschat", "off")
] + [
    {
        "StreamProvider": "twilio",
        "TwilioAudience": "live",
        "RecordingsPublic": "true",
        "DomainName": "live.example.com",
        "CertificateArn": f"arn:aws:acm:{REGION}:123456789012:certificate/0f1e2d3c-aaaa-bbbb",
    }
]
#: a limit a schema states only in a property's description
WORDED_LIMIT = re.compile(r"(?:up to|longer than|at most|maximum of) (\d+) characters")


def combination_id(parameters: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in parameters.items())


def with_longest_stack_name(template_text: str) -> str:
    assert len(LONGEST_STACK_NAME) == 128
    return template_text.replace("${AWS::StackName}", LONGEST_STACK_NAME).replace(
        "!Ref AWS::StackName", f'"{LONGEST_STACK_NAME}"'
    )


@pytest.mark.parametrize("parameters", COMBINATIONS, ids=combination_id)
def test_cfn_lint_finds_nothing_with_the_longest_stack_name(parameters: dict[str, str]) -> None:
    text = with_longest_stack_name(TEMPLATE_PATH.read_text(encoding="utf-8"))
    matches = lint(text, config=ManualArgs(parameters=[parameters], regions=[REGION]))
    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches] == []


@cache
def resource_schema(resource_type: str) -> dict[str, Any]:
    return PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource_type).schema


def property_schema(resource_type: str, path: tuple[str, ...]) -> dict[str, Any]:
    """The schema of one property, following ``$ref`` and array ``items``."""
    root = resource_schema(resource_type)

    def follow(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node or node.get("type") == "array":
            if "$ref" in node:
                node = root["definitions"][node["$ref"].rsplit("/", 1)[-1]]
            else:
                node = node.get("items", {})
        return node

    node = root
    for name in path:
        node = follow(node)
        node = node.get("properties", {}).get(name, {})
    return follow(node)


def limits_broken(value: str, schema: dict[str, Any]) -> Iterator[str]:
    lengths = [int(n) for n in WORDED_LIMIT.findall(schema.get("description", ""))]
    if "maxLength" in schema:
        lengths.append(schema["maxLength"])
    longest = min(lengths, default=None)
    if longest is not None and len(value) > longest:
        yield f"{len(value)} characters, at most {longest}"
    if "pattern" in schema and not re.search(schema["pattern"], value):
        yield f"does not match {schema['pattern']}"


@pytest.mark.parametrize("parameters", COMBINATIONS, ids=combination_id)
def test_every_name_derived_from_the_stack_fits_with_the_longest_stack_name(
    template: dict[str, Any], parameters: dict[str, str]
) -> None:
    stack = deployed(template, **parameters)
    checked, broken = 0, []
    for text in derived_texts(stack, LONGEST_STACK_NAME, LONGEST_STACK_ID):
        if text.resource_type.startswith("AWS::Serverless::"):
            continue  # not a CloudFormation schema: cfn-lint checks what SAM turns it into
        schema = property_schema(text.resource_type, text.path)
        checked += 1
        for problem in limits_broken(text.value, schema):
            broken.append(f"{text.logical_id}.{'.'.join(text.path)} = {text.value!r}: {problem}")
    assert checked >= 5  # (the walk does see the stack's names)
    assert broken == []
