"""Fixtures for the stack tests: the parsed template."""

from __future__ import annotations

from typing import Any

import pytest
from cfn_yaml import load_template
from stack_support import TEMPLATE_PATH


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]
