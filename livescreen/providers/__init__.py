"""Streaming providers, chosen by the ``STREAM_PROVIDER`` setting.

Provider modules are imported lazily so that a Lambda cold start loads only the SDK it uses.
"""

from __future__ import annotations

from livescreen.config import Settings
from livescreen.per_settings import PerSettings
from livescreen.providers.base import (
    AudienceGrant,
    HostGrant,
    ProviderError,
    ProviderUnavailableError,
    StreamProvider,
    StreamState,
)

__all__ = [
    "AudienceGrant",
    "HostGrant",
    "ProviderError",
    "ProviderUnavailableError",
    "StreamProvider",
    "StreamState",
    "clear_provider_cache",
    "get_provider",
]

#: provider name -> "module:factory"; each factory takes the Settings and returns a provider.
_FACTORIES = {
    "local": "livescreen.providers.local.provider:create_provider",
    "twilio": "livescreen.providers.twilio.factory:create_provider",
    "ivs": "livescreen.providers.ivs.provider:create_provider",
}

_providers: PerSettings[StreamProvider] = PerSettings(
    _FACTORIES,
    "provider",
    dev_server_only={
        "local": lambda: ProviderUnavailableError(
            "The local provider only runs in the dev server (`livescreen dev`): its rooms live "
            "in one process's memory. Set STREAM_PROVIDER=ivs (or twilio) for a deployed stack."
        )
    },
)


def get_provider(settings: Settings) -> StreamProvider:
    """The provider named by ``settings``, built once per process for the same settings."""
    return _providers.get(settings.provider, settings)


def clear_provider_cache() -> None:
    """Forget every provider instance (tests, and a settings change in the dev server)."""
    _providers.clear()
