"""Fixtures for every test that talks real HTTP to the Twilio emulator: a fresh emulator and
settings for the ``twilio`` provider pointed at it. A conftest imports them to offer them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twilio_credentials import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    AUTH_TOKEN,
    HOST_PASSWORD,
    HOST_SESSION_SECRET,
    emulated_account,
)

from livescreen.config import Settings
from twilio_emulator import EmulatorServer


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A fresh Twilio emulator on 127.0.0.1 (free port), served from a thread."""
    with emulated_account() as server:
        yield server


@pytest.fixture
def twilio_settings(emulator: EmulatorServer) -> Settings:
    """Settings for the ``twilio`` provider's Live flow, pointed at ``emulator``."""
    return Settings(
        {
            "STREAM_PROVIDER": "twilio",
            "TWILIO_AUDIENCE": "live",
            "HOST_PASSWORD": HOST_PASSWORD,
            "HOST_SESSION_SECRET": HOST_SESSION_SECRET,
            "ACCOUNT_SID": ACCOUNT_SID,
            "AUTH_TOKEN": AUTH_TOKEN,
            "API_KEY_SID": API_KEY_SID,
            "API_KEY_SECRET": API_KEY_SECRET,
            "TWILIO_API_BASE_URL": emulator.base_url,
            "UPSTREAM_TIMEOUT": "5",
        },
        source="the test settings",
    )


@pytest.fixture
def twilio_video_settings(twilio_settings: Settings) -> Settings:
    """Settings for the ``twilio`` provider with viewers in the Video room (the default)."""
    return twilio_settings.with_values(TWILIO_AUDIENCE="video")
