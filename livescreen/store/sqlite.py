"""The stream store in one SQLite file (``STREAMS_DB``), for the dev server.

The tables are in ``sqlite_file``. Every change runs in one ``BEGIN IMMEDIATE`` transaction
that reads and writes, so two stores on the same file (two processes) cannot count an event
twice; a write waits up to ``BUSY_TIMEOUT`` seconds for another process's.
"""

from __future__ import annotations

import builtins
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from livescreen.config import Settings
from livescreen.store import (
    StoreUnavailableError,
    StreamDetails,
    StreamNotFoundError,
    StreamRecord,
)
from livescreen.store.details import UNTITLED
from livescreen.store.sqlite_file import details_of as _details
from livescreen.store.sqlite_file import open_file
from livescreen.store.sqlite_file import record_of as _record

#: Seconds a write waits for another process's write to finish.
BUSY_TIMEOUT = 5.0

P = ParamSpec("P")
R = TypeVar("R")


def create_store(settings: Settings) -> SqliteStreamStore:
    return SqliteStreamStore(Path(settings["STREAMS_DB"]))


def _unavailable(method: Callable[P, R]) -> Callable[P, R]:
    """Turn an SQLite failure (a locked or unwritable file) into ``StoreUnavailableError``."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            store = args[0]
            raise StoreUnavailableError(
                f"The stream store {getattr(store, 'path', '')} could not be used: {exc}"
            ) from exc

    return wrapper


class SqliteStreamStore:
    """A ``StreamStore`` in one SQLite file; one connection, used under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = open_file(self.path, busy_timeout=BUSY_TIMEOUT)
        return self._connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the file's write lock from its first read."""
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._connect()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # -- the channel's details ------------------------------------------------------------

    @_unavailable
    def get_details(self) -> StreamDetails | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM details WHERE id = 1").fetchone()
        return None if row is None else _details(row)

    @_unavailable
    def put_details(self, details: StreamDetails, *, live_stream: str | None = None) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO details (id, title, description, planned_start, "
                "updated_at) VALUES (1, ?, ?, ?, ?)",
                (details.title, details.description, details.planned_start, details.updated_at),
            )
            if live_stream is not None:
                db.execute(
                    "UPDATE streams SET title = ?, description = ? "
                    "WHERE id = ? AND ended_at IS NULL",
                    (details.title, details.description, live_stream),
                )

    # -- a stream's life ------------------------------------------------------------------

    @_unavailable
    def stream_started(
        self, stream_id: str, *, provider: str, at: float, media_ref: str | None = None
    ) -> StreamRecord:
        with self._write() as db:
            row = _stream_row(db, stream_id)
            if row is None:
                # a stream whose end never came ended when this one began
                for (other,) in db.execute(
                    "SELECT id FROM streams WHERE ended_at IS NULL AND started_at <= ?", (at,)
                ).fetchall():
                    _end(db, other, at)
                details = db.execute("SELECT * FROM details WHERE id = 1").fetchone()
                title = details["title"] if details is not None else UNTITLED
                description = details["description"] if details is not None else ""
                db.execute(
                    "INSERT INTO streams (id, provider, title, description, started_at, "
                    "media_ref) VALUES (?, ?, ?, ?, ?, ?)",
                    (stream_id, provider, title, description, at, media_ref),
                )
                db.execute("UPDATE details SET planned_start = NULL WHERE id = 1")
                row = _stream_row(db, stream_id)
        assert row is not None
        return _record(row)

    @_unavailable
    def stream_ended(self, stream_id: str, *, at: float) -> StreamRecord | None:
        with self._write() as db:
            row = _stream_row(db, stream_id)
            if row is None:
                return None
            if row["ended_at"] is None:
                _end(db, stream_id, at)
                row = _stream_row(db, stream_id)
        assert row is not None
        return _record(row)

    # -- counting ---------------------------------------------------------------------------

    @_unavailable
    def viewer_joined(self, stream_id: str, viewer_id: str, *, at: float) -> bool:
        with self._write() as db:
            if not _is_live(db, stream_id):
                return False
            inserted = db.execute(
                "INSERT OR IGNORE INTO sessions (stream_id, viewer_id, joined_at) VALUES (?, ?, ?)",
                (stream_id, viewer_id, at),
            ).rowcount
            if not inserted:
                return False
            db.execute(
                "UPDATE streams SET joins = joins + 1, current = current + 1, "
                "peak = MAX(peak, current + 1) WHERE id = ?",
                (stream_id,),
            )
            return True

    @_unavailable
    def viewer_left(self, stream_id: str, viewer_id: str, *, at: float) -> bool:
        with self._write() as db:
            if not _is_live(db, stream_id):
                return False
            session = db.execute(
                "SELECT joined_at, left_at FROM sessions WHERE stream_id = ? AND viewer_id = ?",
                (stream_id, viewer_id),
            ).fetchone()
            if session is None:
                # the join never arrived: a viewer seen once, for no measurable time
                db.execute(
                    "INSERT INTO sessions (stream_id, viewer_id, joined_at, left_at) "
                    "VALUES (?, ?, ?, ?)",
                    (stream_id, viewer_id, at, at),
                )
                db.execute(
                    "UPDATE streams SET joins = joins + 1, peak = MAX(peak, current + 1) "
                    "WHERE id = ?",
                    (stream_id,),
                )
                return True
            if session["left_at"] is not None:
                return False
            db.execute(
                "UPDATE sessions SET left_at = ? WHERE stream_id = ? AND viewer_id = ?",
                (max(at, session["joined_at"]), stream_id, viewer_id),
            )
            db.execute(
                "UPDATE streams SET current = MAX(0, current - 1), "
                "viewer_seconds = viewer_seconds + ? WHERE id = ?",
                (max(0.0, at - session["joined_at"]), stream_id),
            )
            return True

    @_unavailable
    def chat_message(self, message_id: str, *, at: float) -> bool:
        with self._write() as db:
            live = db.execute(
                "SELECT id FROM streams WHERE ended_at IS NULL AND started_at <= ? "
                "ORDER BY started_at DESC, id DESC LIMIT 1",
                (at,),
            ).fetchone()
            if live is None:
                return False
            inserted = db.execute(
                "INSERT OR IGNORE INTO chat_messages (message_id, stream_id, at) VALUES (?, ?, ?)",
                (message_id, live["id"], at),
            ).rowcount
            if not inserted:
                return False
            db.execute(
                "UPDATE streams SET chat_messages = chat_messages + 1 WHERE id = ?", (live["id"],)
            )
            return True

    # -- reading and deleting -------------------------------------------------------------

    @_unavailable
    def get(self, stream_id: str) -> StreamRecord | None:
        with self._read() as db:
            row = _stream_row(db, stream_id)
        return None if row is None else _record(row)

    @_unavailable
    def stream_for_media(self, media_ref: str) -> str | None:
        with self._read() as db:
            row = db.execute(
                "SELECT id FROM streams WHERE media_ref = ? "
                "ORDER BY started_at DESC, id DESC LIMIT 1",
                (media_ref,),
            ).fetchone()
        return None if row is None else str(row["id"])

    @_unavailable
    def list(self) -> builtins.list[StreamRecord]:
        with self._read() as db:
            rows = db.execute("SELECT * FROM streams ORDER BY started_at DESC, id DESC").fetchall()
        return [_record(row) for row in rows]

    @_unavailable
    def delete(self, stream_id: str) -> None:
        with self._write() as db:
            if _stream_row(db, stream_id) is None:
                raise StreamNotFoundError(f"No stream has the id {stream_id!r}")
            for table, column in (
                ("sessions", "stream_id"),
                ("chat_messages", "stream_id"),
                ("streams", "id"),
            ):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (stream_id,))  # noqa: S608


def _stream_row(db: sqlite3.Connection, stream_id: str) -> Any:
    return db.execute("SELECT * FROM streams WHERE id = ?", (stream_id,)).fetchone()


def _end(db: sqlite3.Connection, stream_id: str, at: float) -> None:
    """End the stream at ``at``, its open sessions counted as watched until then."""
    open_seconds = db.execute(
        "SELECT COALESCE(SUM(MAX(0, ? - joined_at)), 0) FROM sessions "
        "WHERE stream_id = ? AND left_at IS NULL",
        (at, stream_id),
    ).fetchone()[0]
    db.execute(
        "UPDATE sessions SET left_at = MAX(joined_at, ?) WHERE stream_id = ? AND left_at IS NULL",
        (at, stream_id),
    )
    db.execute(
        "UPDATE streams SET ended_at = ?, current = 0, viewer_seconds = viewer_seconds + ? "
        "WHERE id = ?",
        (at, open_seconds, stream_id),
    )


def _is_live(db: sqlite3.Connection, stream_id: str) -> bool:
    row = db.execute("SELECT ended_at FROM streams WHERE id = ?", (stream_id,)).fetchone()
    return row is not None and row["ended_at"] is None
