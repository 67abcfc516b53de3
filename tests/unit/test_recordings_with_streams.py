"""The recordings list joined with the streams: which stream each recording is of."""

from __future__ import annotations

from livescreen.recordings import Recording
from livescreen.recordings.with_streams import with_streams
from livescreen.store import StreamRecord

STAGE_ARN = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEf123456"


def recording(recording_id: str, stream_ref: str | None, title: str = "own title") -> Recording:
    return Recording(recording_id, title, 1000.0, 60.0, None, "hls", stream_ref=stream_ref)


def stream(stream_id: str, title: str, media_ref: str | None = None) -> StreamRecord:
    return StreamRecord(stream_id, "ivs", title, "", 1000.0, 1100.0, media_ref=media_ref)


def test_an_ivs_recording_matches_its_stream_by_the_stage_id() -> None:
    # GIVEN a stream recorded on a stage, and a recording of that stage (by its id)
    streams = [stream("livestream-1", "Talk", media_ref=STAGE_ARN)]
    recordings = [recording("rec-1", "AbCdEf123456")]

    # WHEN they are listed together
    listed, listed_streams = with_streams(recordings, streams)

    # THEN the recording has the stream's id and title, and the stream lists the recording
    assert (listed[0]["streamId"], listed[0]["title"]) == ("livestream-1", "Talk")
    assert listed_streams[0]["recordingIds"] == ["rec-1"]
    assert listed_streams[0]["title"] == "Talk"


def test_a_recording_of_no_known_stream_keeps_its_own_title() -> None:
    listed, listed_streams = with_streams(
        [recording("rec-1", "livestream-gone"), recording("rec-2", None)],
        [stream("livestream-1", "Talk")],
    )

    assert [(r["streamId"], r["title"]) for r in listed] == [(None, "own title")] * 2
    assert listed_streams[0]["recordingIds"] == []


def test_a_stream_with_two_recordings_lists_both_in_the_recordings_order() -> None:
    listed, listed_streams = with_streams(
        [recording("rec-b", "livestream-1"), recording("rec-a", "livestream-1")],
        [stream("livestream-2", "Later"), stream("livestream-1", "Earlier")],
    )

    assert [s["id"] for s in listed_streams] == ["livestream-2", "livestream-1"]
    assert listed_streams[1]["recordingIds"] == ["rec-b", "rec-a"]
    assert {r["title"] for r in listed} == {"Earlier"}
