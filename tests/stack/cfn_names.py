"""Every text the stack derives from its own name or ID, as CloudFormation would write it.

``derived_texts(stack)`` walks a deployed stack (``cfn_conditions.deployed``) and returns each
property whose value uses ``AWS::StackName`` or ``AWS::StackId``, resolved for a given stack
name and ID: ``Ref`` of those two pseudo parameters, ``Fn::Sub`` (a string, or a string and its
variables), ``Fn::Select`` and ``Fn::Split``. A value naming anything else (another resource,
the region) keeps a placeholder for that part, which never shortens it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
PLACEHOLDER = "x"


@dataclass(frozen=True)
class DerivedText:
    resource_type: str
    logical_id: str
    path: tuple[str, ...]  # property names from the resource's Properties down
    value: str


class Resolver:
    def __init__(self, stack_name: str, stack_id: str) -> None:
        self.pseudo = {"AWS::StackName": stack_name, "AWS::StackId": stack_id}
        self.used = False

    def text(self, node: Any, variables: dict[str, Any] | None = None) -> Any:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and len(node) == 1:
            ((function, argument),) = node.items()
            if function == "Ref":
                if argument in self.pseudo:
                    self.used = True
                    return self.pseudo[argument]
                return PLACEHOLDER
            if function == "Fn::Sub":
                return self._sub(argument)
            if function == "Fn::Select":
                index, items = argument
                return self.text(items)[int(index)]
            if function == "Fn::Split":
                separator, value = argument
                return self.text(value).split(separator)
            return PLACEHOLDER
        return node

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.text(variables[name]))
            if name in self.pseudo:
                self.used = True
                return self.pseudo[name]
            return PLACEHOLDER

        return _VARIABLE.sub(value, text)


def derived_texts(stack: dict[str, Any], stack_name: str, stack_id: str) -> Iterator[DerivedText]:
    for logical_id, resource in stack["Resources"].items():
        yield from _walk(resource["Type"], logical_id, (), resource.get("Properties", {}),
                         stack_name, stack_id)  # fmt: skip


def _walk(
    kind: str, logical_id: str, path: tuple[str, ...], node: Any, stack_name: str, stack_id: str
) -> Iterator[DerivedText]:
    if isinstance(node, dict) and len(node) == 1 and next(iter(node)).startswith(("Fn::", "Ref")):
        resolver = Resolver(stack_name, stack_id)
        value = resolver.text(node)
        if resolver.used and isinstance(value, str):
            yield DerivedText(kind, logical_id, path, value)
        return
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(kind, logical_id, (*path, key), value, stack_name, stack_id)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(kind, logical_id, path, item, stack_name, stack_id)
