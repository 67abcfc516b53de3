"""Read a CloudFormation/SAM template written in YAML, short-form intrinsics included.

``!Ref X`` becomes ``{"Ref": "X"}``, ``!GetAtt A.B`` becomes ``{"Fn::GetAtt": ["A", "B"]}`` and
every other ``!Fn`` becomes ``{"Fn::Fn": ...}``, exactly the long form CloudFormation accepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_FUNCTIONS = (
    "And", "Base64", "Cidr", "Equals", "FindInMap", "GetAZs", "If", "ImportValue", "Join",
    "Not", "Or", "Select", "Split", "Sub", "Transform", "Length", "ToJsonString",
)  # fmt: skip


class TemplateLoader(yaml.SafeLoader):
    """A SafeLoader that knows CloudFormation's short-form tags."""


def _construct(node: yaml.Node, loader: TemplateLoader) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _function(name: str) -> Any:
    def construct(loader: TemplateLoader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{name}": _construct(node, loader)}

    return construct


def _ref(loader: TemplateLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _construct(node, loader)}


def _condition(loader: TemplateLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _construct(node, loader)}


def _get_att(loader: TemplateLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct(node, loader)
    if isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::GetAtt": value}


for _name in _FUNCTIONS:
    TemplateLoader.add_constructor(f"!{_name}", _function(_name))
TemplateLoader.add_constructor("!Ref", _ref)
TemplateLoader.add_constructor("!Condition", _condition)
TemplateLoader.add_constructor("!GetAtt", _get_att)


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=TemplateLoader)  # noqa: S506 - a SafeLoader subclass
