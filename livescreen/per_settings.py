"""Objects built once per process for the same settings, by a factory named in a table.

Providers, chat providers and recording stores are each chosen by name from a table of
``"module:factory"`` strings, imported lazily (a Lambda cold start loads only the SDK it uses),
and reused while the settings stay the same; new settings (a secret rotated in SSM, a dev
server's reloaded ``.env``) drop the old instance. A name that only works in the dev server
(``local``: its modules are not even packaged for Lambda) is refused on Lambda with its own
message before anything is imported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from importlib import import_module
from typing import Any, Generic, TypeVar

from livescreen.config import ConfigError, Settings, running_on_lambda

T = TypeVar("T")


class PerSettings(Generic[T]):
    """The instance ``factories[name](settings)``, built once for the same name and settings."""

    def __init__(
        self,
        factories: Mapping[str, str],
        what: str,
        *,
        dev_server_only: Mapping[str, Callable[[], Exception]] | None = None,
    ) -> None:
        self._factories = factories
        self._what = what
        #: name -> the error a Lambda function raises when asked for it, made afresh each time
        self._dev_server_only = dict(dev_server_only or {})
        self._cache: dict[Hashable, T] = {}
        self._lock = threading.Lock()

    def get(self, name: str, settings: Settings) -> T:
        refusal = self._dev_server_only.get(name)
        if refusal is not None and running_on_lambda():
            raise refusal()
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
