"""Twilio Video room status callbacks: the stream ends when its host leaves the room.

The ``twilio`` provider registers ``<PUBLIC_API_URL>/room_events`` as the ``StatusCallback`` of
every room it creates. Twilio then posts, form-encoded and signed, an event for everything that
happens in the room. Two of them end the stream (the room, and with ``TWILIO_AUDIENCE=live`` its
MediaProcessor and PlayerStreamer), so a host who vanishes without the page's goodbye stops
billing at once rather than at MaxDuration: ``participant-disconnected`` for the host's
identity, and ``room-ended``. With ``TWILIO_AUDIENCE=video``, ``participant-connected`` and
``track-added`` also keep viewers from publishing (``twilio_video.room_event_action``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from livescreen.config import ConfigError, Settings

#: Every room the provider creates is named ``livestream-<16 hex digits>``.
ROOM_PREFIX = "livestream-"
ROOM_NAME = re.compile(r"livestream-[0-9a-f]{16}")
#: The function (functions/room_events.protected.py) Twilio posts room events to.
ROOM_EVENTS_PATH = "/room_events"
HOST_LEFT = "participant-disconnected"
ROOM_ENDED = "room-ended"


def callback_url(settings: Settings) -> str | None:
    """Where Twilio should post room events, or None when PUBLIC_API_URL is not set."""
    base = settings.get("PUBLIC_API_URL")
    if not base:
        return None
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ConfigError(
            f"Setting PUBLIC_API_URL must be the API's base URL, such as "
            f"https://abc123.execute-api.eu-west-1.amazonaws.com, got {base!r}"
        )
    return base.rstrip("/") + ROOM_EVENTS_PATH


def ends_stream(event: str, room: str, identity: str, host_identity: str) -> bool:
    """Whether a room event means the stream of ``room`` must stop."""
    if not ROOM_NAME.fullmatch(room):
        return False  # not a room this app created
    return event == ROOM_ENDED or (event == HOST_LEFT and identity == host_identity)


def _field(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""


def handle_room_event(settings: Settings, event: Mapping[str, Any]) -> bool:
    """Act on a room event: the stream stops when it is over; with ``TWILIO_AUDIENCE=video``
    viewers also get their subscribe rules, and one that publishes is disconnected.

    True when it did something (idempotent).
    """
    if settings.provider != "twilio":
        return False
    name = _field(event, "StatusCallbackEvent")
    room = _field(event, "RoomName")
    identity = _field(event, "ParticipantIdentity")
    from livescreen.providers import get_provider
    from livescreen.providers.twilio.provider import TwilioProvider

    if settings["TWILIO_AUDIENCE"].strip().lower() == "video":
        from livescreen.providers.twilio.video import TwilioVideoProvider, room_event_action

        if room_event_action(name, room, identity, settings["HOST_IDENTITY"]) is None:
            return False
        video = get_provider(settings)
        return isinstance(video, TwilioVideoProvider) and video.handle_room_callback(event)
    if not ends_stream(name, room, identity, settings["HOST_IDENTITY"]):
        return False
    provider = get_provider(settings)
    if not isinstance(provider, TwilioProvider):
        return False
    return provider.handle_room_event(name, room, identity)
