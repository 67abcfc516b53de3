"""The order CloudFormation creates a template's resources in.

A resource waits for every resource it names: ``Ref``, ``Fn::GetAtt``, ``${X}`` or ``${X.Attr}``
inside ``Fn::Sub``, and ``DependsOn``. Anything else may be created at the same time.
"""

from __future__ import annotations

import re
from typing import Any

_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def _named(node: Any, resources: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and value in resources:
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {n for n in _SUB_NAME.findall(text) if n in resources}
                if isinstance(value, list):
                    found |= _named(value[1], resources)
            else:
                found |= _named(value, resources)
    elif isinstance(node, list):
        for item in node:
            found |= _named(item, resources)
    return found


def direct_dependencies(resources: dict[str, Any], logical_id: str) -> set[str]:
    """The resources ``logical_id`` waits for directly."""
    resource = resources[logical_id]
    depends_on = resource.get("DependsOn", [])
    explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
    return explicit | _named(resource.get("Properties", {}), resources)


def created_before(resources: dict[str, Any], first: str, then: str) -> bool:
    """Whether CloudFormation finishes ``first`` before it starts ``then``."""
    pending, seen = [then], set()
    while pending:
        current = pending.pop()
        for dependency in direct_dependencies(resources, current):
            if dependency == first:
                return True
            if dependency not in seen:
                seen.add(dependency)
                pending.append(dependency)
    return False
