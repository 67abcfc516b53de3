"""The import contracts (pyproject.toml ``[tool.importlinter]``) catch what they are for.

``make test`` runs ``lint-imports`` on the project as it is. Here each case copies the two
packages and the contracts into a scratch folder, adds one import that breaks the architecture,
and expects ``lint-imports`` to refuse it and name the broken contract: an upward import, a
circle inside a package, one provider importing another, Lambda code importing the dev server,
and the app importing the Twilio emulator. The unchanged copy passes, so the refusals come from
the added line alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(
    not LINT_IMPORTS.is_file(), reason="import-linter is not installed (requirements-dev.txt)"
)


def _copy_project(tmp_path: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "tests")
    shutil.copytree(ROOT / "livescreen", tmp_path / "livescreen", ignore=ignore)
    shutil.copytree(ROOT / "twilio_emulator", tmp_path / "twilio_emulator", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    # the copy comes first on the path, ahead of the editable install of the real project
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_project_as_it_is_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint_imports(_copy_project(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "added_import", "broken_contract"),
    [
        # the runtime is below the endpoints: it may not call up into them
        ("livescreen/runtime/errors.py", "import livescreen.endpoints", "Layers:"),
        # a provider may not reach into the command line that drives it
        ("livescreen/providers/ivs/stages.py", "import livescreen.cli.main", "Layers:"),
        # a circle inside one provider package, even through a deferred import
        (
            "livescreen/providers/ivs/stages.py",
            "def _late() -> None:\n    import livescreen.providers.ivs.provider",
            "No circles",
        ),
        (
            "livescreen/providers/twilio/rest.py",
            "import livescreen.providers.ivs.stages",
            "The three providers never import one another",
        ),
        (
            "livescreen/chat/ivschat/provider.py",
            "import livescreen.chat.local.room",
            "The two chats never import one another",
        ),
        (
            "livescreen/recordings/playback_links.py",
            "import livescreen.providers.local.hub",
            "What runs on Lambda never imports",
        ),
        (
            "livescreen/config.py",
            "import twilio_emulator",
            "The app and the Twilio emulator",
        ),
    ],
)
def test_an_import_against_the_architecture_fails_the_build(
    tmp_path: Path, module: str, added_import: str, broken_contract: str
) -> None:
    project = _copy_project(tmp_path)
    target = project / module
    target.write_text(target.read_text(encoding="utf-8") + "\n" + added_import + "\n")
    result = _lint_imports(project)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert broken_contract in broken, result.stdout
