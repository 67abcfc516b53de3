"""POST /audience_token -> a playback token for the live stream, or {"token": null}.

``recordingsPublic`` says whether anyone may list the recordings (the page then links to them).
"""

from livescreen.endpoints import provider_of
from livescreen.recordings import recordings_public

METHODS = ("POST",)


def handler(context, event, callback):
    provider = provider_of(context)
    grant = provider.audience_grant()
    return callback(
        None,
        {
            **grant.extra,
            "provider": provider.name,
            "token": grant.token,
            "recordingsPublic": recordings_public(context.settings),
        },
    )
