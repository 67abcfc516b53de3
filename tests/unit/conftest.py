"""Shared fixtures for the unit tests: fresh process-wide state for every test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from livescreen.providers import clear_provider_cache
from livescreen.providers.local.hub import HUB
from livescreen.security import password_guard


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No throttle history, no cached provider, no local rooms; never "on Lambda"."""
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    password_guard.throttle.reset()
    clear_provider_cache()
    HUB.reset()
    yield
    clear_provider_cache()
    HUB.reset()
    password_guard.throttle.reset()


@pytest.fixture
def functions_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "functions"
    folder.mkdir()
    return folder


@pytest.fixture
def write_function(functions_dir: Path) -> Callable[[str, str], Path]:
    """Write ``functions/<filename>`` with the given source and return its path."""

    def write(filename: str, source: str) -> Path:
        path = functions_dir / filename
        path.write_text(source, encoding="utf-8")
        return path

    return write
