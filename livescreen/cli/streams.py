"""The ``livescreen streams`` subcommand: list the past streams and their numbers, or delete one.

It reads the store the app writes (``STREAM_STORE``, with the same settings as ``livescreen dev``:
``.env``, the process environment winning). The list is a table for people, or ``--json`` /
``--csv`` (the fields of ``StreamRecord.to_json``) for other programs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from livescreen import config
from livescreen.security import log_redaction
from livescreen.store import (
    StoreUnavailableError,
    StreamNotFoundError,
    StreamRecord,
    get_stream_store,
    store_backend,
)

#: A longer title is cut here in the table (``--json`` and ``--csv`` keep it whole).
TABLE_TITLE_LENGTH = 40

HEADER = ("TITLE", "STARTED", "DURATION", "PEAK", "VIEWERS", "VIEWER-MIN", "CHAT", "ID")
#: Right-aligned columns (the numbers).
NUMERIC = frozenset({"DURATION", "PEAK", "VIEWERS", "VIEWER-MIN", "CHAT"})


def register(subparsers: Any) -> None:
    """Add ``streams`` to the ``livescreen`` command's subparsers."""
    parser = subparsers.add_parser(
        "streams",
        help="list past streams with their audience numbers, or delete one",
        description="List the streams the app has kept (STREAM_STORE), newest first, with "
        "their audience numbers, or delete one with `livescreen streams delete ID`.",
    )
    parser.add_argument("--env-file", default=".env", help="settings file (default .env)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the list as JSON")
    output.add_argument("--csv", action="store_true", help="print the list as CSV")
    actions = parser.add_subparsers(dest="action")
    delete = actions.add_parser("delete", help="delete one stream's record and numbers")
    delete.add_argument("id", help="the stream's ID, as the list shows it")
    # also accepted after `delete ID`; there it leaves what was given before untouched
    delete.add_argument("--env-file", default=argparse.SUPPRESS, help="settings file")
    parser.set_defaults(func=run)


def started_local(seconds: float) -> str:
    """When a stream started, in this machine's local time, with the UTC offset then."""
    moment = time.localtime(seconds)
    offset = moment.tm_gmtoff or 0
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{time.strftime('%Y-%m-%d %H:%M', moment)} UTC{sign}{hours:02d}:{minutes:02d}"


def _duration(record: StreamRecord) -> str:
    seconds = record.duration
    if seconds is None:
        return "live"
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _title(title: str) -> str:
    # one line per stream, whatever the title holds
    title = " ".join(title.split())
    if len(title) <= TABLE_TITLE_LENGTH:
        return title
    return title[: TABLE_TITLE_LENGTH - 1] + "…"


def table(records: Sequence[StreamRecord]) -> str:
    """The streams as aligned text columns, one per line, under a header."""
    rows = [HEADER]
    for record in records:
        numbers = record.numbers
        rows.append(
            (
                _title(record.title),
                started_local(record.started_at),
                _duration(record),
                str(numbers.peak),
                str(numbers.joins),
                f"{numbers.viewer_seconds / 60:.1f}",
                str(numbers.chat_messages),
                record.id,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if name in NUMERIC else cell.ljust(width)
            for cell, width, name in zip(row[:-1], widths, HEADER, strict=False)
        ]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def as_csv(records: Sequence[StreamRecord]) -> str:
    """The streams as CSV: a header row of ``to_json``'s keys, then one row per stream."""
    out = io.StringIO()
    rows = [record.to_json() for record in records]
    fields = list(rows[0]) if rows else list(_EMPTY_RECORD.to_json())
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_cell(value) for key, value in row.items()})
    return out.getvalue()


#: Gives an empty list's CSV its header row.
_EMPTY_RECORD = StreamRecord(id="", provider="", title="", description="", started_at=0.0)


def _missing_file(settings: config.Settings) -> Path | None:
    """The sqlite store's file when it does not exist yet (nothing was ever kept there)."""
    path = Path(settings["STREAMS_DB"]).resolve()
    return path if store_backend(settings) == "sqlite" and not path.exists() else None


def _newest_first(records: list[StreamRecord]) -> list[StreamRecord]:
    return sorted(records, key=lambda record: record.started_at, reverse=True)


def run(args: argparse.Namespace) -> int:
    settings = config.load_local(Path(args.env_file))
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    log_redaction.secret_filter.remember(settings)
    log_redaction.install(logging.getLogger())
    try:
        store = get_stream_store(settings)
        if store is None:
            print(
                "error: streams are not kept (STREAM_STORE=off): set STREAM_STORE=sqlite "
                f"(the dev server) or dynamodb (a deployed stack) in {settings.source}",
                file=sys.stderr,
            )
            return 1
        # A file that is not there holds no stream: it is not made just to be read.
        missing = _missing_file(settings)
        if args.action == "delete":
            if missing is not None:
                raise StreamNotFoundError(args.id)
            store.delete(args.id)
            print(f"Deleted stream {args.id}.")
            return 0
        records = [] if missing is not None else _newest_first(store.list())
    except StreamNotFoundError:
        print(
            f"error: no stream has the ID {args.id!r}: `livescreen streams` lists them",
            file=sys.stderr,
        )
        return 1
    except StoreUnavailableError as exc:
        print(f"error: the stream store could not be reached: {exc}", file=sys.stderr)
        return 1
    except config.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([record.to_json() for record in records], indent=2))
    elif args.csv:
        sys.stdout.write(as_csv(records))
    elif missing is not None:
        print(f"No streams yet ({missing} does not exist: STREAMS_DB names it).")
    elif not records:
        print("No streams yet.")
    else:
        print(table(records))
    return 0
