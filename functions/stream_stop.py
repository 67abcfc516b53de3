"""POST /stream_stop {"session"} -> the host's stream ends and its room is released. Idempotent.

The answer's ``summary`` is the stream's final numbers from the stream store (null for a
stream never recorded, or with ``STREAM_STORE=off``).
"""

from livescreen.endpoints import provider_of, require_host_session
from livescreen.store.for_endpoints import record_end

METHODS = ("POST",)


def handler(context, event, callback):
    session = require_host_session(context, event)
    provider = provider_of(context)
    state = provider.stop_stream(session.room)
    summary = record_end(context.settings, session.room)
    return callback(
        None,
        {
            **state.extra,
            "provider": provider.name,
            "room": state.room,
            "live": state.live,
            "summary": summary,
        },
    )
