"""What a stream's title, description and planned start may be, checked before they are kept.

The title is 1 to 100 characters and the description up to 500 (code points, surrounding
spaces removed; the description's ``\\r\\n`` line ends become ``\\n``). Neither may contain
control or invisible characters (the chat's rules, ``livescreen.plain_text``); the description
may contain line breaks. The planned start is an ISO 8601 time with its time zone offset (or
``Z``), in the future (a minute of clock skew is forgiven) and at most a year ahead; null or
an empty string means none is planned.
"""

from __future__ import annotations

from datetime import datetime

from livescreen.plain_text import control_problem, has_invisible
from livescreen.store import StreamDetails

MAX_TITLE_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 500
#: Seconds a planned start may lie in the past (the host's clock may be a little behind).
CLOCK_SKEW = 60.0
MAX_DAYS_AHEAD = 365
#: The title of a stream started before any details were set.
UNTITLED = "Untitled stream"

_INVISIBLE = (
    "cannot contain invisible characters (zero-width spaces or joiners, direction marks, "
    "variation selectors, tags or fillers)"
)
#: Longer than any ISO 8601 time with microseconds and an offset: not worth parsing.
_MAX_TIME_LENGTH = 64


class DetailsError(ValueError):
    """The details cannot be kept; the message says why, in words a person can act on."""


def check_details(
    title: object, description: object, planned_start: object, *, now: float
) -> StreamDetails:
    """The details to keep (``updated_at`` = ``now``), or ``DetailsError``."""
    return StreamDetails(
        title=_check_title(title),
        description=_check_description(description),
        planned_start=_check_planned_start(planned_start, now=now),
        updated_at=now,
    )


def _check_title(title: object) -> str:
    if not isinstance(title, str) or not title.strip():
        raise DetailsError(f"Give the stream a title (1 to {MAX_TITLE_LENGTH} characters)")
    title = title.strip()
    if len(title) > MAX_TITLE_LENGTH:
        raise DetailsError(f"The title is longer than {MAX_TITLE_LENGTH} characters")
    _check_plain(title, "The title", newlines=False)
    return title


def _check_description(description: object) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise DetailsError("The description must be text")
    description = description.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise DetailsError(f"The description is longer than {MAX_DESCRIPTION_LENGTH} characters")
    _check_plain(description, "The description", newlines=True)
    return description


def _check_plain(text: str, what: str, *, newlines: bool) -> None:
    problem = control_problem(text, what, newlines=newlines)
    if problem is not None:
        raise DetailsError(problem)
    if has_invisible(text):
        raise DetailsError(f"{what} {_INVISIBLE}")


def _check_planned_start(planned_start: object, *, now: float) -> float | None:
    if planned_start is None or planned_start == "":
        return None
    example = "like 2026-12-24T18:00:00+01:00"
    if not isinstance(planned_start, str) or len(planned_start) > _MAX_TIME_LENGTH:
        raise DetailsError(
            f"The planned start must be a date and time with its time zone, {example}"
        )
    try:
        when = datetime.fromisoformat(planned_start.strip())
    except ValueError:
        raise DetailsError(
            f"The planned start {planned_start!r} is not a date and time: write it {example}"
        ) from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise DetailsError(
            f"The planned start needs its time zone offset (or Z for UTC), {example}"
        )
    seconds = when.timestamp()
    if seconds < now - CLOCK_SKEW:
        raise DetailsError("The planned start is in the past: choose a time still to come")
    if seconds > now + MAX_DAYS_AHEAD * 86400:
        raise DetailsError(
            f"The planned start is more than {MAX_DAYS_AHEAD} days ahead: choose an earlier time"
        )
    return seconds
