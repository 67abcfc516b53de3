"""What makes a Twilio Video room this app's: its name, its type, the settings it is created with.

Low on purpose (it imports only the settings): the providers, the room events handler, the
recordings store and ``livescreen cleanup`` all tell this app's rooms by these.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from livescreen.config import ConfigError, Settings

VIDEO = "https://video.twilio.com/v1"
#: Every room the provider creates is named ``livestream-<16 hex digits>``.
ROOM_PREFIX = "livestream-"
ROOM_NAME = re.compile(r"livestream-[0-9a-f]{16}")
#: Twilio's Rooms resource calls ``Type`` a legacy parameter: "the only available Room type is
#: group". Go and peer-to-peer rooms remain only for accounts that used them before 2024-10-21,
#: and small group rooms are legacy too; none of them can record or take subscribe rules.
ROOM_TYPE = "group"
LEGACY_ROOM_TYPES = ("go", "peer-to-peer", "group-small")
#: Minutes a room stays open when nobody joins it (the host joins once the screen is picked),
#: and once everyone has left it (a new stream gets a new room). Twilio allows 1..60 and
#: defaults to 5 for both.
UNUSED_ROOM_TIMEOUT = 3
EMPTY_ROOM_TIMEOUT = 1
#: What tells a room ``/host_token`` created from one a client's ``connect()`` made
#: (``_is_own_room``): Create Room parameter -> the Room resource's property.
OWN_ROOM_FIELDS = {
    "StatusCallback": "status_callback",
    "UnusedRoomTimeout": "unused_room_timeout",
    "EmptyRoomTimeout": "empty_room_timeout",
    "MaxParticipants": "max_participants",
}
#: The function (functions/room_events.protected.py) Twilio posts room events to.
ROOM_EVENTS_PATH = "/room_events"


def room_type_of(settings: Settings) -> str:
    """``ROOM_TYPE``: ``group``, the only room type Twilio offers; a legacy one is refused."""
    room_type = settings["ROOM_TYPE"].strip().lower()
    if room_type == ROOM_TYPE:
        return room_type
    if room_type in LEGACY_ROOM_TYPES:
        raise ConfigError(
            f"Setting ROOM_TYPE={room_type} is a room type Twilio no longer offers: group is the "
            "only room type of Twilio Video today (its legacy types are left only to accounts "
            "that used them before, and this app needs a group room to record and to keep "
            "viewers silent). Set ROOM_TYPE=group, or remove the setting."
        )
    raise ConfigError(f"Setting ROOM_TYPE must be group, got {room_type!r}")


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
