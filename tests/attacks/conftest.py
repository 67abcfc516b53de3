"""The attack suite: each test plays one attack on a real ``livescreen dev`` (loopback only)
and checks that the normal user and the host are unaffected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dev_process import DevProcess


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevProcess]:
    """A fresh ``livescreen dev`` with the default settings (local provider, local chat)."""
    server = DevProcess.start(tmp_path / "app")
    yield server
    server.stop()
