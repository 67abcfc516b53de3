"""POST /host_token {"password", "device"?} -> a room, a host media token, a host session.

The answer's ``device`` is a token the host page keeps and sends back with its next password: a
browser that has signed in before is throttled on its own, so others' wrong guesses from the
same address (a shared NAT, a CloudFront edge) cannot lock the host out. JSON bodies only; a
request from another site is a 403 before the password is looked at (``endpoints``).
"""

from livescreen.endpoints import provider_of, require_host_password
from livescreen.security import host_session

METHODS = ("POST",)


def handler(context, event, callback):
    device = require_host_password(context, event)
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
            "device": device,
        },
    )
