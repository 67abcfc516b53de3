"""The emulator's tests: a fresh emulator, and the app's settings pointed at it."""

from __future__ import annotations

from twilio_fixtures import emulator, twilio_settings, twilio_video_settings

__all__ = ["emulator", "twilio_settings", "twilio_video_settings"]
