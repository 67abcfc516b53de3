"""Objects built once per process for the same settings, by a factory named in a table.

Providers, chat providers and recording stores are each chosen by name from a table of
``"module:factory"`` strings, imported lazily (a Lambda cold start loads only the SDK it uses),
and reused while the settings stay the same; new settings (a secret rotated in SSM, a dev
server's reloaded ``.env``) drop the old instance.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from importlib import import_module
from typing import Any, Generic, TypeVar

from livescreen.config import ConfigError, Settings

T = TypeVar("T")


class PerSettings(Generic[T]):
    """The instance ``factories[name](settings)``, built once for the same name and settings."""

    def __init__(self, factories: Mapping[str, str], what: str) -> None:
        self._factories = factories
        self._what = what
        self._cache: dict[Hashable, T] = {}
        self._lock = threading.Lock()

    def get(self, name: str, settings: Settings) -> T:
        key = (name, tuple(sorted((k, settings[k]) for k in settings)))
        with self._lock:
            instance = self._cache.get(key)
            if instance is None:
                instance = self._factory(name)(settings)
                self._cache.clear()  # settings changed: drop the old instance
                self._cache[key] = instance
            return instance

    def _factory(self, name: str) -> Callable[[Settings], Any]:
        module_name, _, factory_name = self._factories[name].partition(":")
        try:
            factory: Callable[[Settings], Any] = getattr(import_module(module_name), factory_name)
        except ModuleNotFoundError as exc:  # pragma: no cover - a broken install
            raise ConfigError(f"The {name!r} {self._what} is not available: {exc}") from exc
        return factory

    def clear(self) -> None:
        """Forget every instance (tests, and a settings change in the dev server)."""
        with self._lock:
            self._cache.clear()
