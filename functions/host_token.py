"""POST /host_token {"password"} -> a room, the host's media token and a signed host session."""

from livescreen import host_session
from livescreen.endpoints import client_address, provider_of, require_string
from livescreen.password_guard import password_matches, throttle
from livescreen.runtime import TooManyRequestsError, UnauthorizedError

METHODS = ("POST",)


def handler(context, event, callback):
    client = client_address(event)
    wait = throttle.retry_after(client)
    if wait:
        raise TooManyRequestsError(
            f"Too many wrong passwords: try again in {wait} seconds",
            headers={"retry-after": str(wait)},
        )
    password = require_string(event, "password")
    if not password_matches(password, context.settings.require("HOST_PASSWORD")):
        throttle.record_failure(client)
        raise UnauthorizedError("Invalid password")
    throttle.record_success(client)

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
