"""Every test runs with the process in a time zone far from UTC, with daylight saving and an
offset that is not a whole hour (``Pacific/Chatham``: UTC+12:45, or +13:45 in summer), so that a
time written or read in local time instead of UTC shows up as a failure whatever the machine's
own zone. ``TEST_TZ`` picks another zone for a run (``TEST_TZ=UTC make test``).

The browser tests set their pages' zone and clock themselves (``tests/browser/page_world.py``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

DEFAULT_TEST_TZ = "Pacific/Chatham"


def pytest_configure(config: pytest.Config) -> None:
    os.environ["TZ"] = os.environ.get("TEST_TZ") or DEFAULT_TEST_TZ
    time.tzset()


@pytest.fixture(autouse=True)
def _streams_db_of_its_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The stream store's default file (``STREAMS_DB``) is relative to the working directory:
    each test gets one of its own in a temporary folder, so no test writes into the checkout
    and no test sees another's streams."""
    from livescreen import config

    shipped = config.DEFAULTS["STREAMS_DB"]
    config.DEFAULTS["STREAMS_DB"] = str(tmp_path_factory.mktemp("streams") / "streams.db")
    yield
    config.DEFAULTS["STREAMS_DB"] = shipped


def pytest_report_header(config: pytest.Config) -> str:
    return f"time zone: TZ={os.environ.get('TZ')} ({time.strftime('%z')})"
