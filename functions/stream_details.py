"""GET or POST /stream_details -> the title, description and planned start of the next stream.

``GET`` is public (the audience page shows them): ``{"store": true|false, "details": {title,
description, plannedStart, updatedAt} | null}``, never cached. ``POST {"title",
"description"?, "plannedStart"?}`` is the host's, with the host session (``X-Host-Session``
header or ``session`` field) or the host password (``{"password", "device"?}`` in a JSON body,
throttled like ``/host_token``), exactly as ``/recordings`` takes them. It answers the saved
details, and renames the host's live stream too. Bad input is a 400 that says what is wrong
(nothing is saved); with ``STREAM_STORE=off`` saving is a 503.
"""

from livescreen.endpoints import require_host
from livescreen.runtime.response import Response
from livescreen.store.for_endpoints import details_answer, live_stream_id, save_details

METHODS = ("GET", "POST")


def handler(context, event, callback):
    settings = context.settings
    if event["request"].get("method") != "POST":
        answer = details_answer(settings)
        return callback(None, Response(answer, headers={"Cache-Control": "no-store"}))
    session = require_host(
        context,
        event,
        refusal="Only the host may change the stream details: enter the host password",
    )
    live_stream = session.room if session else live_stream_id(settings)
    return callback(None, save_details(settings, event, live_stream=live_stream))
