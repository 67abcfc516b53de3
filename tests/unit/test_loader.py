"""Finding and loading ``functions/*.py``; the dev server reloads a file when it changes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from livescreen.runtime.loader import FunctionRegistry, FunctionSpec, discover, load_function

ANSWER_ONE = "def handler(context, event, callback):\n    callback(None, 1)\n"
ANSWER_TWO = "def handler(context, event, callback):\n    callback(None, 2)\n"

WriteFunction = Callable[[str, str], Path]


def answer_of(spec: FunctionSpec) -> object:
    box: list[object] = []
    spec.handler(None, {}, lambda error, payload: box.append(payload))
    return box[0]


def touch_later(path: Path, source: str) -> None:
    """Rewrite ``path`` with a modification time clearly after the previous one."""
    before = path.stat().st_mtime_ns
    path.write_text(source, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_discover_maps_route_names_to_files(
    functions_dir: Path, write_function: WriteFunction
) -> None:
    write_function("host_token.py", ANSWER_ONE)
    write_function("status_callback.protected.py", ANSWER_ONE)
    write_function("_shared.py", "HELPER = 1\n")
    write_function("notes.txt", "not code")

    found = discover(functions_dir)

    assert found == {
        "host_token": functions_dir / "host_token.py",
        "status_callback": functions_dir / "status_callback.protected.py",
    }


def test_the_project_functions_are_the_four_endpoints() -> None:
    root = Path(__file__).resolve().parents[2]

    assert set(discover(root / "functions")) >= {
        "host_token",
        "stream_start",
        "stream_stop",
        "audience_token",
    }


def test_a_protected_file_is_marked_protected_and_methods_come_from_the_module(
    write_function: WriteFunction,
) -> None:
    path = write_function("hook.protected.py", "METHODS = ('post',)\n" + ANSWER_ONE)
    plain = write_function("plain.py", ANSWER_ONE)

    hook = load_function("hook", path)
    other = load_function("plain", plain)

    assert hook.protected is True
    assert hook.methods == ("POST",)
    assert other.protected is False
    assert other.methods == ("GET", "POST")
    assert answer_of(hook) == 1


def test_a_file_without_a_handler_is_refused_with_a_clear_message(
    write_function: WriteFunction,
) -> None:
    path = write_function("broken.py", "def handle(context, event, callback):\n    pass\n")

    with pytest.raises(ImportError, match=r"broken\.py has no handler\(context, event, callback\)"):
        load_function("broken", path)


def test_unknown_names_are_none(functions_dir: Path) -> None:
    assert FunctionRegistry(functions_dir).get("nope") is None


def test_the_dev_registry_reloads_a_changed_file_and_reports_it(
    functions_dir: Path, write_function: WriteFunction
) -> None:
    # GIVEN a reloading registry that has loaded a function
    path = write_function("fn.py", ANSWER_ONE)
    registry = FunctionRegistry(functions_dir, reload=True)
    reloaded: list[str] = []
    registry.on_reload = lambda spec: reloaded.append(spec.name)
    first = registry.get("fn")
    assert first is not None and answer_of(first) == 1

    # WHEN the file is unchanged, THEN the loaded function is reused
    assert registry.get("fn") is first

    # WHEN the file is edited on disk
    touch_later(path, ANSWER_TWO)

    # THEN the next lookup runs the new code, and the reload is reported
    second = registry.get("fn")
    assert second is not None and answer_of(second) == 2
    assert reloaded == ["fn"]


def test_the_lambda_registry_loads_once(functions_dir: Path, write_function: WriteFunction) -> None:
    path = write_function("fn.py", ANSWER_ONE)
    registry = FunctionRegistry(functions_dir)
    first = registry.get("fn")

    touch_later(path, ANSWER_TWO)

    assert registry.get("fn") is first


def test_a_deleted_file_is_forgotten_by_the_dev_registry(
    functions_dir: Path, write_function: WriteFunction
) -> None:
    path = write_function("fn.py", ANSWER_ONE)
    registry = FunctionRegistry(functions_dir, reload=True)
    assert registry.get("fn") is not None

    path.unlink()

    assert registry.get("fn") is None
    assert registry.names() == []
