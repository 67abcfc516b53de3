"""The ``local`` provider's recording routes, mounted by the dev server under ``/local``.

``POST /recording/upload?offset=<bytes already sent>`` (header ``X-Host-Token``, body: bytes)
    The host's next piece of its recording (webm, at most ``CHUNK_BYTES``); answers
    ``{"id", "size"}``. The host token is taken from the header only: one in the address
    (``?token=``, or a password or session there) is a 400 before anything else, its value
    unread, since addresses land in logs and history. 401 without a valid host token (a
    viewer's token is not one), 403 when the room is not live or ``RECORDING=off``, 409 for an
    offset that does not continue the file, 413 beyond ``MAX_RECORDING_MB`` megabytes of
    1,000,000 bytes (the file keeps what it had), 410 when the recording was deleted, 507 when
    ``RECORDINGS_DIR`` cannot be written (missing permission, not a folder, disk full: the error
    says which, and it is logged) or when the piece would take the folder beyond
    ``MAX_RECORDINGS_TOTAL_MB`` (the recordings keep what they had; the error says how full the
    folder is and what to do). A repeated upload (its answer was lost) is accepted without
    writing twice.
``GET|HEAD /recording/files/<id>.webm``
    The recording, for playback; one ``Range: bytes=...`` is answered 206 (at most
    ``MAX_RANGE_BYTES`` at a time), so that a ``<video>`` can seek. Without one (or with one
    that is not a single byte range) the whole file is answered 200, read from the disk as it
    is sent; ``HEAD`` reads none of it. 404 for anything else, a ``<id>.webm`` that is a
    symbolic link or not a plain file included (it is never opened through a link).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO

from livescreen.config import Settings
from livescreen.devserver.relays.http import (
    FileBody,
    RelayError,
    Response,
    Route,
    dispatch,
    json_response,
)
from livescreen.providers.local.hub import HUB, Hub
from livescreen.providers.local.plain_files import is_disk_full
from livescreen.providers.local.recorder import (
    CHUNK_BYTES,
    LOCAL_RECORDINGS,
    UPLOAD_PATH,
    LocalRecordings,
    StreamNotLiveError,
)
from livescreen.providers.local.recording_folder import (
    MEDIA_SUFFIX,
    MEGABYTE,
    FolderFullError,
    OffsetMismatchError,
    RecordingLimitError,
    recordings_folder,
)
from livescreen.recordings import RecordingNotFoundError, recording_enabled
from livescreen.runtime.function_event import secret_named_in

logger = logging.getLogger("livescreen.recordings")

FILES_PREFIX = "/recording/files/"
TOKEN_HEADER = "x-host-token"  # noqa: S105 - a header name, not a secret
#: The most one ranged answer carries; the player asks again for the rest.
MAX_RANGE_BYTES = 8 * 1024 * 1024
_OFFSET = re.compile(r"[0-9]{1,15}")
_RANGE = re.compile(r"bytes=([0-9]{0,15})-([0-9]{0,15})")
_USE_THE_HEADER = "Never put the host token in the address: send it in the X-Host-Token header"
#: Query parameters that would carry a secret in the address: refused, their value unread (the
#: runtime's rule, with the upload's own names).
SECRETS_NEVER_IN_ADDRESS = dict.fromkeys(
    ("token", "host_token", "password", "session"), _USE_THE_HEADER
)


@dataclass(frozen=True)
class _Context:
    settings: Settings
    recordings: LocalRecordings
    hub: Hub


def is_recording_path(path: str) -> bool:
    """Whether ``/local<path>`` is one of this module's routes (rather than signalling)."""
    return path == "/recording" or path.startswith("/recording/")


def handle(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    settings: Settings,
    recordings: LocalRecordings = LOCAL_RECORDINGS,
    hub: Hub = HUB,
) -> Response:
    """Answer one request for ``/local<path>`` where ``is_recording_path(path)``."""
    context = _Context(settings, recordings, hub)
    if path.startswith(FILES_PREFIX):
        if method.upper() not in ("GET", "HEAD"):
            status, out, data = json_response(405, {"error": f"{method} is not allowed here"})
            return status, {**out, "Allow": "GET, HEAD"}, data
        try:
            return _file(context, method.upper(), path[len(FILES_PREFIX) :], headers)
        except RelayError as exc:
            status, out, data = json_response(exc.status, {"error": exc.message})
            if isinstance(exc, _UnsatisfiableRangeError):
                out["Content-Range"] = f"bytes */{exc.size}"
            return status, out, data
    return dispatch(
        _ROUTES, context, "/local", method, path, query, headers, body, "local recording"
    )


def _upload(
    context: _Context, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Response:
    message = secret_named_in(query, SECRETS_NEVER_IN_ADDRESS)
    if message is not None:
        raise RelayError(400, message)
    token = headers.get(TOKEN_HEADER, "")
    if not token:
        raise RelayError(401, "Missing host token: send it in the X-Host-Token header")
    room = context.hub.host_room(token)
    if room is None:
        raise RelayError(401, "Unknown or expired host token: switch LIVE on again")
    if not room.live:
        raise RelayError(403, "The stream is not live: only a live stream is recorded")
    if not recording_enabled(context.settings):
        raise RelayError(403, "Recording is off (RECORDING=off): nothing is recorded")
    raw_offset = query.get("offset", "")
    if not _OFFSET.fullmatch(raw_offset):
        raise RelayError(400, "'offset' must be the number of bytes already uploaded")
    if not body:
        raise RelayError(400, "The upload is empty: send the recorded bytes")
    if len(body) > CHUNK_BYTES:
        raise RelayError(413, f"One upload may carry at most {CHUNK_BYTES} bytes: split it")
    max_bytes = context.settings.get_int("MAX_RECORDING_MB", minimum=1) * MEGABYTE
    max_total_bytes = context.settings.get_int("MAX_RECORDINGS_TOTAL_MB", minimum=1) * MEGABYTE
    folder = recordings_folder(context.settings)
    try:
        recording_id, size = context.recordings.append(
            room,
            folder,
            int(raw_offset),
            body,
            max_bytes=max_bytes,
            max_total_bytes=max_total_bytes,
        )
    except StreamNotLiveError:
        raise RelayError(403, "The stream is not live: only a live stream is recorded") from None
    except OffsetMismatchError as exc:
        raise RelayError(409, str(exc)) from None
    except RecordingLimitError as exc:
        raise RelayError(413, str(exc)) from None
    except FolderFullError as exc:
        logger.warning(
            "RECORDINGS_DIR=%s is full: %s of %s bytes (MAX_RECORDINGS_TOTAL_MB); "
            "a recording stopped",
            context.settings.get("RECORDINGS_DIR") or "",
            exc.used,
            exc.max_total_bytes,
        )
        raise RelayError(507, str(exc)) from None
    except RecordingNotFoundError:
        raise RelayError(
            410, "This stream's recording was deleted: the rest is not recorded"
        ) from None
    except OSError as exc:
        raise _unwritable(context.settings, exc) from None
    return json_response(200, {"id": recording_id, "size": size})


def _unwritable(settings: Settings, error: OSError) -> RelayError:
    """507 for a recording the dev server could not write; logged for whoever runs it."""
    configured = settings.get("RECORDINGS_DIR") or ""
    logger.error("Could not write a recording to RECORDINGS_DIR=%s: %s", configured, error)
    reason = error.strerror or type(error).__name__
    if is_disk_full(error):
        message = f"The disk holding RECORDINGS_DIR ({configured}) is full"
    else:
        message = f"The dev server cannot write to RECORDINGS_DIR ({configured}): {reason}"
    return RelayError(507, message)


def _file(context: _Context, method: str, name: str, headers: Mapping[str, str]) -> Response:
    not_found = RelayError(404, "No such recording")
    if not name.endswith(MEDIA_SUFFIX):
        raise not_found
    recording_id = name[: -len(MEDIA_SUFFIX)]
    media: BinaryIO | None = None
    try:
        folder = recordings_folder(context.settings)
        if method == "HEAD":
            size = folder.media_size(recording_id)
        else:  # the open file is still read if it is deleted meanwhile
            media, size = folder.open_media(recording_id)
    except (RecordingNotFoundError, OSError):
        raise not_found from None
    try:
        out = {"Content-Type": "video/webm", "Accept-Ranges": "bytes", "Cache-Control": "no-cache"}
        wanted = _byte_range(headers.get("range"), size)
        start, end = wanted if wanted is not None else (0, size - 1)
        length = max(0, end - start + 1)
        if wanted is not None:
            out["Content-Range"] = f"bytes {start}-{end}/{size}"
        status = 200 if wanted is None else 206
        if media is None or length == 0:
            if media is not None:
                media.close()
            return status, out, FileBody(None, length)
        media.seek(start)
    except BaseException as exc:
        if media is not None:
            media.close()
        if isinstance(exc, OSError):
            raise not_found from None
        raise
    return status, out, FileBody(media, length)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte asked for, or None to send the whole file (no Range, or one
    that is not a single byte range, which RFC 9110 says to ignore); 416 when unsatisfiable."""
    match = _RANGE.fullmatch((header or "").strip())
    if match is None or match[1] == match[2] == "":
        return None
    if match[1] == "":  # the last N bytes
        start, end = max(0, size - int(match[2])), size - 1
        if int(match[2]) == 0:
            start = size
    else:
        start = int(match[1])
        end = min(int(match[2]), size - 1) if match[2] else size - 1
        if match[2] and int(match[2]) < start:
            return None  # an invalid range: ignored
    if start >= size:
        raise _UnsatisfiableRangeError(size)
    return start, min(end, start + MAX_RANGE_BYTES - 1)


class _UnsatisfiableRangeError(RelayError):
    def __init__(self, size: int) -> None:
        super().__init__(416, f"The recording is {size} bytes long: that range is outside it")
        self.size = size


_ROUTES: dict[tuple[str, str], Route[_Context]] = {
    ("POST", UPLOAD_PATH): _upload,
}
