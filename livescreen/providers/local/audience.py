"""Where the ``local`` provider's hub reports its audience: ``Audience``, the counting.

The hub reports a viewer as joined when the host's answer reaches it, as left when its channel
closes, and the stream as ended when its room ends (every viewer still there leaves then). The
hub reports with its lock held, so an audience only queues what it is told
(``store.counting.Counter`` does: a worker thread writes the store), and a failure to queue is
logged, never passed on to the viewer.
"""

from __future__ import annotations

import logging
from typing import Protocol

logger = logging.getLogger("livescreen.providers.local")

#: How long ``stop_stream`` waits for the counting of the stream it stopped to be written, so
#: that ``/stream_stop``'s summary has every join and leave (the host's request, not a viewer's).
FLUSH_SECONDS = 2.0


class Audience(Protocol):
    """What counts one room's audience; every method only queues, and returns at once."""

    def viewer_joined(self, stream_id: str, viewer_id: str) -> None: ...

    def viewer_left(self, stream_id: str, viewer_id: str) -> None: ...

    def stream_ended(self, stream_id: str) -> None: ...

    def flush(self, timeout: float) -> bool:
        """Wait (``timeout`` seconds at most) until what was queued so far is written."""
        ...


def tell(audience: Audience | None, event: str, *args: str) -> None:
    """``audience.<event>(*args)``, if there is an audience; a failure is logged, not raised."""
    if audience is None:
        return
    try:
        getattr(audience, event)(*args)
    except Exception:
        logger.exception("could not count %s for %s", event, args[0] if args else "?")
