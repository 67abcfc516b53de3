"""What Twilio does on its own as time passes: rooms end, participants are disconnected.

A room created through the REST API ends by itself when nobody joined it for
``UnusedRoomTimeout`` minutes, or when it has been empty for ``EmptyRoomTimeout`` minutes (both
1..60, default 5), reporting ``room-ended``; a participant connected for
``MaxParticipantDuration`` seconds is disconnected, reporting ``participant-disconnected``. The
emulator keeps that time on its injected clock: these tests move the clock, never wait.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VideoGrant
from twilio_clock import START, FakeClock
from twilio_credentials import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    emulated_account,
)

from livescreen.config import Settings
from livescreen.runtime.twilio_client import make_twilio_client
from twilio_emulator import ApiError, EmulatorServer
from twilio_emulator.resources import iso


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def twilio(clock: FakeClock) -> Iterator[EmulatorServer]:
    with emulated_account(clock) as server:
        yield server


@pytest.fixture
def events(twilio: EmulatorServer) -> list[dict[str, str]]:
    """Room callbacks, recorded instead of sent."""
    seen: list[dict[str, str]] = []
    twilio.state.on_room_event = lambda url, method, params: seen.append(params)
    return seen


@pytest.fixture
def client(twilio: EmulatorServer) -> Any:
    settings = Settings(
        {
            "ACCOUNT_SID": ACCOUNT_SID,
            "API_KEY_SID": API_KEY_SID,
            "API_KEY_SECRET": API_KEY_SECRET,
            "TWILIO_API_BASE_URL": twilio.base_url,
        },
        source="the test settings",
    )
    return make_twilio_client(settings)


def token(identity: str, room: str) -> str:
    access = AccessToken(ACCOUNT_SID, API_KEY_SID, API_KEY_SECRET, identity=identity, ttl=600)
    access.add_grant(VideoGrant(room=room))
    return str(access.to_jwt())


def new_room(client: Any, **extra: Any) -> Any:
    return client.video.v1.rooms.create(
        unique_name="livestream-00000000000000aa",
        status_callback="http://127.0.0.1:9/room_events",
        **extra,
    )


def ended(events: list[dict[str, str]]) -> list[dict[str, str]]:
    return [e for e in events if e["StatusCallbackEvent"] == "room-ended"]


# -- UnusedRoomTimeout and EmptyRoomTimeout ----------------------------------------------------


def test_the_timeouts_default_to_5_minutes_and_are_kept_as_asked(client: Any) -> None:
    default = new_room(client)
    assert (default.empty_room_timeout, default.unused_room_timeout) == (5, 5)
    client.video.v1.rooms(default.sid).update(status="completed")
    asked = new_room(client, empty_room_timeout=1, unused_room_timeout=60)
    assert (asked.empty_room_timeout, asked.unused_room_timeout) == (1, 60)
    assert client.video.v1.rooms(asked.sid).fetch().empty_room_timeout == 1


@pytest.mark.parametrize("name", ["EmptyRoomTimeout", "UnusedRoomTimeout"])
@pytest.mark.parametrize("value", ["0", "61", "1.5", "soon"])
def test_a_timeout_outside_1_to_60_whole_minutes_is_refused(
    client: Any, twilio: EmulatorServer, name: str, value: str
) -> None:
    answer = client.request(
        "POST", "https://video.twilio.com/v1/Rooms", data={"UniqueName": "r", name: value}
    )
    assert answer.status_code == 400 and name in answer.text
    assert twilio.state.rooms == {}


def test_a_room_nobody_joins_ends_after_its_unused_room_timeout(
    client: Any, twilio: EmulatorServer, clock: FakeClock, events: list[dict[str, str]]
) -> None:
    # GIVEN a room nobody joins, created to end 2 minutes after that
    room = new_room(client, unused_room_timeout=2)
    # WHEN just under 2 minutes pass, THEN it is still in progress
    clock.now += 119
    assert client.video.v1.rooms(room.sid).fetch().status == "in-progress"
    assert ended(events) == []
    # WHEN the 2 minutes are up
    clock.now += 1
    # THEN it is completed, as of that moment, and reported as every completion is
    fetched = client.video.v1.rooms(room.sid).fetch()
    assert (fetched.status, fetched.duration) == ("completed", 120)
    (report,) = ended(events)
    assert report["RoomSid"] == room.sid and report["RoomStatus"] == "completed"
    assert (report["RoomDuration"], report["Timestamp"]) == ("120", iso(START + 120))
    # AND a client can no longer join it: with client-side room creation off, it is refused
    twilio.state.client_room_creation = False
    with pytest.raises(ApiError) as refused:
        twilio.connect(token("host", room.unique_name))
    assert refused.value.code == 53106
    # AND with it on (Twilio's default) the client gets a new room, not this one
    twilio.state.client_room_creation = True
    host = twilio.connect(token("host", room.unique_name))
    adhoc = client.video.v1.rooms(room.unique_name).fetch()
    assert adhoc.sid == host.room_sid != room.sid
    assert (adhoc.unused_room_timeout, adhoc.status_callback) == (5, None)
    # AND that room ends on Twilio's default EmptyRoomTimeout, 5 minutes, reporting nothing
    twilio.state.participant_leaves(host.sid)
    clock.now += 299
    assert client.video.v1.rooms(adhoc.sid).fetch().status == "in-progress"
    clock.now += 1
    assert client.video.v1.rooms(adhoc.sid).fetch().status == "completed"
    assert ended(events) == [report]


def test_a_room_that_stays_empty_ends_after_its_empty_room_timeout(
    client: Any, twilio: EmulatorServer, clock: FakeClock, events: list[dict[str, str]]
) -> None:
    # GIVEN a room whose only participant leaves, then comes back within the timeout
    room = new_room(client, empty_room_timeout=1, unused_room_timeout=5)
    host = twilio.connect(token("host", room.unique_name))
    clock.now += 600  # someone joined: the unused timeout no longer applies
    twilio.state.participant_leaves(host.sid)
    clock.now += 59
    again = twilio.connect(token("host", room.unique_name))
    # THEN the room is still in progress, however long the participant stays
    clock.now += 3600
    twilio.state.expire()
    assert twilio.state.rooms[room.sid].status == "in-progress"
    # WHEN the participant leaves for good
    twilio.state.participant_leaves(again.sid)
    left_at = clock.now
    clock.now += 60
    twilio.state.expire()  # time passing alone is enough: no request needed
    # THEN the room ended one minute after it became empty, and reported it
    assert twilio.state.rooms[room.sid].status == "completed"
    (report,) = ended(events)
    assert report["Timestamp"] == iso(left_at + 60)
    assert events[-2]["StatusCallbackEvent"] == "participant-disconnected"


def test_the_server_ends_rooms_on_time_without_a_request(clock: FakeClock) -> None:
    # GIVEN a standalone emulator that checks its clock every tick
    server = EmulatorServer(account_sid=ACCOUNT_SID, clock=clock, tick_interval=0.01).start()
    try:
        room_ended = threading.Event()

        def record(url: str, method: str, params: dict[str, str]) -> None:
            if params["StatusCallbackEvent"] == "room-ended":
                room_ended.set()

        server.state.on_room_event = record
        with server.state.lock:
            server.state.create_room({"UniqueName": "r", "StatusCallback": "http://127.0.0.1:9/"})
            # WHEN the unused timeout passes and nobody calls the API
            clock.now += 300
        # THEN the room ends by itself (a bounded wait for the server's clock thread)
        assert room_ended.wait(timeout=5)
        assert server.state.running()["rooms"] == []
    finally:
        server.stop()


# -- MaxParticipantDuration ------------------------------------------------------------------


def test_a_participant_is_disconnected_when_its_max_participant_duration_is_up(
    client: Any, twilio: EmulatorServer, clock: FakeClock, events: list[dict[str, str]]
) -> None:
    # GIVEN a room that keeps participants at most 10 minutes, a host and a late viewer
    room = new_room(client, max_participant_duration=600, empty_room_timeout=1)
    host = twilio.connect(token("host", room.unique_name))
    clock.now += 300
    viewer = twilio.connect(token("viewer-1", room.unique_name))
    # WHEN 599 seconds of the host's pass, THEN both are still there
    clock.now += 299
    participants = client.video.v1.rooms(room.sid).participants
    assert {p.identity for p in participants.list()} == {"host", "viewer-1"}
    # WHEN the host's 600 seconds are up
    clock.now += 1
    # THEN Twilio disconnected it, after exactly that long, and reported it
    fetched = participants(host.sid).fetch()
    assert (fetched.status, fetched.duration) == ("disconnected", 600)
    left = [e for e in events if e["StatusCallbackEvent"] == "participant-disconnected"]
    assert [(e["ParticipantIdentity"], e["ParticipantDuration"]) for e in left] == [("host", "600")]
    assert left[0]["Timestamp"] == iso(START + 600)
    # AND the viewer keeps its own 600 seconds, even while reconnecting
    twilio.state.participant_reconnecting(viewer.sid)
    clock.now += 299
    assert participants(viewer.sid).fetch().status == "reconnecting"
    clock.now += 1
    assert participants(viewer.sid).fetch().status == "disconnected"
    # AND the room, empty since then, ends one minute later
    clock.now += 60
    assert client.video.v1.rooms(room.sid).fetch().status == "completed"
    assert [e["StatusCallbackEvent"] for e in events[-2:]] == [
        "participant-disconnected",
        "room-ended",
    ]


def test_a_long_jump_of_the_clock_applies_every_rule_in_the_order_it_fell_due(
    client: Any, twilio: EmulatorServer, clock: FakeClock, events: list[dict[str, str]]
) -> None:
    room = new_room(client, max_participant_duration=600, empty_room_timeout=2)
    twilio.connect(token("host", room.unique_name))
    clock.now += 86400
    fetched = client.video.v1.rooms(room.sid).fetch()
    # the host left at 600 s, the room ended 2 minutes later: 720 s in all
    assert (fetched.status, fetched.duration) == ("completed", 720)
    names = [e["StatusCallbackEvent"] for e in events]
    assert names[-2:] == ["participant-disconnected", "room-ended"]


def test_an_invalid_max_participant_duration_is_still_53123(client: Any) -> None:
    with pytest.raises(TwilioRestException) as refused:
        new_room(client, max_participant_duration=599)
    assert (refused.value.status, refused.value.code) == (400, 53123)
