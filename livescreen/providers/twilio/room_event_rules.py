"""What a Twilio room status callback asks of the server: nothing, or which action.

Pure decisions on the event's name, room and participant: ``ends_stream`` for
``TWILIO_AUDIENCE=live`` (the host left, or the room ended), ``room_event_action`` for
``TWILIO_AUDIENCE=video``, which also keeps viewers from publishing, and ``audience_change``
for the audience numbers (a viewer joined or left, or the stream ended). The providers act on
them; ``room_events.handle_room_event`` uses them to skip events that ask for nothing.
"""

from __future__ import annotations

import re

from livescreen.providers.twilio.rooms import ROOM_NAME

PARTICIPANT_DISCONNECTED = HOST_LEFT = "participant-disconnected"
ROOM_ENDED = "room-ended"
PARTICIPANT_CONNECTED = "participant-connected"
TRACK_ADDED = "track-added"

#: What a room event asks of the server.
STOP, HOST_RULES, VIEWER_RULES, KICK = "stop", "host-rules", "viewer-rules", "kick"

#: What a room event changes in the audience numbers.
JOINED, LEFT, ENDED = "joined", "left", "ended"

#: A viewer's identity, as ``/audience_token`` signs it (``video.VIEWER_PREFIX`` and 16 hex
#: digits). The host, and Twilio Live's composer, are participants too: never viewers.
VIEWER_IDENTITY = re.compile(r"viewer-[0-9a-f]{16}")


def ends_stream(event: str, room: str, identity: str, host_identity: str) -> bool:
    """Whether a room event means the stream of ``room`` must stop."""
    if not ROOM_NAME.fullmatch(room):
        return False  # not a room this app created
    return event == ROOM_ENDED or (event == HOST_LEFT and identity == host_identity)


def room_event_action(event: str, room: str, identity: str, host_identity: str) -> str | None:
    """What to do about one room status callback (None: nothing)."""
    if not ROOM_NAME.fullmatch(room):
        return None  # not a room this app created
    if event == ROOM_ENDED or (event == HOST_LEFT and identity == host_identity):
        return STOP
    if event == PARTICIPANT_CONNECTED and identity:
        return HOST_RULES if identity == host_identity else VIEWER_RULES
    if event == TRACK_ADDED and identity and identity != host_identity:
        return KICK
    return None


def audience_change(event: str, room: str, identity: str, host_identity: str) -> str | None:
    """What one room status callback changes in the stream's audience numbers (None: nothing).

    ``ENDED`` when the stream ends (the host left, or the room ended), ``JOINED`` or ``LEFT``
    when a viewer connects to or disconnects from a room this app created.
    """
    if ends_stream(event, room, identity, host_identity):
        return ENDED
    if not ROOM_NAME.fullmatch(room) or identity == host_identity:
        return None
    if not VIEWER_IDENTITY.fullmatch(identity):
        return None
    if event == PARTICIPANT_CONNECTED:
        return JOINED
    if event == PARTICIPANT_DISCONNECTED:
        return LEFT
    return None
