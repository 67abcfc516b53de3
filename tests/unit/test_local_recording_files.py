"""The local recordings' folder and the live rooms' recordings, with the hub's clock in hand."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from livescreen.providers.local.hub import Hub
from livescreen.providers.local.recorder import LocalRecordings, StreamNotLiveError
from livescreen.providers.local.recording_folder import (
    SIDECAR_ROOM,
    FolderFullError,
    OffsetMismatchError,
    RecordingFolder,
    RecordingLimitError,
)
from livescreen.providers.local.recording_store import LocalRecordingStore
from livescreen.providers.local.room import Room
from livescreen.recordings import RecordingNotFoundError

WALL = 1_780_000_000.0
LIMIT = 1000


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hub(clock: FakeClock) -> Hub:
    return Hub(clock=clock)


@pytest.fixture
def recordings(hub: Hub, clock: FakeClock) -> LocalRecordings:
    return LocalRecordings(hub, wall_clock=lambda: WALL + clock.now)


@pytest.fixture
def folder(tmp_path: Path) -> RecordingFolder:
    return RecordingFolder(tmp_path / "recordings")


def store(folder: RecordingFolder, recordings: LocalRecordings) -> LocalRecordingStore:
    return LocalRecordingStore(folder, recordings.is_recording)


def test_a_recording_lasts_from_going_live_to_its_last_piece(
    hub: Hub, clock: FakeClock, recordings: LocalRecordings, folder: RecordingFolder
) -> None:
    # GIVEN a room that went live at t=100 and pieces that arrived at t=101 and t=104
    room = hub.create_room()
    hub.start(room.name)
    clock.now = 101.0
    recording_id, _ = recordings.append(room, folder, 0, b"abc", max_bytes=LIMIT)
    clock.now = 104.0
    recordings.append(room, folder, 3, b"def", max_bytes=LIMIT)
    [live] = store(folder, recordings).list()
    assert (live.status, live.duration, live.size_bytes) == ("recording", 4.0, 6)

    # WHEN the host stops 10 s later
    clock.now = 114.0
    hub.stop(room.name)

    # THEN it is complete, began when the room went live, and lasts until its last piece
    [done] = store(folder, recordings).list()
    assert (done.status, done.duration, done.started_at) == ("ready", 4.0, WALL + 100.0)
    assert json.loads((folder.root / f"{recording_id}.json").read_text())["complete"] is True


def test_listing_ends_a_stream_whose_host_has_been_gone_past_the_grace_period(
    hub: Hub, clock: FakeClock, recordings: LocalRecordings, folder: RecordingFolder
) -> None:
    # GIVEN a live room whose host never connected, with one piece recorded at t=102
    room = hub.create_room()
    hub.start(room.name)
    clock.now = 102.0
    recordings.append(room, folder, 0, b"abc", max_bytes=LIMIT)

    # WHEN nothing calls into the hub until the list is asked for, past the grace period
    clock.now = 100.0 + hub.limits.host_grace_seconds + 1

    # THEN the list ends the room first: the recording is finished and ready
    [listed] = store(folder, recordings).list()
    assert (listed.status, listed.duration) == ("ready", 2.0)
    assert room.ended
    assert folder.read(listed.id)["complete"] is True


def test_nothing_is_recorded_for_a_room_that_is_not_live(
    hub: Hub, recordings: LocalRecordings, folder: RecordingFolder
) -> None:
    waiting = hub.create_room()
    ended = hub.create_room()
    hub.start(ended.name)
    hub.stop(ended.name)

    for room in (waiting, ended):
        with pytest.raises(StreamNotLiveError):
            recordings.append(room, folder, 0, b"abc", max_bytes=LIMIT)

    assert folder.ids() == []


def test_a_first_piece_must_begin_the_file(
    hub: Hub, recordings: LocalRecordings, folder: RecordingFolder
) -> None:
    room = hub.create_room()
    hub.start(room.name)

    with pytest.raises(OffsetMismatchError):
        recordings.append(room, folder, 5, b"abc", max_bytes=LIMIT)

    assert folder.ids() == []


def test_the_limit_leaves_the_file_as_it_was(
    hub: Hub, recordings: LocalRecordings, folder: RecordingFolder
) -> None:
    room = hub.create_room()
    hub.start(room.name)
    recording_id, _ = recordings.append(room, folder, 0, b"x" * 900, max_bytes=LIMIT)

    with pytest.raises(RecordingLimitError):
        recordings.append(room, folder, 900, b"y" * 101, max_bytes=LIMIT)

    assert folder.media_path(recording_id).read_bytes() == b"x" * 900
    assert folder.read(recording_id)["size"] == 900


def test_the_list_is_newest_first_and_skips_what_this_app_did_not_write(
    folder: RecordingFolder, recordings: LocalRecordings
) -> None:
    older = folder.create(title="older", room="a", started_at=WALL)
    newer = folder.create(title="newer", room="b", started_at=WALL + 60)
    (folder.root / ("f" * 32 + ".json")).write_text("[not an object")
    (folder.root / "notes.json").write_text("{}")

    listed = store(folder, recordings).list()

    assert [r.id for r in listed] == [newer, older]
    assert {r.status for r in listed} == {"ready"}  # not live in this process


def test_recordings_that_started_at_the_same_instant_are_always_listed_in_one_order(
    folder: RecordingFolder, recordings: LocalRecordings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN three recordings that started at one instant
    ids = [folder.create(title=f"r{n}", room="a", started_at=WALL) for n in range(3)]
    listings = []
    for found in (ids, ids[::-1]):
        # WHEN the folder lists their files in one order, then in the other (as two
        # filesystems, or one after a rename, may)
        monkeypatch.setattr(folder, "ids", lambda found=found: list(found))
        listings.append([r.id for r in store(folder, recordings).list()])

    # THEN the page and the command line list them in the same order both times
    assert listings[0] == listings[1]
    assert sorted(listings[0]) == sorted(ids)


@pytest.mark.parametrize("bad", ["", "../x", "F" * 32, "0" * 31, "0" * 32 + "/"])
def test_bad_or_unknown_ids_are_not_found(folder: RecordingFolder, bad: str) -> None:
    with pytest.raises(RecordingNotFoundError):
        folder.delete(bad)
    with pytest.raises(RecordingNotFoundError):
        folder.media_path(bad)


def test_delete_removes_both_files(folder: RecordingFolder) -> None:
    recording_id = folder.create(title="t", room="r", started_at=WALL)

    folder.delete(recording_id)

    assert list(folder.root.iterdir()) == []
    with pytest.raises(RecordingNotFoundError):
        folder.delete(recording_id)


def test_a_first_piece_over_the_limit_makes_no_file(
    hub: Hub, recordings: LocalRecordings, folder: RecordingFolder
) -> None:
    room = hub.create_room()
    hub.start(room.name)

    with pytest.raises(RecordingLimitError, match="MAX_RECORDING_MB"):
        recordings.append(room, folder, 0, b"x" * (LIMIT + 1), max_bytes=LIMIT)

    assert folder.ids() == []


# -- the folder's total cap (MAX_RECORDINGS_TOTAL_MB) -----------------------------------------


def live_room(hub: Hub) -> Room:
    room = hub.create_room()
    hub.start(room.name)
    return room


def test_a_piece_that_would_take_the_folder_past_its_cap_is_refused_and_nothing_is_lost(
    hub: Hub, recordings: LocalRecordings, folder: RecordingFolder
) -> None:
    # GIVEN a folder capped at 20,000 bytes that holds a 10,000-byte recording, and a second
    # live recording of 4,000 bytes
    cap = 20_000
    first = live_room(hub)
    first_id, _ = recordings.append(
        first, folder, 0, b"a" * 10_000, max_bytes=LIMIT * 100, max_total_bytes=cap
    )
    second = live_room(hub)
    second_id, _ = recordings.append(
        second, folder, 0, b"b" * 4_000, max_bytes=LIMIT * 100, max_total_bytes=cap
    )

    # WHEN the second one's next piece would take the folder past the cap
    with pytest.raises(FolderFullError) as refused:
        recordings.append(
            second, folder, 4_000, b"c" * 5_000, max_bytes=LIMIT * 100, max_total_bytes=cap
        )

    # THEN it is refused, saying how full the folder is and what to do
    message = str(refused.value)
    assert message.startswith("The recordings folder is full (")
    assert message.endswith(
        "delete old recordings (livescreen recordings delete ID) or raise MAX_RECORDINGS_TOTAL_MB"
    )
    # AND both recordings keep exactly what was accepted before, and the folder is within its cap
    assert folder.media_path(first_id).read_bytes() == b"a" * 10_000
    assert folder.media_path(second_id).read_bytes() == b"b" * 4_000
    assert folder.read(second_id)["size"] == 4_000
    assert folder.used_bytes() <= cap
    assert sorted(path.name for path in folder.root.iterdir()) == sorted(
        [f"{first_id}.json", f"{first_id}.webm", f"{second_id}.json", f"{second_id}.webm"]
    )
    # AND when the stream ends, what it holds is a complete recording
    hub.stop(second.name)
    assert folder.read(second_id)["complete"] is True


def test_a_new_recording_is_not_made_in_a_full_folder(
    hub: Hub, recordings: LocalRecordings, folder: RecordingFolder
) -> None:
    # GIVEN a folder whose one recording leaves less room than a new one's first piece needs
    cap = 12_000
    kept_id, _ = recordings.append(
        live_room(hub), folder, 0, b"a" * 7_000, max_bytes=LIMIT * 100, max_total_bytes=cap
    )

    # WHEN another stream begins its recording
    with pytest.raises(FolderFullError):
        recordings.append(
            live_room(hub), folder, 0, b"b" * 1_000, max_bytes=LIMIT * 100, max_total_bytes=cap
        )

    # THEN no file is made for it; the old recording is untouched
    assert folder.ids() == [kept_id]
    assert folder.media_path(kept_id).read_bytes() == b"a" * 7_000


def test_a_first_piece_refused_once_its_sidecar_is_written_leaves_no_empty_recording(
    hub: Hub, recordings: LocalRecordings, folder: RecordingFolder
) -> None:
    # GIVEN a cap with room for a first piece of 1,000 bytes, but not once its sidecar is there
    kept_id = folder.create(title="old", room="old", started_at=WALL)
    cap = folder.used_bytes() + 1_000 + SIDECAR_ROOM

    # WHEN a stream's first piece is that big
    room = live_room(hub)
    with pytest.raises(FolderFullError):
        recordings.append(room, folder, 0, b"x" * 1_000, max_bytes=LIMIT * 100, max_total_bytes=cap)

    # THEN no empty recording is left behind, and the next piece begins a recording again
    assert folder.ids() == [kept_id]
    with pytest.raises(FolderFullError):
        recordings.append(room, folder, 0, b"x" * 1_000, max_bytes=LIMIT * 100, max_total_bytes=cap)
    assert folder.ids() == [kept_id]


def test_room_freed_by_a_deletion_is_used_again(
    hub: Hub, recordings: LocalRecordings, folder: RecordingFolder
) -> None:
    cap = 12_000
    old_id, _ = recordings.append(
        live_room(hub), folder, 0, b"a" * 7_000, max_bytes=LIMIT * 100, max_total_bytes=cap
    )
    room = live_room(hub)
    with pytest.raises(FolderFullError):
        recordings.append(room, folder, 0, b"b" * 2_000, max_bytes=LIMIT * 100, max_total_bytes=cap)

    folder.delete(old_id)

    new_id, size = recordings.append(
        room, folder, 0, b"b" * 2_000, max_bytes=LIMIT * 100, max_total_bytes=cap
    )
    assert (folder.ids(), size) == ([new_id], 2_000)


@pytest.mark.parametrize(
    ("used", "cap", "shown"),
    [
        (2_754_000, 3_000_000, "2.8 MB of 3 MB"),
        (2_048_000_000, 2_048_000_000, "2048 MB of 2048 MB"),
    ],
)
def test_the_full_folder_message_says_megabytes(used: int, cap: int, shown: str) -> None:
    assert f"({shown})" in str(FolderFullError(used, cap))


# -- symbolic links: never followed inside the folder ---------------------------------------------


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the folder that must never be read, written or deleted through it."""
    path = tmp_path / ".env"
    path.write_text("HOST_PASSWORD=never-served\n")
    return path


def planted(folder: RecordingFolder, secret: Path, *, link: str) -> str:
    """A recording id whose ``link`` entry ("webm" or "json") is a symbolic link to ``secret``;
    the other one is a plain file, as this app writes it."""
    recording_id = "ab" * 16
    folder.root.mkdir(parents=True, exist_ok=True)
    sidecar = {"title": "t", "room": "r", "startedAt": WALL, "duration": 1.0, "complete": True}
    plain = {"webm": b"webm bytes", "json": json.dumps({**sidecar, "size": 10}).encode()}
    for suffix, content in plain.items():
        entry = folder.root / f"{recording_id}.{suffix}"
        if suffix == link:
            entry.symlink_to(secret)
        else:
            entry.write_bytes(content)
    return recording_id


def test_a_media_file_linked_elsewhere_is_not_read_listed_or_counted(
    folder: RecordingFolder, recordings: LocalRecordings, secret: Path
) -> None:
    # GIVEN a <id>.webm in the folder that is a link to the app's .env, beside a real sidecar
    recording_id = planted(folder, secret, link="webm")

    # THEN it is not opened, not sized, not listed, and the link's target is not counted
    with pytest.raises(RecordingNotFoundError):
        folder.open_media(recording_id)
    with pytest.raises(RecordingNotFoundError):
        folder.media_size(recording_id)
    assert folder.ids() == []
    assert store(folder, recordings).list() == []
    assert folder.used_bytes() == (folder.root / f"{recording_id}.json").stat().st_size


def test_a_sidecar_linked_elsewhere_is_not_read_or_listed(
    folder: RecordingFolder, recordings: LocalRecordings, tmp_path: Path
) -> None:
    # GIVEN a sidecar that is a link to a JSON file outside the folder
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"title": "t", "room": "r", "startedAt": WALL}))
    recording_id = planted(folder, outside, link="json")

    with pytest.raises(RecordingNotFoundError):
        folder.read(recording_id)
    assert store(folder, recordings).list() == []


@pytest.mark.parametrize("link", ["webm", "json"])
def test_deleting_a_recording_removes_a_link_and_never_its_target(
    folder: RecordingFolder, secret: Path, link: str
) -> None:
    recording_id = planted(folder, secret, link=link)

    folder.delete(recording_id)

    assert list(folder.root.iterdir()) == []
    assert secret.read_text() == "HOST_PASSWORD=never-served\n"


def test_a_recording_whose_file_becomes_a_link_takes_no_more_and_the_target_is_untouched(
    hub: Hub, recordings: LocalRecordings, folder: RecordingFolder, secret: Path
) -> None:
    # GIVEN a live recording whose webm is swapped for a link to the app's .env
    room = live_room(hub)
    recording_id, _ = recordings.append(room, folder, 0, b"abc", max_bytes=LIMIT)
    media = folder.media_path(recording_id)
    media.unlink()
    media.symlink_to(secret)

    # WHEN the next piece comes (continuing the file, or at the link target's length)
    for offset in (3, secret.stat().st_size):
        with pytest.raises(RecordingNotFoundError):
            recordings.append(room, folder, offset, b"def", max_bytes=LIMIT)

    # THEN nothing is written through the link, and nothing is cut off
    assert secret.read_text() == "HOST_PASSWORD=never-served\n"


def test_a_link_in_place_of_the_sidecars_temporary_copy_is_replaced_not_written_through(
    folder: RecordingFolder, secret: Path
) -> None:
    recording_id = folder.create(title="t", room="r", started_at=WALL)
    (folder.root / f"{recording_id}.json.tmp").symlink_to(secret)

    folder.finish(recording_id, duration=3.0)

    assert folder.read(recording_id)["complete"] is True
    assert secret.read_text() == "HOST_PASSWORD=never-served\n"
    assert sorted(path.name for path in folder.root.iterdir()) == [
        f"{recording_id}.json",
        f"{recording_id}.webm",
    ]


def test_a_fifo_or_a_folder_named_like_a_recording_is_not_opened(folder: RecordingFolder) -> None:
    fifo_id, folder_id = "cd" * 16, "ef" * 16
    folder.root.mkdir(parents=True)
    os.mkfifo(folder.root / f"{fifo_id}.webm")  # opening it for reading would block
    (folder.root / f"{folder_id}.webm").mkdir()
    for recording_id in (fifo_id, folder_id):
        (folder.root / f"{recording_id}.json").write_text("{}")

    for recording_id in (fifo_id, folder_id):
        with pytest.raises(RecordingNotFoundError):
            folder.open_media(recording_id)
        with pytest.raises(RecordingNotFoundError):
            folder.media_size(recording_id)
    assert folder.ids() == []


def test_a_recordings_folder_that_is_itself_a_link_is_followed(
    tmp_path: Path, hub: Hub, recordings: LocalRecordings
) -> None:
    # GIVEN RECORDINGS_DIR set to a link to a folder on another disk (the operator's choice)
    real = tmp_path / "bigger-disk"
    real.mkdir()
    (tmp_path / "recordings-link").symlink_to(real, target_is_directory=True)
    folder = RecordingFolder(tmp_path / "recordings-link")

    # WHEN a stream is recorded there
    recording_id, _ = recordings.append(live_room(hub), folder, 0, b"abc", max_bytes=LIMIT)

    # THEN it is written into the real folder, listed and played
    assert (real / f"{recording_id}.webm").read_bytes() == b"abc"
    assert folder.ids() == [recording_id]
    media, size = folder.open_media(recording_id)
    with media:
        assert (media.read(), size) == (b"abc", 3)
