"""What both audiences of the ``twilio`` provider share: the host's Video room.

Every sign-in creates a group room with this app's settings (``rooms``) and signs the host an
access token for it; a room is recognised as this app's by those settings, and completing it
disconnects everyone in it. ``TwilioProvider`` (``TWILIO_AUDIENCE=live``) and, through it,
``TwilioVideoProvider`` (``video``) build the stream on top.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from livescreen.config import Settings
from livescreen.providers.base import HostGrant, ProviderError
from livescreen.providers.twilio.rest import RetryPolicy, TwilioApiError, TwilioRest
from livescreen.providers.twilio.rooms import (
    EMPTY_ROOM_TIMEOUT,
    OWN_ROOM_FIELDS,
    ROOM_NAME,
    ROOM_PREFIX,
    UNUSED_ROOM_TIMEOUT,
    VIDEO,
    callback_url,
    room_type_of,
)

if TYPE_CHECKING:
    from twilio.rest import Client

log = logging.getLogger(__name__)


class TwilioRoomProvider:
    """The host's room: created, recognised, completed. Safe to share between threads."""

    name = "twilio"

    def __init__(
        self, settings: Settings, client: Client, *, retry: RetryPolicy | None = None
    ) -> None:
        self.account_sid = settings.require("ACCOUNT_SID")
        self.api_key_sid = settings.require("API_KEY_SID")
        self._api_key_secret = settings.require("API_KEY_SECRET")
        self.room_type = room_type_of(settings)
        self.host_identity = settings["HOST_IDENTITY"]
        self.host_token_ttl = settings.get_int("HOST_TOKEN_TTL", minimum=60, maximum=86400)
        self.max_duration = settings.get_int("MAX_DURATION", minimum=60, maximum=90000)
        # The Live flow's PlaybackGrant lifetime, checked here with the others (whatever the
        # audience) so that a bad value fails at start-up, in the order the settings are read.
        self.grant_ttl = settings.get_int("PLAYBACK_GRANT_TTL", minimum=5, maximum=60)
        self.room_events_url = callback_url(settings)
        self.rest = TwilioRest(client, retry)

    # -- host ---------------------------------------------------------------------------

    def create_host_grant(self) -> HostGrant:
        from twilio.jwt.access_token import AccessToken
        from twilio.jwt.access_token.grants import VideoGrant

        room = f"{ROOM_PREFIX}{secrets.token_hex(8)}"
        data = {"UniqueName": room, "Type": self.room_type, **self._room_settings()}
        try:
            created = self.rest.call("POST", f"{VIDEO}/Rooms", data=data, idempotent=False)
        except TwilioApiError as error:
            if error.maybe_done:
                # The room may exist although the answer was lost: we know its name, close it.
                self._complete_room_quietly(room)
            raise
        self._room_created(created)
        token = AccessToken(
            self.account_sid,
            self.api_key_sid,
            self._api_key_secret,
            identity=self.host_identity,
            ttl=self.host_token_ttl,
            grants=[VideoGrant(room=room)],
        )
        return HostGrant(room=room, token=token.to_jwt())

    def _room_settings(self) -> dict[str, str]:
        """The Create Room parameters of every room of this app, besides its name and type."""
        # A room disconnects its participants after MaxParticipantDuration (default 4 h, at
        # most 24 h): keep the host (and the composer) in it for as long as the stream may run.
        participant_seconds = min(max(self.max_duration, 600), 86400)
        data = {
            "MaxParticipantDuration": str(participant_seconds),
            "UnusedRoomTimeout": str(UNUSED_ROOM_TIMEOUT),
            "EmptyRoomTimeout": str(EMPTY_ROOM_TIMEOUT),
            **self._room_limits(),
        }
        if self.room_events_url:
            # Twilio reports the host leaving: the stream stops even if the page never says so.
            data.update(StatusCallback=self.room_events_url, StatusCallbackMethod="POST")
        return data

    def _is_own_room(self, room: dict[str, Any]) -> bool:
        """Whether a Room resource is one ``/host_token`` created: named as this app names rooms,
        and carrying the room events URL (when set), timeouts and ``MaxParticipants`` it was
        created with.

        Where the account has Twilio's client-side ("ad-hoc") room creation on (a Video
        setting in the Console), a client's ``connect()`` to a name with no room in progress
        (ours ended unused) makes a new room of that name with the account's defaults: no status
        callback, 5-minute timeouts, the largest ``MaxParticipants``. Such a room is not
        this app's: nothing reports on it, and viewers in it would be unchecked.
        """
        name = room.get("unique_name")
        if not isinstance(name, str) or not ROOM_NAME.fullmatch(name):
            return False
        settings = self._room_settings()
        return all(
            str(room.get(field)) == settings[param]
            for param, field in OWN_ROOM_FIELDS.items()
            if param in settings
        )

    def _room_limits(self) -> dict[str, str]:
        """Extra Create Room parameters (none here: the composer and the host)."""
        return {}

    def _room_created(self, room: dict[str, Any]) -> None:
        """Called with Twilio's answer once the host's room exists, before the host joins."""

    # -- Twilio calls ---------------------------------------------------------------------

    def _require_room_in_progress(self, room: str) -> None:
        try:
            answer = self.rest.call("GET", f"{VIDEO}/Rooms/{quote(room)}", idempotent=True)
        except TwilioApiError as error:
            if not error.not_found:
                raise
            answer = {}
        if answer.get("status") != "in-progress":
            raise ProviderError(
                f"The room {room} has ended; go live again to get a new room", status=409
            )

    def _complete_room_quietly(self, room: str) -> None:
        try:
            self._complete_room(room)
        except ProviderError:
            log.error("Could not complete room %s: end it with `livescreen cleanup`", room)

    def _complete_room(self, room: str) -> None:
        try:
            self.rest.call(
                "POST",
                f"{VIDEO}/Rooms/{quote(room)}",
                data={"Status": "completed"},
                idempotent=True,
            )
        except TwilioApiError as error:
            if not (error.not_found or error.code == 53112):  # gone or already completed
                raise
