"""GET /recording_media?id=CJ... -> 302 to the recording's media, for a <video src>.

``twilio`` only: Twilio serves a composition's mp4 only to requests with the account's
credentials, so this function asks for it (``Ttl`` 600 s, redirect not followed) and hands the
browser Twilio's short-lived URL in ``Location``; no credential is ever in the answer, and
``Cache-Control: no-store`` keeps the URL out of caches.

Who may play: with ``RECORDINGS_PUBLIC=true`` anyone holding the id (composition SIDs are
random: an unlisted one cannot be guessed); otherwise only a link from the host's list, signed
with ``HOST_SESSION_SECRET`` and expiring (``expires``, ``sig``), because a <video> element
cannot send the host session header. 400 for a malformed id, 401 for a missing, wrong or
expired signature, 404 for a recording that is not this app's or not ready (or another
provider), 502/503 when Twilio fails.
"""

from livescreen.providers.twilio.recording_store import TwilioCompositionStore, valid_id
from livescreen.recordings import RecordingNotFoundError, get_store, recordings_public
from livescreen.recordings.playback_links import InvalidLinkError, verify
from livescreen.runtime.errors import BadRequestError, NotFoundError, UnauthorizedError
from livescreen.runtime.response import Response

METHODS = ("GET",)


def handler(context, event, callback):
    settings = context.settings
    recording_id = event.get("id")
    if not valid_id(recording_id):
        raise BadRequestError("id must be a recording id as the list gives it (CJ + 32 hex digits)")
    if not recordings_public(settings):
        try:
            verify(recording_id, event, secret=settings.require("HOST_SESSION_SECRET"))
        except InvalidLinkError as exc:
            raise UnauthorizedError(str(exc)) from None
    if settings.provider != "twilio":
        raise NotFoundError(
            f"No recording {recording_id}: the {settings.provider} provider "
            "serves its recordings itself"
        )
    store = get_store(settings)
    if not isinstance(store, TwilioCompositionStore):  # pragma: no cover - a broken registry
        raise NotFoundError(f"No recording {recording_id}")
    try:
        location = store.media_location(recording_id)
    except RecordingNotFoundError:
        raise NotFoundError(
            f"No recording {recording_id} is ready to play: it may still be processing, "
            "or have been deleted"
        ) from None
    response = Response(status_code=302)
    response.append_header("Location", location)
    response.append_header("Cache-Control", "no-store")
    response.append_header("Referrer-Policy", "no-referrer")
    return callback(None, response)
