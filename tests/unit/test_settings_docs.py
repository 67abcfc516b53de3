"""The documented settings and the code's settings are the same list."""

from pathlib import Path

from livescreen import config
from livescreen.config import parse_dotenv

#: The defaults as the app ships them: copied when the tests are collected, before the root
#: conftest moves ``STREAMS_DB`` into a temporary folder for the run.
DEFAULTS = dict(config.DEFAULTS)

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting_with_its_default():
    # GIVEN the settings file a new user copies
    documented = parse_dotenv((ROOT / ".env.example").read_text(encoding="utf-8"))
    # THEN every setting the code reads is there, and no stale one
    assert set(documented) == set(DEFAULTS)
    # AND a documented default is the code's default
    for key, value in documented.items():
        if value:
            assert DEFAULTS[key] == value, key
