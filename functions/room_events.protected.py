"""POST /room_events (Twilio room status callback, signed) -> the stream ends when its host leaves.

Only requests that carry a valid X-Twilio-Signature reach this handler (a protected function).
"""

from livescreen.providers.twilio.room_events import handle_room_event

METHODS = ("POST",)


def handler(context, event, callback):
    return callback(None, {"handled": handle_room_event(context.settings, event)})
