"""POST /stream_stats {"session"} -> the numbers of the host's stream so far.

The host session (``X-Host-Session`` header or ``session`` field) names the room; the answer is
``{"stream": {id, title, startedAt, live, currentViewers, peakViewers, viewers, viewerMinutes,
chatMessages, ...} | null}`` (null before the stream went live, or with ``STREAM_STORE=off``).
"""

from livescreen.endpoints import provider_of, require_host_session
from livescreen.store.for_endpoints import stream_stats

METHODS = ("POST",)


def handler(context, event, callback):
    session = require_host_session(context, event)
    provider = provider_of(context)
    provider.refresh_audience(session.room)  # (ivs: its records are read, at most every 10 s)
    return callback(None, stream_stats(context.settings, session.room))
