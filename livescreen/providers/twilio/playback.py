"""One PlaybackGrant per live stream and process, shared by every viewer while it is valid.

Twilio's guidance for large audiences is to reuse a PlaybackGrant across viewers instead of
asking for one per viewer (the grant API is rate limited). This cache looks the live
PlayerStreamer up at most once every ``lookup_ttl`` seconds, asks for a grant only when there is
none for that streamer or it is about to expire, and holds a lock while it does so: a thousand
viewers arriving together cause one lookup and one grant, not a thousand of each. A failed
lookup is remembered for ``lookup_ttl`` as well, so a failing Twilio is not hammered either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

Grant = dict[str, Any]


class PlaybackGrantCache:
    """``current()`` -> the grant for the live stream, or None when nothing is live."""

    def __init__(
        self,
        find_live: Callable[[], str | None],
        create_grant: Callable[[str], Grant | None],
        *,
        lookup_ttl: float,
        grant_ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._find_live = find_live
        self._create_grant = create_grant
        self._lookup_ttl = lookup_ttl
        self._grant_ttl = grant_ttl
        # Renew a few seconds early so a viewer never receives a grant about to lapse.
        self._renew_margin = min(5.0, grant_ttl / 4)
        self._clock = clock
        self._lock = threading.Lock()
        self._live: str | None = None
        self._lookup_error: Exception | None = None
        self._looked_up_at: float | None = None
        self._grant: Grant | None = None
        self._grant_for: str | None = None
        self._grant_expires = 0.0

    def current(self) -> Grant | None:
        with self._lock:
            now = self._clock()
            if self._looked_up_at is None or now - self._looked_up_at >= self._lookup_ttl:
                self._looked_up_at = now
                try:
                    self._live, self._lookup_error = self._find_live(), None
                except Exception as error:
                    # A failing (or retired) upstream is asked again only after lookup_ttl too.
                    self._live, self._lookup_error = None, error
            if self._lookup_error is not None:
                raise self._lookup_error
            live = self._live
            if live is None:
                return None
            fresh = self._grant_for == live and now < self._grant_expires - self._renew_margin
            if not fresh:
                grant = self._create_grant(live)
                if grant is None:  # the stream ended between the lookup and the grant
                    self._live = None
                    self._grant = self._grant_for = None
                    return None
                self._grant, self._grant_for = grant, live
                self._grant_expires = now + self._grant_ttl
            return self._grant

    def clear(self) -> None:
        """Forget everything (this process started or stopped a stream)."""
        with self._lock:
            self._live = self._grant = self._grant_for = None
            self._looked_up_at = None
            self._lookup_error = None
            self._grant_expires = 0.0
