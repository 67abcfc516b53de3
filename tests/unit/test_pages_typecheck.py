"""The pages' type check (`make typecheck-pages`) fails when a pinned SDK renames what a page uses.

The check reads each SDK's own type definitions from node_modules. These tests copy those
definitions, rename one method or event in the copy (as a new SDK version might), point the same
check at the copy, and expect an error in a page that uses the old name. A check that passed
whatever the SDKs declared (pages reaching an SDK through an untyped `any`, say) fails here.
"""

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "node_modules"
TSC = MODULES / "typescript" / "bin" / "tsc"
TSCONFIG = ROOT / "tsconfig.json"

pytestmark = pytest.mark.skipif(
    not TSC.is_file() or shutil.which("node") is None,
    reason="needs node and node_modules/typescript: run `npm ci`",
)

# Each SDK's type definitions entry point (its package.json `types`, or what its `exports` lead to).
TYPES_ENTRY = {
    "amazon-ivs-web-broadcast": "dist/amazon-ivs-web-broadcast.d.ts",
    "amazon-ivs-chat-messaging": "dist/types/index.d.ts",
    "hls.js": "dist/hls.d.mts",
    "twilio-video": "tsdef/index.d.ts",
    "@twilio/live-player-sdk": "es5/index.d.ts",
}


@dataclass(frozen=True)
class Rename:
    """In `package`'s `types_file`, every `old` becomes `new`: the pages then fail on `name`."""

    package: str
    types_file: str
    old: str
    new: str
    name: str  # the SDK's name as the pages write it; tsc's error quotes it
    page: str  # a page that uses it (where to look when the rename goes unnoticed)

    def __str__(self) -> str:
        return f"{self.package}:{self.name}"


# All applied at once, so none of them is on the path to another: a renamed entry point (such as
# twilio-video's connect()) makes whatever it returns `any`, and hides the renames past it.
RENAMES = [
    # amazon-ivs-web-broadcast: a Stage method, a StageEvents member
    Rename(
        "amazon-ivs-web-broadcast",
        "dist/amazon-ivs-web-broadcast.d.ts",
        "join(): Promise<void>;",
        "enter(): Promise<void>;",
        "join",
        "assets/js/providers/ivs.js",
    ),
    Rename(
        "amazon-ivs-web-broadcast",
        "dist/amazon-ivs-web-broadcast.d.ts",
        "STAGE_LEFT",
        "STAGE_EXITED",
        "STAGE_LEFT",
        "assets/js/providers/ivs.js",
    ),
    # ... and what the pages do on a stage error: a Stage method, a StageErrorCategory member
    Rename(
        "amazon-ivs-web-broadcast",
        "dist/amazon-ivs-web-broadcast.d.ts",
        "refreshStrategy: () => void;",
        "reloadStrategy: () => void;",
        "refreshStrategy",
        "assets/js/providers/ivs.js",
    ),
    Rename(
        "amazon-ivs-web-broadcast",
        "dist/amazon-ivs-web-broadcast.d.ts",
        'PUBLISH_ERROR = "PUBLISH_ERROR",',
        'PUBLISHING_ERROR = "PUBLISH_ERROR",',
        "PUBLISH_ERROR",
        "assets/js/providers/ivs.js",
    ),
    # hls.js: an Hls method, an Events member
    Rename(
        "hls.js",
        "dist/hls.d.mts",
        "loadSource(url: string)",
        "loadUrl(url: string)",
        "loadSource",
        "assets/recordings.js",
    ),
    Rename(
        "hls.js",
        "dist/hls.d.mts",
        'ERROR = "hlsError"',
        'FAILURE = "hlsError"',
        "ERROR",
        "assets/js/hls-recovery.js",
    ),
    Rename(
        "hls.js",
        "dist/hls.d.mts",
        "Events.ERROR",
        "Events.FAILURE",
        "ERROR",
        "assets/js/hls-recovery.js",
    ),
    # twilio-video: a Room method, a Room event
    Rename(
        "twilio-video",
        "tsdef/Room.d.ts",
        "disconnect(): Room;",
        "leave(): Room;",
        "disconnect",
        "assets/js/providers/twilio.js",
    ),
    Rename(
        "twilio-video",
        "tsdef/Room.d.ts",
        "'participantDisconnected'",
        "'participantGone'",
        "participantDisconnected",
        "assets/js/providers/twilio.js",
    ),
    # @twilio/live-player-sdk: a Player method, a Player.Event member
    Rename(
        "@twilio/live-player-sdk",
        "es5/player.d.ts",
        "play(): this;",
        "start(): this;",
        "play",
        "assets/js/providers/twilio.js",
    ),
    Rename(
        "@twilio/live-player-sdk",
        "es5/player.d.ts",
        "StateChanged",
        "StatusChanged",
        "StateChanged",
        "assets/js/providers/twilio.js",
    ),
    # amazon-ivs-chat-messaging (imported from /vendor/): a ChatRoom method, a ChatRoom event
    Rename(
        "amazon-ivs-chat-messaging",
        "dist/types/ChatRoom.d.ts",
        "    connect(): void;",  # the indent keeps disconnect() as it is
        "    open(): void;",
        "connect",
        "assets/js/chat/ivschat.js",
    ),
    Rename(
        "amazon-ivs-chat-messaging",
        "dist/types/events.d.ts",
        "message: (message: ChatMessage) => unknown;",
        "chatMessage: (message: ChatMessage) => unknown;",
        "message",
        "assets/js/chat/ivschat.js",
    ),
]

# A rename written as two rows (the member, then the file's own references to it) is checked once.
CHECKED = [rename for rename in RENAMES if rename.old != "Events.ERROR"]


def page_aliases() -> dict[str, str]:
    """tsconfig.json's `paths`: a URL the pages import -> the package it stands for."""
    # tsconfig.json is JSON with whole-line // comments
    text = "\n".join(
        line
        for line in TSCONFIG.read_text(encoding="utf-8").splitlines()
        if not line.strip().startswith("//")
    )
    aliases: dict[str, str] = {}
    for alias, targets in json.loads(text)["compilerOptions"].get("paths", {}).items():
        (target,) = targets
        aliases[alias] = target.split("node_modules/", 1)[1].rstrip("/")
    return aliases


def copy_types(package: str, into: Path) -> None:
    """The package's .d.ts files (nothing else), under `into`/package."""
    source = MODULES / package
    for path in source.rglob("*.d.*ts"):
        if "node_modules" in path.relative_to(source).parts:
            continue
        target = into / package / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def checked_against(types_dir: Path, config: Path) -> subprocess.Popen[str]:
    """Starts the pages' type check with every SDK's types read from `types_dir`."""
    paths = {package: [str(types_dir / package / entry)] for package, entry in TYPES_ENTRY.items()}
    for alias, package in page_aliases().items():
        paths[alias] = paths[package]
    config.write_text(
        json.dumps({"extends": str(TSCONFIG), "compilerOptions": {"paths": paths}}, indent=2),
        encoding="utf-8",
    )
    return subprocess.Popen(
        ["node", str(TSC), "-p", str(config), "--pretty", "false"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def errors(output: str) -> set[str]:
    """tsc's errors, one string each (an error's indented detail lines joined to it)."""
    found: list[str] = []
    for line in output.splitlines():
        if line.startswith(" ") and found:
            found[-1] += "\n" + line
        elif line.strip():
            found.append(line)
    return set(found)


@pytest.fixture(scope="module")
def new_errors(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The errors the check reports against the renamed types and not against the pinned ones."""
    work = tmp_path_factory.mktemp("sdk-types")
    pinned, renamed = work / "pinned", work / "renamed"
    for package in TYPES_ENTRY:
        copy_types(package, pinned)
        copy_types(package, renamed)
    for rename in RENAMES:
        types_file = renamed / rename.package / rename.types_file
        text = types_file.read_text(encoding="utf-8")
        assert rename.old in text, (
            f"{rename}: {rename.old!r} is no longer in {rename.types_file}: update this test"
        )
        types_file.write_text(text.replace(rename.old, rename.new), encoding="utf-8")
    # the two runs at once: each takes seconds
    runs = [
        checked_against(pinned, work / "pinned.json"),
        checked_against(renamed, work / "renamed.json"),
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    return errors(outputs[1]) - errors(outputs[0])


@pytest.mark.parametrize("rename", CHECKED, ids=str)
def test_a_renamed_sdk_method_or_event_fails_the_pages(
    new_errors: set[str], rename: Rename
) -> None:
    # GIVEN the pinned SDK's types with one name the pages use renamed (in new_errors)
    # THEN the type check reports that name in a page (any page: code moves between modules)
    quoted = re.compile(rf"""['"]{re.escape(rename.name)}['"]""")
    hits = [error for error in new_errors if error.startswith("assets/") and quoted.search(error)]
    assert hits, (
        f"{rename} renamed and no page failed: does {rename.page} reach it through an untyped "
        f"value? New errors: {sorted(new_errors)}"
    )
