"""Finds the function files under ``functions/`` and loads them by path.

``functions/<name>.py`` answers ``/<name>``; ``functions/<name>.protected.py`` does too, but only
for requests that carry a valid ``X-Twilio-Signature`` (Twilio's "protected" visibility).
The dev server reloads a file when its modification time changes; Lambda loads it once.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

Handler = Callable[[Any, dict[str, Any], Callable[..., None]], Any]

DEFAULT_METHODS = ("GET", "POST")


@dataclass(frozen=True)
class FunctionSpec:
    """A loaded function file: its handler and how it may be called."""

    name: str
    path: Path
    handler: Handler
    protected: bool
    methods: tuple[str, ...]
    mtime_ns: int


def discover(functions_dir: Path) -> dict[str, Path]:
    """Route name (``host_token``) -> file, for every function file in the folder."""
    found: dict[str, Path] = {}
    for path in sorted(functions_dir.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = path.name.removesuffix(".py").removesuffix(".protected")
        found[name] = path
    return found


def _load_module(name: str, path: Path) -> ModuleType:
    module_name = f"livescreen_functions.{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_function(name: str, path: Path) -> FunctionSpec:
    mtime_ns = path.stat().st_mtime_ns
    module = _load_module(name, path)
    handler = getattr(module, "handler", None)
    if not callable(handler):
        raise ImportError(f"{path} has no handler(context, event, callback) function")
    methods = tuple(m.upper() for m in getattr(module, "METHODS", DEFAULT_METHODS))
    return FunctionSpec(
        name=name,
        path=path,
        handler=handler,
        protected=path.name.endswith(".protected.py"),
        methods=methods,
        mtime_ns=mtime_ns,
    )


class FunctionRegistry:
    """Loaded functions of one folder, reloaded when their file changes (if ``reload``).

    With ``reload`` every call checks the function's file (one ``stat``); the folder is scanned
    again only when a name is not in the last scan, or a file from it has gone, so new, renamed
    and deleted files are seen at once without a scan per request.
    """

    def __init__(self, functions_dir: Path, *, reload: bool = False) -> None:
        self.functions_dir = functions_dir
        self.reload = reload
        self._loaded: dict[str, FunctionSpec] = {}
        self._found: dict[str, Path] = {}
        self._lock = threading.Lock()
        self.on_reload: Callable[[FunctionSpec], None] | None = None

    def names(self) -> list[str]:
        return sorted(self._scan())

    def has(self, name: str) -> bool:
        """Whether ``/<name>`` is a function (a cheap check: asset requests ask it too)."""
        return name in self._found or name in self._scan()

    def _scan(self) -> dict[str, Path]:
        found = discover(self.functions_dir)
        self._found = found
        return found

    def get(self, name: str) -> FunctionSpec | None:
        spec = self._loaded.get(name)
        if spec is not None and not self.reload:
            return spec
        path = self._found.get(name) or self._scan().get(name)
        if path is None:
            self._forget(name)
            return None
        try:
            mtime_ns = path.stat().st_mtime_ns
        except FileNotFoundError:  # deleted or renamed (to or from .protected.py) since
            path = self._scan().get(name)
            if path is None:
                self._forget(name)
                return None
            mtime_ns = -1
        if spec is not None and spec.path == path and mtime_ns == spec.mtime_ns:
            return spec
        with self._lock:
            current = self._loaded.get(name)
            if current is not None and current is not spec and current.path == path:
                return current  # another thread reloaded it meanwhile
            fresh = load_function(name, path)
            self._loaded[name] = fresh
        if spec is not None and self.on_reload is not None:
            self.on_reload(fresh)
        return fresh

    def _forget(self, name: str) -> None:
        with self._lock:
            self._loaded.pop(name, None)
