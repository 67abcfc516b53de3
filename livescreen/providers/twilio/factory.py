"""The ``twilio`` provider's registry entry point: ``TWILIO_AUDIENCE`` picks its flow.

``video`` (the default): viewers join the host's Video room (``video.TwilioVideoProvider``);
``live``: the retired Twilio Live flow (``provider.TwilioProvider``).
"""

from __future__ import annotations

from livescreen.config import ConfigError, Settings
from livescreen.providers.twilio.provider import TwilioProvider
from livescreen.providers.twilio.video import TwilioVideoProvider

AUDIENCES = ("video", "live")


def create_provider(settings: Settings) -> TwilioProvider:
    """The ``twilio`` provider for ``settings`` (registry entry point).

    ``TWILIO_AUDIENCE=video`` (the default): viewers join the host's Video room
    (``video``); ``live``: the retired Twilio Live flow (``provider``).
    """
    from livescreen.runtime.twilio_client import make_twilio_client

    audience = settings["TWILIO_AUDIENCE"].strip().lower()
    if audience not in AUDIENCES:
        raise ConfigError(
            f"Setting TWILIO_AUDIENCE must be one of {', '.join(AUDIENCES)}, got {audience!r}"
        )
    if audience == "video":
        return TwilioVideoProvider(settings, make_twilio_client(settings))
    return TwilioProvider(settings, make_twilio_client(settings))
