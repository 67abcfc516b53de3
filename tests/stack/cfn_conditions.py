"""The stack a set of parameter values would deploy: conditions evaluated, the rest as written.

``deployed(template, Recording="on")`` drops every resource and output whose ``Condition`` is
false, replaces each ``Fn::If`` by the branch its condition picks, and removes
``!Ref AWS::NoValue`` (a property or list item CloudFormation leaves out). Parameters not given
take their ``Default``. Only what conditions use is evaluated (``Fn::Equals`` on parameters and
literals, ``Fn::And``, ``Fn::Or``, ``Fn::Not``, ``Condition``).
"""

from __future__ import annotations

from typing import Any

NO_VALUE = {"Ref": "AWS::NoValue"}
_DROPPED = object()


class DeployedStack:
    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self._template = template
        defaults = {
            name: str(spec["Default"])
            for name, spec in template.get("Parameters", {}).items()
            if "Default" in spec
        }
        unknown = set(parameters) - set(template.get("Parameters", {}))
        assert not unknown, f"not parameters of the template: {unknown}"
        self.parameters = {**defaults, **parameters}
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self._truth(self._template["Conditions"][name])
        return self._conditions[name]

    def _truth(self, expression: Any) -> bool:
        ((function, arguments),) = expression.items()
        if function == "Condition":
            return self.condition(arguments)
        if function == "Fn::Equals":
            left, right = (self._value(argument) for argument in arguments)
            return left == right
        if function == "Fn::And":
            return all(self._truth(argument) for argument in arguments)
        if function == "Fn::Or":
            return any(self._truth(argument) for argument in arguments)
        if function == "Fn::Not":
            return not self._truth(arguments[0])
        raise AssertionError(f"cannot evaluate {function} in a condition")

    def _value(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"Ref"}:
            return self.parameters[value["Ref"]]
        return str(value) if isinstance(value, (bool, int)) else value

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict):
            if node == NO_VALUE:
                return _DROPPED
            if set(node) == {"Fn::If"}:
                name, chosen, otherwise = node["Fn::If"]
                return self.resolve(chosen if self.condition(name) else otherwise)
            resolved = {key: self.resolve(value) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value is not _DROPPED}
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not _DROPPED]
        return node

    def section(self, name: str) -> dict[str, Any]:
        return {
            logical_id: self.resolve(entry)
            for logical_id, entry in self._template.get(name, {}).items()
            if "Condition" not in entry or self.condition(entry["Condition"])
        }


def deployed(template: dict[str, Any], **parameters: str) -> dict[str, Any]:
    """``{"Resources": ..., "Outputs": ...}`` as the stack with these parameters would have."""
    stack = DeployedStack(template, parameters)
    return {"Resources": stack.section("Resources"), "Outputs": stack.section("Outputs")}
