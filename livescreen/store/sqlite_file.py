"""The stream store's SQLite file: its tables, how it is opened, and its rows read back.

Four tables: ``details`` (one row: the channel's details), ``streams`` (one row per stream,
with its numbers), ``sessions`` (one row per stream and viewer id: the key that makes a join or
a leave count once) and ``chat_messages`` (one row per message id: the key that makes a message
count once). The file uses WAL: a reader never waits for a writer.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from livescreen.store import AudienceNumbers, StoreUnavailableError, StreamDetails, StreamRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS details (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    planned_start REAL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS streams (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    media_ref TEXT,
    current INTEGER NOT NULL DEFAULT 0,
    peak INTEGER NOT NULL DEFAULT 0,
    joins INTEGER NOT NULL DEFAULT 0,
    viewer_seconds REAL NOT NULL DEFAULT 0,
    chat_messages INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS streams_by_start ON streams (started_at);
CREATE INDEX IF NOT EXISTS streams_by_media ON streams (media_ref);
CREATE TABLE IF NOT EXISTS sessions (
    stream_id TEXT NOT NULL,
    viewer_id TEXT NOT NULL,
    joined_at REAL NOT NULL,
    left_at REAL,
    PRIMARY KEY (stream_id, viewer_id)
);
CREATE TABLE IF NOT EXISTS chat_messages (
    message_id TEXT PRIMARY KEY,
    stream_id TEXT NOT NULL,
    at REAL NOT NULL
);
"""


def open_file(path: Path, *, busy_timeout: float) -> sqlite3.Connection:
    """A connection to the file at ``path`` (made with its folder if missing), usable from any
    thread (the caller serialises), waiting up to ``busy_timeout`` seconds for another writer."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailableError(
            f"The stream store's folder {path.parent} could not be made: {exc}"
        ) from exc
    connection = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    connection.executescript(SCHEMA)
    return connection


def details_of(row: sqlite3.Row) -> StreamDetails:
    return StreamDetails(
        title=row["title"],
        description=row["description"],
        planned_start=row["planned_start"],
        updated_at=row["updated_at"],
    )


def record_of(row: sqlite3.Row) -> StreamRecord:
    return StreamRecord(
        id=row["id"],
        provider=row["provider"],
        title=row["title"],
        description=row["description"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        media_ref=row["media_ref"],
        numbers=AudienceNumbers(
            current=0 if row["ended_at"] is not None else row["current"],
            peak=row["peak"],
            joins=row["joins"],
            viewer_seconds=row["viewer_seconds"],
            chat_messages=row["chat_messages"],
        ),
    )
