"""Twilio Video room status callbacks: the stream ends when its host leaves the room.

The ``twilio`` provider registers ``<PUBLIC_API_URL>/room_events`` as the ``StatusCallback`` of
every room it creates (``rooms.callback_url``). Twilio then posts, form-encoded and signed, an
event for everything that happens in the room. Two of them end the stream (the room, and with
``TWILIO_AUDIENCE=live`` its MediaProcessor and PlayerStreamer), so a host who vanishes without
the page's goodbye stops billing at once rather than at MaxDuration: ``participant-disconnected``
for the host's identity, and ``room-ended``. With ``TWILIO_AUDIENCE=video``,
``participant-connected`` and ``track-added`` also keep viewers from publishing
(``room_event_rules.room_event_action``).

Whatever the audience, every callback is then counted (``audience_counting``): a viewer's
``participant-connected`` and ``-disconnected`` make the stream's audience numbers, the end of
the stream closes its record. The provider acts first, so a slow store (or a function timing
out in it) never keeps a paid room running or a viewer's rules unset; a store that fails is
logged, and counting runs even when the action raised (Twilio's retry then counts once).

The providers are imported only once an event asks for something (a Lambda cold start).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from livescreen.config import Settings
from livescreen.providers.twilio.audience_counting import count_room_event
from livescreen.providers.twilio.room_event_rules import ends_stream, room_event_action


def _field(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""


def handle_room_event(settings: Settings, event: Mapping[str, Any]) -> bool:
    """Act on a room event: the stream stops when it is over; with ``TWILIO_AUDIENCE=video``
    viewers also get their subscribe rules, and one that publishes is disconnected. Every event
    is then counted into the audience numbers (which never raises).

    True when it did something besides counting (idempotent).
    """
    if settings.provider != "twilio":
        return False
    try:
        return _act(settings, event)
    finally:
        count_room_event(settings, event)


def _act(settings: Settings, event: Mapping[str, Any]) -> bool:
    """The provider's own work for the event: True when it did something."""
    name = _field(event, "StatusCallbackEvent")
    room = _field(event, "RoomName")
    identity = _field(event, "ParticipantIdentity")
    from livescreen.providers import get_provider
    from livescreen.providers.twilio.provider import TwilioProvider

    if settings["TWILIO_AUDIENCE"].strip().lower() == "video":
        from livescreen.providers.twilio.video import TwilioVideoProvider

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
