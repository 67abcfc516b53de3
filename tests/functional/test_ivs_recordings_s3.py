"""The ivs recordings: listed from, and deleted in, a moto S3 bucket laid out as IVS writes it;
through the store, the `livescreen recordings` command and the /recordings function."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from ivs_recordings_support import BUCKET, REGION, Layout, keys_under, write_recording
from ivs_support import ivs_settings
from moto import mock_aws

from livescreen.cli import main as cli
from livescreen.devserver.invoke import invoke
from livescreen.providers.base import ProviderError
from livescreen.providers.ivs.recording_layout import RecordingMetadata
from livescreen.providers.ivs.recording_store import (
    DELETE_BATCH,
    LIST_TTL,
    IvsRecordingStore,
    create_store,
)
from livescreen.recordings import RecordingNotFoundError, clear_store_cache

# one stream ended on 13 March, another on 14 March; a third is being recorded right now
FIRST = Layout("AbCdef1G2hij", "st-ZyXwvu1T2s", "xYz1c2d3e4f", "2024-03-13T19-44-17Z")
SECOND = Layout("KlMnop3Q4rst", "st-Ab12Cd34Ef", "pQr5s6t7u8v", "2024-03-14T08-00-02Z")
LIVE = Layout("UvWxyz5A6bcd", "st-Gh56Ij78Kl", "mNo9p0q1r2s", "2024-03-15T10-30-00Z")


@pytest.fixture
def s3(fake_aws_credentials: None) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def recorded(s3: Any) -> Any:
    """Two finished recordings and one in progress, as IVS leaves them."""
    write_recording(
        s3, FIRST, started="2024-03-13T19:44:19Z", ended="2024-03-13T19:55:04Z", duration_ms=645237
    )
    write_recording(
        s3, SECOND, started="2024-03-14T08:00:05Z", ended="2024-03-14T08:01:05Z", duration_ms=60000
    )
    write_recording(s3, LIVE, started="2024-03-15T10:30:01Z")
    return s3


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def pass_list_ttl(self) -> None:
        self.now += LIST_TTL


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(s3: Any, clock: Clock) -> IvsRecordingStore:
    return IvsRecordingStore(bucket=BUCKET, recordings_url="/recordings", client=s3, clock=clock)


def s3_calls(s3: Any) -> list[str]:
    """Every S3 operation the client sends from now on."""
    calls: list[str] = []
    s3.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    return calls


def test_each_participant_session_ivs_recorded_is_one_recording_newest_first(
    recorded: Any, store: IvsRecordingStore
) -> None:
    # WHEN the recordings are listed
    recordings = store.list()

    # THEN there is one per recorded prefix, newest first
    assert [r.id for r in recordings] == [LIVE.id, SECOND.id, FIRST.id]
    live, second, first = recordings
    # AND a finished one has its start, its exact HLS duration and the multivariant playlist,
    # on the pages' own origin under /recordings
    assert first.to_json() == {
        "id": "AbCdef1G2hij.st-ZyXwvu1T2s.xYz1c2d3e4f.2024-03-13T19-44-17Z",
        "title": "Stage AbCdef1G2hij",
        "startedAt": "2024-03-13T19:44:19+00:00",
        "duration": 645.2,
        "playbackUrl": f"/recordings/{FIRST.playlist_key}",
        "format": "hls",
        "status": "ready",
        "sizeBytes": None,
    }
    assert second.duration == 60.0 and second.status == "ready"
    # AND the one IVS has not finished writing is listed as recording, with nothing to play yet
    assert (live.status, live.duration, live.playback_url) == ("recording", None, None)
    assert live.to_json()["startedAt"] == "2024-03-15T10:30:01+00:00"


def test_a_recording_in_progress_becomes_ready_once_ivs_writes_its_end(
    recorded: Any, store: IvsRecordingStore, clock: Clock
) -> None:
    assert store.list()[0].status == "recording"
    # WHEN IVS writes recording-ended.json
    write_recording(
        recorded, LIVE, started="2024-03-15T10:30:01Z", ended="2024-03-15T10:40:01Z",
        duration_ms=600000,
    )  # fmt: skip
    # THEN once the cached list is stale, the same store lists it as ready (a recording in
    # progress is never kept)
    clock.pass_list_ttl()
    live = store.list()[0]
    assert (live.id, live.status, live.duration) == (LIVE.id, "ready", 600.0)
    assert live.playback_url == f"/recordings/{LIVE.playlist_key}"


def test_a_failed_recording_plays_what_was_written_and_an_empty_one_is_not_listed(
    s3: Any, store: IvsRecordingStore
) -> None:
    partial = Layout("FaIled000001", "st-Fail000001", "pArtial00001", "2024-03-16T09-00-00Z")
    empty = Layout("FaIled000002", "st-Fail000002", "eMpty0000001", "2024-03-16T10-00-00Z")
    write_recording(
        s3, partial, started="2024-03-16T09:00:01Z", ended="2024-03-16T09:05:00Z",
        duration_ms=290000, failed=True,
    )  # fmt: skip
    write_recording(
        s3, empty, started="2024-03-16T10:00:01Z", ended="2024-03-16T10:00:02Z",
        duration_ms=0, failed=True, segments=0,
    )  # fmt: skip

    by_id = {r.id: r for r in store.list()}

    assert by_id[partial.id].playback_url == f"/recordings/{partial.playlist_key}"
    assert by_id[partial.id].status == "ready"
    # an entry nobody could play is left out (the lifecycle rule expires its files)
    assert empty.id not in by_id


def write_failed_start(s3: Any, layout: Layout, body: bytes) -> None:
    """What a failed start leaves: recording-failed.json alone, no media."""
    s3.put_object(Bucket=BUCKET, Key=f"{layout.prefix}/events/recording-failed.json", Body=body)


def failed_start_document(layout: Layout, status: str = "RECORDING_START_FAILED") -> bytes:
    return json.dumps(
        {
            "version": "v1",
            "stage_arn": f"arn:aws:ivs:{REGION}:123456789012:stage/{layout.stage_id}",
            "session_id": layout.session_id,
            "participant_id": layout.participant_id,
            "recording_started_at": "2024-03-18T10:00:01Z",
            "recording_ended_at": "2024-03-18T10:00:02Z",
            "recording_status": status,
            "recording_status_message": "StorageConfiguration not found",
            "media": {"hls": {}},
        }
    ).encode()


@pytest.mark.parametrize(
    "body",
    [
        failed_start_document(Layout("x", "st-x", "x", "x"), "RECORDING_START_FAILED"),
        failed_start_document(Layout("x", "st-x", "x", "x"), "RECORDING_SOMETHING_NEW"),
        failed_start_document(Layout("x", "st-x", "x", "x"), "RECORDING_STARTED"),
        b"not json",
    ],
    ids=["start-failed", "unknown-status", "started-status-in-failed-file", "unreadable"],
)
def test_a_recording_whose_start_failed_is_over_and_not_listed(
    s3: Any, store: IvsRecordingStore, body: bytes
) -> None:
    # GIVEN a recording that worked and one whose start failed (no media, only the failed file)
    write_recording(
        s3, FIRST, started="2024-03-13T19:44:19Z", ended="2024-03-13T19:55:04Z", duration_ms=645237
    )
    broken = Layout("StArtFail001", "st-StArtFail1", "hOst00000001", "2024-03-18T10-00-00Z")
    write_failed_start(s3, broken, body)
    # WHEN listed THEN the failed start never shows as "recording": it is over, and with nothing
    # to play it is left out
    assert [r.id for r in store.list()] == [FIRST.id]


def test_any_status_but_started_is_finished() -> None:
    for status in ("RECORDING_ENDED", "RECORDING_ENDED_WITH_FAILURE", "RECORDING_START_FAILED"):
        assert RecordingMetadata(status, None, None).finished
    assert not RecordingMetadata("RECORDING_STARTED", None, None).finished


def test_repeated_lists_within_the_ttl_make_no_s3_call(
    recorded: Any, store: IvsRecordingStore, clock: Clock
) -> None:
    # GIVEN a list just walked (the recording in progress included)
    first = store.list()
    calls = s3_calls(recorded)
    # WHEN a crowd asks again and again within the TTL
    for _ in range(50):
        clock.now += (LIST_TTL - 1) / 50
        assert store.list() == first
    # THEN S3 was not asked once
    assert calls == []
    # AND once the TTL has passed, one walk answers again
    clock.pass_list_ttl()
    store.list()
    assert calls and set(calls) <= {"ListObjectsV2", "GetObject"}
    walked = len(calls)
    store.list()
    assert len(calls) == walked


def test_delete_forgets_the_cached_list(recorded: Any, store: IvsRecordingStore) -> None:
    assert FIRST.id in [r.id for r in store.list()]
    store.delete(FIRST.id)
    # the same process lists again at once: the deleted one is gone, without waiting the TTL
    assert [r.id for r in store.list()] == [LIVE.id, SECOND.id]


def test_the_prefix_without_a_timestamp_getparticipant_shows_is_read_too(
    s3: Any, store: IvsRecordingStore
) -> None:
    # GIVEN a recording directly under <stage>/<session>/<participant>/
    s3.put_object(
        Bucket=BUCKET,
        Key="NoTs00000001/st-NoTs0000001/hOst00000001/events/recording-started.json",
        Body=json.dumps(
            {
                "recording_status": "RECORDING_STARTED",
                "recording_started_at": "2024-03-17T12:00:00Z",
            }
        ).encode(),
    )
    (recording,) = store.list()
    assert recording.id == "NoTs00000001.st-NoTs0000001.hOst00000001"
    assert recording.status == "recording"


def test_objects_that_are_not_ivs_recordings_are_ignored(
    recorded: Any, store: IvsRecordingStore
) -> None:
    for key in (
        "README.txt",
        "not an id/st-x/y/events/recording-started.json",
        "AbCdef1G2hij/not-a-session/xYz1c2d3e4f/events/recording-started.json",
        "AbCdef1G2hij/st-ZyXwvu1T2s/xYz1c2d3e4f/2024-03-13T19-44-17Z-copy/events/x.json",
    ):
        recorded.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    assert [r.id for r in store.list()] == [LIVE.id, SECOND.id, FIRST.id]


def test_a_finished_recording_is_read_once_per_store(
    recorded: Any, store: IvsRecordingStore, clock: Clock
) -> None:
    store.list()
    clock.pass_list_ttl()
    reads: list[str] = []
    recorded.meta.events.register(
        "before-call.s3.GetObject", lambda params, **_: reads.append(params["url_path"])
    )
    store.list()
    # only the recording still in progress has its metadata read again
    assert len(reads) == 1 and LIVE.stage_id in reads[0]


def test_without_a_bucket_there_are_no_recordings() -> None:
    # GIVEN RECORDING=off: the stack creates no bucket and sets no RECORDINGS_BUCKET
    store = create_store(ivs_settings(RECORDING="off"))
    assert store.list() == []
    with pytest.raises(RecordingNotFoundError):
        store.delete(FIRST.id)


def test_delete_removes_every_file_of_that_recording_and_nothing_else(
    recorded: Any, store: IvsRecordingStore
) -> None:
    # GIVEN a long recording: more files than one DeleteObjects call takes
    long = Layout("LoNg00000001", "st-LoNg000001", "hOst00000001", "2024-03-12T07-00-00Z")
    write_recording(
        recorded, long, started="2024-03-12T07:00:01Z", ended="2024-03-12T09:00:00Z",
        duration_ms=7199000, segments=DELETE_BATCH + 10,
    )  # fmt: skip
    before = len(keys_under(recorded, ""))

    store.delete(long.id)

    assert keys_under(recorded, long.prefix) == []
    assert len(keys_under(recorded, "")) == before - (
        DELETE_BATCH + 10 + 4
    )  # segments, 2 playlists, 2 events
    assert long.id not in [r.id for r in store.list()]
    assert [r.id for r in store.list()] == [LIVE.id, SECOND.id, FIRST.id]


@pytest.mark.parametrize(
    "bad_id",
    [
        "",
        "AbCdef1G2hij",
        "AbCdef1G2hij.st-ZyXwvu1T2s",
        "AbCdef1G2hij/st-ZyXwvu1T2s/xYz1c2d3e4f/2024-03-13T19-44-17Z",
        "AbCdef1G2hij.st-ZyXwvu1T2s.xYz1c2d3e4f.2024-03-13T19-44-17Z/..",
        "..",
        "../AbCdef1G2hij.st-ZyXwvu1T2s.xYz1c2d3e4f",
        "AbCdef1G2hij.st-ZyXwvu1T2s.*",
        "AbCdef1G2hij.st-ZyXwvu1T2s.xYz1c2d3e4f.2024-03-13T19-44-17Z.extra",
        "AbCdef1G2hij.st-ZyXwvu1T2s.xYz1c2d3e4f ",
        "AbCdef1G2hij.st-ZyXwvu1T2s.xYz1c2d3e4\n",
    ],
)
def test_an_id_that_is_not_exactly_a_recordings_deletes_nothing(
    recorded: Any, store: IvsRecordingStore, bad_id: str
) -> None:
    before = keys_under(recorded, "")
    with pytest.raises(RecordingNotFoundError):
        store.delete(bad_id)
    assert keys_under(recorded, "") == before


def test_a_well_formed_id_of_no_recording_is_not_found(
    recorded: Any, store: IvsRecordingStore
) -> None:
    with pytest.raises(RecordingNotFoundError):
        store.delete("AbCdef1G2hij.st-ZyXwvu1T2s.xYz1c2d3e4f.2030-01-01T00-00-00Z")


def test_a_bucket_that_does_not_exist_is_a_clear_error(s3: Any) -> None:
    store = IvsRecordingStore(bucket="no-such-recordings", recordings_url="/recordings", client=s3)
    with pytest.raises(ProviderError) as raised:
        store.list()
    assert raised.value.status == 503
    assert "no-such-recordings does not exist" in raised.value.message
    assert "RECORDINGS_BUCKET" in raised.value.message


def test_access_denied_names_the_permissions_needed() -> None:
    client = botocore.session.get_session().create_client(
        "s3", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    stubber.add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)
    stubber.activate()
    store = IvsRecordingStore(bucket=BUCKET, recordings_url="/recordings", client=client)
    with pytest.raises(ProviderError) as raised:
        store.list()
    assert raised.value.status == 503
    assert "s3:ListBucket and s3:GetObject on RECORDINGS_BUCKET" in raised.value.message


# -- the command line and the function -------------------------------------------------------


@pytest.fixture
def ivs_env(recorded: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    clear_store_cache()
    monkeypatch.setenv("STREAM_PROVIDER", "ivs")
    monkeypatch.setenv("RECORDINGS_BUCKET", BUCKET)
    monkeypatch.setenv("IVS_REGION", REGION)
    yield tmp_path / "no.env"
    clear_store_cache()


def test_the_command_lists_and_deletes_ivs_recordings(
    ivs_env: Path, recorded: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the user lists the recordings
    assert cli.main(["recordings", "--env-file", str(ivs_env)]) == 0
    listing = capsys.readouterr().out
    # THEN each one shows with its id, start, duration and status
    assert FIRST.id in listing and "2024-03-13 19:44:19" in listing and "0:10:45" in listing
    assert LIVE.id in listing and "recording" in listing

    # WHEN they delete one
    assert cli.main(["recordings", "--env-file", str(ivs_env), "delete", FIRST.id]) == 0
    assert f"Deleted recording {FIRST.id}" in capsys.readouterr().out
    # THEN its files are gone and the list no longer shows it
    assert keys_under(recorded, FIRST.prefix) == []
    assert cli.main(["recordings", "--env-file", str(ivs_env), "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [LIVE.id, SECOND.id]

    # AND an id that is not one is refused, naming the list command
    assert cli.main(["recordings", "--env-file", str(ivs_env), "delete", "../x"]) == 1
    assert "livescreen recordings" in capsys.readouterr().err


def test_the_recordings_function_lists_the_ivs_recordings_when_public(ivs_env: Path) -> None:
    settings = ivs_settings(RECORDINGS_PUBLIC="true", RECORDINGS_BUCKET=BUCKET)
    answer = invoke("recordings", method="GET", settings=settings)
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["provider"] == "ivs" and body["public"] is True
    assert [r["id"] for r in body["recordings"]] == [LIVE.id, SECOND.id, FIRST.id]
    assert body["recordings"][1]["playbackUrl"] == f"/recordings/{SECOND.playlist_key}"
