"""Compositions: one media file made from a room's track recordings (Compositions API).

What Twilio documents (https://www.twilio.com/docs/video/api/compositions-resource):

- ``POST /v1/Compositions`` needs ``RoomSid`` and either ``VideoLayout`` or ``AudioSources``;
  ``Format`` is ``mp4`` or ``webm`` (default ``webm``), ``Resolution`` ``{w}x{h}`` within
  16..1280 each and at most 921,600 pixels (default ``640x480``), ``Trim`` defaults to true;
  a well-formed request is answered 201 as soon as the room exists, and processing starts
  only once the room is completed;
- statuses: ``enqueued`` -> ``processing`` -> ``completed`` (or ``failed``); ``DELETE``
  removes the media and sets ``deleted``, and the record stays readable;
- ``GET /v1/Compositions/{Sid}/Media`` redirects (302, ``Location``, and ``redirect_to`` in
  the body) to a URL that works for ``Ttl`` seconds (1..3600, default 600); 404 while the
  composition is not available.

Time: a composition whose room is completed moves one status further each time it is read
(``auto_compose``, the default), or only when a test calls ``advance_compositions``.
The media URL points at this emulator (``/composition-media/...``), signed and expiring.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

from twilio_emulator.errors import ApiError, invalid, missing, not_found
from twilio_emulator.params import (
    VIDEO_CALLBACK_METHODS,
    Params,
    boolean,
    choice,
    status_callback,
)
from twilio_emulator.recording_resources import Composition, TrackRecording
from twilio_emulator.resources import Room, iso, new_sid

COMPOSITION_STATUSES = ("enqueued", "processing", "completed", "deleted", "failed")
COMPOSITION_FORMATS = ("mp4", "webm")
COMPOSITION_CREATE_PARAMS = frozenset(
    {
        "RoomSid",
        "VideoLayout",
        "AudioSources",
        "AudioSourcesExcluded",
        "Resolution",
        "Format",
        "StatusCallback",
        "StatusCallbackMethod",
        "Trim",
    }
)
COMPOSITION_LIST_PARAMS = frozenset(
    {"Status", "RoomSid", "DateCreatedAfter", "DateCreatedBefore", "PageSize", "Page", "PageToken"}
)
REGION_KEYS = frozenset(
    {
        "x_pos",
        "y_pos",
        "z_pos",
        "width",
        "height",
        "max_columns",
        "max_rows",
        "cells_excluded",
        "reuse",
        "video_sources",
        "video_sources_excluded",
    }
)
ROOM_SID = re.compile(r"RM[0-9a-fA-F]{32}")
RESOLUTION = re.compile(r"(\d{1,4})x(\d{1,4})")
DEFAULT_MEDIA_TTL = 600
MAX_MEDIA_TTL = 3600
#: Where the signed media URLs point (``EmulatorServer`` serves it).
MEDIA_PATH = "/composition-media/"
#: The bytes a composed file holds here: an MP4 ``ftyp`` box, enough for a content check.
MEDIA_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 1000


def _resolution(params: Params) -> str:
    value = params.get("Resolution") or "640x480"
    found = RESOLUTION.fullmatch(value)
    if found is None:
        raise invalid("Resolution", value)
    width, height = int(found.group(1)), int(found.group(2))
    if not (16 <= width <= 1280 and 16 <= height <= 1280 and width * height <= 921_600):
        raise invalid("Resolution", value)
    return value


def _video_layout(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        layout = json.loads(raw)
    except ValueError:
        raise ApiError(400, 20001, "VideoLayout must be a JSON object") from None
    if not isinstance(layout, dict) or not layout:
        raise ApiError(400, 20001, "VideoLayout must be a JSON object with at least one region")
    for name, region in layout.items():
        if not isinstance(region, dict):
            raise ApiError(400, 20001, f"VideoLayout region {name!r} must be a JSON object")
        unknown = set(region) - REGION_KEYS
        if unknown:
            raise ApiError(400, 20001, f"VideoLayout: unknown region property {sorted(unknown)[0]}")
        sources = region.get("video_sources")
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            raise ApiError(400, 20001, f"VideoLayout region {name!r} needs video_sources")
    return layout


class CompositionsMixin:
    """The composition half of ``EmulatorState`` (which supplies these attributes)."""

    account_sid: str
    lock: threading.RLock
    rooms: dict[str, Room]
    clock: Callable[[], float]
    compositions: dict[str, Composition]
    auto_compose: bool
    media_base: str
    media_key: bytes

    def room_recordings(self, room_sid: str) -> list[TrackRecording]:  # pragma: no cover
        raise NotImplementedError

    # -- the REST API ------------------------------------------------------------------------

    def create_composition(self, params: Params) -> Composition:
        unknown = set(params) - COMPOSITION_CREATE_PARAMS
        if unknown:
            raise ApiError(400, 20001, f"Unknown parameter {sorted(unknown)[0]}")
        room_sid = params.get("RoomSid")
        if not room_sid:
            raise missing("RoomSid")
        room = self.rooms.get(room_sid) if ROOM_SID.fullmatch(room_sid) else None
        if room is None or not room.type.startswith("group"):
            raise invalid("RoomSid", room_sid)
        layout = _video_layout(params.get("VideoLayout"))
        audio = params.get("AudioSources")
        if not layout and not audio:
            raise ApiError(400, 20001, "Either VideoLayout or AudioSources must be provided")
        fmt = choice(params, "Format", COMPOSITION_FORMATS, "webm") or "webm"
        callback, method = status_callback(params, VIDEO_CALLBACK_METHODS)
        composition = Composition(
            sid=new_sid("CJ"),
            account_sid=self.account_sid,
            room_sid=room.sid,
            created=self.clock(),
            format=fmt,
            resolution=_resolution(params),
            trim=boolean(params, "Trim", default=True),
            audio_sources=[audio] if audio else [],
            video_layout=layout,
            status_callback=callback,
            status_callback_method=method,
        )
        self.compositions[composition.sid] = composition
        return composition

    def composition(self, sid: str, path: str) -> Composition:
        composition = self.compositions.get(sid)
        if composition is None:
            raise not_found(path)
        if self.auto_compose:
            self._advance(composition)
        return composition

    def list_compositions(self, params: Params) -> list[Composition]:
        unknown = set(params) - COMPOSITION_LIST_PARAMS
        if unknown:
            raise ApiError(400, 20001, f"Unknown parameter {sorted(unknown)[0]}")
        status = params.get("Status") or None
        if status is not None and status not in COMPOSITION_STATUSES:
            raise invalid("Status", status, COMPOSITION_STATUSES)
        room_sid = params.get("RoomSid") or None
        after = params.get("DateCreatedAfter") or None
        before = params.get("DateCreatedBefore") or None
        if self.auto_compose:
            for composition in self.compositions.values():
                if room_sid in (None, composition.room_sid):
                    self._advance(composition)
        found = [
            c
            for c in self.compositions.values()
            if status in (None, c.status)
            and room_sid in (None, c.room_sid)
            and (after is None or (iso(c.created) or "") >= after)
            and (before is None or (iso(c.created) or "") < before)
        ]
        return sorted(found, key=lambda c: (c.created, c.sid), reverse=True)

    def delete_composition(self, sid: str, path: str) -> None:
        composition = self.compositions.get(sid)
        if composition is None:
            raise not_found(path)
        if composition.status != "deleted":
            composition.status = "deleted"
            composition.deleted = self.clock()

    def composition_media(self, sid: str, path: str, params: Params) -> str:
        """The short-lived URL ``GET .../Media`` redirects to."""
        unknown = set(params) - {"Ttl", "ContentDisposition"}
        if unknown:
            raise ApiError(400, 20001, f"Unknown parameter {sorted(unknown)[0]}")
        raw = params.get("Ttl") or str(DEFAULT_MEDIA_TTL)
        try:
            ttl = int(raw)
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= MAX_MEDIA_TTL:
            raise ApiError(400, 20001, f"Ttl must be an integer between 1 and 3600, got {raw!r}")
        composition = self.composition(sid, path)
        if composition.status != "completed":
            raise not_found(path)
        expires = int(self.clock()) + ttl
        name = f"{sid}.{composition.format}"
        query = urlencode({"Expires": expires, "Signature": self._media_signature(name, expires)})
        return f"{self.media_base}{MEDIA_PATH}{name}?{query}"

    def media_file(self, path: str, query: str) -> bytes | None:
        """The bytes at a signed media URL, or None when it is unknown, forged or expired."""
        name = path[len(MEDIA_PATH) :] if path.startswith(MEDIA_PATH) else ""
        values = parse_qs(query)
        try:
            expires = int(values["Expires"][-1])
            signature = values["Signature"][-1]
        except (KeyError, ValueError, IndexError):
            return None
        if not hmac.compare_digest(self._media_signature(name, expires), signature):
            return None
        with self.lock:
            composition = self.compositions.get(name.partition(".")[0])
            if expires < self.clock() or composition is None or composition.status != "completed":
                return None
        return MEDIA_BYTES

    # -- time ----------------------------------------------------------------------------------

    def advance_compositions(self) -> None:
        """Move every composition whose room is completed one status further."""
        with self.lock:
            for composition in self.compositions.values():
                self._advance(composition)

    def _advance(self, composition: Composition) -> None:
        room = self.rooms.get(composition.room_sid)
        if room is None or room.status != "completed":
            return
        if composition.status == "enqueued":
            composition.status = "processing"
        elif composition.status == "processing":
            sources = [r for r in self.room_recordings(room.sid) if r.status == "completed"]
            composition.completed = self.clock()
            if not sources:
                composition.status = "failed"
                return
            composition.status = "completed"
            start = min(r.created for r in sources)
            end = max(r.ended or r.created for r in sources)
            composition.duration = max(int(end - start), 1)
            composition.size = len(MEDIA_BYTES)

    def _media_signature(self, name: str, expires: int) -> str:
        message = f"{name}:{expires}".encode()
        return hmac.new(self.media_key, message, hashlib.sha256).hexdigest()


def new_media_key() -> bytes:
    return secrets.token_bytes(32)
