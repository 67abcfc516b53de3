"""POST /stream_stop {"session"} -> the host's stream ends and its room is released. Idempotent."""

from livescreen.endpoints import provider_of, require_host_session

METHODS = ("POST",)


def handler(context, event, callback):
    session = require_host_session(context, event)
    provider = provider_of(context)
    state = provider.stop_stream(session.room)
    return callback(
        None,
        {**state.extra, "provider": provider.name, "room": state.room, "live": state.live},
    )
