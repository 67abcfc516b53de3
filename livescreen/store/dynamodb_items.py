"""The stream table's items: their keys, and the DynamoDB attribute values they are made of.

One table, keys ``pk`` (partition) and ``sk`` (sort), both strings:

=====================  ===================  ==================================================
pk                     sk                   holds
=====================  ===================  ==================================================
``details``            ``details``          the channel's details (never expires)
``stream#<id>``        ``stream``           a stream's record and numbers
``stream#<id>``        ``viewer#<viewer>``  one viewer's session (joinedAt, leftAt)
``stream#<id>``        ``chat#<message>``   a chat message already counted for the stream
``streams``            ``<start>#<id>``     the list of streams, by start (``START_WIDTH``
                                            digits, so text order is time order)
``media#<ref>``        ``media``            which stream an IVS stage ARN belongs to
``live``               ``live``             the stream started last and not yet ended
=====================  ===================  ==================================================

Every item of a stream carries ``expiresAt`` (epoch seconds: its start plus the retention), so
DynamoDB's TTL removes the stream, its sessions, its list entry, its chat marks and its alias.
A stream's record, sessions and chat marks share its partition: deleting the stream reads the
partition and deletes it whole.
"""

from __future__ import annotations

from typing import Any

from livescreen.store import (
    PARTITION_KEY,
    SORT_KEY,
    AudienceNumbers,
    StreamDetails,
    StreamRecord,
)

Item = dict[str, dict[str, Any]]

DETAILS_KEY = {PARTITION_KEY: {"S": "details"}, SORT_KEY: {"S": "details"}}
LIVE_KEY = {PARTITION_KEY: {"S": "live"}, SORT_KEY: {"S": "live"}}
LIST_PARTITION = "streams"
VIEWER_PREFIX = "viewer#"
CHAT_PREFIX = "chat#"
#: Digits of a start time in a list entry's sort key (whole seconds, then six decimals).
START_WIDTH = 20


def key(pk: str, sk: str) -> Item:
    return {PARTITION_KEY: {"S": pk}, SORT_KEY: {"S": sk}}


def stream_pk(stream_id: str) -> str:
    return f"stream#{stream_id}"


def record_key(stream_id: str) -> Item:
    return key(stream_pk(stream_id), "stream")


def session_key(stream_id: str, viewer_id: str) -> Item:
    return key(stream_pk(stream_id), VIEWER_PREFIX + viewer_id)


def list_key(stream_id: str, started_at: float) -> Item:
    return key(LIST_PARTITION, f"{started_at:0{START_WIDTH}.6f}#{stream_id}")


def media_key(media_ref: str) -> Item:
    return key(f"media#{media_ref}", "media")


def chat_key(stream_id: str, message_id: str) -> Item:
    return key(stream_pk(stream_id), CHAT_PREFIX + message_id)


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: float) -> dict[str, str]:
    """A DynamoDB number: integers as they are, other values with six decimals."""
    if float(value).is_integer():
        return {"N": str(int(value))}
    return {"N": f"{value:.6f}"}


def text(item: Item, name: str, default: str = "") -> str:
    value = item.get(name)
    return default if value is None else str(value["S"])


def number(item: Item, name: str) -> float | None:
    value = item.get(name)
    return None if value is None else float(value["N"])


def count(item: Item, name: str) -> int:
    return int(number(item, name) or 0)


def details_item(details: StreamDetails) -> Item:
    item: Item = {
        **DETAILS_KEY,
        "title": s(details.title),
        "description": s(details.description),
        "updatedAt": n(details.updated_at),
    }
    if details.planned_start is not None:
        item["plannedStart"] = n(details.planned_start)
    return item


def details_of(item: Item) -> StreamDetails:
    return StreamDetails(
        title=text(item, "title"),
        description=text(item, "description"),
        planned_start=number(item, "plannedStart"),
        updated_at=number(item, "updatedAt") or 0.0,
    )


def record_item(record: StreamRecord) -> Item:
    item: Item = {
        **record_key(record.id),
        "id": s(record.id),
        "provider": s(record.provider),
        "title": s(record.title),
        "description": s(record.description),
        "startedAt": n(record.started_at),
        "currentViewers": n(0),
        "peakViewers": n(0),
        "joins": n(0),
        "viewerSeconds": n(0),
        "chatMessages": n(0),
    }
    if record.media_ref is not None:
        item["mediaRef"] = s(record.media_ref)
    return item


def record_of(item: Item) -> StreamRecord:
    ended_at = number(item, "endedAt")
    media_ref = item.get("mediaRef")
    return StreamRecord(
        id=text(item, "id"),
        provider=text(item, "provider"),
        title=text(item, "title"),
        description=text(item, "description"),
        started_at=number(item, "startedAt") or 0.0,
        ended_at=ended_at,
        media_ref=None if media_ref is None else str(media_ref["S"]),
        numbers=AudienceNumbers(
            current=0 if ended_at is not None else max(0, count(item, "currentViewers")),
            peak=count(item, "peakViewers"),
            joins=count(item, "joins"),
            viewer_seconds=number(item, "viewerSeconds") or 0.0,
            chat_messages=count(item, "chatMessages"),
        ),
    )
