"""Recording a ``twilio`` room: only the host's tracks, then one mp4 Composition when it ends.

With ``RECORDING=on`` and ``TWILIO_AUDIENCE=video``:

- every room is created with ``RecordParticipantsOnConnect=false`` (whatever the account's
  default room settings say), so the set of recorded tracks starts empty; before the host
  token is handed out, the room's Recording Rules become "include the tracks published by
  ``HOST_IDENTITY``", so no viewer is ever recorded;
- when the room ends (``stream_stop``, or Twilio's ``room-ended`` callback) one Composition of
  the room is made: mp4, 1280x720, every recorded track (the host's alone).

Compositions cost money per composed minute, so there is never more than one per room: an
existing one is looked for first, and when two containers create one at the same moment each
lists them again and deletes all but the oldest. A failure here never breaks ending the room:
the room is completed first, and what fails is logged.

With ``RECORDING=off`` rooms are still created with ``RecordParticipantsOnConnect=false`` and
nothing else is called: no rules, no recordings, no composition.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any
from urllib.parse import quote

from livescreen.errors import ProviderError
from livescreen.providers.twilio.rest import TwilioApiError, TwilioRest

log = logging.getLogger(__name__)

VIDEO = "https://video.twilio.com/v1"
RESOLUTION = "1280x720"
#: Every recorded track (only the host's are) fills the frame; every recorded audio is mixed.
VIDEO_LAYOUT = {"host": {"video_sources": ["*"]}}


def host_rules(host_identity: str) -> list[dict[str, Any]]:
    """The recording rules of every room: the host's audio and video tracks, nothing else."""
    return [{"type": "include", "publisher": host_identity}]


def composition_params(room_sid: str) -> dict[str, str]:
    return {
        "RoomSid": room_sid,
        "AudioSources": "*",
        "VideoLayout": json.dumps(VIDEO_LAYOUT),
        "Format": "mp4",
        "Resolution": RESOLUTION,
        "Trim": "true",
    }


class RoomRecorder:
    """Sets a room's recording rules and composes it once it has ended."""

    def __init__(self, rest: TwilioRest, host_identity: str, *, enabled: bool) -> None:
        self.rest = rest
        self.host_identity = host_identity
        self.enabled = enabled
        self._lock = threading.Lock()

    @staticmethod
    def room_params() -> dict[str, str]:
        """Create Room parameters: nobody is recorded until rules say so."""
        return {"RecordParticipantsOnConnect": "false"}

    def record_host(self, room_sid: str) -> bool:
        """Record the host's tracks of ``room_sid`` only; False (logged) when Twilio refused.

        A room whose rules could not be set records nothing (its set starts empty): the stream
        goes on, unrecorded.
        """
        if not self.enabled:
            return False
        try:
            self.rest.call(
                "POST",
                f"{VIDEO}/Rooms/{quote(room_sid)}/RecordingRules",
                data={"Rules": json.dumps(host_rules(self.host_identity))},
                idempotent=True,
            )
        except ProviderError as error:
            log.error("Room %s will not be recorded: %s", room_sid, error.message)
            return False
        return True

    def compose_quietly(self, room_sid: str) -> str | None:
        """``compose``, logging instead of raising: ending a room never fails because of it."""
        if not self.enabled:
            return None
        try:
            return self.compose(room_sid)
        except ProviderError as error:
            log.error(
                "Could not compose the recording of room %s: %s. Create it with "
                "POST /v1/Compositions (RoomSid=%s) once Twilio is reachable.",
                room_sid,
                error.message,
                room_sid,
            )
            return None

    def compose(self, room_sid: str) -> str | None:
        """The SID of the room's one Composition, created if there is none; None when the room
        recorded nothing. Idempotent; call it once the room is completed."""
        with self._lock:  # one at a time in this process; other containers: see below
            existing = self._compositions(room_sid)
            if existing:
                remaining = [c for c in existing if c.get("status") != "deleted"] or existing
                return str(remaining[0]["sid"])
            if not self._has_recordings(room_sid):
                log.info("Room %s recorded nothing: no composition", room_sid)
                return None
            try:
                created = self.rest.call(
                    "POST",
                    f"{VIDEO}/Compositions",
                    data=composition_params(room_sid),
                    idempotent=False,
                )
            except TwilioApiError as error:
                if not error.maybe_done:
                    raise
                created = {}  # it may exist: the list below finds it
            kept = self._keep_one(room_sid)
            sid = kept or created.get("sid")
            if sid:
                log.info("Composing the recording of room %s as %s", room_sid, sid)
            return str(sid) if sid else None

    def _keep_one(self, room_sid: str) -> str | None:
        """Delete all but the oldest composition of the room; the one kept (or None)."""
        found = self._compositions(room_sid)
        for extra in found[1:]:
            log.warning("Room %s had a second composition %s: deleting it", room_sid, extra["sid"])
            try:
                self.rest.call(
                    "DELETE", f"{VIDEO}/Compositions/{quote(str(extra['sid']))}", idempotent=True
                )
            except TwilioApiError as error:
                if not error.not_found:
                    raise
        return str(found[0]["sid"]) if found else None

    def _compositions(self, room_sid: str) -> list[dict[str, Any]]:
        """The room's compositions in any status (a deleted one counts: never make another),
        oldest first."""
        found = list(
            self.rest.pages(
                f"{VIDEO}/Compositions", "compositions", {"RoomSid": room_sid, "PageSize": 50}
            )
        )
        return sorted(found, key=lambda c: (str(c.get("date_created") or ""), str(c.get("sid"))))

    def _has_recordings(self, room_sid: str) -> bool:
        page = self.rest.call(
            "GET",
            f"{VIDEO}/Rooms/{quote(room_sid)}/Recordings",
            params={"PageSize": 1},
            idempotent=True,
        )
        return bool(page.get("recordings"))
