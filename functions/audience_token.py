"""POST /audience_token -> a playback token for the live stream, or {"token": null}."""

from livescreen.endpoints import provider_of

METHODS = ("POST",)


def handler(context, event, callback):
    provider = provider_of(context)
    grant = provider.audience_grant()
    return callback(None, {**grant.extra, "provider": provider.name, "token": grant.token})
