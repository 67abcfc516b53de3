"""Validate recorded AWS calls against one botocore: the one in the folder the command names.

Run with ``python -I -S layer_botocore_check.py <layer python dir> <calls.json>``: isolated and
without site-packages, so the only botocore importable is the layer's. ``calls.json`` holds
``[{"service", "operation", "params"}]`` as ``tests/aws_call_recorder.py`` wrote them. Prints
one JSON object: ``{"version", "location", "invalid": [{"call", "error"}]}``, or
``{"error": ...}`` when the folder has no botocore.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Any


def restore(value: Any) -> Any:
    """The recorder's JSON-safe params back to the Python values botocore takes."""
    if isinstance(value, dict):
        if set(value) == {"$blob"}:
            return b""
        if set(value) == {"$timestamp"}:
            return datetime.datetime.fromisoformat(value["$timestamp"])
        return {key: restore(item) for key, item in value.items()}
    if isinstance(value, list):
        return [restore(item) for item in value]
    return value


def main(layer: Path, calls_file: Path) -> dict[str, Any]:
    sys.path.insert(0, str(layer))
    try:
        import botocore
        import botocore.session
        from botocore.validate import ParamValidator
    except ImportError as exc:
        return {"error": f"no botocore importable from {layer}: {exc}"}
    location = str(Path(botocore.__file__).resolve())
    session = botocore.session.get_session()
    validator = ParamValidator()
    invalid = []
    for call in json.loads(calls_file.read_text(encoding="utf-8")):
        name = f"{call['service']}.{call['operation']}"
        try:
            model = session.get_service_model(call["service"])
            operation = model.operation_model(call["operation"])
        except Exception as exc:
            invalid.append({"call": call, "error": f"{name}: {type(exc).__name__}: {exc}"})
            continue
        if operation.input_shape is None:
            continue
        report = validator.validate(restore(call["params"]), operation.input_shape)
        if report.has_errors():
            invalid.append({"call": call, "error": f"{name}: {report.generate_report()}"})
    return {"version": botocore.__version__, "location": location, "invalid": invalid}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
