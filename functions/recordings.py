"""GET or POST /recordings -> the recordings of past streams, newest first.

Who may list them: anyone with ``RECORDINGS_PUBLIC=true``; otherwise only the host, with the
host session (``X-Host-Session`` header or ``session`` field) or the host password
(``POST {"password", "device"?}`` with a JSON body only, throttled like ``/host_token``; a
password or session in the address is a 400 from the runtime, so it never lands in logs or
history, and guesses meet the POST route's low throttle). The answer:
``{"provider", "recording": true|false, "public": true|false, "recordings": [{id, title,
startedAt, duration, playbackUrl, format, status, sizeBytes}]}``.
"""

from livescreen.endpoints import (
    SESSION_HEADER,
    headers_of,
    require_host_password,
    require_host_session,
)
from livescreen.recordings import get_store, newest_first, recording_enabled, recordings_public
from livescreen.runtime.errors import BadRequestError, UnauthorizedError

METHODS = ("GET", "POST")


def handler(context, event, callback):
    settings = context.settings
    public = recordings_public(settings)
    if not public:
        if event.get("password") not in (None, ""):
            if event["request"].get("method") != "POST":
                # GET /recordings has the public list's higher route throttle on AWS
                raise BadRequestError("Send the host password in the JSON body of a POST")
            require_host_password(context, event)
        elif event.get("session") not in (None, "") or headers_of(event).get(SESSION_HEADER):
            require_host_session(context, event)
        else:
            raise UnauthorizedError("Only the host may see the recordings: enter the host password")
    recordings = newest_first(get_store(settings).list())
    return callback(
        None,
        {
            "provider": settings.provider,
            "recording": recording_enabled(settings),
            "public": public,
            "recordings": [recording.to_json() for recording in recordings],
        },
    )
