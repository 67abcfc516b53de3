"""The ``twilio`` recordings: this app's Twilio Video Compositions (one mp4 per ended room).

A composition is this app's when its room is: named ``livestream-<16 hex digits>`` and, when
``PUBLIC_API_URL`` is set, reporting to this stack's ``/room_events`` (two stacks on one Twilio
account do not list each other's recordings). Rooms never change their name or callback, so
each is looked up once per container.

The list shows compositions that are ``enqueued`` or ``processing`` (status ``processing``, no
playback URL yet) and ``completed`` (``ready``). A ``failed`` composition is left out: there is
nothing to play (its room recorded nothing usable), and Twilio keeps it only as a record.
Deleted ones are left out too. ``delete`` deletes the composition's media and the room's track
recordings, which Twilio would otherwise keep (and bill for storing).

Playback goes through ``/recording_media?id=CJ...`` (``functions/recording_media.py``), which
redirects to Twilio's short-lived media URL; in a host-only list the link is signed
(``playback_links``).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from livescreen.config import Settings
from livescreen.providers.twilio.rest import TwilioApiError, TwilioRest
from livescreen.providers.twilio.rooms import ROOM_NAME, callback_url
from livescreen.providers.twilio.timestamps import parse_time
from livescreen.recordings import Recording, RecordingNotFoundError, recordings_public
from livescreen.recordings.playback_links import media_link

if TYPE_CHECKING:
    from twilio.rest import Client

log = logging.getLogger(__name__)

VIDEO = "https://video.twilio.com/v1"
#: A composition SID, exactly as Twilio writes them.
COMPOSITION_ID = re.compile(r"CJ[0-9a-f]{32}")
ROOM_SID = re.compile(r"RM[0-9a-f]{32}")
#: Seconds Twilio's media URL works for (Twilio allows 1..3600, default 600).
MEDIA_TTL = 600
LISTED = {"enqueued": "processing", "processing": "processing", "completed": "ready"}
#: Compositions looked at per list (Twilio pages of 100, newest first).
MAX_PAGES = 5
MAX_CACHED_ROOMS = 2000


def valid_id(recording_id: object) -> bool:
    return isinstance(recording_id, str) and COMPOSITION_ID.fullmatch(recording_id) is not None


class TwilioCompositionStore:
    """``RecordingStore`` over Twilio's Compositions API. Safe to share between threads."""

    def __init__(self, settings: Settings, rest: TwilioRest) -> None:
        self.rest = rest
        self.room_events_url = callback_url(settings)
        public = recordings_public(settings)
        self._link_secret = None if public else settings.require("HOST_SESSION_SECRET")
        self._link_ttl = settings.get_int("HOST_SESSION_TTL", minimum=60, maximum=86400)
        self._rooms: dict[str, dict[str, Any] | None] = {}
        self._lock = threading.Lock()

    # -- RecordingStore -----------------------------------------------------------------------

    def list(self) -> list[Recording]:
        recordings = []
        for composition in self.rest.pages(
            f"{VIDEO}/Compositions", "compositions", {"PageSize": 100}, max_pages=MAX_PAGES
        ):
            status = LISTED.get(str(composition.get("status")))
            room = self._room_of(composition.get("room_sid")) if status else None
            if status and room is not None:
                recordings.append(self._recording(composition, room, status))
        return sorted(recordings, key=lambda r: r.started_at, reverse=True)

    def delete(self, recording_id: str) -> None:
        composition = self._composition(recording_id)
        if composition.get("status") == "deleted":
            raise RecordingNotFoundError(recording_id)
        try:
            self.rest.call("DELETE", f"{VIDEO}/Compositions/{recording_id}", idempotent=True)
        except TwilioApiError as error:
            if error.not_found:
                raise RecordingNotFoundError(recording_id) from None
            raise
        room_sid = str(composition["room_sid"])
        for track in self.rest.pages(
            f"{VIDEO}/Rooms/{quote(room_sid)}/Recordings", "recordings", {"PageSize": 100}
        ):
            if track.get("status") in ("deleted", "processing") or not track.get("sid"):
                continue
            try:
                self.rest.call(
                    "DELETE", f"{VIDEO}/Recordings/{quote(str(track['sid']))}", idempotent=True
                )
            except TwilioApiError as error:
                if not error.not_found:
                    raise
        log.info("Deleted recording %s (room %s) and its track recordings", recording_id, room_sid)

    # -- playback -------------------------------------------------------------------------------

    def media_location(self, recording_id: str) -> str:
        """Twilio's short-lived URL of a completed composition's mp4 (works ``MEDIA_TTL`` s)."""
        composition = self._composition(recording_id)
        if composition.get("status") != "completed":
            raise RecordingNotFoundError(recording_id)
        try:
            return self.rest.redirect_target(
                f"{VIDEO}/Compositions/{recording_id}/Media", {"Ttl": MEDIA_TTL}
            )
        except TwilioApiError as error:
            if error.not_found:
                raise RecordingNotFoundError(recording_id) from None
            raise

    # -- helpers --------------------------------------------------------------------------------

    def _composition(self, recording_id: str) -> dict[str, Any]:
        """This app's composition ``recording_id``, or ``RecordingNotFoundError``."""
        if not valid_id(recording_id):
            raise RecordingNotFoundError(recording_id)
        try:
            composition = self.rest.call(
                "GET", f"{VIDEO}/Compositions/{recording_id}", idempotent=True
            )
        except TwilioApiError as error:
            if error.not_found:
                raise RecordingNotFoundError(recording_id) from None
            raise
        if self._room_of(composition.get("room_sid")) is None:
            raise RecordingNotFoundError(recording_id)
        return composition

    def _room_of(self, room_sid: object) -> dict[str, Any] | None:
        """The room ``room_sid`` if this app created it, else None (remembered either way)."""
        if not isinstance(room_sid, str) or not ROOM_SID.fullmatch(room_sid):
            return None
        with self._lock:
            if room_sid in self._rooms:
                return self._rooms[room_sid]
        try:
            room: dict[str, Any] | None = self.rest.call(
                "GET", f"{VIDEO}/Rooms/{room_sid}", idempotent=True
            )
        except TwilioApiError as error:
            if not error.not_found:
                raise
            room = None
        if room is not None and not self._ours(room):
            room = None
        with self._lock:
            if len(self._rooms) >= MAX_CACHED_ROOMS:
                self._rooms.clear()
            self._rooms[room_sid] = room
        return room

    def _ours(self, room: dict[str, Any]) -> bool:
        name = room.get("unique_name")
        if not isinstance(name, str) or not ROOM_NAME.fullmatch(name):
            return False
        return not self.room_events_url or room.get("status_callback") == self.room_events_url

    def _recording(
        self, composition: dict[str, Any], room: dict[str, Any], status: str
    ) -> Recording:
        sid = str(composition["sid"])
        started = parse_time(room.get("date_created")) or parse_time(
            composition.get("date_created")
        )
        ready = status == "ready"
        duration = composition.get("duration")
        size = composition.get("size")
        return Recording(
            id=sid,
            title=str(room["unique_name"]),
            started_at=started.timestamp() if started else 0.0,
            duration=float(duration) if ready and isinstance(duration, int) else None,
            playback_url=(
                media_link(sid, secret=self._link_secret, ttl_seconds=self._link_ttl)
                if ready
                else None
            ),
            format="mp4",
            status=status,
            size_bytes=size if ready and isinstance(size, int) else None,
            stream_ref=str(room["unique_name"]),
        )


def create_store(settings: Settings, client: Client | None = None) -> TwilioCompositionStore:
    """The ``twilio`` recording store (``livescreen.recordings.get_store`` entry point)."""
    if client is None:
        from livescreen.runtime.twilio_client import make_twilio_client

        client = make_twilio_client(settings)
    return TwilioCompositionStore(settings, TwilioRest(client))
