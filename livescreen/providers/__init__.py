"""Streaming providers, chosen by the ``STREAM_PROVIDER`` setting.

Provider modules are imported lazily so that a Lambda cold start loads only the SDK it uses.
"""

from __future__ import annotations

import threading
from importlib import import_module

from livescreen.config import ConfigError, Settings
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
    "local": "livescreen.providers.local:create_provider",
    "twilio": "livescreen.providers.twilio:create_provider",
    "ivs": "livescreen.providers.ivs:create_provider",
}

_cache: dict[tuple[tuple[str, str], ...], StreamProvider] = {}
_lock = threading.Lock()


def get_provider(settings: Settings) -> StreamProvider:
    """The provider named by ``settings``, built once per process for the same settings."""
    name = settings.provider
    key = tuple(sorted((k, settings[k]) for k in settings))
    with _lock:
        provider = _cache.get(key)
        if provider is None:
            module_name, _, factory_name = _FACTORIES[name].partition(":")
            try:
                factory = getattr(import_module(module_name), factory_name)
            except ModuleNotFoundError as exc:  # pragma: no cover - a broken install
                raise ConfigError(f"The {name!r} provider is not available: {exc}") from exc
            provider = factory(settings)
            _cache.clear()  # settings changed (new secrets): drop the old instance
            _cache[key] = provider
        return provider


def clear_provider_cache() -> None:
    """Forget every provider instance (tests, and a settings change in the dev server)."""
    with _lock:
        _cache.clear()
