"""Helpers shared by the stack tests: where the project is, and how to run the SAM CLI."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"


def sam_executable() -> str | None:
    """The SAM CLI: the project's .venv-sam first, then PATH."""
    local = ROOT / ".venv-sam" / "bin" / "sam"
    if local.is_file():
        return str(local)
    return shutil.which("sam")


def _version_of_bin(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in Path(path).parent.name.split(".") if part.isdigit())


def sam_environment() -> dict[str, str]:
    """SAM needs a region to validate; the builds need a python3 with pip and npm on PATH."""
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env["SAM_CLI_TELEMETRY"] = "0"
    # by version, not by text (3.12.10 is newer than 3.12.9)
    pythons = sorted(glob.glob("/root/.pyenv/versions/3.12.*/bin"), key=_version_of_bin)
    if shutil.which("python3") is None and pythons:
        env["PATH"] = f"{pythons[-1]}{os.pathsep}{env.get('PATH', '')}"
    return env


def sam(*args: str, timeout: float = 280) -> subprocess.CompletedProcess[str]:
    """Run the SAM CLI in the project root."""
    executable = sam_executable()
    assert executable is not None
    return subprocess.run(
        [executable, *args],
        cwd=ROOT,
        env=sam_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
