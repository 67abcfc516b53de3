"""GET or POST /recordings -> the recordings of past streams, newest first.

Who may list them: anyone with ``RECORDINGS_PUBLIC=true``; otherwise only the host, with the
host session (``X-Host-Session`` header or ``session`` field) or the host password
(``POST {"password", "device"?}`` with a JSON body only, throttled like ``/host_token``; a
password or session in the address is a 400 from the runtime, so it never lands in logs or
history, and guesses meet the POST route's low throttle). The answer:
``{"provider", "recording": true|false, "public": true|false, "recordings": [{id, title,
startedAt, duration, playbackUrl, format, status, sizeBytes, streamId}], "streams": [{id, title,
startedAt, duration, peakViewers, ..., recordingIds}]}``: the streams from the stream store,
newest first, each with the ids of its recordings (a recording of a known stream has its title).
"""

from livescreen.endpoints import require_host
from livescreen.recordings import get_store, newest_first, recording_enabled, recordings_public
from livescreen.recordings.with_streams import read_streams, with_streams
from livescreen.runtime.errors import BadRequestError
from livescreen.store import get_stream_store

METHODS = ("GET", "POST")


def handler(context, event, callback):
    settings = context.settings
    public = recordings_public(settings)
    if not public:
        if event.get("password") not in (None, "") and event["request"].get("method") != "POST":
            # GET /recordings has the public list's higher route throttle on AWS
            raise BadRequestError("Send the host password in the JSON body of a POST")
        require_host(
            context, event, refusal="Only the host may see the recordings: enter the host password"
        )
    recordings = newest_first(get_store(settings).list())
    listed, streams = with_streams(recordings, read_streams(get_stream_store(settings)))
    return callback(
        None,
        {
            "provider": settings.provider,
            "recording": recording_enabled(settings),
            "public": public,
            "recordings": listed,
            "streams": streams,
        },
    )
