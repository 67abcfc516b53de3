"""The ``livescreen recordings`` subcommand: list the recordings, or delete one."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from livescreen import config
from livescreen.errors import ProviderError
from livescreen.recordings import Recording, RecordingNotFoundError, get_store, newest_first
from livescreen.security import log_redaction


def register(subparsers: Any) -> None:
    """Add ``recordings`` to the ``livescreen`` command's subparsers."""
    parser = subparsers.add_parser(
        "recordings",
        help="list the recordings of past streams, or delete one",
        description="List the recordings of past streams, newest first (the local folder, "
        "the stack's S3 bucket for ivs, Twilio compositions for twilio), or delete one with "
        "`livescreen recordings delete ID`.",
    )
    _settings_options(parser, default_provider=None, default_env_file=".env")
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    actions = parser.add_subparsers(dest="action")
    delete = actions.add_parser("delete", help="delete one recording and its files")
    delete.add_argument("id", help="the recording's ID, as the list shows it")
    # also accepted after `delete ID`; there they leave what was given before untouched
    _settings_options(
        delete, default_provider=argparse.SUPPRESS, default_env_file=argparse.SUPPRESS
    )
    parser.set_defaults(func=run)


def _settings_options(parser: Any, *, default_provider: Any, default_env_file: Any) -> None:
    parser.add_argument(
        "--provider",
        choices=config.PROVIDERS,
        default=default_provider,
        help="whose recordings (default: the STREAM_PROVIDER setting)",
    )
    parser.add_argument("--env-file", default=default_env_file, help="settings file (default .env)")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def table(recordings: list[Recording]) -> str:
    """The recordings as aligned text columns, one per line."""
    rows = [("ID", "STARTED (UTC)", "DURATION", "STATUS", "TITLE")]
    for recording in recordings:
        started = recording.to_json()["startedAt"][:19].replace("T", " ")
        rows.append(
            (
                recording.id,
                started,
                _duration(recording.duration),
                recording.status,
                recording.title,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    settings = config.load_local(Path(args.env_file))
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    log_redaction.secret_filter.remember(settings)
    log_redaction.install(logging.getLogger())
    try:
        store = get_store(settings, args.provider)
        if args.action == "delete":
            store.delete(args.id)
            print(f"Deleted recording {args.id}.")
            return 0
        recordings = newest_first(store.list())
    except RecordingNotFoundError:
        print(
            f"error: no recording has the ID {args.id!r}: `livescreen recordings` lists them",
            file=sys.stderr,
        )
        return 1
    except (config.ConfigError, ProviderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([recording.to_json() for recording in recordings], indent=2))
    elif not recordings:
        print("No recordings yet.")
    else:
        print(table(recordings))
    return 0
