"""POST /stream_start {"session"} -> the host's room goes live. Idempotent.

The stream is recorded in the stream store with the details set for it; the answer's
``details`` are its ``{title, description}`` (null when nothing is kept, or the store failed:
that is logged and never stops the stream).
"""

from livescreen.endpoints import provider_of, require_host_session
from livescreen.store.for_endpoints import record_start

METHODS = ("POST",)


def handler(context, event, callback):
    session = require_host_session(context, event)
    provider = provider_of(context)
    state = provider.start_stream(session.room)
    details = record_start(
        context.settings,
        session.room,
        provider=provider.name,
        media_ref=state.extra.get("stageArn"),
    )
    return callback(
        None,
        {
            **state.extra,
            "provider": provider.name,
            "room": state.room,
            "live": state.live,
            "startedNow": state.started_now,
            "details": details,
        },
    )
