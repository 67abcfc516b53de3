"""Twilio Live's Media v1 resources as this app makes them, and the calls that end them.

A MediaProcessor running the ``video-composer-v1`` extension joins a Video room and renders it
into PlayerStreamers; its extension context (JSON) names the room, the identity it joins with
(which names the app that started it) and those outputs. The Live provider and
``livescreen cleanup`` read them back with ``room_of``, ``composer_of`` and ``outputs_of``.
``LiveMedia`` makes the Live provider's Media v1 calls: a 404 on a collection means Twilio
Live is gone (``ProviderUnavailableError``), and what a failed start leaves is ended quietly.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from livescreen.providers.base import ProviderError, ProviderUnavailableError
from livescreen.providers.twilio.rest import TwilioApiError, TwilioRest
from livescreen.providers.twilio.timestamps import parse_time

log = logging.getLogger(__name__)

MEDIA = "https://media.twilio.com/v1"
EXTENSION = "video-composer-v1"
COMPOSER_IDENTITY = "live-stream"
RESOLUTION = "1280x720"

RETIRED_MESSAGE = (
    "The 'twilio' provider cannot stream: Twilio retired Twilio Live (MediaProcessor, "
    "PlayerStreamer, PlaybackGrant) on 2023-11-30 and its API now answers 404. "
    "Set STREAM_PROVIDER=ivs to stream with Amazon IVS, or STREAM_PROVIDER=local for "
    "development on one machine."
)


def room_of(processor: dict[str, Any]) -> str | None:
    """The Video room name in a MediaProcessor's extension context, if any."""
    try:
        context = json.loads(processor.get("extension_context") or "{}")
    except ValueError:
        return None
    room = context.get("room") if isinstance(context, dict) else None
    name = room.get("name") if isinstance(room, dict) else None
    return name if isinstance(name, str) else None


def composer_of(processor: dict[str, Any]) -> str | None:
    """The identity the composer joins its room with (it names the app that started it)."""
    try:
        context = json.loads(processor.get("extension_context") or "{}")
    except ValueError:
        return None
    identity = context.get("identity") if isinstance(context, dict) else None
    return identity if isinstance(identity, str) else None


def outputs_of(processor: dict[str, Any]) -> list[str]:
    """The PlayerStreamer SIDs a MediaProcessor renders into."""
    try:
        context = json.loads(processor.get("extension_context") or "{}")
    except ValueError:
        return []
    outputs = context.get("outputs") if isinstance(context, dict) else None
    return [sid for sid in outputs or [] if isinstance(sid, str)]


class LiveMedia:
    """Media v1 calls over the provider's REST layer (its retries and error mapping)."""

    def __init__(self, rest: TwilioRest) -> None:
        self._rest = rest

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        idempotent: bool,
    ) -> dict[str, Any]:
        """A Media v1 call; a 404 on a collection means Twilio Live is gone."""
        try:
            return self._rest.call(
                method, f"{MEDIA}{path}", params=params, data=data, idempotent=idempotent
            )
        except TwilioApiError as error:
            if error.not_found and path.count("/") == 1:
                raise ProviderUnavailableError(RETIRED_MESSAGE) from None
            raise

    def processors_for(self, room: str) -> list[dict[str, Any]]:
        try:
            found = self._rest.pages(
                f"{MEDIA}/MediaProcessors",
                "media_processors",
                {"Status": "started", "PageSize": 100},
            )
            return [p for p in found if room_of(p) == room]
        except TwilioApiError as error:
            if error.not_found:
                raise ProviderUnavailableError(RETIRED_MESSAGE) from None
            raise

    def end(self, collection: str, sid: str) -> None:
        try:
            self.call("POST", f"/{collection}/{sid}", data={"Status": "ended"}, idempotent=True)
        except TwilioApiError as error:
            if not error.not_found:
                raise

    def end_quietly(self, collection: str, sid: str) -> None:
        try:
            self.end(collection, sid)
        except ProviderError:
            log.error("Could not end %s %s: end it with `livescreen cleanup`", collection, sid)

    def end_processor_quietly(self, processor: dict[str, Any]) -> None:
        for streamer_sid in outputs_of(processor):
            self.end_quietly("PlayerStreamers", streamer_sid)
        self.end_quietly("MediaProcessors", str(processor["sid"]))

    def end_room_processors_quietly(self, room: str) -> None:
        try:
            processors = self.processors_for(room)
        except ProviderError:
            log.error("Could not check room %s for a composer: run `livescreen cleanup`", room)
            return
        for processor in processors:
            self.end_processor_quietly(processor)

    def end_unclaimed_streamers(self, *, since: float) -> None:
        """End PlayerStreamers created since ``since`` that no composer outputs to yet.

        A create whose answer was lost leaves a PlayerStreamer we never learnt the SID of; it
        is one of the ``created`` ones (a composer's output is ``started``). Twilio's
        timestamps are whole seconds, hence the one-second margin.
        """
        try:
            for streamer in self._rest.pages(
                f"{MEDIA}/PlayerStreamers",
                "player_streamers",
                {"Status": "created", "PageSize": 50},
                max_pages=1,
            ):
                created = parse_time(streamer.get("date_created"))
                if created is not None and created.timestamp() >= math.floor(since) - 1:
                    self.end_quietly("PlayerStreamers", str(streamer["sid"]))
        except ProviderError:
            log.error("Could not look for a PlayerStreamer left behind: run `livescreen cleanup`")
