"""Attack 10: the recordings folder holds a link to the app's ``.env``.

Measured before the fix: a ``<id>.webm`` in the folder linked to ``.env`` was served, host
password included. Now no entry of the folder is opened through a link: it is not served, not
listed, not written to, and deleting the recording removes the link, never ``.env``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dev_process import ATTACKER_ADDRESS, DevProcess

from livescreen.config import DEFAULTS

LINKED = "0f" * 16
FILES = "/local/recording/files"


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevProcess]:
    server = DevProcess.start(tmp_path / "app", RECORDING="on", RECORDINGS_DIR="recordings")
    yield server
    server.stop()


def plant_link(dev: DevProcess, recording_id: str) -> Path:
    """``recordings/<id>.webm`` linked to the app's ``.env``, beside a sidecar as the app
    writes it, so that it would be listed and played like any recording."""
    folder = dev.folder / "recordings"
    folder.mkdir(exist_ok=True)
    link = folder / f"{recording_id}.webm"
    link.symlink_to(Path("..") / ".env")
    sidecar = {"title": "t", "room": "r", "startedAt": 1.0, "duration": 1.0, "complete": True}
    (folder / f"{recording_id}.json").write_text(json.dumps({**sidecar, "size": 100}))
    return link


def livescreen(dev: DevProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``livescreen`` command, run where the dev server runs (its ``.env``)."""
    env = {k: v for k, v in os.environ.items() if k not in DEFAULTS}
    cli = Path(sys.executable).with_name("livescreen")
    return subprocess.run(
        [str(cli), *args], cwd=dev.folder, env=env, capture_output=True, text=True, timeout=30
    )


def test_a_recording_linked_to_the_env_file_is_not_served_listed_or_deleted_through(
    dev: DevProcess,
) -> None:
    # GIVEN a <id>.webm in the recordings folder that links to the app's .env
    env_file = dev.folder / ".env"
    settings = env_file.read_bytes()
    assert dev.password.encode() in settings
    link = plant_link(dev, LINKED)

    # WHEN anyone asks for it (whole, by range, its size), from the network or the host's address
    answers = [
        dev.request(method, f"{FILES}/{LINKED}.webm", headers=headers, source=source)
        for method, headers in (("GET", {}), ("GET", {"Range": "bytes=0-"}), ("HEAD", {}))
        for source in (ATTACKER_ADDRESS, "127.0.0.1")
    ]

    # THEN nothing of .env is served: each answer is a 404
    assert {answer.status for answer in answers} == {404}
    assert not any(dev.password.encode() in answer.body for answer in answers)
    assert not any(b"HOST_SESSION_SECRET" in answer.body for answer in answers)

    # AND the host's list does not show it
    listed = dev.post_json("/recordings", {"password": dev.password}).json()["recordings"]
    assert listed == []

    # WHEN the host deletes it with the command line
    deleted = livescreen(dev, "recordings", "delete", LINKED)

    # THEN the link is gone, and .env is whole: the host still signs in
    assert deleted.returncode == 0, deleted.stderr
    assert not link.is_symlink() and not link.exists()
    assert env_file.read_bytes() == settings
    assert dev.host_sign_in().status == 200


def test_a_live_recording_swapped_for_a_link_writes_nothing_through_it(dev: DevProcess) -> None:
    # GIVEN a live host whose recording has begun
    grant: dict[str, Any] = dev.host_sign_in().json()
    assert dev.post_json("/stream_start", {"session": grant["session"]}).status == 200
    headers = {"Content-Type": "application/octet-stream", "X-Host-Token": grant["token"]}
    first = dev.request(
        "POST", "/local/recording/upload?offset=0", body=b"a" * 100, headers=headers
    )
    recording_id = first.json()["id"]
    env_file = dev.folder / ".env"
    settings = env_file.read_bytes()

    # WHEN its file is replaced by a link to .env, and the host's next pieces come: one that
    # continues the recording, one at .env's length (a write there would append to .env)
    media = dev.folder / "recordings" / f"{recording_id}.webm"
    media.unlink()
    media.symlink_to(Path("..") / ".env")
    answers = [
        dev.request(
            "POST", f"/local/recording/upload?offset={offset}", body=b"b" * 100, headers=headers
        )
        for offset in (100, len(settings))
    ]

    # THEN nothing is written to .env (nor cut off), and the host is told the recording is gone
    assert [answer.status for answer in answers] == [410, 410]
    assert env_file.read_bytes() == settings
    assert dev.request("GET", f"{FILES}/{recording_id}.webm").status == 404
