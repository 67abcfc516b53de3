"""Fixtures for the stack tests: the parsed template, and one `sam build` per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfn_yaml import load_template
from stack_support import TEMPLATE_PATH, sam


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``sam build`` of the stack, once for every test that looks at what it built."""
    target = tmp_path_factory.mktemp("sam-build") / "build"
    result = sam("build", "--build-dir", str(target))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return target
