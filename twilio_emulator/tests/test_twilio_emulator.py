"""The Twilio emulator enforces what Twilio enforces, over real HTTP.

A fake is only worth having if it refuses what the real service refuses: these tests pin the
rules the ``twilio`` provider relies on (auth, required parameters, enums, limits, error JSON,
status transitions, the retirement switch).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

import pytest
import requests
from twilio_clock import FakeClock

from livescreen.config import Settings
from twilio_emulator import EmulatorServer


class Api:
    """Requests to one emulator, authenticated with an API key unless told otherwise."""

    def __init__(self, emulator: EmulatorServer, auth: tuple[str, str]) -> None:
        self.emulator = emulator
        self.auth = auth

    def call(
        self,
        method: str,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        params: dict[str, Any] | None = None,
        auth: tuple[str, str] | Literal["api-key"] | None = "api-key",
    ) -> requests.Response:
        return requests.request(
            method,
            self.emulator.base_url + path,
            data=data,
            params=params,
            auth=self.auth if isinstance(auth, str) else auth,
            timeout=5,
        )

    def post(self, path: str, data: dict[str, Any] | None = None) -> requests.Response:
        return self.call("POST", path, data)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, params=params)

    def start_stream(self, room: str, **extra: Any) -> tuple[str, str]:
        """Room + PlayerStreamer + MediaProcessor, as the provider makes them: (VJ..., ZX...)."""
        self.post("/video/v1/Rooms", {"UniqueName": room})
        streamer = self.post("/media/v1/PlayerStreamers", extra).json()["sid"]
        processor = self.post("/media/v1/MediaProcessors", composer(room, streamer, **extra))
        return streamer, processor.json()["sid"]


def composer(room: str, *outputs: str, **extra: Any) -> dict[str, Any]:
    context = {"room": {"name": room}, "identity": "live-stream", "outputs": list(outputs)}
    return {"Extension": "video-composer-v1", "ExtensionContext": json.dumps(context), **extra}


def key_auth(settings: Settings) -> tuple[str, str]:
    return settings["API_KEY_SID"], settings["API_KEY_SECRET"]


@pytest.fixture
def api(emulator: EmulatorServer, twilio_settings: Settings) -> Api:
    return Api(emulator, key_auth(twilio_settings))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked(clock: FakeClock, twilio_settings: Settings) -> Iterator[Api]:
    """An emulator whose time only moves when the test moves ``clock``."""
    sid, secret = key_auth(twilio_settings)
    server = EmulatorServer(
        account_sid=twilio_settings["ACCOUNT_SID"], api_keys={sid: secret}, clock=clock
    ).start()
    yield Api(server, (sid, secret))
    server.stop()


# -- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    ["none", "wrong-secret", "secret-of-another-user", "unknown-key"],
)
def test_requests_without_valid_basic_auth_get_401(
    api: Api, twilio_settings: Settings, credentials: str
) -> None:
    sid, secret = key_auth(twilio_settings)
    auth = {
        "none": None,
        "wrong-secret": (sid, "wrong-secret"),
        "secret-of-another-user": (twilio_settings["ACCOUNT_SID"], secret),
        "unknown-key": ("SK" + "9" * 32, secret),
    }[credentials]
    # GIVEN missing or wrong credentials WHEN creating a room
    response = api.call("POST", "/video/v1/Rooms", {"UniqueName": "r"}, auth=auth)
    # THEN Twilio's 401 answers and no room exists
    assert response.status_code == 401
    assert response.json()["code"] == 20003
    assert api.emulator.state.rooms == {}


def test_api_key_or_account_token_authenticate(api: Api, twilio_settings: Settings) -> None:
    token_auth = (twilio_settings["ACCOUNT_SID"], twilio_settings["AUTH_TOKEN"])
    for auth in (api.auth, token_auth):
        response = api.call("POST", "/video/v1/Rooms", {"Type": "group"}, auth=auth)
        assert response.status_code == 201
        assert response.json()["account_sid"] == twilio_settings["ACCOUNT_SID"]


# -- Video rooms ------------------------------------------------------------------------------


def test_room_is_created_in_progress_as_a_group_room_by_default(api: Api) -> None:
    room = api.post("/video/v1/Rooms", {"UniqueName": "studio"}).json()
    assert room["sid"].startswith("RM") and len(room["sid"]) == 34
    assert (room["unique_name"], room["status"], room["type"]) == ("studio", "in-progress", "group")
    # AND it can be fetched by name while in progress
    assert api.get("/video/v1/Rooms/studio").json()["sid"] == room["sid"]


def test_room_type_outside_the_enum_is_refused(api: Api) -> None:
    response = api.post("/video/v1/Rooms", {"UniqueName": "r", "Type": "huge"})
    assert response.status_code == 400
    assert response.json()["code"] == 53108


def test_go_rooms_are_refused_for_new_accounts(api: Api) -> None:
    api.emulator.state.new_account = True
    response = api.post("/video/v1/Rooms", {"UniqueName": "r", "Type": "go"})
    assert response.status_code == 400
    assert response.json()["code"] == 53126
    # AND group rooms still work
    assert api.post("/video/v1/Rooms", {"UniqueName": "r"}).status_code == 201


@pytest.mark.parametrize("seconds", ["599", "86401", "four hours"])
def test_max_participant_duration_outside_ten_minutes_to_a_day_is_53123(
    api: Api, seconds: str
) -> None:
    response = api.post("/video/v1/Rooms", {"UniqueName": "r", "MaxParticipantDuration": seconds})
    assert response.status_code == 400
    assert response.json()["code"] == 53123
    assert api.emulator.state.rooms == {}


def test_unique_name_of_an_in_progress_room_cannot_be_reused(api: Api) -> None:
    api.post("/video/v1/Rooms", {"UniqueName": "r"})
    response = api.post("/video/v1/Rooms", {"UniqueName": "r"})
    assert response.status_code == 400
    assert response.json()["code"] == 53113


def test_completing_a_room_twice_answers_53112(api: Api) -> None:
    api.post("/video/v1/Rooms", {"UniqueName": "r"})
    first = api.post("/video/v1/Rooms/r", {"Status": "completed"})
    assert first.status_code == 202  # Accepted, as the spec answers Update Room
    assert first.json()["status"] == "completed" and first.json()["end_time"]
    # WHEN completed again by SID (the name no longer resolves once completed)
    again = api.post(f"/video/v1/Rooms/{first.json()['sid']}", {"Status": "completed"})
    assert again.status_code == 400 and again.json()["code"] == 53112
    assert api.get("/video/v1/Rooms/r").status_code == 404


def test_room_list_filters_by_status_and_uses_twilio_envelope(api: Api) -> None:
    for name in ("a", "b"):
        api.post("/video/v1/Rooms", {"UniqueName": name})
    api.post("/video/v1/Rooms/a", {"Status": "completed"})
    page = api.get("/video/v1/Rooms", Status="in-progress").json()
    assert [room["unique_name"] for room in page["rooms"]] == ["b"]
    assert page["meta"]["key"] == "rooms" and page["meta"]["next_page_url"] is None
    assert api.get("/video/v1/Rooms", Status="live").status_code == 400


# -- Media v1 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["Extension", "ExtensionContext"])
def test_media_processor_requires_extension_and_context(api: Api, missing: str) -> None:
    api.post("/video/v1/Rooms", {"UniqueName": "r"})
    streamer = api.post("/media/v1/PlayerStreamers").json()["sid"]
    data = composer("r", streamer)
    del data[missing]
    response = api.post("/media/v1/MediaProcessors", data)
    assert response.status_code == 400
    assert missing in response.json()["message"]
    assert api.emulator.state.media_processors == {}


def test_media_processor_outputs_must_be_live_player_streamers(api: Api) -> None:
    api.post("/video/v1/Rooms", {"UniqueName": "r"})
    response = api.post("/media/v1/MediaProcessors", composer("r", "VJ" + "0" * 32))
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/media/v1/PlayerStreamers", "/media/v1/MediaProcessors"])
def test_max_duration_above_90000_is_refused(api: Api, path: str) -> None:
    api.post("/video/v1/Rooms", {"UniqueName": "r"})
    streamer = api.post("/media/v1/PlayerStreamers").json()["sid"]
    response = api.post(path, composer("r", streamer, MaxDuration="90001"))
    assert response.status_code == 400
    assert "MaxDuration" in response.json()["message"]
    assert api.post(path, composer("r", streamer, MaxDuration="90000")).status_code == 201


def test_max_duration_defaults_to_300_seconds(api: Api) -> None:
    streamer, processor = api.start_stream("r")
    assert api.get(f"/media/v1/PlayerStreamers/{streamer}").json()["max_duration"] == 300
    assert api.get(f"/media/v1/MediaProcessors/{processor}").json()["max_duration"] == 300


def test_player_streamer_starts_when_a_processor_outputs_to_it(api: Api) -> None:
    created = api.post("/media/v1/PlayerStreamers").json()
    assert created["sid"].startswith("VJ") and created["status"] == "created"
    api.post("/video/v1/Rooms", {"UniqueName": "r"})
    processor = api.post("/media/v1/MediaProcessors", composer("r", created["sid"])).json()
    assert processor["sid"].startswith("ZX") and processor["status"] == "started"
    streamer = api.get(f"/media/v1/PlayerStreamers/{created['sid']}").json()
    assert streamer["status"] == "started"


def test_processor_for_a_room_that_is_not_in_progress_fails(api: Api) -> None:
    streamer = api.post("/media/v1/PlayerStreamers").json()["sid"]
    processor = api.post("/media/v1/MediaProcessors", composer("nowhere", streamer)).json()
    assert processor["status"] == "failed"
    assert api.get(f"/media/v1/PlayerStreamers/{streamer}").json()["status"] == "created"


@pytest.mark.parametrize("status", ["started", "ENDED", ""])
def test_update_accepts_only_status_ended(api: Api, status: str) -> None:
    streamer, processor = api.start_stream("r")
    for path in (f"/media/v1/MediaProcessors/{processor}", f"/media/v1/PlayerStreamers/{streamer}"):
        assert api.post(path, {"Status": status}).status_code == 400
        assert api.get(path).json()["status"] == "started"


def test_ending_marks_resources_ended_via_api(api: Api) -> None:
    streamer, processor = api.start_stream("r")
    ended = api.post(f"/media/v1/MediaProcessors/{processor}", {"Status": "ended"}).json()
    assert (ended["status"], ended["ended_reason"]) == ("ended", "ended-via-api")
    api.post(f"/media/v1/PlayerStreamers/{streamer}", {"Status": "ended"})
    assert api.emulator.state.running()["player_streamers"] == []


def test_resources_end_when_max_duration_passes(clocked: Api, clock: FakeClock) -> None:
    streamer, processor = clocked.start_stream("r", MaxDuration="600")
    clock.now += 599
    assert clocked.get(f"/media/v1/PlayerStreamers/{streamer}").json()["status"] == "started"
    clock.now += 1
    for path in (f"/media/v1/PlayerStreamers/{streamer}", f"/media/v1/MediaProcessors/{processor}"):
        body = clocked.get(path).json()
        assert (body["status"], body["ended_reason"]) == ("ended", "max-duration-exceeded")
    listed = clocked.get("/media/v1/PlayerStreamers", Status="started").json()
    assert listed["player_streamers"] == []


def test_list_filters_by_lower_case_status_only(api: Api) -> None:
    api.start_stream("r")
    started = api.get("/media/v1/MediaProcessors", Status="started").json()
    assert len(started["media_processors"]) == 1
    assert started["meta"]["key"] == "media_processors"
    # the tutorial's upper-case 'STARTED' is not a Media v1 status
    assert api.get("/media/v1/MediaProcessors", Status="STARTED").status_code == 400


def test_list_pages_with_page_size(api: Api) -> None:
    for _ in range(3):
        api.post("/media/v1/PlayerStreamers")
    first = api.get("/media/v1/PlayerStreamers", PageSize=2).json()
    assert len(first["player_streamers"]) == 2
    next_url = first["meta"]["next_page_url"]
    assert next_url.startswith("https://media.twilio.com/v1/PlayerStreamers?")
    second = api.get("/media/v1/PlayerStreamers?" + next_url.split("?", 1)[1]).json()
    assert len(second["player_streamers"]) == 1
    assert second["meta"]["next_page_url"] is None


def test_playback_grant_ttl_is_at_most_60_seconds(api: Api) -> None:
    streamer, _ = api.start_stream("r")
    path = f"/media/v1/PlayerStreamers/{streamer}/PlaybackGrant"
    assert api.post(path, {"Ttl": "61"}).status_code == 400
    created = api.post(path, {"Ttl": "60"})
    assert created.status_code == 201
    assert created.json()["sid"] == streamer
    assert created.json()["grant"]["playerStreamerSid"] == streamer
    assert api.get(path).json()["grant"] == created.json()["grant"]


def test_playback_grant_needs_a_started_streamer(api: Api) -> None:
    streamer = api.post("/media/v1/PlayerStreamers").json()["sid"]
    assert api.post(f"/media/v1/PlayerStreamers/{streamer}/PlaybackGrant").status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/media/v1/MediaProcessors/ZX" + "0" * 32,
        "/media/v1/PlayerStreamers/VJ" + "0" * 32,
        "/media/v1/PlayerStreamers/VJ" + "0" * 32 + "/PlaybackGrant",
        "/video/v1/Rooms/RM" + "0" * 32,
        "/video/v1/Nowhere",
    ],
)
def test_unknown_resources_answer_twilio_404_json(api: Api, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"code", "message", "more_info", "status"}
    assert (body["code"], body["status"]) == (20404, 404)
    assert body["more_info"] == "https://www.twilio.com/docs/errors/20404"


# -- switches -----------------------------------------------------------------------------------


def test_retired_media_answers_404_everywhere_while_video_runs(api: Api) -> None:
    api.emulator.media_retired = True
    for method, path in [
        ("GET", "/media/v1/MediaProcessors"),
        ("POST", "/media/v1/PlayerStreamers"),
        ("GET", "/media/v1/PlayerStreamers"),
    ]:
        response = api.call(method, path)
        assert response.status_code == 404 and response.json()["code"] == 20404
    assert api.post("/video/v1/Rooms", {"UniqueName": "r"}).status_code == 201


def test_injected_failures_answer_then_clear(api: Api) -> None:
    api.emulator.fail_next("GET", "/media/v1/PlayerStreamers", count=2, retry_after=3)
    api.emulator.fail_next("POST", "/media/v1/PlayerStreamers", status=503, retry_after=None)
    first = api.get("/media/v1/PlayerStreamers")
    assert (first.status_code, first.headers["Retry-After"]) == (429, "3")
    assert first.json()["code"] == 20429
    assert api.get("/media/v1/PlayerStreamers").status_code == 429
    assert api.get("/media/v1/PlayerStreamers").status_code == 200
    assert api.post("/media/v1/PlayerStreamers").status_code == 503
    assert api.post("/media/v1/PlayerStreamers").status_code == 201
    assert api.emulator.calls_to("GET", "/media/v1/PlayerStreamers") == 3
    assert api.emulator.calls_to("POST", "/media/v1/PlayerStreamers") == 2


def test_latency_is_added_to_every_call(api: Api) -> None:
    api.emulator.latency = 0.2
    assert api.get("/video/v1/Rooms").elapsed.total_seconds() >= 0.2


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD"])
def test_a_room_calls_back_with_get_or_post_only(api: Api, method: str) -> None:
    answer = api.post(
        "/video/v1/Rooms",
        {
            "UniqueName": "r",
            "StatusCallback": "https://example.com/e",
            "StatusCallbackMethod": method,
        },
    )
    assert answer.status_code == 400 and "StatusCallbackMethod" in answer.json()["message"]
    assert api.emulator.state.rooms == {}
    # Media v1 documents all six methods for its own callbacks
    assert api.post("/media/v1/PlayerStreamers", {"StatusCallbackMethod": method}).ok


@pytest.mark.parametrize(
    ("path", "most"),
    [
        ("/video/v1/Rooms", 1000),
        ("/video/v1/Recordings", 100),
        ("/video/v1/Compositions", 100),
        ("/media/v1/PlayerStreamers", 1000),
    ],
)
def test_page_size_is_capped_where_the_spec_caps_it(api: Api, path: str, most: int) -> None:
    assert api.get(path, PageSize=most).status_code == 200
    too_many = api.get(path, PageSize=most + 1)
    assert too_many.status_code == 400 and "PageSize" in too_many.json()["message"]
