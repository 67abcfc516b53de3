"""`sam validate --lint` and `sam build`, run exactly as the README says, and what they build."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from stack_support import ROOT, sam_environment, sam_executable

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(
        sam_executable() is None,
        reason="the SAM CLI is not installed (pip install -r requirements-sam.txt into .venv-sam)",
    ),
]

MAX_FUNCTION_BYTES = 15 * 1024 * 1024
#: Lambda's limit for a function plus all its layers, unzipped.
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
HTTP_FUNCTIONS = (
    "HostTokenFunction",
    "StreamStartFunction",
    "StreamStopFunction",
    "AudienceTokenFunction",
    "ChatTokenFunction",
    "RoomEventsFunction",
    "RecordingsFunction",
    "RecordingMediaFunction",
)
#: Functions that ship the library (not HTTP endpoints): IVS stage events, the stage reaper and
#: the IVS Chat room's message reviewer.
IVS_FUNCTIONS = ("IvsStageEventsFunction", "IvsStageReaperFunction", "ChatReviewFunction")
#: Modules the Lambda Python runtime provides.
RUNTIME_MODULES = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}


def sam(*args: str, timeout: float = 280) -> subprocess.CompletedProcess[str]:
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


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("sam-build") / "build"
    result = sam("build", "--build-dir", str(target))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return target


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def test_sam_validate_lint_is_clean() -> None:
    result = sam("validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_every_function_package_is_small_and_holds_the_runtime_and_the_function_files(
    build_dir: Path,
) -> None:
    layer = tree_size(build_dir / "DependenciesLayer")
    for name in (*HTTP_FUNCTIONS, *IVS_FUNCTIONS):
        package = build_dir / name
        assert (package / "livescreen" / "runtime" / "lambda_entry.py").is_file()
        assert (package / "livescreen" / "providers" / "ivs_events.py").is_file()
        assert (package / "livescreen" / "providers" / "ivs_reaper.py").is_file()
        for function_file in (ROOT / "functions").glob("*.py"):
            assert (package / "functions" / function_file.name).is_file()
        # AND no test double or cache ships to Lambda
        assert not (package / "livescreen" / "twilio_emulator").exists()
        assert not list(package.rglob("__pycache__"))
        assert tree_size(package) <= MAX_FUNCTION_BYTES
        assert tree_size(package) + layer <= MAX_UNZIPPED_BYTES


def test_the_layer_holds_every_third_party_module_the_shipped_code_imports(
    build_dir: Path,
) -> None:
    layer = build_dir / "DependenciesLayer" / "python"
    provided = {p.name.removesuffix(".py") for p in layer.iterdir()} | RUNTIME_MODULES
    package = build_dir / "HostTokenFunction"
    local = {"livescreen", "functions"}
    missing: dict[str, set[str]] = {}
    for source in package.rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in local or top in provided:
                    continue
                missing.setdefault(top, set()).add(str(source.relative_to(package)))
    assert missing == {}, "add these to requirements.txt (pinned)"


def test_the_publisher_package_carries_the_built_pages_and_player_files(build_dir: Path) -> None:
    package = build_dir / "AssetPublisherFunction"
    assets = package / "assets"
    for page in ("index.html", "host.html"):
        assert (assets / page).is_file()
    assert list((assets / "vendor").glob("*.wasm")), "the Twilio Live player's .wasm is missing"
    assert (package / "livescreen" / "asset_publisher" / "custom_resource.py").is_file()
    assert tree_size(package) <= MAX_FUNCTION_BYTES


def test_the_built_template_points_every_function_at_its_package(build_dir: Path) -> None:
    built = (build_dir / "template.yaml").read_text(encoding="utf-8")
    for name in (*HTTP_FUNCTIONS, *IVS_FUNCTIONS, "AssetPublisherFunction"):
        assert f"CodeUri: {name}" in built
    assert "ContentUri: DependenciesLayer" in built


def test_every_project_module_a_package_imports_is_inside_that_package(build_dir: Path) -> None:
    # GIVEN each built function package (the publisher ships only part of the library)
    for name in (*HTTP_FUNCTIONS, *IVS_FUNCTIONS, "AssetPublisherFunction"):
        package = build_dir / name
        missing = set()
        for source in package.rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                for module in modules:
                    if module.split(".")[0] != "livescreen":
                        continue
                    path = package / module.replace(".", "/")
                    if not (path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()):
                        missing.add(f"{source.relative_to(package)} -> {module}")
        # THEN nothing it imports from the library was left out of the package
        assert missing == set(), f"{name}: {sorted(missing)}"
