"""The Twilio Functions ``context``: every setting as an attribute, plus a Twilio client."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from livescreen.config import Settings

if TYPE_CHECKING:
    from twilio.rest import Client

_client_lock = threading.Lock()
_client_cache: dict[tuple[str, ...], Client] = {}

_CLIENT_KEYS = ("ACCOUNT_SID", "AUTH_TOKEN", "API_KEY_SID", "API_KEY_SECRET", "TWILIO_API_BASE_URL")


def twilio_client_for(settings: Settings) -> Client:
    """One Twilio client per container for the same credentials (built on first use)."""
    key = tuple(settings.get(k, "") for k in _CLIENT_KEYS)
    with _client_lock:
        client = _client_cache.get(key)
        if client is None:
            from livescreen.runtime.twilio_client import make_twilio_client

            client = make_twilio_client(settings)
            _client_cache[key] = client
        return client


class FunctionContext:
    """``context.HOST_PASSWORD``, ``DOMAIN_NAME``, ``PATH`` and ``get_twilio_client()``.

    A setting that has no value raises ``AttributeError`` naming the key and where it was
    looked for, so a function fails with a message an operator can act on.
    """

    def __init__(self, settings: Settings, *, domain_name: str, path: str) -> None:
        self.settings = settings
        self.DOMAIN_NAME = domain_name
        self.PATH = path

    def __getattr__(self, name: str) -> Any:
        if name.isupper():
            try:
                return self.settings[name]
            except KeyError:
                raise AttributeError(
                    f"context.{name} has no value: set {name} in {self.settings.source}"
                ) from None
        raise AttributeError(name)

    def get_twilio_client(self) -> Client:
        return twilio_client_for(self.settings)
