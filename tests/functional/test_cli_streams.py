"""`livescreen streams`: the past streams and their numbers from the app's own store, or one
deleted; with the real sqlite store on a file, as the dev server keeps it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from livescreen.cli.main import build_parser, main
from livescreen.store import StreamDetails, clear_store_cache
from livescreen.store.sqlite import SqliteStreamStore

#: 2026-12-31 23:59:30 UTC: already 2027 in Chatham, still 2026 in Adak.
EPOCH = datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC).timestamp()
ENV_FILE = "absent.env"  # no settings file: the environment says everything


@pytest.fixture
def streams_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The store's file, named by the environment as a developer's shell would."""
    path = tmp_path / "streams.db"
    monkeypatch.setenv("STREAM_STORE", "sqlite")
    monkeypatch.setenv("STREAMS_DB", str(path))
    monkeypatch.chdir(tmp_path)
    clear_store_cache()
    yield path
    clear_store_cache()


@pytest.fixture
def store(streams_db: Path) -> Iterator[SqliteStreamStore]:
    """Another connection to the same file: what the dev server wrote."""
    store = SqliteStreamStore(streams_db)
    yield store
    store.close()


@pytest.fixture
def zone() -> Iterator[None]:
    """Puts the process's time zone back after a test that changes it."""
    before = os.environ.get("TZ")
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def streams(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["streams", "--env-file", ENV_FILE, *argv])
    out, err = capsys.readouterr()
    return status, out, err


def details(title: str, description: str = "") -> StreamDetails:
    return StreamDetails(title=title, description=description, updated_at=EPOCH - 60)


def a_finished_stream(store: SqliteStreamStore) -> None:
    """Two viewers, one chat message, 1 h 2 min 3 s; one viewer left after 90 s."""
    store.stream_started("livestream-a", provider="local", at=EPOCH)
    store.viewer_joined("livestream-a", "v1", at=EPOCH + 10)
    store.viewer_joined("livestream-a", "v2", at=EPOCH + 20)
    store.viewer_left("livestream-a", "v1", at=EPOCH + 100)
    store.chat_message("m1", at=EPOCH + 30)
    store.stream_ended("livestream-a", at=EPOCH + 3723)


def test_the_list_shows_each_stream_with_its_numbers_newest_first(
    capsys: pytest.CaptureFixture[str], store: SqliteStreamStore
) -> None:
    # GIVEN a finished stream, then a newer one still live, with a long title set before it began
    a_finished_stream(store)
    store.put_details(details("Friday quiz night: " + "the one with all the questions " * 3))
    store.stream_started("livestream-b", provider="local", at=EPOCH + 7200)

    # WHEN the host lists the streams
    status, out, _ = streams(capsys)

    # THEN the newest comes first, each with its duration and audience numbers
    assert status == 0
    header, newer, older = out.splitlines()
    assert header.split() == [
        "TITLE", "STARTED", "DURATION", "PEAK", "VIEWERS", "VIEWER-MIN", "CHAT", "ID"
    ]  # fmt: skip
    # (a long title is cut to keep the table readable; --json keeps it whole)
    assert newer.startswith("Friday quiz night: the one with all the…  ")
    assert newer.split()[-6:] == ["live", "0", "0", "0.0", "0", "livestream-b"]
    assert older.startswith("Untitled stream ")
    # 90 s + (3723 - 20) s = 3793 s watched
    assert older.split()[-6:] == ["1:02:03", "2", "2", "63.2", "1", "livestream-a"]


@pytest.mark.parametrize(
    ("tz", "shown"),
    [
        ("Pacific/Chatham", "2027-01-01 13:44 UTC+13:45"),
        ("America/Adak", "2026-12-31 13:59 UTC-10:00"),
        ("UTC", "2026-12-31 23:59 UTC+00:00"),
    ],
)
def test_the_start_is_shown_in_the_machines_own_time_with_its_offset(
    capsys: pytest.CaptureFixture[str], store: SqliteStreamStore, zone: None, tz: str, shown: str
) -> None:
    # GIVEN a stream that began in the last seconds of 2026, UTC
    a_finished_stream(store)
    # WHEN it is listed on a machine in this zone
    os.environ["TZ"] = tz
    time.tzset()
    _, out, _ = streams(capsys)
    # THEN the start is that machine's wall-clock time, with the zone's offset then
    assert shown in out.splitlines()[1]


def test_json_is_the_records_as_the_endpoints_answer_them(
    capsys: pytest.CaptureFixture[str], store: SqliteStreamStore
) -> None:
    a_finished_stream(store)

    status, out, _ = streams(capsys, "--json")

    assert status == 0
    assert json.loads(out) == [
        {
            "id": "livestream-a",
            "provider": "local",
            "title": "Untitled stream",
            "description": "",
            "startedAt": "2026-12-31T23:59:30+00:00",
            "endedAt": "2027-01-01T01:01:33+00:00",
            "duration": 3723.0,
            "live": False,
            "currentViewers": 0,
            "peakViewers": 2,
            "viewers": 2,
            "viewerMinutes": 63.2,
            "chatMessages": 1,
        }
    ]


def test_csv_has_a_header_row_and_the_same_fields_as_json(
    capsys: pytest.CaptureFixture[str], store: SqliteStreamStore
) -> None:
    # GIVEN a stream whose description spans lines and holds a comma and quotes
    store.put_details(details("Quiz", 'Round 1, "music"\nRound 2'))
    a_finished_stream(store)

    status, out, _ = streams(capsys, "--csv")

    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    _, as_json, _ = streams(capsys, "--json")
    assert list(rows[0]) == list(json.loads(as_json)[0])
    assert len(rows) == 1
    assert rows[0]["description"] == 'Round 1, "music"\nRound 2'
    assert (rows[0]["title"], rows[0]["duration"], rows[0]["live"]) == ("Quiz", "3723.0", "false")
    assert (rows[0]["viewerMinutes"], rows[0]["chatMessages"]) == ("63.2", "1")


def test_with_no_streams_the_list_says_so_and_csv_keeps_its_header(
    capsys: pytest.CaptureFixture[str], store: SqliteStreamStore
) -> None:
    # GIVEN a store whose only stream was deleted
    store.stream_started("livestream-a", provider="local", at=EPOCH)
    store.delete("livestream-a")

    assert streams(capsys)[1] == "No streams yet.\n"
    assert streams(capsys, "--json")[1] == "[]\n"
    assert streams(capsys, "--csv")[1].startswith("id,provider,title,description,startedAt,")


def test_run_where_no_store_file_is_it_says_where_it_looked_and_makes_none(
    capsys: pytest.CaptureFixture[str], streams_db: Path
) -> None:
    # GIVEN no STREAMS_DB file (the command run from another folder than the dev server's)
    # WHEN the streams are listed, or one deleted
    listed = streams(capsys)
    deleted = streams(capsys, "delete", "livestream-a")

    # THEN the list names the file it looked for, the delete finds nothing, and no file is made
    assert listed == (
        0,
        f"No streams yet ({streams_db.resolve()} does not exist: STREAMS_DB names it).\n",
        "",
    )
    assert deleted[0] == 1 and "no stream has the ID 'livestream-a'" in deleted[2]
    assert streams(capsys, "--json")[1] == "[]\n"
    assert not streams_db.exists()


def test_delete_removes_one_stream_and_its_numbers(
    capsys: pytest.CaptureFixture[str], store: SqliteStreamStore
) -> None:
    # GIVEN two streams
    a_finished_stream(store)
    store.stream_started("livestream-b", provider="local", at=EPOCH + 7200)

    # WHEN the host deletes the first
    status, out, _ = streams(capsys, "delete", "livestream-a")

    # THEN it is gone and the other one is kept
    assert (status, out) == (0, "Deleted stream livestream-a.\n")
    assert [record.id for record in store.list()] == ["livestream-b"]


def test_deleting_an_unknown_id_says_so_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], store: SqliteStreamStore
) -> None:
    a_finished_stream(store)

    status, out, err = streams(capsys, "delete", "livestream-typo")

    assert (status, out) == (1, "")
    assert "no stream has the ID 'livestream-typo'" in err
    assert "`livescreen streams` lists them" in err
    assert [record.id for record in store.list()] == ["livestream-a"]


def test_with_the_store_off_it_says_nothing_is_kept(
    capsys: pytest.CaptureFixture[str], streams_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAM_STORE", "off")

    for argv in ([], ["delete", "livestream-a"]):
        status, out, err = streams(capsys, *argv)

        assert (status, out) == (1, "")
        assert "streams are not kept (STREAM_STORE=off)" in err
    assert not streams_db.exists()


def test_a_store_that_cannot_be_read_is_one_clear_line_and_no_traceback(
    streams_db: Path,
) -> None:
    # GIVEN a STREAMS_DB that is not a database (another program's file)
    streams_db.write_text("not a database, but somebody's notes\n", encoding="utf-8")

    # WHEN the command runs, as a shell would run it
    ran = subprocess.run(
        [sys.executable, "-m", "livescreen.cli.main", "streams", "--env-file", ENV_FILE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # THEN it exits 1 with a message naming the file, and no traceback
    assert ran.returncode == 1
    assert ran.stdout == ""
    assert ran.stderr.startswith("error: the stream store could not be reached: ")
    assert str(streams_db) in ran.stderr
    assert "Traceback" not in ran.stderr
    assert streams_db.read_text(encoding="utf-8").startswith("not a database")


def test_the_settings_file_is_understood_before_or_after_delete_id() -> None:
    before = build_parser().parse_args(["streams", "--env-file", "prod.env", "delete", "x"])
    after = build_parser().parse_args(["streams", "delete", "x", "--env-file", "prod.env"])

    assert (before.env_file, before.id) == (after.env_file, after.id) == ("prod.env", "x")
    assert build_parser().parse_args(["streams"]).env_file == ".env"
