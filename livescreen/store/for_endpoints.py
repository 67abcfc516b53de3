"""What the host's and the audience's endpoints do with the stream store.

``/stream_details`` reads and saves the channel's details; ``/stream_stats`` reads one
stream's numbers; ``/stream_start`` and ``/stream_stop`` record a stream's start and end. A
failed write there is logged and never fails the host, nor does a broken ``STREAM_STORE``
setting: the stream itself is the provider's business. With ``STREAM_STORE=off`` the details
cannot be saved (503) and everything else answers as if nothing were kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from livescreen.config import ConfigError, Settings
from livescreen.runtime.errors import BadRequestError, HttpError
from livescreen.store import StoreUnavailableError, StreamStore, get_stream_store
from livescreen.store.details import DetailsError, check_details

logger = logging.getLogger("livescreen.store")

NOT_KEPT = "Stream details are not kept (STREAM_STORE=off)"
UNAVAILABLE = "The stream details could not be {what} just now: try again in a moment"

Clock = Callable[[], float]

#: How long one process keeps the details it read for ``GET /stream_details``: a waiting
#: crowd polls it, and a few seconds late is fine (a save in this process shows at once).
DETAILS_CACHE_SECONDS = 5.0
_details_cache: dict[int, tuple[float, dict[str, Any]]] = {}
_details_lock = threading.Lock()


class StoreUnavailableHttpError(HttpError):
    """503: the store is off, or could not be reached just now."""

    status_code = 503


def _unavailable(what: str, exc: StoreUnavailableError) -> StoreUnavailableHttpError:
    logger.warning("the stream store could not be %s: %s", what, exc)
    return StoreUnavailableHttpError(UNAVAILABLE.format(what=what))


# -- the channel's details ------------------------------------------------------------------


def details_answer(settings: Settings, *, clock: Clock = time.monotonic) -> dict[str, Any]:
    """``{"store": bool, "details": {...} | None}``: what the audience page shows, read at
    most once every ``DETAILS_CACHE_SECONDS`` by this process."""
    store = get_stream_store(settings)
    if store is None:
        return {"store": False, "details": None}
    now = clock()
    with _details_lock:
        cached = _details_cache.get(id(store))
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        details = store.get_details()
    except StoreUnavailableError as exc:
        raise _unavailable("read", exc) from None
    answer = {"store": True, "details": details.to_json() if details else None}
    with _details_lock:
        _details_cache.clear()  # (one store per process: an old one's entry goes)
        _details_cache[id(store)] = (now + DETAILS_CACHE_SECONDS, answer)
    return answer


def _forget_details(store: StreamStore) -> None:
    with _details_lock:
        _details_cache.pop(id(store), None)


def save_details(
    settings: Settings,
    event: dict[str, Any],
    *,
    live_stream: str | None,
    clock: Clock = time.time,
) -> dict[str, Any]:
    """Check and save ``title``, ``description`` and ``plannedStart`` from the request; the
    live stream (``live_stream``, when it has not ended) is renamed too. 400 for bad input
    (nothing is saved), 503 when the store is off or cannot be written."""
    store = get_stream_store(settings)
    if store is None:
        raise StoreUnavailableHttpError(NOT_KEPT)
    try:
        details = check_details(
            event.get("title"), event.get("description"), event.get("plannedStart"), now=clock()
        )
    except DetailsError as exc:
        raise BadRequestError(str(exc)) from None
    try:
        store.put_details(details, live_stream=live_stream)
    except StoreUnavailableError as exc:
        raise _unavailable("saved", exc) from None
    finally:
        _forget_details(store)
    return {"store": True, "details": details.to_json()}


def live_stream_id(settings: Settings) -> str | None:
    """The id of the newest stream that has not ended, as the store has it (None if none)."""
    store = get_stream_store(settings)
    if store is None:
        return None
    try:
        streams = store.list()
    except StoreUnavailableError as exc:
        logger.warning("the stream store could not be read: %s", exc)
        return None
    return next((stream.id for stream in streams if stream.ended_at is None), None)


# -- a stream's life --------------------------------------------------------------------------


def record_start(
    settings: Settings,
    stream_id: str,
    *,
    provider: str,
    media_ref: str | None = None,
    clock: Clock = time.time,
) -> dict[str, Any] | None:
    """Record that ``stream_id`` went live (idempotent); its ``{title, description}``, or None
    when nothing is kept or the store failed (logged)."""
    try:
        store = get_stream_store(settings)
        if store is None:
            return None
        record = store.stream_started(stream_id, provider=provider, at=clock(), media_ref=media_ref)
        _forget_details(store)  # (its planned start is cleared)
    except (StoreUnavailableError, ConfigError) as exc:
        logger.warning("stream %s went live but could not be recorded: %s", stream_id, exc)
        return None
    return {"title": record.title, "description": record.description}


def record_end(
    settings: Settings, stream_id: str, *, clock: Clock = time.time
) -> dict[str, Any] | None:
    """Record that ``stream_id`` ended (idempotent); its final numbers (``to_json``), or None
    for a stream never recorded, when nothing is kept, or when the store failed (logged)."""
    try:
        store = get_stream_store(settings)
        if store is None:
            return None
        record = store.stream_ended(stream_id, at=clock())
    except (StoreUnavailableError, ConfigError) as exc:
        logger.warning("the end of stream %s could not be recorded: %s", stream_id, exc)
        return None
    return record.to_json() if record else None


def stream_stats(settings: Settings, stream_id: str) -> dict[str, Any]:
    """``{"stream": to_json() | None}``: one stream's numbers so far (503 when the store
    cannot be read)."""
    store = get_stream_store(settings)
    if store is None:
        return {"stream": None}
    try:
        record = store.get(stream_id)
    except StoreUnavailableError as exc:
        raise _unavailable("read", exc) from None
    return {"stream": record.to_json() if record else None}
