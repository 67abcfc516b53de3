"""A pytest plugin that records every AWS API call the process makes, and which Lambda made it.

Enabled with ``-p aws_call_recorder`` (``tests/`` and ``tests/stack`` on ``PYTHONPATH``) and
``AWS_CALL_RECORD`` naming a JSONL file. Every ``botocore`` call
(``BaseClient._make_api_call``, which Stubber and moto both answer from inside) becomes one
line::

    {"service": "ivs-realtime", "operation": "CreateStage", "params": {...},
     "function": "HostTokenFunction", "product": true, "cli": false, "test": "<node id>"}

``function`` is the template's logical ID of the deployed function whose code made the call,
found by walking the Python stack at call time, innermost frame first:

- a frame in ``functions/<name>.py``: the HTTP function whose ``LIVESCREEN_FUNCTION`` is
  ``<name>`` (served by ``livescreen.runtime.lambda_entry.handler``);
- a frame of ``livescreen.runtime.api_gateway.handle_event`` (the adapter Lambda runs before
  the function file, reading the settings): the function its ``function_name`` names;
- a frame of a module handler the template names (``Handler: livescreen.providers.ivs.stage_events.
  handler``...), ``lambda_entry.handler`` itself through ``LIVESCREEN_FUNCTION``.

A thread inherits the attribution of the thread that started it (the adapter runs async
handlers in a worker; the S3 recordings store walks the bucket from a thread pool). A call with
no such frame (the command line, a test's own setup, product code a test calls directly) has
``function: null``; ``product`` says whether code of ``livescreen/`` or ``functions/`` made it,
``cli`` whether the command line did, ``via`` lists the project's functions on the stack.
Params are made JSON-safe: bytes and streams become ``{"$blob": <size or null>}``, times
``{"$timestamp": <ISO 8601>}``.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import json
import os
import threading
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import botocore.client
import pytest
from cfn_yaml import load_template  # tests/stack, on the path with tests/

ENV_VAR = "AWS_CALL_RECORD"
ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
PACKAGE_DIR = ROOT / "livescreen"
HTTP_HANDLER = "livescreen.runtime.lambda_entry.handler"
ADAPTER = ("livescreen.runtime.api_gateway", "handle_event")
#: The command line's package: a call made while one of its modules is on the stack is the CLI's.
CLI_DIR = PACKAGE_DIR / "cli"


def lambda_functions(template_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``(LIVESCREEN_FUNCTION -> logical ID, module handler -> logical ID)`` from the template."""
    template = load_template(template_path)
    http: dict[str, str] = {}
    modules: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        if properties["Handler"] == HTTP_HANDLER:
            variables = properties.get("Environment", {}).get("Variables", {})
            http[variables["LIVESCREEN_FUNCTION"]] = logical_id
        else:
            modules[properties["Handler"]] = logical_id
    return http, modules


def json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return {"$blob": len(value)}
    if isinstance(value, (datetime.datetime, datetime.date)):
        return {"$timestamp": value.isoformat()}
    if hasattr(value, "read"):
        return {"$blob": None}
    return {"$repr": repr(value)}


class Recorder:
    def __init__(self, output: Path, template_path: Path) -> None:
        self.output = output
        self.http, self.modules = lambda_functions(template_path)
        self.records: list[dict[str, Any]] = []
        self.test: str | None = None
        self._lock = threading.Lock()
        self._handler_codes: dict[CodeType, str] | None = None
        self._inherited = threading.local()

    def handler_codes(self) -> dict[CodeType, str]:
        """The code object of each handler the template names -> its function (or "" for the
        HTTP entry point, whose function is ``LIVESCREEN_FUNCTION``)."""
        if self._handler_codes is None:
            codes: dict[CodeType, str] = {}
            for dotted, logical_id in [*self.modules.items(), (HTTP_HANDLER, "")]:
                module, _, attribute = dotted.rpartition(".")
                function = inspect.unwrap(getattr(importlib.import_module(module), attribute))
                codes[function.__code__] = logical_id
            self._handler_codes = codes
        return self._handler_codes

    def function_of(self, frame: FrameType | None) -> str | None:
        codes = self.handler_codes()
        while frame is not None:
            path = Path(frame.f_code.co_filename)
            if path.parent == FUNCTIONS_DIR:
                name = path.name.removesuffix(".py").removesuffix(".protected")
                return self.http.get(name, f"<no function serves {name}>")
            if (frame.f_globals.get("__name__"), frame.f_code.co_name) == ADAPTER:
                name = str(frame.f_locals.get("function_name"))
                return self.http.get(name, f"<no function serves {name}>")
            if frame.f_code in codes:
                found = codes[frame.f_code]
                if found:
                    return found
                name = os.environ.get("LIVESCREEN_FUNCTION", "")
                return self.http.get(name, f"<no function serves {name}>")
            frame = frame.f_back
        return getattr(self._inherited, "function", None)

    def origin_of(self, frame: FrameType | None) -> dict[str, Any]:
        """``product``, ``cli``, and ``via``: the project's functions on the stack, outermost
        first (``livescreen.config.load``...)."""
        via: list[str] = []
        cli = False
        while frame is not None:
            path = Path(frame.f_code.co_filename)
            if path.parent == FUNCTIONS_DIR or PACKAGE_DIR in path.parents:
                module = frame.f_globals.get("__name__", path.stem)
                via.append(f"{module}.{frame.f_code.co_qualname}")
                cli = cli or path.parent == CLI_DIR
            frame = frame.f_back
        inherited = getattr(self._inherited, "origin", None) or {}
        via = [*inherited.get("via", []), *reversed(via)]
        return {"product": bool(via), "cli": cli or inherited.get("cli", False), "via": via}

    def record(self, client: Any, operation: str, params: Any, frame: FrameType | None) -> None:
        entry = {
            "service": client.meta.service_model.service_name,
            "operation": operation,
            "params": json_safe(params),
            "function": self.function_of(frame),
            **self.origin_of(frame),
            "test": self.test,
        }
        with self._lock:
            self.records.append(entry)

    def inherit(self, thread: threading.Thread, frame: FrameType | None) -> None:
        """Called as ``thread`` starts: what the starting thread would be attributed to."""
        thread.__dict__["_aws_call_origin"] = (self.function_of(frame), self.origin_of(frame))

    def adopt(self, thread: threading.Thread) -> None:
        origin = thread.__dict__.get("_aws_call_origin")
        if origin is not None:
            self._inherited.function, self._inherited.origin = origin

    def write(self) -> None:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        with self.output.open("w", encoding="utf-8") as handle:
            for entry in self.records:
                handle.write(json.dumps(entry, sort_keys=True) + "\n")


_recorder: Recorder | None = None
_originals: dict[str, Any] = {}


def _install(recorder: Recorder) -> None:
    make_api_call = botocore.client.BaseClient._make_api_call
    thread_start = threading.Thread.start
    thread_bootstrap = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]
    _originals.update(make_api_call=make_api_call, start=thread_start, boot=thread_bootstrap)

    def recorded_call(self: Any, operation_name: str, api_params: Any) -> Any:
        recorder.record(self, operation_name, api_params, inspect.currentframe())
        return make_api_call(self, operation_name, api_params)

    def start(self: threading.Thread) -> None:
        recorder.inherit(self, inspect.currentframe())
        thread_start(self)

    def bootstrap_inner(self: threading.Thread) -> None:
        recorder.adopt(self)
        thread_bootstrap(self)

    botocore.client.BaseClient._make_api_call = recorded_call
    threading.Thread.start = start  # type: ignore[method-assign]
    threading.Thread._bootstrap_inner = bootstrap_inner  # type: ignore[attr-defined]


def pytest_configure(config: pytest.Config) -> None:
    global _recorder
    output = os.environ.get(ENV_VAR)
    if not output:
        return
    _recorder = Recorder(Path(output), ROOT / "template.yaml")
    _install(_recorder)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    if _recorder is not None:
        _recorder.test = item.nodeid
    try:
        return (yield)
    finally:
        if _recorder is not None:
            _recorder.test = None


def pytest_unconfigure(config: pytest.Config) -> None:
    global _recorder
    if _recorder is None:
        return
    _recorder.write()
    botocore.client.BaseClient._make_api_call = _originals["make_api_call"]
    threading.Thread.start = _originals["start"]  # type: ignore[method-assign]
    threading.Thread._bootstrap_inner = _originals["boot"]  # type: ignore[attr-defined]
    _recorder = None
