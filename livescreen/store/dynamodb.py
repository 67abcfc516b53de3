"""The stream store in one DynamoDB table (``STREAMS_TABLE``), for the deployed stack.

The items are laid out in ``dynamodb_items``. Every write that counts is conditional, most in
one ``TransactWriteItems`` with the record's own update: a viewer's session is created only if
absent and closed only if open, a chat message's mark only if absent, and each of them only
while the stream's record exists and has not ended. So a replayed event, or the same event
handled by two Lambda containers, changes the numbers once. The peak is raised by a conditional
``SET peakViewers = currentViewers`` (only when lower), which can never lower it, after every
join reported and before every leave (``dynamodb_sessions``).

A stream's start is one transaction: its record, its list entry, its media alias and the
``live`` pointer (the stream chat counts toward). A stream the pointer still names (its end
never came) is ended first, at the new stream's start: best effort, logged when it fails.

``list`` reads the fixed ``streams`` partition (one small entry per stream, sorted by start)
with ``Query`` newest first, page by page, then the records with ``BatchGetItem``: it reads
one entry per stream instead of scanning every viewer's session, and needs no index. The
partition is written only when a stream starts or is deleted.

Reads are strongly consistent (a stream's numbers right after its end). The client gives up
after ``TIMEOUT`` seconds and retries once; a failure becomes ``StoreUnavailableError``.
"""

from __future__ import annotations

import builtins
import logging
import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from livescreen.config import ConfigError, Settings
from livescreen.store import (
    PARTITION_KEY,
    SORT_KEY,
    TTL_ATTRIBUTE,
    StoreUnavailableError,
    StreamDetails,
    StreamNotFoundError,
    StreamRecord,
)
from livescreen.store import dynamodb_items as items
from livescreen.store import dynamodb_sessions as sessions
from livescreen.store.details import UNTITLED
from livescreen.store.dynamodb_sessions import LIVE
from livescreen.store.dynamodb_table import (
    Table,
    make_client,
    put_action,
    unavailable,
    update_action,
)

logger = logging.getLogger(__name__)

#: Attempts of a write that lost a race (a transaction conflict, a session changed meanwhile).
ATTEMPTS = 3
#: A pointer (the live stream, a media alias) moves only to a stream started later.
_NOT_OLDER = "attribute_not_exists(#pk) OR #startedAt <= :at"


def create_store(settings: Settings, *, client_factory: Any = make_client) -> DynamoStreamStore:
    """The store in ``STREAMS_TABLE``; ``client_factory`` makes its client (``make_client``: the
    timeouts of a request's work; the chat reviewer passes shorter ones)."""
    table = (settings.get("STREAMS_TABLE") or "").strip()
    if not table:
        raise ConfigError(
            "Setting STREAMS_TABLE must name the DynamoDB table when STREAM_STORE=dynamodb "
            "(template.yaml sets it to the stack's table)"
        )
    days = settings.get_int("STREAMS_RETENTION_DAYS", minimum=1, maximum=3650)
    return DynamoStreamStore(table, retention_days=days, client_factory=client_factory)


class DynamoStreamStore:
    """A ``StreamStore`` in one DynamoDB table."""

    def __init__(
        self, table: str, *, retention_days: int, client: Any = None, client_factory: Any = None
    ) -> None:
        self.table = table
        self._retention = retention_days * 86400
        self._client = client
        self._client_factory = client_factory
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The botocore ``dynamodb`` client, made on first use."""
        with self._lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client

    @property
    def _db(self) -> Table:
        return Table(self.client, self.table)

    def _expires(self, started_at: float) -> dict[str, Any]:
        return {TTL_ATTRIBUTE: items.n(int(started_at) + self._retention)}

    def _record(self, stream_id: str) -> StreamRecord | None:
        item = self._db.get(items.record_key(stream_id))
        return None if item is None else items.record_of(item)

    # -- the channel's details ------------------------------------------------------------

    @unavailable
    def get_details(self) -> StreamDetails | None:
        item = self._db.get(items.DETAILS_KEY)
        return None if item is None else items.details_of(item)

    @unavailable
    def put_details(self, details: StreamDetails, *, live_stream: str | None = None) -> None:
        # an older change arriving late never replaces a newer one
        self._db.put_if(
            items.details_item(details),
            "attribute_not_exists(#pk) OR #updatedAt <= :updated",
            {":updated": items.n(details.updated_at)},
        )
        if live_stream is not None:
            self._db.update_if(
                items.record_key(live_stream),
                "SET #title = :title, #description = :description",
                LIVE,
                {":title": items.s(details.title), ":description": items.s(details.description)},
            )

    # -- a stream's life ------------------------------------------------------------------

    @unavailable
    def stream_started(
        self, stream_id: str, *, provider: str, at: float, media_ref: str | None = None
    ) -> StreamRecord:
        db = self._db
        for _ in range(ATTEMPTS):  # again when another container changed the table meanwhile
            existing = self._record(stream_id)
            if existing is not None:
                return existing
            pointer = db.get(items.LIVE_KEY)
            newer = pointer is not None and (items.number(pointer, "startedAt") or 0.0) > at
            if pointer is not None and not newer:
                self._end_previous(items.text(pointer, "stream"), at=at, starting=stream_id)
            details = self.get_details()
            record = StreamRecord(
                id=stream_id,
                provider=provider,
                title=details.title if details is not None else UNTITLED,
                description=details.description if details is not None else "",
                started_at=at,
                media_ref=media_ref,
            )
            if db.transact(self._start_writes(record, live=not newer)):
                if details is not None and details.planned_start is not None:
                    db.update_if(
                        items.DETAILS_KEY,
                        "REMOVE #plannedStart",
                        "#updatedAt = :updated",  # not a plan the host has made since
                        {":updated": items.n(details.updated_at)},
                    )
                return record
        raise StoreUnavailableError(
            f"The stream table {self.table} kept changing while the start of {stream_id!r} "
            "was recorded"
        )

    def _start_writes(self, record: StreamRecord, *, live: bool) -> list[dict[str, Any]]:
        """The start's one transaction: the record, its list entry, its media alias and (when
        no stream started later) the live pointer, each only if absent or older."""
        at, expires = record.started_at, self._expires(record.started_at)
        since = {":at": items.n(at)}
        stream = {"stream": items.s(record.id), "startedAt": items.n(at), **expires}
        writes = [
            put_action({**items.record_item(record), **expires}, "attribute_not_exists(#pk)"),
            put_action(
                {**items.list_key(record.id, at), "id": items.s(record.id), **expires},
                "attribute_not_exists(#pk)",
            ),
        ]
        if record.media_ref is not None:
            writes.append(
                put_action({**items.media_key(record.media_ref), **stream}, _NOT_OLDER, since)
            )
        if live:
            writes.append(put_action({**items.LIVE_KEY, **stream}, _NOT_OLDER, since))
        return writes

    def _end_previous(self, previous: str, *, at: float, starting: str) -> None:
        """End the stream the live pointer still names (its end never came) as ``starting``
        begins. Best effort: what fails is logged, and a replayed end of ``previous`` closes
        what this left open."""
        if previous == starting:
            return
        try:
            self._end(previous, at)
        except (ClientError, BotoCoreError) as exc:
            logger.warning(
                "stream %s started but the stream %s, still open, could not be ended: %s",
                starting,
                previous,
                exc,
            )

    def _end(self, stream_id: str, at: float) -> StreamRecord | None:
        """Mark the stream ended at ``at`` (unless it was) and close its open sessions."""
        record = self._record(stream_id)
        if record is None:
            return None
        if record.ended_at is None:
            self._db.update_if(
                items.record_key(stream_id), "SET #endedAt = :at", LIVE, {":at": items.n(at)}
            )
            record = self._record(stream_id)
            if record is None or record.ended_at is None:
                return record
        # idempotent: a replayed end closes what an interrupted one left open
        sessions.close_open_sessions(self._db, stream_id, record.ended_at)
        return record

    @unavailable
    def stream_ended(self, stream_id: str, *, at: float) -> StreamRecord | None:
        if self._end(stream_id, at) is None:
            return None
        self._db.delete_if(items.LIVE_KEY, "#stream = :stream", {":stream": items.s(stream_id)})
        return self._record(stream_id)

    # -- counting ---------------------------------------------------------------------------

    @unavailable
    def viewer_joined(self, stream_id: str, viewer_id: str, *, at: float) -> bool:
        record = self._record(stream_id)
        if record is None or record.ended_at is not None:
            return False
        return sessions.open_session(
            self._db, stream_id, viewer_id, at=at, expires=self._expires(record.started_at)
        )

    @unavailable
    def viewer_left(self, stream_id: str, viewer_id: str, *, at: float) -> bool:
        for _ in range(ATTEMPTS):  # again when the session changed between read and write
            record = self._record(stream_id)
            if record is None or record.ended_at is not None:
                return False
            closed = sessions.close_session(
                self._db, record, viewer_id, at=at, expires=self._expires(record.started_at)
            )
            if closed is not None:
                return closed
        return False

    @unavailable
    def chat_message(self, message_id: str, *, at: float) -> bool:
        db = self._db
        live = db.get(items.LIVE_KEY)
        if live is None:
            return False
        stream_id = items.text(live, "stream")
        record = self._record(stream_id)
        if record is None or record.ended_at is not None or record.started_at > at:
            return False  # (a message sent before this stream began is not its message)
        mark = {**items.chat_key(stream_id, message_id), "at": items.n(at)}
        return db.transact(
            [
                put_action(
                    {**mark, **self._expires(record.started_at)}, "attribute_not_exists(#pk)"
                ),
                update_action(
                    items.record_key(stream_id),
                    "ADD #chatMessages :one",
                    LIVE,
                    {":one": items.n(1)},
                ),
            ]
        )

    # -- reading and deleting -------------------------------------------------------------

    @unavailable
    def get(self, stream_id: str) -> StreamRecord | None:
        return self._record(stream_id)

    @unavailable
    def stream_for_media(self, media_ref: str) -> str | None:
        item = self._db.get(items.media_key(media_ref))
        return None if item is None else items.text(item, "stream")

    @unavailable
    def list(self) -> builtins.list[StreamRecord]:
        db = self._db
        entries = builtins.list(
            db.query("#pk = :pk", {":pk": items.s(items.LIST_PARTITION)}, newest_first=True)
        )
        ids = [items.text(entry, "id") for entry in entries]
        found = {
            record.id: record
            for record in map(items.record_of, db.batch_get([items.record_key(i) for i in ids]))
        }
        return [found[i] for i in ids if i in found]

    @unavailable
    def delete(self, stream_id: str) -> None:
        db = self._db
        record = self._record(stream_id)
        if record is None:
            raise StreamNotFoundError(f"No stream has the id {stream_id!r}")
        db.delete_all([items.list_key(stream_id, record.started_at)])
        if record.media_ref is not None:
            mine = {":stream": items.s(stream_id)}
            db.delete_if(items.media_key(record.media_ref), "#stream = :stream", mine)
        db.delete_if(items.LIVE_KEY, "#stream = :stream", {":stream": items.s(stream_id)})
        partition = db.query("#pk = :pk", {":pk": items.s(items.stream_pk(stream_id))})
        keys = [{PARTITION_KEY: i[PARTITION_KEY], SORT_KEY: i[SORT_KEY]} for i in partition]
        # the record last: a delete cut short can be run again
        record_sk = items.record_key(stream_id)[SORT_KEY]
        keys.sort(key=lambda k: k[SORT_KEY] == record_sk)
        db.delete_all(keys)
