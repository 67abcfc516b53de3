"""``livescreen cleanup`` for ``twilio``: Twilio Live resources and the app's Video rooms.

MediaProcessors and PlayerStreamers still ``started`` (or ``created``), and the rooms named
``livestream-*`` still in progress; composers are ended first (``sweeping.END_ORDER``).
"""

from __future__ import annotations

from urllib.parse import quote

from livescreen.providers.sweeping import (
    MEDIA_PROCESSOR,
    PLAYER_STREAMER,
    VIDEO_ROOM,
    CleanupError,
    Inventory,
    Resource,
)
from livescreen.providers.twilio.media import MEDIA, outputs_of, room_of
from livescreen.providers.twilio.rest import TwilioApiError, TwilioRest
from livescreen.providers.twilio.rooms import ROOM_PREFIX, VIDEO
from livescreen.providers.twilio.timestamps import parse_time

_PAGE_SIZE = 100


class TwilioSweeper:
    """Twilio Live (Media v1) resources and the app's Video rooms."""

    provider = "twilio"

    def __init__(self, rest: TwilioRest, *, source: str = "the environment") -> None:
        self._rest = rest
        self._source = source

    def find(self) -> Inventory:
        inventory = Inventory()
        try:
            inventory.resources += self._live_resources()
        except TwilioApiError as error:
            if not error.not_found:
                raise self._cleanup_error(error) from None
            inventory.notes.append(
                "Twilio Live is retired (Media v1 answers 404), so there can be no "
                "MediaProcessors or PlayerStreamers left running; checking Video rooms only."
            )
        try:
            inventory.resources += self._rooms()
        except TwilioApiError as error:
            raise self._cleanup_error(error) from None
        return inventory

    def end(self, resource: Resource) -> None:
        if resource.kind == VIDEO_ROOM:
            url, status = f"{VIDEO}/Rooms/{quote(resource.ident)}", "completed"
        elif resource.kind == MEDIA_PROCESSOR:
            url, status = f"{MEDIA}/MediaProcessors/{quote(resource.ident)}", "ended"
        elif resource.kind == PLAYER_STREAMER:
            url, status = f"{MEDIA}/PlayerStreamers/{quote(resource.ident)}", "ended"
        else:
            raise CleanupError(f"Twilio has no {resource.kind} to end")
        try:
            self._rest.call("POST", url, data={"Status": status}, idempotent=True)
        except TwilioApiError as error:
            # Gone, or (rooms) already completed: either way it no longer bills.
            if error.not_found or error.code == 53112:
                return
            raise self._cleanup_error(error) from None

    def _live_resources(self) -> list[Resource]:
        processors = list(
            self._rest.pages(
                f"{MEDIA}/MediaProcessors",
                "media_processors",
                {"Status": "started", "PageSize": _PAGE_SIZE},
            )
        )
        room_by_streamer = {
            sid: room_of(processor) or ""
            for processor in processors
            for sid in outputs_of(processor)
        }
        found = [
            Resource(
                MEDIA_PROCESSOR,
                str(processor["sid"]),
                str(processor.get("status") or "started"),
                parse_time(processor.get("date_created")),
                room_of(processor) or "",
            )
            for processor in processors
        ]
        for status in ("started", "created"):
            for streamer in self._rest.pages(
                f"{MEDIA}/PlayerStreamers",
                "player_streamers",
                {"Status": status, "PageSize": _PAGE_SIZE},
            ):
                sid = str(streamer["sid"])
                found.append(
                    Resource(
                        PLAYER_STREAMER,
                        sid,
                        str(streamer.get("status") or status),
                        parse_time(streamer.get("date_created")),
                        room_by_streamer.get(sid, ""),
                    )
                )
        return found

    def _rooms(self) -> list[Resource]:
        return [
            Resource(
                VIDEO_ROOM,
                str(room["sid"]),
                str(room.get("status") or "in-progress"),
                parse_time(room.get("date_created")),
                str(room.get("unique_name") or ""),
            )
            for room in self._rest.pages(
                f"{VIDEO}/Rooms", "rooms", {"Status": "in-progress", "PageSize": _PAGE_SIZE}
            )
            if str(room.get("unique_name") or "").startswith(ROOM_PREFIX)
        ]

    def _cleanup_error(self, error: TwilioApiError) -> CleanupError:
        if error.http_status == 401:
            return CleanupError(
                "Twilio rejected the credentials (HTTP 401): check ACCOUNT_SID, API_KEY_SID and "
                f"API_KEY_SECRET in {self._source}"
            )
        return CleanupError(error.message)
