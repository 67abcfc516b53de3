"""The recordings list joined with the streams' records: which stream each recording is of.

A recording names the stream it recorded by ``Recording.stream_ref``: the room's name for the
``local`` and ``twilio`` providers (the stream's id), the stage id for ``ivs`` (the last part of
the stream's ``media_ref``, the stage ARN). A recording of a known stream takes that stream's
title; each stream lists the ids of its recordings.
"""

from __future__ import annotations

import logging
from typing import Any

from livescreen.recordings import Recording
from livescreen.store import StoreUnavailableError, StreamRecord, StreamStore

logger = logging.getLogger("livescreen.recordings")


def stream_keys(stream: StreamRecord) -> set[str]:
    """What a recording's ``stream_ref`` may be for ``stream``: its id, or its stage's id."""
    keys = {stream.id}
    if stream.media_ref:
        keys.add(stream.media_ref.rsplit("/", 1)[-1])
    return keys


def read_streams(store: StreamStore | None) -> list[StreamRecord]:
    """Every stream, newest first; none with no store, or (logged) when the store fails."""
    if store is None:
        return []
    try:
        return store.list()
    except StoreUnavailableError as exc:
        logger.warning("the streams could not be listed: %s", exc)
        return []


def with_streams(
    recordings: list[Recording], streams: list[StreamRecord]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(recordings, streams)`` as the answer of ``/recordings`` lists them.

    Each recording gets ``streamId`` (None when no stream matches) and its stream's title;
    each stream (in the order given) gets ``recordingIds``, in the recordings' order.
    """
    by_key: dict[str, StreamRecord] = {}
    for stream in reversed(streams):  # a key two streams share goes to the newer one
        for key in stream_keys(stream):
            by_key[key] = stream
    ids: dict[str, list[str]] = {stream.id: [] for stream in streams}
    listed: list[dict[str, Any]] = []
    for recording in recordings:
        match = by_key.get(recording.stream_ref) if recording.stream_ref else None
        entry = recording.to_json()
        entry["streamId"] = match.id if match else None
        if match is not None:
            entry["title"] = match.title
            ids[match.id].append(recording.id)
        listed.append(entry)
    return listed, [{**stream.to_json(), "recordingIds": ids[stream.id]} for stream in streams]
