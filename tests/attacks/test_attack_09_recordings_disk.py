"""Attack 9: a host fills the disk with recordings, one capped stream after another.

Measured before the fix: ``MAX_RECORDING_MB`` capped one stream and nothing capped the folder;
five capped streams wrote 13.1 MB against a 3 MB cap. Now ``MAX_RECORDINGS_TOTAL_MB`` caps the
folder: a piece or a new recording that would pass it is a 507 that tells the host's page why
and what to do, and what was accepted before stays whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dev_process import Answer, DevProcess

MB = 1_000_000
PIECE = 250_000
UPLOAD = "/local/recording/upload"
FULL = re.compile(
    r"The recordings folder is full \(([0-9.]+) MB of 3 MB\): delete old recordings "
    r"\(livescreen recordings delete ID\) or raise MAX_RECORDINGS_TOTAL_MB"
)


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevProcess]:
    """A dev server that records: 1 MB a stream, 3 MB for the whole folder."""
    server = DevProcess.start(
        tmp_path / "app",
        RECORDING="on",
        RECORDINGS_DIR="recordings",
        MAX_RECORDING_MB="1",
        MAX_RECORDINGS_TOTAL_MB="3",
    )
    yield server
    server.stop()


def go_live(dev: DevProcess) -> dict[str, Any]:
    grant: dict[str, Any] = dev.host_sign_in().json()
    assert dev.post_json("/stream_start", {"session": grant["session"]}).status == 200
    return grant


def upload(dev: DevProcess, token: str, offset: int, data: bytes) -> Answer:
    """One piece of the recording, as the host's page sends it."""
    return dev.request(
        "POST",
        f"{UPLOAD}?offset={offset}",
        body=data,
        headers={
            "Content-Type": "application/octet-stream",
            "X-Host-Token": token,
            "Origin": dev.origin,
        },
    )


def piece(stream: int, number: int) -> bytes:
    return bytes([stream * 16 + number]) * PIECE


def folder_bytes(folder: Path) -> int:
    return sum(path.lstat().st_size for path in folder.iterdir())


def test_capped_streams_cannot_write_past_max_recordings_total_mb(dev: DevProcess) -> None:
    folder = dev.folder / "recordings"
    accepted: list[bytes] = []
    refusals: list[Answer] = []

    # WHEN the host goes live five times, each time uploading until the server says no
    for stream in range(5):
        grant = go_live(dev)
        sent = b""
        for number in range(8):  # 2 MB a stream: twice its own cap
            answer = upload(dev, grant["token"], len(sent), piece(stream, number))
            if answer.status != 200:
                refusals.append(answer)
                break
            sent += piece(stream, number)
        accepted.append(sent)
        assert dev.post_json("/stream_stop", {"session": grant["session"]}).status == 200

    # THEN the folder never holds more than 3 MB
    assert folder_bytes(folder) <= 3 * MB
    # AND two streams reached their own cap (413), the third filled the folder (507), and the
    # last two were not recorded at all
    assert [len(sent) for sent in accepted] == [MB, MB, 3 * PIECE, 0, 0]
    assert [answer.status for answer in refusals] == [413, 413, 507, 507, 507]
    # AND the host's page is told plainly why, and what to do about it
    for answer in refusals[2:]:
        match = FULL.fullmatch(answer.json()["error"])
        assert match is not None, answer.json()
        assert 2.5 < float(match[1]) <= 3
    # AND every byte accepted before is there, in the three recordings the host can list
    listed = dev.post_json("/recordings", {"password": dev.password}).json()["recordings"]
    assert sorted(item["sizeBytes"] for item in listed) == [3 * PIECE, MB, MB]
    on_disk = sorted((folder / f"{item['id']}.webm").read_bytes() for item in listed)
    assert on_disk == sorted(accepted[:3])
    assert len(list(folder.iterdir())) == 6  # a webm and its sidecar each; no half-written piece
    # AND the operator can read why in the dev server's log; the stream itself still works
    assert "MAX_RECORDINGS_TOTAL_MB" in dev.output()
    assert dev.post_json("/audience_token", {}).status == 200


def test_a_host_token_in_the_upload_address_is_refused_unread(dev: DevProcess) -> None:
    # GIVEN a live host
    grant = go_live(dev)

    # WHEN its token is put in the upload's address (where logs and history keep it)
    answers = [
        dev.request(
            "POST",
            f"{UPLOAD}?offset=0&token={token}",
            body=b"webm",
            headers={"Content-Type": "application/octet-stream", "X-Host-Token": grant["token"]},
        )
        for token in (grant["token"], "not-even-a-token")
    ]

    # THEN both are a 400, whatever the value, and nothing is recorded
    assert [answer.status for answer in answers] == [400, 400]
    assert all("X-Host-Token header" in answer.json()["error"] for answer in answers)
    assert not (dev.folder / "recordings").exists() or not any(
        (dev.folder / "recordings").iterdir()
    )
