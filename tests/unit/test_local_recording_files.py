"""The local recordings' folder and the live rooms' recordings, with the hub's clock in hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livescreen.providers.local_hub import Hub
from livescreen.providers.local_recording import LocalRecordings, StreamNotLiveError
from livescreen.recordings import RecordingNotFoundError
from livescreen.recordings.local_files import (
    LocalRecordingStore,
    OffsetMismatchError,
    RecordingFolder,
    RecordingLimitError,
)

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
