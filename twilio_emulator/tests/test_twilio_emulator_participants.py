"""The emulator's participants, subscribe rules and client connections, through the real client.

The typed resources of the twilio package (``rooms(...).participants(...)``,
``.subscribe_rules.update(rules=...)``) encode requests the way the real API expects them, so
these tests pin both the emulator's answers and its refusals (Twilio's codes).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VideoGrant
from twilio_credentials import ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID

from livescreen.config import Settings
from livescreen.runtime.twilio_client import make_twilio_client
from twilio_emulator import ApiError, EmulatorServer


@pytest.fixture
def client(twilio_video_settings: Settings) -> Any:
    return make_twilio_client(twilio_video_settings)


@pytest.fixture
def events(emulator: EmulatorServer) -> Iterator[list[dict[str, str]]]:
    """Room callbacks, recorded instead of sent."""
    seen: list[dict[str, str]] = []
    emulator.state.on_room_event = lambda url, method, params: seen.append(params)
    yield seen


def token(identity: str, room: str, *, secret: str = API_KEY_SECRET, ttl: int = 600) -> str:
    grant = VideoGrant(room=room)
    access = AccessToken(ACCOUNT_SID, API_KEY_SID, secret, identity=identity, ttl=ttl)
    access.add_grant(grant)
    return str(access.to_jwt())


def new_room(client: Any, **extra: Any) -> Any:
    return client.video.v1.rooms.create(
        unique_name="livestream-00000000000000aa",
        type="group",
        status_callback="http://127.0.0.1:9/room_events",
        **extra,
    )


def refusal(call: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as raised:
        call()
    return raised.value


def test_participants_connect_list_and_are_disconnected_through_the_api(
    client: Any, emulator: EmulatorServer, events: list[dict[str, str]]
) -> None:
    # GIVEN a room with two clients in it
    room = new_room(client)
    host = emulator.connect(token("host", room.unique_name))
    guest = emulator.connect(token("viewer-1", room.sid))  # a grant may name the SID too
    # THEN the API lists them, filtered as Twilio filters
    connected = client.video.v1.rooms(room.sid).participants.list(status="connected")
    assert sorted(p.identity for p in connected) == ["host", "viewer-1"]
    (only,) = client.video.v1.rooms(room.sid).participants.list(identity="host")
    assert only.sid == host.sid and only.status == "connected"
    # WHEN the API disconnects one
    updated = client.video.v1.rooms(room.sid).participants(guest.sid).update(status="disconnected")
    # THEN it is gone, its duration recorded, and the room reported it
    assert updated.status == "disconnected" and updated.duration is not None
    names = [(e["StatusCallbackEvent"], e.get("ParticipantIdentity")) for e in events]
    assert names == [
        ("room-created", None),
        ("participant-connected", "host"),
        ("participant-connected", "viewer-1"),
        ("participant-disconnected", "viewer-1"),
    ]
    # AND a published track is reported with its kind and name
    track = emulator.state.publish_track(host.sid, "video", "screen")
    added = events[-1]
    assert (added["StatusCallbackEvent"], added["TrackSid"]) == ("track-added", track)
    assert (added["TrackKind"], added["TrackName"], added["ParticipantSid"]) == (
        "video",
        "screen",
        host.sid,
    )


def test_participant_updates_are_as_strict_as_twilio(client: Any, emulator: EmulatorServer) -> None:
    room = new_room(client)
    guest = emulator.connect(token("viewer-1", room.unique_name))
    participants = client.video.v1.rooms(room.sid).participants
    # Only Status=disconnected is an update Twilio takes
    assert refusal(lambda: participants(guest.sid).update(status="connected")).status == 400
    # An unknown participant is a 404
    missing = refusal(lambda: participants("PA" + "0" * 32).update(status="disconnected"))
    assert (missing.status, missing.code) == (404, 20404)
    # An unknown list filter, or a wrong Status enum, is refused
    with pytest.raises(TwilioException, match="Invalid Status 'gone'"):
        participants.list(status="gone")
    assert emulator.state.list_participants(room.sid, "/", {}) == [guest]
    with pytest.raises(ApiError, match="Unknown parameter"):
        emulator.state.list_participants(room.sid, "/", {"Colour": "blue"})


@pytest.mark.parametrize(
    ("rules", "why"),
    [
        ([], "empty"),
        ([{"all": True}], "type"),
        ([{"type": "include", "all": False}], "true"),
        ([{"type": "include", "all": True, "kind": "video"}], "alone"),
        ([{"type": "include", "kind": "screen"}], "kind"),
        ([{"type": "maybe", "publisher": "host"}], "type"),
        ([{"type": "include", "colour": "blue"}], "unknown"),
        ([{"type": "include", "publisher": "host"}] * 21, "20"),
    ],
)
def test_invalid_subscribe_rules_are_refused_with_53215(
    client: Any, emulator: EmulatorServer, rules: list[Any], why: str
) -> None:
    room = new_room(client)
    guest = emulator.connect(token("viewer-1", room.unique_name))
    rules_api = client.video.v1.rooms(room.sid).participants(guest.sid).subscribe_rules
    error = refusal(lambda: rules_api.update(rules=rules))
    assert (error.status, error.code) == (400, 53215) and why in error.msg
    assert guest.subscribe_rules == [{"type": "include", "all": True}]


def test_valid_subscribe_rules_are_kept_and_decide_what_a_participant_receives(
    client: Any, emulator: EmulatorServer
) -> None:
    room = new_room(client)
    host = emulator.connect(token("host", room.unique_name))
    alice = emulator.connect(token("viewer-a", room.unique_name))
    bob = emulator.connect(token("viewer-b", room.unique_name))
    emulator.state.publish_track(host.sid, "video", "screen")
    emulator.state.publish_track(bob.sid, "audio", "mic")
    assert emulator.state.subscribed_publishers(alice.sid) == {"host", "viewer-b"}  # default
    rules_api = client.video.v1.rooms(room.sid).participants(alice.sid).subscribe_rules
    answer = rules_api.update(rules=[{"type": "include", "publisher": "host"}])
    assert answer.rules == [{"type": "include", "publisher": "host"}]
    assert rules_api.fetch().rules == answer.rules
    assert emulator.state.subscribed_publishers(alice.sid) == {"host"}


def test_max_participants_is_enforced_at_connect_and_checked_at_create(
    client: Any, emulator: EmulatorServer
) -> None:
    # GIVEN a room for two
    room = new_room(client, max_participants=2)
    emulator.connect(token("host", room.unique_name))
    emulator.connect(token("viewer-1", room.unique_name))
    # WHEN a third client connects, THEN it is refused: 53105
    with pytest.raises(ApiError) as full:
        emulator.connect(token("viewer-2", room.unique_name))
    assert (full.value.code, full.value.message) == (53105, "Room contains too many Participants")
    # AND the same identity connecting again replaces its older connection (no third seat)
    again = emulator.connect(token("viewer-1", room.unique_name))
    assert len(emulator.state.rooms[room.sid].connected()) == 2 and again.identity == "viewer-1"
    # AND a group room takes at most 50: 53107
    error = refusal(
        lambda: client.video.v1.rooms.create(
            unique_name="livestream-00000000000000bb", max_participants=51
        )
    )
    assert error.code == 53107
    # AND a Create Room parameter Twilio does not list is refused
    rooms = "https://video.twilio.com/v1/Rooms"
    for method, url, fields in (
        ("POST", rooms, {"Colour": "x"}),
        ("GET", rooms, {"Colour": "x"}),
        ("POST", f"{rooms}/{room.sid}", {"Status": "completed", "Colour": "x"}),
    ):
        if method == "GET":
            answer = client.request(method, url, params=fields)
        else:
            answer = client.request(method, url, data=fields)
        assert answer.status_code == 400 and "Unknown parameter Colour" in answer.text


def test_a_connect_needs_a_valid_token_for_a_room_in_progress(
    client: Any, emulator: EmulatorServer
) -> None:
    # GIVEN an account with client-side room creation off (the Console's Video settings)
    emulator.state.client_room_creation = False
    room = new_room(client)
    cases = {
        20101: token(
            "viewer-1", room.unique_name, secret="another API key secret, not this account's"
        ),
        20104: token("viewer-1", room.unique_name, ttl=-60),
        53106: token("viewer-1", "livestream-0000000000000000"),
    }
    unsigned = jwt.encode(
        {"iss": API_KEY_SID, "sub": ACCOUNT_SID, "exp": time.time() + 60}, "k" * 40
    )
    cases_list = [*cases.items(), (20101, unsigned)]
    for code, bad in cases_list:
        with pytest.raises(ApiError) as refused:
            emulator.connect(bad)
        assert refused.value.code == code
    # AND a completed room takes nobody (client-side room creation is off: no new one either)
    client.video.v1.rooms(room.sid).update(status="completed")
    with pytest.raises(ApiError) as gone:
        emulator.connect(token("viewer-1", room.unique_name))
    assert gone.value.code == 53106
    assert [r.status for r in emulator.state.rooms.values()] == ["completed"]


def test_a_connect_to_a_name_with_no_room_in_progress_creates_one_with_twilios_defaults(
    client: Any, emulator: EmulatorServer, events: list[dict[str, str]]
) -> None:
    # GIVEN an account as Twilio opens it (client-side room creation on) and a REST room that
    # was created with our settings, then completed
    assert emulator.state.client_room_creation is True
    room = new_room(client, max_participants=10, unused_room_timeout=3, empty_room_timeout=1)
    client.video.v1.rooms(room.sid).update(status="completed")
    events.clear()
    # WHEN a client connects with a token for that name
    host = emulator.connect(token("host", room.unique_name))
    # THEN it is in a new in-progress room of that name, which has none of the REST room's
    # settings but the account's defaults
    adhoc = client.video.v1.rooms(room.unique_name).fetch()
    assert adhoc.sid != room.sid and adhoc.sid == host.room_sid
    assert (adhoc.status, adhoc.type, adhoc.unique_name) == (
        "in-progress",
        "group",
        room.unique_name,
    )
    assert adhoc.status_callback is None
    assert (adhoc.max_participants, adhoc.max_participant_duration) == (50, 14400)
    assert (adhoc.unused_room_timeout, adhoc.empty_room_timeout) == (5, 5)
    assert adhoc.record_participants_on_connect is False
    assert [p.identity for p in client.video.v1.rooms(adhoc.sid).participants.list()] == ["host"]
    # AND nothing is reported: the room has no StatusCallback
    assert events == []
    # AND a token naming a Room SID that is not in progress still creates nothing
    with pytest.raises(ApiError) as refused:
        emulator.connect(token("viewer-1", room.sid))
    assert refused.value.code == 53106
    assert emulator.state.running()["rooms"] == [room.unique_name]


def test_with_client_room_creation_off_a_connect_to_a_name_with_no_room_is_53106(
    emulator: EmulatorServer,
) -> None:
    # GIVEN an account whose client-side room creation is turned off
    emulator.state.client_room_creation = False
    # WHEN a client connects to a name no room in progress has
    with pytest.raises(ApiError) as refused:
        emulator.connect(token("host", "livestream-00000000000000ab"))
    # THEN it is refused with "Room not found", and no room was made
    assert refused.value.code == 53106
    assert emulator.state.rooms == {}


def test_completing_a_room_disconnects_everyone_then_reports_it_ended(
    client: Any, emulator: EmulatorServer, events: list[dict[str, str]]
) -> None:
    room = new_room(client)
    people = [emulator.connect(token(name, room.unique_name)) for name in ("host", "viewer-1")]
    client.video.v1.rooms(room.sid).update(status="completed")
    assert [p.status for p in people] == ["disconnected", "disconnected"]
    tail = [(e["StatusCallbackEvent"], e.get("ParticipantIdentity")) for e in events[-3:]]
    assert tail == [
        ("participant-disconnected", "host"),
        ("participant-disconnected", "viewer-1"),
        ("room-ended", None),
    ]


def test_a_reconnecting_participant_keeps_its_place_and_is_listed_by_that_status(
    client: Any, emulator: EmulatorServer, events: list[dict[str, str]]
) -> None:
    # GIVEN a room for two whose host loses its network for a moment
    room = new_room(client, max_participants=2)
    host = emulator.connect(token("host", room.unique_name))
    emulator.state.participant_reconnecting(host.sid)
    participants = client.video.v1.rooms(room.sid).participants
    # THEN the API lists it by that status, which the spec's enum names
    (found,) = participants.list(status="reconnecting")
    assert (found.sid, found.status) == (host.sid, "reconnecting")
    assert participants(host.sid).fetch().status == "reconnecting"
    assert participants.list(status="connected") == []
    # AND it keeps its seat: one more client fits, a second does not
    emulator.connect(token("viewer-1", room.unique_name))
    with pytest.raises(ApiError) as full:
        emulator.connect(token("viewer-2", room.unique_name))
    assert full.value.code == 53105
    # AND its subscribe rules can be set as for anyone in the room
    rules = [{"type": "exclude", "all": True}]
    assert participants(host.sid).subscribe_rules.update(rules=rules).rules == rules
    # WHEN it reconnects, THEN it is the same participant, connected again
    emulator.state.participant_reconnected(host.sid)
    assert participants(host.sid).fetch().status == "connected"
    # AND Twilio's room events have no reconnecting event: none was sent
    names = [e["StatusCallbackEvent"] for e in events]
    assert names == ["room-created", "participant-connected", "participant-connected"]


def test_subscribe_rules_for_a_participant_who_left_are_53204_participant_not_found(
    client: Any, emulator: EmulatorServer
) -> None:
    room = new_room(client)
    guest = emulator.connect(token("viewer-1", room.unique_name))
    emulator.state.participant_leaves(guest.sid)
    rules_api = client.video.v1.rooms(room.sid).participants(guest.sid).subscribe_rules
    error = refusal(lambda: rules_api.update(rules=[{"type": "include", "publisher": "host"}]))
    assert (error.status, error.code) == (404, 53204)
    assert "Participant not found" in error.msg


def test_the_participant_list_defaults_to_connected_participants(
    client: Any, emulator: EmulatorServer
) -> None:
    room = new_room(client)
    stayed = emulator.connect(token("host", room.unique_name))
    left = emulator.connect(token("viewer-1", room.unique_name))
    emulator.state.participant_leaves(left.sid)
    participants = client.video.v1.rooms(room.sid).participants
    # an in-progress room lists its connected participants unless told otherwise
    assert [p.sid for p in participants.list()] == [stayed.sid]
    assert [p.sid for p in participants.list(status="disconnected")] == [left.sid]
    # a completed room lists only disconnected participants, whatever the filter
    client.video.v1.rooms(room.sid).update(status="completed")
    assert sorted(p.sid for p in participants.list()) == sorted([stayed.sid, left.sid])
    assert participants.list(status="connected") == []


def test_updates_answer_the_status_codes_of_the_spec(client: Any, emulator: EmulatorServer) -> None:
    room = new_room(client)
    guest = emulator.connect(token("viewer-1", room.unique_name))
    base = f"https://video.twilio.com/v1/Rooms/{room.sid}"
    rules = '[{"type": "include", "all": true}]'
    answers = {
        "subscribe rules": client.request(
            "POST", f"{base}/Participants/{guest.sid}/SubscribeRules", data={"Rules": rules}
        ),
        "recording rules": client.request("POST", f"{base}/RecordingRules", data={"Rules": rules}),
        "participant": client.request(
            "POST", f"{base}/Participants/{guest.sid}", data={"Status": "disconnected"}
        ),
        "room": client.request("POST", base, data={"Status": "completed"}),
    }
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "subscribe rules": 200,
        "recording rules": 200,
        "participant": 202,
        "room": 202,
    }


@pytest.mark.parametrize("status", ["connected", "reconnecting"])
def test_a_participant_update_to_anything_but_disconnected_is_53209(
    client: Any, emulator: EmulatorServer, status: str
) -> None:
    room = new_room(client)
    guest = emulator.connect(token("viewer-1", room.unique_name))
    participant = client.video.v1.rooms(room.sid).participants(guest.sid)
    error = refusal(lambda: participant.update(status=status))
    assert (error.status, error.code) == (400, 53209)
    assert guest.status == "connected"
