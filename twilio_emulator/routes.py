"""Which operation answers which ``METHOD /domain/version/Path``.

Each operation answers the success status of Twilio's OpenAPI description (``202 Accepted`` for
Update Room and Update Participant, ``201`` for creates, ``204`` for deletes, ``200``
otherwise); lists answer in Twilio's list envelope (``paging.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from twilio_emulator.errors import ApiError, not_found
from twilio_emulator.paging import SMALL_PAGE_SIZE, list_page
from twilio_emulator.resources import MEDIA_URL, VIDEO_URL
from twilio_emulator.state import EmulatorState, Params

Handler = Callable[[EmulatorState, str, str, Params], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Route:
    template: str
    pattern: re.Pattern[str]
    handlers: dict[str, Handler]


def _rooms_list(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return list_page(state.list_rooms(params), params, "rooms", VIDEO_URL, "/Rooms")


def _rooms_create(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 201, state.create_room(params).to_json()


def _room_fetch(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 200, state.room(sid, path).to_json()


def _room_update(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 202, state.update_room(sid, path, params).to_json()


def _mp_list(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    items = state.list_media_processors(params)
    return list_page(items, params, "media_processors", MEDIA_URL, "/MediaProcessors")


def _mp_create(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 201, state.create_media_processor(params).to_json()


def _mp_fetch(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 200, state.media_processor(sid, path).to_json()


def _mp_update(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 200, state.end_media_processor(sid, path, params).to_json()


def _ps_list(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    items = state.list_player_streamers(params)
    return list_page(items, params, "player_streamers", MEDIA_URL, "/PlayerStreamers")


def _ps_create(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 201, state.create_player_streamer(params).to_json()


def _ps_fetch(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 200, state.player_streamer(sid, path).to_json()


def _ps_update(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 200, state.end_player_streamer(sid, path, params).to_json()


def _grant_create(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 201, state.create_playback_grant(sid, path, params).to_json()


def _grant_fetch(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 200, state.playback_grant(sid, path).to_json()


def _participants_list(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    room = state.room(sid, path)
    items = state.list_participants(sid, path, params)
    return list_page(items, params, "participants", VIDEO_URL, f"/Rooms/{room.sid}/Participants")


def _participant_fetch(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    room, participant = sid.split(SEPARATOR, 1)
    return 200, state.participant(room, participant, path).to_json()


def _participant_update(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    room, participant = sid.split(SEPARATOR, 1)
    return 202, state.update_participant(room, participant, path, params).to_json()


def _rules_fetch(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    room, participant = sid.split(SEPARATOR, 1)
    return 200, state.subscribe_rules(room, participant, path).rules_json()


def _rules_update(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    room, participant = sid.split(SEPARATOR, 1)
    return 200, state.update_subscribe_rules(room, participant, path, params).rules_json()


def _recording_rules_fetch(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    return 200, state.get_recording_rules(sid, path).to_json()


def _recording_rules_update(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    return 200, state.update_recording_rules(sid, path, params).to_json()


def _room_recordings_list(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    room = state.room(sid, path)
    items = state.list_room_recordings(sid, path, params)
    return list_page(items, params, "recordings", VIDEO_URL, f"/Rooms/{room.sid}/Recordings")


def _room_recording_fetch(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    room, recording = sid.split(SEPARATOR, 1)
    return 200, state.room_recording(room, recording, path).to_json()


def _recordings_list(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    items = state.list_recordings(params)
    return list_page(items, params, "recordings", VIDEO_URL, "/Recordings", SMALL_PAGE_SIZE)


def _recording_fetch(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    return 200, state.recording(sid, path).to_json()


def _recording_delete(state: EmulatorState, path: str, sid: str, params: Params) -> tuple[int, Any]:
    state.delete_recording(sid, path)
    return 204, {}


def _compositions_list(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    items = state.list_compositions(params)
    return list_page(items, params, "compositions", VIDEO_URL, "/Compositions", SMALL_PAGE_SIZE)


def _compositions_create(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    return 201, state.create_composition(params).to_json()


def _composition_fetch(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    return 200, state.composition(sid, path).to_json()


def _composition_delete(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    state.delete_composition(sid, path)
    return 204, {}


def _composition_media(
    state: EmulatorState, path: str, sid: str, params: Params
) -> tuple[int, Any]:
    """302 to a short-lived URL; the server copies ``redirect_to`` into ``Location``."""
    return 302, {"redirect_to": state.composition_media(sid, path, params)}


#: Joins a room's and a participant's path segments into one ``sid`` for the handlers above.
SEPARATOR = "\x00"


def _route(template: str, **handlers: Handler) -> Route:
    pattern = "^" + template.replace("{Sid}", "(?P<sid>[^/]+)")
    pattern = pattern.replace("{ParticipantSid}", "(?P<sub>[^/]+)") + "$"
    return Route(template, re.compile(pattern), handlers)


ROUTES = (
    _route("/video/v1/Rooms", GET=_rooms_list, POST=_rooms_create),
    _route("/video/v1/Rooms/{Sid}", GET=_room_fetch, POST=_room_update),
    _route("/video/v1/Rooms/{Sid}/Participants", GET=_participants_list),
    _route(
        "/video/v1/Rooms/{Sid}/Participants/{ParticipantSid}",
        GET=_participant_fetch,
        POST=_participant_update,
    ),
    _route(
        "/video/v1/Rooms/{Sid}/Participants/{ParticipantSid}/SubscribeRules",
        GET=_rules_fetch,
        POST=_rules_update,
    ),
    _route(
        "/video/v1/Rooms/{Sid}/RecordingRules",
        GET=_recording_rules_fetch,
        POST=_recording_rules_update,
    ),
    _route("/video/v1/Rooms/{Sid}/Recordings", GET=_room_recordings_list),
    _route("/video/v1/Rooms/{Sid}/Recordings/{ParticipantSid}", GET=_room_recording_fetch),
    _route("/video/v1/Recordings", GET=_recordings_list),
    _route("/video/v1/Recordings/{Sid}", GET=_recording_fetch, DELETE=_recording_delete),
    _route("/video/v1/Compositions", GET=_compositions_list, POST=_compositions_create),
    _route("/video/v1/Compositions/{Sid}", GET=_composition_fetch, DELETE=_composition_delete),
    _route("/video/v1/Compositions/{Sid}/Media", GET=_composition_media),
    _route("/media/v1/MediaProcessors", GET=_mp_list, POST=_mp_create),
    _route("/media/v1/MediaProcessors/{Sid}", GET=_mp_fetch, POST=_mp_update),
    _route("/media/v1/PlayerStreamers", GET=_ps_list, POST=_ps_create),
    _route("/media/v1/PlayerStreamers/{Sid}", GET=_ps_fetch, POST=_ps_update),
    _route("/media/v1/PlayerStreamers/{Sid}/PlaybackGrant", GET=_grant_fetch, POST=_grant_create),
)


def match(path: str) -> tuple[Route | None, str]:
    """The route for ``path`` (or None) and the ``{Sid}`` segment it captured."""
    for route in ROUTES:
        found = route.pattern.match(path)
        if found:
            ids = [unquote(value) for value in found.groupdict().values() if value]
            return route, SEPARATOR.join(ids)
    return None, ""


def dispatch(
    state: EmulatorState, method: str, path: str, params: Params
) -> tuple[int, dict[str, Any]]:
    """Answer one request: ``(status, json_body)``; errors are rendered as Twilio's error JSON."""
    route, sid = match(path)
    # Twilio reports paths without the domain prefix the rewriting client adds.
    public_path = "/" + path.split("/", 2)[-1] if path.count("/") >= 2 else path
    try:
        if route is None:
            raise not_found(public_path)
        handler = route.handlers.get(method)
        if handler is None:
            raise ApiError(405, 20004, f"Method {method} not allowed on {public_path}")
        with state.lock:
            state.expire()
            return handler(state, public_path, sid, params)
    except ApiError as error:
        return error.status, error.to_json()
