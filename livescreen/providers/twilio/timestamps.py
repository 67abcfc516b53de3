"""Twilio's timestamps (``date_created``, ``date_updated``...) as aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(raw: object) -> datetime | None:
    """An ISO 8601 timestamp as Twilio writes it (``2024-05-01T10:00:00Z``), or None."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
