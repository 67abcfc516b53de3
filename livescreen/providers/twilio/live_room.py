"""Which room is live, asked of Twilio at most once per ``ttl`` per process (``video`` audience).

Every viewer's ``/audience_token`` needs the live room's name; a crowd arriving together must
cause one lookup, and a failing Twilio must not be asked again by every viewer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class LiveRoomLookup:
    """``current()`` -> the live room's name (or None), asked of Twilio once per ``ttl``.

    One lock: a crowd arriving together causes one lookup. A failed lookup is remembered for
    ``ttl`` too, so a failing Twilio is not hammered by every viewer.
    """

    def __init__(
        self,
        find: Callable[[], str | None],
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._find = find
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._room: str | None = None
        self._error: Exception | None = None
        self._at: float | None = None

    def current(self) -> str | None:
        with self._lock:
            now = self._clock()
            if self._at is None or now - self._at >= self._ttl:
                self._at = now
                try:
                    self._room, self._error = self._find(), None
                except Exception as error:
                    self._room, self._error = None, error
            if self._error is not None:
                raise self._error
            return self._room

    def clear(self) -> None:
        with self._lock:
            self._room, self._error, self._at = None, None, None
