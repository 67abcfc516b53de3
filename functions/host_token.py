"""POST /host_token {"password"} -> a room, the host's media token and a signed host session."""

from livescreen import host_session
from livescreen.endpoints import provider_of, require_host_password

METHODS = ("POST",)


def handler(context, event, callback):
    require_host_password(context, event)
    provider = provider_of(context)
    grant = provider.create_host_grant()
    ttl = context.settings.get_int("HOST_SESSION_TTL", minimum=60, maximum=86400)
    session, claims = host_session.issue(
        grant.room, secret=context.settings.require("HOST_SESSION_SECRET"), ttl_seconds=ttl
    )
    return callback(
        None,
        {
            **grant.extra,
            "provider": provider.name,
            "room": grant.room,
            "token": grant.token,
            "identity": context.settings["HOST_IDENTITY"],
            "session": session,
            "sessionExpiresAt": claims.expires_at,
        },
    )
