"""The emulated Twilio account and host secrets the functional tests share.

Test modules import them from here, never from ``conftest``: with several test tiers collected
in one run, ``import conftest`` finds whichever tier's conftest came first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from twilio_emulator import EmulatorServer

ACCOUNT_SID = "AC" + "1f" * 16
AUTH_TOKEN = "emulated-auth-token-0123456789abcdef"
API_KEY_SID = "SK" + "2e" * 16
API_KEY_SECRET = "emulated-api-key-secret-0123456789abcdef"
HOST_PASSWORD = "correct horse battery staple"
HOST_SESSION_SECRET = "emulated-host-session-secret-0123456789"


@contextmanager
def emulated_account(clock: Callable[[], float] = time.time) -> Iterator[EmulatorServer]:
    """A Twilio emulator for this account (API key included) on a free port, stopped after."""
    server = EmulatorServer(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        api_keys={API_KEY_SID: API_KEY_SECRET},
        clock=clock,
    ).start()
    try:
        yield server
    finally:
        server.stop()
