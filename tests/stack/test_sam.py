"""`sam validate --lint` and `sam build`, run exactly as the README says, and what they build."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from cfn_yaml import load_template
from lambda_modules import lambda_files
from stack_support import ROOT, sam, sam_executable

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
    "StreamDetailsFunction",
    "StreamStatsFunction",
)
#: Functions that ship the library (not HTTP endpoints): IVS stage events, the stage reaper and
#: the IVS Chat room's message reviewer.
IVS_FUNCTIONS = ("IvsStageEventsFunction", "IvsStageReaperFunction", "ChatReviewFunction")
#: Modules the Lambda Python runtime provides that the layer need not: none. The runtime has a
#: boto3 too, but the layer carries the one the tests check every call against.
RUNTIME_MODULES: set[str] = set()


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
        assert (package / "livescreen" / "providers" / "ivs" / "stage_events.py").is_file()
        assert (package / "livescreen" / "providers" / "ivs" / "reaper.py").is_file()
        for function_file in (ROOT / "functions").glob("*.py"):
            assert (package / "functions" / function_file.name).is_file()
        # AND no test double, dev-only package or cache ships to Lambda
        assert not (package / "twilio_emulator").exists()
        for dev_only in ("devserver", "cli", "providers/local", "chat/local"):
            assert not (package / "livescreen" / dev_only).exists(), f"{name}: {dev_only}"
        # (the stream store's sqlite back end and background counter are the dev server's)
        for dev_only in ("store/sqlite.py", "store/counting.py"):
            assert not (package / "livescreen" / dev_only).exists(), f"{name}: {dev_only}"
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


def test_each_function_package_holds_exactly_the_files_lambda_can_run(
    build_dir: Path,
) -> None:
    # GIVEN what the Lambda entry points can import: the adapter every HTTP function runs, the
    # function files, and the module handlers the template names (not the publisher's: it has
    # its own package, checked above)
    template = load_template(ROOT / "template.yaml")
    handlers = {
        r["Properties"]["Handler"].rpartition(".")[0]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function" and name in (*HTTP_FUNCTIONS, *IVS_FUNCTIONS)
    }
    function_files = sorted((ROOT / "functions").glob("*.py"))
    expected = lambda_files(ROOT, sorted(handlers), function_files)
    # (the walk reaches both providers and the chat, and not the dev server's local ones)
    assert Path("livescreen/providers/ivs/reaper.py") in expected
    assert Path("livescreen/providers/twilio/room_events.py") in expected
    assert Path("livescreen/chat/ivschat/provider.py") in expected
    assert Path("livescreen/providers/local/provider.py") not in expected
    assert Path("livescreen/store/dynamodb.py") in expected
    assert Path("livescreen/store/sqlite.py") not in expected
    # THEN every package holds those files and nothing else
    for name in (*HTTP_FUNCTIONS, *IVS_FUNCTIONS):
        package = build_dir / name
        shipped = {p.relative_to(package) for p in package.rglob("*") if p.is_file()}
        assert sorted(map(str, shipped - expected)) == [], f"{name} ships what Lambda never runs"
        assert sorted(map(str, expected - shipped)) == [], f"{name} lacks what Lambda runs"
