"""A stateful emulator of the Twilio REST endpoints the ``twilio`` provider uses.

Video Rooms and the (retired) Media v1 API, written from Twilio's API reference and served over
real HTTP on 127.0.0.1, so the real twilio client talks to it through ``TWILIO_API_BASE_URL``.
Run it alone with ``python -m twilio_emulator --port 4010``.
"""

from twilio_emulator.credentials import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_API_KEY_SECRET,
    DEFAULT_API_KEY_SID,
    DEFAULT_AUTH_TOKEN,
)
from twilio_emulator.errors import ApiError
from twilio_emulator.server import EmulatorServer
from twilio_emulator.state import EmulatorState

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_API_KEY_SECRET",
    "DEFAULT_API_KEY_SID",
    "DEFAULT_AUTH_TOKEN",
    "ApiError",
    "EmulatorServer",
    "EmulatorState",
]
