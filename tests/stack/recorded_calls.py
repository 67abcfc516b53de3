"""The AWS calls the code really makes: the functional tests that drive AWS code, run once with
the call recorder (``tests/aws_call_recorder.py``), and what it wrote.

Every call is made through the real code paths against botocore's Stubber or moto, exactly as
those tests make it; the recorder notes which deployed Lambda function's code made each one.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stack_support import ROOT

FUNCTIONAL = ROOT / "tests" / "functional"
#: The functional test files that make AWS calls (Stubber, moto): every one is run.
RUN = (
    "test_asset_publisher.py",
    "test_chat_token.py",
    "test_cleanup.py",
    "test_config_ssm.py",
    "test_configure.py",
    "test_configure_weak_password.py",
    "test_faults_after_stop.py",
    "test_faults_concurrency.py",
    "test_faults_ivs_upstream.py",
    "test_faults_partial_start.py",
    "test_faults_ssm.py",
    "test_faults_viewer_tokens.py",
    "test_ivs_audience_numbers.py",
    "test_ivs_events.py",
    "test_ivs_provider.py",
    "test_ivs_reaper.py",
    "test_ivs_recording_stage.py",
    "test_ivs_recordings_s3.py",
    "test_ivs_tokens.py",
    "test_stream_store_on_aws.py",
    "test_twilio_audience_numbers.py",
)
AWS_PACKAGES = {"boto3", "botocore", "moto"}
RUN_TIMEOUT = 240


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    #: the template's logical ID of the Lambda function whose code made it, or None
    function: str | None
    #: made by the project's code (``livescreen/``, ``functions/``), and by its command line
    product: bool
    cli: bool
    #: the project's functions on the stack, outermost first
    via: tuple[str, ...]
    test: str | None


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def aws_test_files() -> set[str]:
    """Functional test files that import boto3, botocore or moto, themselves or through a
    support module of ``tests/functional`` that does (at any depth)."""
    imports = {path.stem: _imports(path) for path in FUNCTIONAL.glob("*.py")}
    uses_aws: set[str] = set()
    changed = True
    while changed:
        changed = False
        for module, names in imports.items():
            if module not in uses_aws and names & (AWS_PACKAGES | uses_aws):
                uses_aws.add(module)
                changed = True
    return {f"{module}.py" for module in uses_aws if module.startswith("test_")}


def record_calls(output: Path) -> list[Call]:
    """Run :data:`RUN` with the recorder; the calls it recorded."""
    env = dict(os.environ)
    env["AWS_CALL_RECORD"] = str(output)
    env["PYTHONPATH"] = os.pathsep.join(
        [
            str(ROOT / "tests"),
            str(ROOT / "tests" / "stack"),
            str(ROOT),
            *filter(None, [env.get("PYTHONPATH")]),
        ]
    )
    command = [sys.executable, "-m", "pytest", *(str(FUNCTIONAL / name) for name in RUN)]
    command += ["-p", "aws_call_recorder", "-q", "-x", "-p", "no:cacheprovider"]
    command += ["--rootdir", str(ROOT)]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    calls = []
    for line in output.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        entry["via"] = tuple(entry["via"])
        calls.append(Call(**entry))
    return calls


def lambda_calls(calls: list[Call]) -> dict[str, list[Call]]:
    """Logical ID -> the calls that function's code made."""
    found: dict[str, list[Call]] = {}
    for call in calls:
        if call.function is not None:
            found.setdefault(call.function, []).append(call)
    return found
