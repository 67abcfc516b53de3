"""Local recordings through a running dev server: uploads, limits, strangers, the end of a stream,
playback with byte ranges, the ``/recordings`` list and ``livescreen recordings``."""

from __future__ import annotations

import errno
import http.client
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from devserver_support import fresh_state

from livescreen.cli import main as cli
from livescreen.config import Settings
from livescreen.devserver import DevServer
from livescreen.devserver.relays.http import FileBody
from livescreen.devserver.relays.recordings import MAX_RANGE_BYTES
from livescreen.devserver.replies import FILE_CHUNK_BYTES
from livescreen.providers.local import recording_folder as local_files
from livescreen.providers.local.hub import HUB
from livescreen.recordings import clear_store_cache
from livescreen.security.password_guard import MAX_FAILURES

__all__ = ["fresh_state"]  # an autouse fixture, used by name

PASSWORD = "recordings-test-password"
UPLOAD = "/local/recording/upload"
FILES = "/local/recording/files"
MB = 1_000_000
CHUNK = 512 * 1024


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Dev:
    """A dev server with its recordings in ``folder``, and what a host and strangers send it."""

    def __init__(self, server: DevServer, folder: Path) -> None:
        self.server = server
        self.folder = folder

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, response.msg, response.read())
        finally:
            connection.close()

    def post(self, path: str, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        sent = {"Content-Type": "application/json", **(headers or {})}
        return self.request("POST", path, json.dumps(payload).encode(), sent)

    def sign_in(self) -> dict[str, Any]:
        reply = self.post("/host_token", {"password": PASSWORD})
        assert reply.status == 200, reply.body
        grant: dict[str, Any] = reply.json()
        return grant

    def go_live(self) -> dict[str, Any]:
        grant = self.sign_in()
        assert self.post("/stream_start", {"session": grant["session"]}).status == 200
        return grant

    def stop(self, grant: dict[str, Any]) -> None:
        assert self.post("/stream_stop", {"session": grant["session"]}).status == 200

    def upload(self, token: str | None, offset: int, data: bytes) -> Reply:
        headers = {"Content-Type": "application/octet-stream"}
        if token is not None:
            headers["X-Host-Token"] = token
        return self.request("POST", f"{UPLOAD}?offset={offset}", data, headers)

    def listing(self, **credentials: str) -> Reply:
        return self.post("/recordings", credentials)

    def recordings(self) -> list[dict[str, Any]]:
        reply = self.listing(password=PASSWORD)
        assert reply.status == 200, reply.body
        found: list[dict[str, Any]] = reply.json()["recordings"]
        return found

    def files(self) -> list[str]:
        return sorted(path.name for path in self.folder.glob("*")) if self.folder.is_dir() else []

    def use(self, **values: str) -> None:
        self.server.settings = self.server.settings.with_values(**values)


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Dev]:
    folder = tmp_path / "recordings"
    settings = Settings(
        {
            "STREAM_PROVIDER": "local",
            "HOST_PASSWORD": PASSWORD,
            "HOST_SESSION_SECRET": "recordings-test-session-secret-0123456789",
            "RECORDINGS_DIR": str(folder),
            "MAX_RECORDING_MB": "1",
        },
        "test",
    )
    clear_store_cache()
    server = DevServer(settings, port=0)
    server.start_background()
    yield Dev(server, folder)
    server.shutdown()
    clear_store_cache()


def webm_bytes(size: int, seed: int = 1) -> bytes:
    return bytes((seed + i) % 251 for i in range(size))


# -- uploads while live ----------------------------------------------------------------------


def test_the_host_grant_says_where_to_upload_the_recording(dev: Dev) -> None:
    assert dev.sign_in()["recording"] == {"upload": UPLOAD, "chunkBytes": CHUNK}

    dev.use(RECORDING="off")

    assert dev.sign_in()["recording"] is None


def test_uploads_while_live_make_one_file_that_is_finished_when_the_host_stops(dev: Dev) -> None:
    # GIVEN a live stream whose host uploaded two pieces of its recording
    grant = dev.go_live()
    first, second = webm_bytes(1000), webm_bytes(700, seed=7)
    assert dev.upload(grant["token"], 0, first).json()["size"] == 1000
    reply = dev.upload(grant["token"], 1000, second)
    assert reply.status == 200
    recording_id = reply.json()["id"]
    assert re.fullmatch(r"[0-9a-f]{32}", recording_id)

    # THEN the list shows it as being recorded, titled by its stream (the host set no title)
    [listed] = dev.recordings()
    assert (listed["id"], listed["title"], listed["status"]) == (
        recording_id,
        "Untitled stream",
        "recording",
    )
    assert listed["streamId"] == grant["room"]
    assert (listed["format"], listed["sizeBytes"]) == ("webm", 1700)
    assert listed["playbackUrl"] == f"{FILES}/{recording_id}.webm"

    # WHEN the host stops
    dev.stop(grant)

    # THEN the one file holds both pieces in order, and the recording is ready and complete
    assert dev.files() == [f"{recording_id}.json", f"{recording_id}.webm"]
    assert (dev.folder / f"{recording_id}.webm").read_bytes() == first + second
    assert json.loads((dev.folder / f"{recording_id}.json").read_text())["complete"] is True
    [listed] = dev.recordings()
    assert listed["status"] == "ready" and listed["duration"] is not None
    # AND the stopped stream takes no more
    assert dev.upload(grant["token"], 1700, b"late").status == 401
    assert (dev.folder / f"{recording_id}.webm").stat().st_size == 1700


def test_a_repeated_upload_is_not_written_twice_and_a_gap_is_a_409(dev: Dev) -> None:
    grant = dev.go_live()
    piece = webm_bytes(500)
    assert dev.upload(grant["token"], 0, piece).status == 200

    # WHEN the same piece comes again (its answer was lost), then one that skips bytes
    again = dev.upload(grant["token"], 0, piece)
    gap = dev.upload(grant["token"], 900, b"x")
    different = dev.upload(grant["token"], 0, webm_bytes(500, seed=9))

    # THEN the repeat is accepted without growing the file; the others are refused
    assert (again.status, again.json()["size"]) == (200, 500)
    assert gap.status == 409 and "500 bytes" in gap.json()["error"]
    assert different.status == 409
    [recording_id] = {name.split(".")[0] for name in dev.files()}
    assert (dev.folder / f"{recording_id}.webm").read_bytes() == piece


def test_a_recording_is_bounded_by_max_recording_mb(dev: Dev) -> None:
    # GIVEN MAX_RECORDING_MB=1 and a recording that has reached exactly 1 MB (1,000,000 bytes)
    grant = dev.go_live()
    assert dev.upload(grant["token"], 0, webm_bytes(CHUNK)).status == 200
    assert dev.upload(grant["token"], CHUNK, webm_bytes(MB - CHUNK, seed=3)).status == 200

    # WHEN one more byte comes (far below 1 MiB)
    reply = dev.upload(grant["token"], MB, b"x")

    # THEN it is refused with a clear 413, and the file keeps what it had
    assert reply.status == 413
    assert reply.json() == {
        "error": "The recording reached its limit of 1 MB (MAX_RECORDING_MB): "
        "the rest of the stream is not recorded"
    }
    [listed] = dev.recordings()
    assert listed["sizeBytes"] == MB
    assert (dev.folder / f"{listed['id']}.webm").stat().st_size == MB
    # AND the stream itself goes on
    assert dev.post("/audience_token", {}).json()["token"] is not None


def test_an_unwritable_recordings_dir_is_a_507_that_names_it_and_is_logged(
    dev: Dev, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN RECORDINGS_DIR under a file: the folder cannot be made
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    dev.use(RECORDINGS_DIR=str(blocker / "recordings"))
    grant = dev.go_live()

    # WHEN the host uploads
    with caplog.at_level(logging.ERROR, logger="livescreen.recordings"):
        reply = dev.upload(grant["token"], 0, b"data")

    # THEN a 507 says which folder cannot be written (not a bare 500), and it is logged
    assert reply.status == 507
    error = reply.json()["error"]
    assert error.startswith("The dev server cannot write to RECORDINGS_DIR (")
    assert str(blocker / "recordings") in error
    assert any("RECORDINGS_DIR" in record.getMessage() for record in caplog.records)
    # AND the stream goes on
    assert dev.post("/audience_token", {}).json()["token"] is not None


def test_a_full_disk_is_a_507_and_the_file_keeps_what_it_had(
    dev: Dev, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a recording of 500 bytes, then a disk that fills up halfway through the next write
    grant = dev.go_live()
    first = webm_bytes(500)
    recording_id = dev.upload(grant["token"], 0, first).json()["id"]

    def half_then_full(media: BinaryIO, data: bytes) -> None:
        media.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(local_files, "append_bytes", half_then_full)
        reply = dev.upload(grant["token"], 500, webm_bytes(300, seed=5))

    # THEN the host is told the disk is full, and the half-written piece is gone
    assert reply.status == 507
    assert reply.json()["error"] == f"The disk holding RECORDINGS_DIR ({dev.folder}) is full"
    media = dev.folder / f"{recording_id}.webm"
    assert media.read_bytes() == first
    # AND once there is room again, the same piece continues the file
    assert dev.upload(grant["token"], 500, webm_bytes(300, seed=5)).json()["size"] == 800


def folder_bytes(dev: Dev) -> int:
    """What the files in the recordings folder add up to."""
    return sum(path.lstat().st_size for path in dev.folder.iterdir())


def upload_until_refused(dev: Dev, token: str, piece: int) -> tuple[int, Reply]:
    """Upload ``piece``-byte pieces until one is refused: what was accepted, and the refusal."""
    offset = 0
    for seed in range(100):
        reply = dev.upload(token, offset, webm_bytes(piece, seed=seed))
        if reply.status != 200:
            return offset, reply
        offset += piece
    raise AssertionError("no upload was refused")


def test_the_recordings_folder_is_capped_by_max_recordings_total_mb(
    dev: Dev, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN MAX_RECORDING_MB=1 per stream, MAX_RECORDINGS_TOTAL_MB=2 for the folder, and a
    # first stream recorded up to its own limit
    dev.use(MAX_RECORDINGS_TOTAL_MB="2")
    first = dev.go_live()
    kept, limit = upload_until_refused(dev, first["token"], 250_000)
    assert (kept, limit.status) == (MB, 413)
    dev.stop(first)

    # WHEN a second stream records until it is refused
    second = dev.go_live()
    with caplog.at_level(logging.WARNING, logger="livescreen.recordings"):
        accepted, refusal = upload_until_refused(dev, second["token"], 250_000)

    # THEN it is stopped before the folder passes 2 MB, with a 507 that says why and what to do
    assert accepted == 750_000
    used = folder_bytes(dev)
    assert used <= 2 * MB
    assert (refusal.status, refusal.json()) == (
        507,
        {
            "error": f"The recordings folder is full ({used / MB:.1f} MB of 2 MB): delete old "
            "recordings (livescreen recordings delete ID) or raise MAX_RECORDINGS_TOTAL_MB"
        },
    )
    assert any("MAX_RECORDINGS_TOTAL_MB" in record.getMessage() for record in caplog.records)
    # AND the stream itself goes on
    assert dev.post("/audience_token", {}).json()["token"] is not None

    # WHEN the host stops and goes live again
    dev.stop(second)
    third = dev.go_live()
    refused_again = dev.upload(third["token"], 0, webm_bytes(250_000))

    # THEN the new stream is not recorded (no file is made for it), and both recordings keep
    # every byte that was accepted
    assert refused_again.status == 507
    listed = {item["sizeBytes"]: item for item in dev.recordings()}
    assert sorted(listed) == [750_000, MB]
    assert {item["status"] for item in listed.values()} == {"ready"}
    assert len(dev.files()) == 4
    second_file = dev.folder / f"{listed[750_000]['id']}.webm"
    assert second_file.read_bytes() == b"".join(webm_bytes(250_000, seed=n) for n in range(3))


def test_deleting_a_recording_makes_room_in_a_full_folder(dev: Dev) -> None:
    # GIVEN a folder capped at 1 MB that a first recording filled
    dev.use(MAX_RECORDINGS_TOTAL_MB="1")
    first = dev.go_live()
    upload_until_refused(dev, first["token"], 250_000)
    dev.stop(first)
    grant = dev.go_live()
    assert dev.upload(grant["token"], 0, webm_bytes(250_000)).status == 507

    # WHEN the host deletes the old recording (as `livescreen recordings delete ID` does)
    [old] = dev.recordings()
    local_files.recordings_folder(dev.server.settings).delete(old["id"])

    # THEN the stream's recording begins
    assert dev.upload(grant["token"], 0, webm_bytes(250_000)).json()["size"] == 250_000


@pytest.mark.parametrize("name", ["token", "Token", "host_token", "password", "session"])
def test_a_secret_in_the_upload_address_is_a_400_whatever_its_value(dev: Dev, name: str) -> None:
    # GIVEN a live host
    grant = dev.go_live()
    headers = {"Content-Type": "application/octet-stream"}

    # WHEN an upload carries a token (the right one, or any) in its address, with or without
    # the header
    answers = [
        dev.request("POST", f"{UPLOAD}?offset=0&{name}={value}", b"data", sent)
        for value in (grant["token"], "anything")
        for sent in (headers, {**headers, "X-Host-Token": grant["token"]})
    ]

    # THEN each one is refused, saying where the token goes, and nothing is written
    for reply in answers:
        assert (reply.status, reply.json()) == (
            400,
            {
                "error": "Never put the host token in the address: "
                "send it in the X-Host-Token header"
            },
        )
    assert dev.files() == []


def test_one_upload_over_512_kib_is_refused(dev: Dev) -> None:
    grant = dev.go_live()

    reply = dev.upload(grant["token"], 0, webm_bytes(CHUNK + 1))

    assert reply.status == 413 and "split" in reply.json()["error"]
    assert dev.files() == []


@pytest.mark.parametrize(
    ("offset", "body"), [("", b"data"), ("-1", b"data"), ("1e3", b"data"), ("0", b"")]
)
def test_a_malformed_upload_is_a_400(dev: Dev, offset: str, body: bytes) -> None:
    grant = dev.go_live()
    headers = {"X-Host-Token": grant["token"], "Content-Type": "application/octet-stream"}

    reply = dev.request("POST", f"{UPLOAD}?offset={offset}", body, headers)

    assert reply.status == 400 and reply.json()["error"]
    assert dev.files() == []


# -- strangers ---------------------------------------------------------------------------------


def test_uploads_that_are_not_the_live_hosts_are_refused_and_write_nothing(dev: Dev) -> None:
    # GIVEN a live stream, a viewer's token for it, another host's room that is not live, and a
    # stream that was stopped
    stopped = dev.go_live()
    dev.stop(stopped)
    other = dev.sign_in()
    live = dev.go_live()
    viewer_token = dev.post("/audience_token", {}).json()["token"]
    assert viewer_token

    # WHEN each of them tries to upload
    answers = {
        "no token": dev.upload(None, 0, b"data"),
        "empty token": dev.upload("", 0, b"data"),
        "a guessed token": dev.upload("guess", 0, b"data"),
        "the viewer's token": dev.upload(viewer_token, 0, b"data"),
        "another room's host token": dev.upload(other["token"], 0, b"data"),
        "a stopped stream's host token": dev.upload(stopped["token"], 0, b"data"),
    }

    # THEN every one is refused with a clear error, and no file is written
    statuses = {who: answer.status for who, answer in answers.items()}
    assert statuses == {
        "no token": 401,
        "empty token": 401,
        "a guessed token": 401,
        "the viewer's token": 401,
        "another room's host token": 403,
        "a stopped stream's host token": 401,
    }
    assert all(set(answer.json()) == {"error"} for answer in answers.values())
    assert dev.files() == []
    assert dev.upload(live["token"], 0, b"data").status == 200


def test_with_recording_off_uploads_are_refused(dev: Dev) -> None:
    dev.use(RECORDING="off")
    grant = dev.go_live()

    reply = dev.upload(grant["token"], 0, b"data")

    assert reply.status == 403 and "RECORDING=off" in reply.json()["error"]
    assert dev.files() == []
    assert dev.listing(password=PASSWORD).json()["recording"] is False


# -- the end of the stream ----------------------------------------------------------------------


def test_a_host_whose_tab_closed_has_its_recording_finished_when_the_hub_ends_the_stream(
    dev: Dev, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the hub's clock in the test's hands, and a host live for 3 s who uploaded twice
    clock = FakeClock()
    monkeypatch.setattr(HUB, "_clock", clock)
    grant = dev.go_live()
    clock.now += 1
    assert dev.upload(grant["token"], 0, b"first second").status == 200
    clock.now += 2
    assert dev.upload(grant["token"], 12, b" third").status == 200

    [listed] = dev.recordings()
    assert listed["status"] == "recording"

    # WHEN its tab is gone (no signalling connection) past the hub's grace period, and nothing
    # but the recordings list calls the server afterwards
    clock.now += HUB.limits.host_grace_seconds + 1

    # THEN listing ends the stream first: the recording is finished with the duration that
    # was recorded, and is ready
    [listed] = dev.recordings()
    assert (listed["status"], listed["duration"], listed["sizeBytes"]) == ("ready", 3.0, 18)
    assert json.loads((dev.folder / f"{listed['id']}.json").read_text())["complete"] is True
    # AND the stream is over for the audience too
    assert dev.post("/audience_token", {}).json()["token"] is None


def test_a_stream_replaced_by_another_has_its_recording_finished(dev: Dev) -> None:
    first = dev.go_live()
    assert dev.upload(first["token"], 0, b"one").status == 200

    second = dev.go_live()
    assert dev.upload(second["token"], 0, b"two").status == 200

    statuses = sorted((r["streamId"], r["status"]) for r in dev.recordings())
    assert statuses == sorted([(first["room"], "ready"), (second["room"], "recording")])


# -- playback -----------------------------------------------------------------------------------


@pytest.fixture
def recorded(dev: Dev) -> tuple[Dev, str, bytes]:
    grant = dev.go_live()
    data = webm_bytes(1000)
    recording_id = dev.upload(grant["token"], 0, data).json()["id"]
    dev.stop(grant)
    return dev, f"{FILES}/{recording_id}.webm", data


def test_a_recording_is_served_whole_with_accept_ranges(recorded: tuple[Dev, str, bytes]) -> None:
    dev, path, data = recorded

    reply = dev.request("GET", path)

    assert (reply.status, reply.body) == (200, data)
    assert reply.headers["Content-Type"] == "video/webm"
    assert reply.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(
    ("asked", "first", "last"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=990-", 990, 999),
        ("bytes=-5", 995, 999),
        ("bytes=5-5000", 5, 999),
    ],
)
def test_a_byte_range_is_a_206_with_content_range(
    recorded: tuple[Dev, str, bytes], asked: str, first: int, last: int
) -> None:
    dev, path, data = recorded

    reply = dev.request("GET", path, headers={"Range": asked})

    assert reply.status == 206
    assert reply.headers["Content-Range"] == f"bytes {first}-{last}/1000"
    assert reply.body == data[first : last + 1]


def test_a_range_beyond_the_end_is_a_416(recorded: tuple[Dev, str, bytes]) -> None:
    dev, path, _ = recorded

    reply = dev.request("GET", path, headers={"Range": "bytes=1000-"})

    assert reply.status == 416
    assert reply.headers["Content-Range"] == "bytes */1000"
    assert set(reply.json()) == {"error"}


def test_a_range_that_is_not_one_byte_range_is_ignored(recorded: tuple[Dev, str, bytes]) -> None:
    dev, path, data = recorded

    reply = dev.request("GET", path, headers={"Range": "bytes=0-1,5-6"})

    assert (reply.status, reply.body) == (200, data)


def test_head_gives_the_headers_only(recorded: tuple[Dev, str, bytes]) -> None:
    dev, path, _ = recorded

    reply = dev.request("HEAD", path)

    assert (reply.status, reply.body, reply.headers["Content-Length"]) == (200, b"", "1000")


def test_a_large_recording_is_sent_whole_a_chunk_at_a_time_and_head_reads_none_of_it(
    recorded: tuple[Dev, str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a recording of three ranges and a bit (24 MiB)
    dev, path, _ = recorded
    big = os.urandom(3 * MAX_RANGE_BYTES + 123)
    (dev.folder / path.rsplit("/", 1)[1]).write_bytes(big)
    opened: list[bool] = []
    reads: list[int] = []
    init, read = FileBody.__init__, FileBody.read

    def spy_init(body: FileBody, file: Any, length: int) -> None:
        opened.append(file is not None)
        init(body, file, length)

    def spy_read(body: FileBody, size: int) -> bytes:
        data = read(body, size)
        reads.append(len(data))
        return data

    monkeypatch.setattr(FileBody, "__init__", spy_init)
    monkeypatch.setattr(FileBody, "read", spy_read)

    # WHEN it is asked for with HEAD
    head = dev.request("HEAD", path)

    # THEN the headers say its size, and the file was not even opened
    assert (head.status, head.body, head.headers["Content-Length"]) == (200, b"", str(len(big)))
    assert (opened, reads) == ([False], [])

    # WHEN it is asked for whole (no Range), as curl or a download does
    whole = dev.request("GET", path)

    # THEN all of it comes, read from the disk a bounded chunk at a time
    assert (whole.status, whole.headers["Content-Length"]) == (200, str(len(big)))
    assert whole.body == big
    assert sum(reads) == len(big) and max(reads) <= FILE_CHUNK_BYTES


@pytest.mark.parametrize(
    "name",
    [
        "0123456789abcdef0123456789abcdef.webm",  # well formed, unknown
        "0123456789ABCDEF0123456789ABCDEF.webm",
        "0123456789abcdef0123456789abcdef.json",
        "0123456789abcdef0123456789abcdef",
        "..%2F..%2Fpyproject.toml",
        "../../../pyproject.toml",
        "%2e%2e/%2e%2e/README.md",
        "x.webm",
        "",
    ],
)
def test_a_bad_or_unknown_file_name_is_a_404(recorded: tuple[Dev, str, bytes], name: str) -> None:
    dev, _, _ = recorded

    reply = dev.request("GET", f"{FILES}/{name}")

    assert reply.status == 404
    assert set(reply.json()) == {"error"}


def test_the_sidecar_of_a_recording_is_not_served(recorded: tuple[Dev, str, bytes]) -> None:
    dev, path, _ = recorded

    reply = dev.request("GET", path.replace(".webm", ".json"))

    assert reply.status == 404


def test_a_recording_file_that_is_a_link_is_not_served_or_listed(
    recorded: tuple[Dev, str, bytes], tmp_path: Path
) -> None:
    # GIVEN a <id>.webm in the recordings folder linked to the app's settings, beside a sidecar
    dev, real_path, data = recorded
    secret = tmp_path / ".env"
    secret.write_text(f"HOST_PASSWORD={PASSWORD}\n")
    linked = "ab" * 16
    (dev.folder / f"{linked}.webm").symlink_to(secret)
    sidecar = {"title": "t", "room": "r", "startedAt": 1.0, "duration": 1.0, "complete": True}
    (dev.folder / f"{linked}.json").write_text(json.dumps({**sidecar, "size": 10}))

    # WHEN it is asked for whole, by range and with HEAD
    answers = [
        dev.request("GET", f"{FILES}/{linked}.webm"),
        dev.request("GET", f"{FILES}/{linked}.webm", headers={"Range": "bytes=0-"}),
        dev.request("HEAD", f"{FILES}/{linked}.webm"),
    ]

    # THEN each is a 404 that carries nothing of the file, and the list does not show it
    assert [answer.status for answer in answers] == [404, 404, 404]
    assert all(PASSWORD.encode() not in answer.body for answer in answers)
    assert [item["id"] for item in dev.recordings()] == [real_path.rsplit("/", 1)[1][:32]]
    # AND the real recording beside it still plays
    assert dev.request("GET", real_path).body == data


def test_other_methods_on_a_recording_are_405(recorded: tuple[Dev, str, bytes]) -> None:
    dev, path, data = recorded

    reply = dev.request("DELETE", path)

    assert reply.status == 405 and reply.headers["Allow"] == "GET, HEAD"
    assert dev.request("GET", path).body == data


# -- who may list them ----------------------------------------------------------------------


def test_the_list_is_the_hosts_unless_recordings_are_public(
    recorded: tuple[Dev, str, bytes],
) -> None:
    dev, _, _ = recorded
    session = dev.sign_in()["session"]

    # THEN without credentials it is a 401; with the password or the session a 200
    anonymous = dev.request("GET", "/recordings")
    assert anonymous.status == 401 and "host password" in anonymous.json()["error"]
    assert dev.listing(password="wrong").status == 401
    assert dev.listing(session="forged").status == 401
    assert len(dev.listing(password=PASSWORD).json()["recordings"]) == 1
    by_header = dev.request("GET", "/recordings", headers={"X-Host-Session": session})
    assert by_header.status == 200 and by_header.json()["public"] is False
    assert dev.post("/audience_token", {}).json()["recordingsPublic"] is False

    # WHEN the recordings are made public
    dev.use(RECORDINGS_PUBLIC="true")

    # THEN anyone may list them, and the audience is told so
    public = dev.request("GET", "/recordings")
    assert public.status == 200 and public.json()["public"] is True
    assert len(public.json()["recordings"]) == 1
    assert dev.post("/audience_token", {}).json()["recordingsPublic"] is True


def test_wrong_passwords_for_the_list_are_throttled(dev: Dev) -> None:
    for _ in range(MAX_FAILURES):
        assert dev.listing(password="wrong").status == 401

    throttled = dev.listing(password=PASSWORD)

    assert throttled.status == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert "Too many wrong passwords" in throttled.json()["error"]


# -- the command line ---------------------------------------------------------------------------


def test_livescreen_recordings_lists_and_deletes_local_recordings(
    recorded: tuple[Dev, str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev, path, _ = recorded
    recording_id = path.rsplit("/", 1)[1].removesuffix(".webm")
    env = tmp_path / "cli.env"
    env.write_text(f"STREAM_PROVIDER=local\nRECORDINGS_DIR={dev.folder}\n")

    # WHEN the host lists the recordings
    assert cli.main(["recordings", "--env-file", str(env)]) == 0
    listed = capsys.readouterr().out

    # THEN the stream is there, ready
    assert recording_id in listed and "ready" in listed

    # WHEN it deletes it, then an id that is not there
    assert cli.main(["recordings", "--env-file", str(env), "delete", recording_id]) == 0
    assert cli.main(["recordings", "--env-file", str(env), "delete", recording_id]) == 1
    assert cli.main(["recordings", "--env-file", str(env), "delete", "../../etc"]) == 1
    out = capsys.readouterr()

    # THEN both of its files are gone, the page no longer plays it, and the list is empty
    assert f"Deleted recording {recording_id}." in out.out
    assert "no recording has the ID" in out.err
    assert dev.files() == []
    assert dev.request("GET", path).status == 404
    assert cli.main(["recordings", "--env-file", str(env)]) == 0
    assert "No recordings yet." in capsys.readouterr().out


def test_a_recording_deleted_while_live_takes_no_more(dev: Dev) -> None:
    grant = dev.go_live()
    recording_id = dev.upload(grant["token"], 0, b"data").json()["id"]
    env = dev.folder.parent / "cli.env"
    env.write_text(f"RECORDINGS_DIR={dev.folder}\n")
    assert cli.main(["recordings", "--env-file", str(env), "delete", recording_id]) == 0

    reply = dev.upload(grant["token"], 4, b"more")

    assert reply.status == 410
    assert dev.files() == []
