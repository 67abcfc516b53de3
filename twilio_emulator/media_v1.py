"""Twilio's (retired) Media v1 API: MediaProcessors, PlayerStreamers and PlaybackGrants.

A MediaProcessor runs an extension (``video-composer-v1``...) that joins a room and feeds the
PlayerStreamers listed in its ``ExtensionContext.outputs``; a PlayerStreamer hands out
short-lived PlaybackGrants while started. Each ends through the API (``Status=ended``) or on
its ``MaxDuration`` (``expire_media``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from twilio_emulator.errors import ApiError, invalid, missing, not_found
from twilio_emulator.params import (
    MEDIA_CALLBACK_METHODS,
    Params,
    choice,
    integer,
    json_object,
    status_callback,
)
from twilio_emulator.resources import (
    ACTIVE,
    MediaProcessor,
    PlaybackGrant,
    PlayerStreamer,
    Room,
    new_sid,
)

PROCESSOR_STATUSES = ("started", "ended", "failed")
STREAMER_STATUSES = ("created", "started", "ended", "failed")
EXTENSIONS = ("video-composer-v1", "video-composer-v2", "audio-mixer-v1")
DEFAULT_MAX_DURATION = 300
MAX_MAX_DURATION = 90000
DEFAULT_GRANT_TTL = 15
MAX_GRANT_TTL = 60


class MediaMixin:
    """The Media v1 half of ``EmulatorState`` (which supplies these attributes)."""

    account_sid: str
    clock: Callable[[], float]
    media_processors: dict[str, MediaProcessor]
    player_streamers: dict[str, PlayerStreamer]

    if TYPE_CHECKING:  # supplied by the room half of the state

        def _room_in_progress(self, name: str) -> Room | None:
            pass

    def expire_media(self, now: float) -> None:
        """End every MediaProcessor/PlayerStreamer whose MaxDuration has run out by ``now``."""
        resources: list[MediaProcessor | PlayerStreamer] = [
            *self.media_processors.values(),
            *self.player_streamers.values(),
        ]
        for resource in resources:
            deadline = resource.created + resource.max_duration
            if resource.status in ACTIVE and now >= deadline:
                resource.status = "ended"
                resource.ended_reason = "max-duration-exceeded"
                resource.updated = deadline

    # -- MediaProcessors ------------------------------------------------------------------

    def create_media_processor(self, params: Params) -> MediaProcessor:
        extension = params.get("Extension")
        if not extension:
            raise missing("Extension")
        if extension not in EXTENSIONS and urlparse(extension).scheme != "https":
            raise invalid("Extension", extension, EXTENSIONS)
        context = json_object(params, "ExtensionContext")
        if params.get("ExtensionEnvironment"):
            json_object(params, "ExtensionEnvironment")
        max_duration = integer(params, "MaxDuration", DEFAULT_MAX_DURATION, 1, MAX_MAX_DURATION)
        callback, callback_method = status_callback(params, MEDIA_CALLBACK_METHODS)
        outputs = self._outputs(extension, context)
        now = self.clock()
        processor = MediaProcessor(
            sid=new_sid("ZX"),
            account_sid=self.account_sid,
            extension=extension,
            extension_context=params["ExtensionContext"],
            created=now,
            updated=now,
            max_duration=max_duration,
            status_callback=callback,
            status_callback_method=callback_method,
            outputs=outputs,
        )
        room = context.get("room")
        room_name = room.get("name") if isinstance(room, dict) else None
        if extension.startswith("video-composer") and (
            not isinstance(room_name, str) or self._room_in_progress(room_name) is None
        ):
            # Twilio accepts the request; the extension then fails to join the room.
            processor.status = "failed"
            processor.ended_reason = "error-loading-extension"
        else:
            for sid in outputs:
                streamer = self.player_streamers[sid]
                streamer.status = "started"
                streamer.updated = now
        self.media_processors[processor.sid] = processor
        return processor

    def _outputs(self, extension: str, context: Mapping[str, Any]) -> tuple[str, ...]:
        if not extension.startswith(("video-composer", "audio-mixer")):
            return ()
        outputs = context.get("outputs")
        if not isinstance(outputs, list) or not outputs:
            raise ApiError(400, 20001, "ExtensionContext.outputs must list PlayerStreamer SIDs")
        for sid in outputs:
            streamer = self.player_streamers.get(sid) if isinstance(sid, str) else None
            if streamer is None or streamer.status not in ACTIVE:
                raise ApiError(400, 20001, f"ExtensionContext.outputs: {sid!r} is not active")
        return tuple(outputs)

    def media_processor(self, sid: str, path: str) -> MediaProcessor:
        processor = self.media_processors.get(sid)
        if processor is None:
            raise not_found(path)
        return processor

    def list_media_processors(self, params: Params) -> list[MediaProcessor]:
        status = choice(params, "Status", PROCESSOR_STATUSES, None)
        found = [p for p in self.media_processors.values() if status in (None, p.status)]
        return _ordered(found, params)

    def end_media_processor(self, sid: str, path: str, params: Params) -> MediaProcessor:
        processor = self.media_processor(sid, path)
        _require_ended(params)
        if processor.status in ACTIVE:
            processor.status = "ended"
            processor.ended_reason = "ended-via-api"
            processor.updated = self.clock()
        return processor

    # -- PlayerStreamers ------------------------------------------------------------------

    def create_player_streamer(self, params: Params) -> PlayerStreamer:
        video = choice(params, "Video", ("true", "false", "True", "False"), "true") or "true"
        max_duration = integer(params, "MaxDuration", DEFAULT_MAX_DURATION, 1, MAX_MAX_DURATION)
        callback, callback_method = status_callback(params, MEDIA_CALLBACK_METHODS)
        now = self.clock()
        streamer = PlayerStreamer(
            sid=new_sid("VJ"),
            account_sid=self.account_sid,
            created=now,
            updated=now,
            max_duration=max_duration,
            video=video.lower() == "true",
            status_callback=callback,
            status_callback_method=callback_method,
        )
        self.player_streamers[streamer.sid] = streamer
        return streamer

    def player_streamer(self, sid: str, path: str) -> PlayerStreamer:
        streamer = self.player_streamers.get(sid)
        if streamer is None:
            raise not_found(path)
        return streamer

    def list_player_streamers(self, params: Params) -> list[PlayerStreamer]:
        status = choice(params, "Status", STREAMER_STATUSES, None)
        found = [s for s in self.player_streamers.values() if status in (None, s.status)]
        return _ordered(found, params)

    def end_player_streamer(self, sid: str, path: str, params: Params) -> PlayerStreamer:
        streamer = self.player_streamer(sid, path)
        _require_ended(params)
        if streamer.status in ACTIVE:
            streamer.status = "ended"
            streamer.ended_reason = "ended-via-api"
            streamer.updated = self.clock()
        return streamer

    def create_playback_grant(self, sid: str, path: str, params: Params) -> PlaybackGrant:
        streamer = self.player_streamer(sid, path)
        ttl = integer(params, "Ttl", DEFAULT_GRANT_TTL, 1, MAX_GRANT_TTL)
        origin = params.get("AccessControlAllowOrigin") or None
        if streamer.status != "started":
            raise ApiError(400, 20001, f"PlayerStreamer {sid} is {streamer.status}, not started")
        now = self.clock()
        grant = PlaybackGrant(
            player_streamer_sid=sid,
            account_sid=self.account_sid,
            created=now,
            expires=now + ttl,
            grant={
                "requestCredentials": None,
                "playbackUrl": f"https://live.emulator.invalid/{sid}/{new_sid('')}.m3u8",
                "playerStreamerSid": sid,
                "accessControlAllowOrigin": origin,
            },
        )
        streamer.grants.append(grant)
        return grant

    def playback_grant(self, sid: str, path: str) -> PlaybackGrant:
        streamer = self.player_streamer(sid, path)
        if not streamer.grants:
            raise not_found(path)
        return streamer.grants[-1]


def _require_ended(params: Params) -> None:
    status = params.get("Status")
    if not status:
        raise missing("Status")
    if status != "ended":
        raise invalid("Status", status, ("ended",))


def _ordered(resources: list[Any], params: Params) -> list[Any]:
    order = choice(params, "Order", ("asc", "desc"), "desc")
    return sorted(resources, key=lambda r: (r.created, r.sid), reverse=order == "desc")
