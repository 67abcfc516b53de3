"""A viewer's session in the stream table: opened once, closed once, whoever reports it.

Each change is one transaction with the stream record's own update, both conditional: the
session opens only if absent and closes only if open, and the record changes only while the
stream exists and has not ended. A replayed join or leave, or the same one handled by two
containers, fails its condition and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from livescreen.store import PARTITION_KEY, SORT_KEY, StreamRecord
from livescreen.store import dynamodb_items as items
from livescreen.store.dynamodb_table import Table, put_action, update_action

#: Sessions closed in one TransactWriteItems at a stream's end (the record's update is one more).
CLOSE_BATCH = 50
#: Rounds of closing at a stream's end (a session closed meanwhile sends the batch round again).
CLOSE_ROUNDS = 3
#: The stream's record exists and has not ended.
LIVE = "attribute_exists(#pk) AND attribute_not_exists(#endedAt)"
#: The session exists and is open.
OPEN = "attribute_exists(#pk) AND attribute_not_exists(#leftAt)"
ABSENT = "attribute_not_exists(#pk)"
#: The peak counts every viewer watching now (checked before the count goes down).
PEAK_HELD = "#peakViewers >= #currentViewers"


def open_session(
    db: Table, stream_id: str, viewer_id: str, *, at: float, expires: dict[str, Any]
) -> bool:
    """Count a viewer in (False when already counted or the stream has ended); raise the peak
    every time, so a replayed join repairs a peak an interrupted one left behind."""
    session = {**items.session_key(stream_id, viewer_id), "joinedAt": items.n(at), **expires}
    record = items.record_key(stream_id)
    counted = db.transact(
        [
            put_action(session, ABSENT),
            update_action(record, "ADD #currentViewers :one, #joins :one", LIVE, _one()),
        ]
    )
    raise_peak(db, stream_id)
    return counted


def raise_peak(db: Table, stream_id: str) -> None:
    """Raise the peak to the viewers watching now, if lower (idempotent, never lowers it).

    Every decrement of ``currentViewers`` (a leave, the end) runs this first and is
    conditional on ``peakViewers >= currentViewers``: a join whose own raise was lost or has
    not run yet is in the peak before anyone leaves."""
    db.update_if(
        items.record_key(stream_id),
        "SET #peakViewers = #currentViewers",
        "#peakViewers < #currentViewers",
    )


def close_session(
    db: Table, stream: StreamRecord, viewer_id: str, *, at: float, expires: dict[str, Any]
) -> bool | None:
    """Close the viewer's session (or count a viewer whose join never came, with no minutes).
    False when already closed; None when the session changed meanwhile (read it again)."""
    key = items.session_key(stream.id, viewer_id)
    record = items.record_key(stream.id)
    session = db.get(key)
    if session is not None and "leftAt" in session:
        return False
    if session is None:
        # the join never arrived: the viewer is counted in, then out at once (no minutes)
        open_session(db, stream.id, viewer_id, at=at, expires=expires)
        return None
    raise_peak(db, stream.id)
    joined = items.number(session, "joinedAt") or at
    watched = {":seconds": items.n(max(0.0, at - joined)), ":minus": items.n(-1)}
    closing = [
        update_action(key, "SET #leftAt = :at", OPEN, {":at": items.n(max(at, joined))}),
        update_action(
            record,
            "ADD #viewerSeconds :seconds, #currentViewers :minus",
            f"{LIVE} AND {PEAK_HELD}",
            watched,
        ),
    ]
    return True if db.transact(closing) else None


def close_open_sessions(db: Table, stream_id: str, ended_at: float) -> None:
    """Close every session still open as watched until ``ended_at`` (idempotent)."""
    raise_peak(db, stream_id)  # the stream has ended: nobody joins any more
    for _ in range(CLOSE_ROUNDS):
        still_open = list(_open_sessions(db, stream_id))
        if not still_open:
            return
        for start in range(0, len(still_open), CLOSE_BATCH):
            batch = still_open[start : start + CLOSE_BATCH]
            seconds = sum(max(0.0, ended_at - joined) for _, joined in batch)
            writes = [
                update_action(
                    key, "SET #leftAt = :at", OPEN, {":at": items.n(max(ended_at, joined))}
                )
                for key, joined in batch
            ]
            closed = {":seconds": items.n(seconds), ":closed": items.n(-len(batch))}
            writes.append(
                update_action(
                    items.record_key(stream_id),
                    "ADD #viewerSeconds :seconds, #currentViewers :closed",
                    "attribute_exists(#pk)",
                    closed,
                )
            )
            db.transact(writes)  # a session closed meanwhile: the next round sees it


def _open_sessions(db: Table, stream_id: str) -> Iterator[tuple[items.Item, float]]:
    for item in db.query(
        "#pk = :pk AND begins_with(#sk, :viewer)",
        {":pk": items.s(items.stream_pk(stream_id)), ":viewer": items.s(items.VIEWER_PREFIX)},
        filter_expression="attribute_not_exists(#leftAt)",
    ):
        key = {PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]}
        yield key, items.number(item, "joinedAt") or 0.0


def _one() -> dict[str, Any]:
    return {":one": items.n(1)}
