"""The IAM statements a function's role gets, read from the template."""

from __future__ import annotations

from typing import Any

NO_VALUE = {"Ref": "AWS::NoValue"}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_documents(function: dict[str, Any]) -> list[Any]:
    """A function's policies, a conditional one (``!If [cond, policy, !Ref AWS::NoValue]``)
    counted as the policy it grants when its condition holds."""
    found: list[Any] = []
    for policy in function["Properties"].get("Policies", []):
        if isinstance(policy, dict) and set(policy) == {"Fn::If"}:
            _, granted, otherwise = policy["Fn::If"]
            assert otherwise == NO_VALUE, policy
            policy = granted
        found.append(policy)
    return found


def function_statements(resources: dict[str, Any], logical_id: str) -> list[dict[str, Any]]:
    """The IAM statements one function's role gets (its managed and inline policies)."""
    found: list[dict[str, Any]] = []
    for policy in policy_documents(resources[logical_id]):
        if isinstance(policy, dict) and set(policy) == {"Ref"}:
            managed = resources[policy["Ref"]]
            assert managed["Type"] == "AWS::IAM::ManagedPolicy", policy
            found += managed["Properties"]["PolicyDocument"]["Statement"]
        elif isinstance(policy, dict) and "Statement" in policy:
            found += policy["Statement"]
        else:
            raise AssertionError(f"{logical_id}: a policy the test cannot read: {policy!r}")
    return found
