"""The emulator's recording rules, track recordings and compositions, over real HTTP.

They refuse what Twilio documents it refuses (error 53120 for recording rules; required
parameters, enums and limits for compositions; 404s; credentials) so that the provider cannot
rely on something the real service would not accept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from twilio_clock import FakeClock
from twilio_credentials import (
    API_KEY_SECRET,
    API_KEY_SID,
    emulated_account,
)

from twilio_emulator import EmulatorServer
from twilio_emulator.resources import Participant

VIDEO = "/video/v1"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def twilio(clock: FakeClock) -> Iterator[EmulatorServer]:
    with emulated_account(clock) as server:
        server.state.auto_compose = False
        yield server


def api(
    twilio: EmulatorServer, method: str, path: str, auth: tuple[str, str] | None = None, **kw: Any
) -> requests.Response:
    return requests.request(
        method,
        twilio.base_url + VIDEO + path,
        auth=auth or (API_KEY_SID, API_KEY_SECRET),
        allow_redirects=False,
        timeout=5,
        **kw,
    )


def new_room(twilio: EmulatorServer, **params: str) -> str:
    answer = api(twilio, "POST", "/Rooms", data={"UniqueName": "r", **params})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["sid"])


def join(twilio: EmulatorServer, room_sid: str, identity: str, *kinds: str) -> Participant:
    participant = twilio.state.connect_participant(room_sid, identity)
    for kind in kinds:
        twilio.state.publish_track(participant.sid, kind, f"{identity}-{kind}")
    return participant


def complete(twilio: EmulatorServer, room_sid: str) -> None:
    answer = api(twilio, "POST", f"/Rooms/{room_sid}", data={"Status": "completed"})
    assert answer.status_code == 202, answer.text  # Accepted, as the spec answers Update Room


def recorded(twilio: EmulatorServer, room_sid: str) -> list[tuple[str, str]]:
    answer = api(twilio, "GET", f"/Rooms/{room_sid}/Recordings")
    assert answer.status_code == 200, answer.text
    return sorted((r["track_name"], r["status"]) for r in answer.json()["recordings"])


def compose(twilio: EmulatorServer, room_sid: str, **params: str) -> requests.Response:
    data = {"RoomSid": room_sid, "AudioSources": "*", "Format": "mp4", **params}
    return api(twilio, "POST", "/Compositions", data=data)


# -- recording rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rules",
    [
        [],
        [{"type": "include", "all": False}],
        [{"type": "include", "all": True, "kind": "audio"}],
        [{"kind": "audio"}],
        [{"type": "record", "kind": "audio"}],
        [{"type": "include", "kind": "data"}],
        [{"type": "include", "colour": "red"}],
        [{"type": "include"}],
        [{"type": "include", "publisher": "a"}] * 21,
    ],
)
def test_invalid_recording_rules_are_refused_with_53120_and_change_nothing(
    twilio: EmulatorServer, rules: list[dict[str, Any]]
) -> None:
    room = new_room(twilio)
    # WHEN invalid rules are posted
    answer = api(twilio, "POST", f"/Rooms/{room}/RecordingRules", data={"Rules": json.dumps(rules)})
    # THEN Twilio's 400 / 53120 answers, and the room still has no rules
    assert (answer.status_code, answer.json()["code"]) == (400, 53120)
    assert api(twilio, "GET", f"/Rooms/{room}/RecordingRules").json()["rules"] == []


def test_a_repeated_filter_and_a_missing_rules_parameter_are_refused(
    twilio: EmulatorServer,
) -> None:
    room = new_room(twilio)
    path = f"/Rooms/{room}/RecordingRules"
    repeated = '[{"type": "include", "kind": "audio", "kind": "video"}]'
    assert api(twilio, "POST", path, data={"Rules": repeated}).json()["code"] == 53120
    assert api(twilio, "POST", path, data={}).json()["code"] == 20001
    assert api(twilio, "GET", "/Rooms/RM" + "0" * 32 + "/RecordingRules").status_code == 404


def test_rules_record_only_the_tracks_they_include(twilio: EmulatorServer) -> None:
    # GIVEN a room whose rules include the host's tracks only
    room = new_room(twilio)
    rules = [{"type": "include", "publisher": "host"}]
    answer = api(twilio, "POST", f"/Rooms/{room}/RecordingRules", data={"Rules": json.dumps(rules)})
    assert answer.status_code == 200 and answer.json()["rules"] == rules
    # WHEN the host and a viewer publish audio, video and data
    join(twilio, room, "host", "audio", "video", "data")
    join(twilio, room, "viewer-1", "audio", "video")
    # THEN the host's audio and video are recorded, nothing else
    assert recorded(twilio, room) == [("host-audio", "processing"), ("host-video", "processing")]
    # AND when the room ends, the recordings are completed
    complete(twilio, room)
    assert recorded(twilio, room) == [("host-audio", "completed"), ("host-video", "completed")]


def test_without_rules_nothing_is_recorded_unless_the_room_records_on_connect(
    twilio: EmulatorServer,
) -> None:
    quiet = new_room(twilio, UniqueName="quiet")
    join(twilio, quiet, "host", "video")
    assert recorded(twilio, quiet) == []
    loud = new_room(twilio, UniqueName="loud", RecordParticipantsOnConnect="true")
    assert api(twilio, "GET", f"/Rooms/{loud}").json()["record_participants_on_connect"] is True
    join(twilio, loud, "host", "video")
    join(twilio, loud, "viewer-1", "audio")
    assert [name for name, _ in recorded(twilio, loud)] == ["host-video", "viewer-1-audio"]
    refused = api(twilio, "POST", "/Rooms", data={"RecordParticipantsOnConnect": "maybe"})
    assert refused.status_code == 400


def test_excluding_a_track_stops_its_recording(twilio: EmulatorServer) -> None:
    room = new_room(twilio)
    path = f"/Rooms/{room}/RecordingRules"
    api(twilio, "POST", path, data={"Rules": json.dumps([{"type": "include", "all": True}])})
    join(twilio, room, "host", "audio", "video")
    rules = [{"type": "include", "all": True}, {"type": "exclude", "kind": "video"}]
    api(twilio, "POST", path, data={"Rules": json.dumps(rules)})
    assert recorded(twilio, room) == [("host-audio", "processing"), ("host-video", "completed")]


# -- compositions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"RoomSid": ""},
        {"RoomSid": "RM123"},
        {"RoomSid": "RM" + "0" * 32},
        {"AudioSources": ""},
        {"Format": "avi"},
        {"Resolution": "1920x1080"},
        {"Resolution": "wide"},
        {"Trim": "maybe"},
        {"VideoLayout": "[]"},
        {"VideoLayout": '{"main": {"x_pos": 0}}'},
        {"StatusCallback": "ftp://example.com"},
        {"Colour": "red"},
    ],
)
def test_a_malformed_composition_request_is_a_400(
    twilio: EmulatorServer, params: dict[str, str]
) -> None:
    room = new_room(twilio)
    answer = compose(twilio, room, **params)
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == {"code", "message", "more_info", "status"}


def test_a_composition_waits_for_its_room_then_completes(twilio: EmulatorServer) -> None:
    # GIVEN a room recording its host
    room = new_room(twilio, RecordParticipantsOnConnect="true")
    join(twilio, room, "host", "audio", "video")
    # WHEN a composition is asked for while the room is in progress
    created = compose(twilio, room)
    assert created.status_code == 201
    sid = created.json()["sid"]
    assert created.json()["status"] == "enqueued" and sid.startswith("CJ")
    # THEN it waits for the room, and its media is a 404 meanwhile
    twilio.state.advance_compositions()
    assert api(twilio, "GET", f"/Compositions/{sid}").json()["status"] == "enqueued"
    assert api(twilio, "GET", f"/Compositions/{sid}/Media").status_code == 404
    # WHEN the room ends, it is processed, then completed
    complete(twilio, room)
    twilio.state.advance_compositions()
    assert api(twilio, "GET", f"/Compositions/{sid}").json()["status"] == "processing"
    twilio.state.advance_compositions()
    done = api(twilio, "GET", f"/Compositions/{sid}").json()
    assert (done["status"], done["format"], done["room_sid"]) == ("completed", "mp4", room)
    assert done["size"] and done["date_completed"]


def test_a_room_that_recorded_nothing_fails_to_compose(twilio: EmulatorServer) -> None:
    room = new_room(twilio)
    join(twilio, room, "host", "video")
    sid = compose(twilio, room).json()["sid"]
    complete(twilio, room)
    twilio.state.advance_compositions()
    twilio.state.advance_compositions()
    assert api(twilio, "GET", f"/Compositions/{sid}").json()["status"] == "failed"


def test_compositions_are_listed_by_room_and_status(twilio: EmulatorServer) -> None:
    first, second = new_room(twilio, UniqueName="a"), new_room(twilio, UniqueName="b")
    a, b = compose(twilio, first).json()["sid"], compose(twilio, second).json()["sid"]
    by_room = api(twilio, "GET", "/Compositions", params={"RoomSid": first}).json()
    assert [c["sid"] for c in by_room["compositions"]] == [a]
    enqueued = api(twilio, "GET", "/Compositions", params={"Status": "enqueued"}).json()
    assert sorted(c["sid"] for c in enqueued["compositions"]) == sorted([a, b])
    assert api(twilio, "GET", "/Compositions", params={"Status": "done"}).status_code == 400
    assert api(twilio, "GET", "/Compositions", params={"Colour": "red"}).status_code == 400


def test_media_redirects_to_a_signed_url_that_expires(
    twilio: EmulatorServer, clock: FakeClock
) -> None:
    # GIVEN a completed composition
    room = new_room(twilio, RecordParticipantsOnConnect="true")
    join(twilio, room, "host", "video")
    sid = compose(twilio, room).json()["sid"]
    complete(twilio, room)
    twilio.state.advance_compositions()
    twilio.state.advance_compositions()
    # THEN Ttl is bounded like Twilio's (1..3600)
    for ttl in ("0", "3601", "soon"):
        assert (
            api(twilio, "GET", f"/Compositions/{sid}/Media", params={"Ttl": ttl}).status_code == 400
        )
    # WHEN its media is asked for with a Ttl of 60 s
    answer = api(twilio, "GET", f"/Compositions/{sid}/Media", params={"Ttl": "60"})
    # THEN the answer is a redirect, with the URL in Location and in redirect_to
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert answer.json() == {"redirect_to": location}
    # AND that URL serves the file without credentials, a forged one does not
    assert requests.get(location, timeout=5).content[4:8] == b"ftyp"
    assert requests.get(location[:-4] + "0000", timeout=5).status_code == 403
    # AND once the Ttl has passed, it does not either
    clock.now += 61
    assert requests.get(location, timeout=5).status_code == 403


def test_deleting_a_composition_keeps_its_record_and_removes_its_media(
    twilio: EmulatorServer,
) -> None:
    room = new_room(twilio, RecordParticipantsOnConnect="true")
    join(twilio, room, "host", "video")
    sid = compose(twilio, room).json()["sid"]
    complete(twilio, room)
    twilio.state.advance_compositions()
    twilio.state.advance_compositions()
    deleted = api(twilio, "DELETE", f"/Compositions/{sid}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert api(twilio, "GET", f"/Compositions/{sid}").json()["status"] == "deleted"
    assert api(twilio, "GET", f"/Compositions/{sid}/Media").status_code == 404
    assert api(twilio, "DELETE", "/Compositions/CJ" + "0" * 32).status_code == 404
    # AND a room's track recordings can be deleted once they are complete
    (track,) = api(twilio, "GET", "/Recordings", params={"GroupingSid": room}).json()["recordings"]
    assert api(twilio, "DELETE", f"/Recordings/{track['sid']}").status_code == 204
    assert api(twilio, "GET", f"/Recordings/{track['sid']}").json()["status"] == "deleted"


def test_recordings_and_compositions_need_the_accounts_credentials(
    twilio: EmulatorServer,
) -> None:
    wrong = (API_KEY_SID, "not-the-secret")
    for path in ("/Compositions", "/Recordings", "/Rooms/RM" + "0" * 32 + "/RecordingRules"):
        answer = api(twilio, "GET", path, auth=wrong)
        assert (answer.status_code, answer.json()["code"]) == (401, 20003)
