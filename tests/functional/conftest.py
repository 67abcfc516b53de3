"""Fixtures for tests that talk real HTTP to the local Twilio emulator."""

from __future__ import annotations

import pytest
from twilio_fixtures import emulator, twilio_settings, twilio_video_settings

__all__ = ["emulator", "twilio_settings", "twilio_video_settings"]


@pytest.fixture
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and a region, so boto3 under moto never looks for real ones."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
