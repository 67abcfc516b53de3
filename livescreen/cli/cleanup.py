"""The ``livescreen cleanup`` subcommand (see :mod:`livescreen.providers.sweeping`).

It picks the provider's sweeper (``make_sweeper``), prints what it finds as a table and, once
confirmed, ends it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from livescreen import config
from livescreen.providers.sweeping import END_ORDER, CleanupError, Resource, Sweeper, end_all
from livescreen.security import log_redaction

Emit = Callable[[str], None]

SERVICE_NAMES = {"twilio": "Twilio", "ivs": "Amazon IVS"}


def register(subparsers: Any) -> None:
    """Add ``cleanup`` to the ``livescreen`` command's subparsers."""
    parser = subparsers.add_parser(
        "cleanup",
        help="list, then end, paid streaming resources left running",
        description="List the paid resources a livestream can leave running (Twilio "
        "MediaProcessors, PlayerStreamers and livestream-* Video rooms; IVS stages tagged "
        "with APP_TAG) and, once confirmed, end them.",
    )
    parser.add_argument(
        "--provider",
        choices=config.PROVIDERS,
        help="provider to clean up (default: the STREAM_PROVIDER setting)",
    )
    parser.add_argument("--env-file", default=".env", help="settings file (default .env)")
    parser.add_argument("--yes", action="store_true", help="end them without asking")
    parser.add_argument("--dry-run", action="store_true", help="only list; end nothing")
    parser.set_defaults(func=run)


def make_sweeper(provider: str, settings: config.Settings) -> Sweeper | None:
    """The sweeper for ``provider`` (None for ``local``, which runs nothing paid)."""
    if provider == "twilio":
        from livescreen.providers.twilio.rest import TwilioRest
        from livescreen.providers.twilio.sweeper import TwilioSweeper
        from livescreen.runtime.twilio_client import make_twilio_client

        return TwilioSweeper(TwilioRest(make_twilio_client(settings)), source=settings.source)
    if provider == "ivs":
        from botocore.exceptions import NoRegionError

        from livescreen.providers.ivs import provider as ivs
        from livescreen.providers.ivs.sweeper import IvsSweeper

        try:
            client = ivs.make_client(settings)
        except NoRegionError:
            raise config.ConfigError(
                f"No AWS region: set IVS_REGION in {settings.source}, or AWS_REGION"
            ) from None
        return IvsSweeper(client, settings.require("APP_TAG"))
    return None


def run(args: argparse.Namespace) -> int:
    settings = config.load_local(Path(args.env_file))
    # Upstream errors are reported below in one line each; library warnings would repeat them.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    log_redaction.secret_filter.remember(settings)
    log_redaction.install(logging.getLogger())
    redactor = log_redaction.SecretRedactingFilter()
    redactor.remember(settings)

    def emit(line: str) -> None:
        print(redactor.redact(line), flush=True)

    def warn(line: str) -> None:
        print(redactor.redact(line), file=sys.stderr, flush=True)

    try:
        provider = args.provider or settings.provider
        sweeper = make_sweeper(provider, settings)
    except config.ConfigError as exc:
        warn(f"error: {exc}")
        return 2
    if sweeper is None:
        emit("The 'local' provider uses no paid service: there is nothing to clean up.")
        return 0
    return sweep(
        sweeper,
        yes=args.yes,
        dry_run=args.dry_run,
        interactive=sys.stdin.isatty(),
        ask=input,
        emit=emit,
        warn=warn,
    )


def sweep(
    sweeper: Sweeper,
    *,
    yes: bool,
    dry_run: bool,
    interactive: bool,
    ask: Callable[[str], str],
    emit: Emit,
    warn: Emit,
    now: datetime | None = None,
) -> int:
    """List what ``sweeper`` finds and, when allowed, end it. Returns the exit status."""
    service = SERVICE_NAMES.get(sweeper.provider, sweeper.provider)
    try:
        inventory = sweeper.find()
    except CleanupError as exc:
        warn(f"error: {exc}")
        return 1
    for note in inventory.notes:
        emit(f"note: {note}")
    found = inventory.resources
    if not found:
        emit(f"Nothing to clean up: no paid {service} resources are running.")
        return 0
    count = f"{len(found)} resource{'s' if len(found) != 1 else ''}"
    emit(f"{count} running on {service}:")
    emit("")
    for line in table(found, now or datetime.now(UTC)):
        emit(f"  {line}")
    emit("")
    if dry_run:
        emit("Dry run: nothing was ended.")
        return 0
    if not yes:
        if not interactive:
            emit("Nothing was ended: re-run with --yes to end them.")
            return 0
        try:
            answer = ask(f"End these {count}? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            emit("Nothing was ended.")
            return 0
    outcome = end_all(sweeper, found)
    for resource in outcome.ended:
        room = f" ({resource.room})" if resource.room else ""
        emit(f"Ended {resource.kind} {resource.ident}{room}")
    for resource, reason in outcome.failed:
        warn(f"error: could not end {resource.kind} {resource.ident}: {reason}")
    if outcome.failed:
        warn(
            f"{len(outcome.failed)} of {len(found)} could not be ended; fix the cause above "
            "and run `livescreen cleanup` again."
        )
        return 1
    emit(f"Done: ended {count}.")
    return 0


def age(started_at: datetime | None, now: datetime) -> str:
    """``2d 3h``, ``3h 12m``, ``4m 05s``, ``42s``; ``-`` when unknown."""
    if started_at is None:
        return "-"
    seconds = max(0, int((now - started_at).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def table(resources: Iterable[Resource], now: datetime) -> list[str]:
    """The resources as aligned text rows, header first, in the order they would be ended."""
    header = ("KIND", "SID / ARN", "STATUS", "STARTED (UTC)", "AGE", "ROOM")
    rows = [header]
    for r in sorted(resources, key=lambda r: END_ORDER.index(r.kind)):
        started = r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else "-"
        rows.append((r.kind, r.ident, r.status, started, age(r.started_at, now), r.room or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
