"""``TWILIO_AUDIENCE=video``: the host publishes to a group room, up to 49 viewers join it.

Real HTTP all the way: the dev server runs the functions and talks to the emulator with the real
twilio client; the emulator plays the clients (``connect`` with the token a page would use) and
posts its signed room callbacks to ``PUBLIC_API_URL/room_events`` on the dev server, as Twilio
would on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from dev_calls import call, post, settled
from devserver_support import free_port
from twilio_clock import FakeClock

from livescreen.config import Settings
from livescreen.devserver import DevServer
from livescreen.providers import clear_provider_cache
from livescreen.security.password_guard import throttle
from twilio_emulator import ApiError, EmulatorServer
from twilio_emulator.resources import Participant

RULES = ("POST", "/video/v1/Rooms/{Sid}/Participants/{ParticipantSid}/SubscribeRules")
HOST_ONLY = [{"type": "include", "publisher": "host"}]
NOTHING = [{"type": "exclude", "all": True}]


@pytest.fixture
def server(twilio_video_settings: Settings) -> Iterator[DevServer]:
    """The dev server (twilio, video audience), with Twilio reporting room events to it."""
    clear_provider_cache()
    throttle.reset()
    port = free_port()
    settings = twilio_video_settings.with_values(
        PUBLIC_API_URL=f"http://localhost:{port}",
        LIVE_LOOKUP_TTL="60",  # the whole test runs inside one lookup period
    )
    dev = DevServer(settings, port=port)
    dev.start_background()
    try:
        yield dev
    finally:
        dev.shutdown()
        clear_provider_cache()
        throttle.reset()


def deliveries(emulator: EmulatorServer, event: str) -> list[Any]:
    settled(emulator)
    return [d for d in emulator.callbacks.deliveries if d.params["StatusCallbackEvent"] == event]


def token_calls(emulator: EmulatorServer) -> int:
    """Twilio calls other than the room events' (one subscribe-rules call per connection)."""
    return emulator.total_calls() - emulator.calls_to(*RULES)


def go_live(server: DevServer, emulator: EmulatorServer) -> tuple[dict[str, Any], Participant]:
    """The host signs in, its page connects to the room with its token, then goes live."""
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    participant = emulator.connect(host["token"])
    emulator.state.publish_track(participant.sid, "video", "screen")
    emulator.state.publish_track(participant.sid, "audio", "microphone")
    started = call(server, "stream_start", {"session": host["session"]})
    assert started["live"] is True and started["audience"] == "video"
    settled(emulator)
    return host, participant


def viewer(server: DevServer, emulator: EmulatorServer) -> tuple[dict[str, Any], Participant]:
    """A viewer's page: a token from /audience_token, then a connection with it."""
    answer = call(server, "audience_token")
    return answer, emulator.connect(answer["token"])


def test_host_token_creates_a_group_room_for_one_host_and_49_viewers(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # WHEN the host signs in
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    # THEN the answer says which audience the pages must use
    assert (host["provider"], host["audience"], host["identity"]) == ("twilio", "video", "host")
    # AND the room is a group room for 50 participants that reports to /room_events
    (room,) = emulator.state.rooms.values()
    assert room.unique_name == host["room"]
    assert (room.type, room.max_participants) == ("group", 50)
    assert room.status_callback == f"{server.url}/room_events"
    assert room.max_participant_duration == 14400
    # AND the host's token grants that room, under the host's identity
    claims = jwt.decode(host["token"], server.settings["API_KEY_SECRET"], algorithms=["HS256"])
    assert claims["grants"] == {"identity": "host", "video": {"room": host["room"]}}


def test_nothing_is_live_until_the_host_is_in_the_room_and_went_live(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host who signed in but whose page has not connected yet
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    # WHEN a viewer asks for a token
    # THEN there is nothing to watch
    assert call(server, "audience_token") == {
        "provider": "twilio",
        "audience": "video",
        "token": None,
        "recordingsPublic": False,
    }
    # AND going live before connecting is refused with a reason
    status, answer = post(f"{server.url}/stream_start", {"session": host["session"]})
    assert status == 409 and "connect" in answer["error"]


def test_49_viewers_get_tokens_without_twilio_calls_and_the_50th_finds_the_room_full(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming
    host, _ = go_live(server, emulator)
    # WHEN the first viewer asks, the container looks the live room up once
    before = token_calls(emulator)
    first = call(server, "audience_token")
    lookup_calls = token_calls(emulator) - before
    assert lookup_calls == 2  # the in-progress rooms, then the host's participant
    # AND 48 more viewers ask: no Twilio call at all between them
    after_lookup = token_calls(emulator)
    tokens = [first] + [call(server, "audience_token") for _ in range(48)]
    assert token_calls(emulator) == after_lookup
    # THEN every token is a Video token for the live room, under its own viewer identity
    identities = set()
    for answer in tokens:
        assert answer["room"] == host["room"] and answer["hostIdentity"] == "host"
        claims = jwt.decode(answer["token"], server.settings["API_KEY_SECRET"], ["HS256"])
        assert claims["grants"] == {"identity": answer["identity"], "video": {"room": host["room"]}}
        assert answer["identity"].startswith("viewer-")
        identities.add(answer["identity"])
    assert len(identities) == 49
    # AND all 49 connect: the room holds 50; each connection costs the room events one call
    viewers = [emulator.connect(answer["token"]) for answer in tokens]
    assert len(emulator.state.rooms[viewers[0].room_sid].connected()) == 50
    settled(emulator)
    assert emulator.calls_to(*RULES) == 1 + 49  # the host's rules, then each viewer's
    # WHEN the 50th viewer gets a token (still no Twilio call for tokens) and connects
    fiftieth = call(server, "audience_token")
    assert fiftieth["token"] and token_calls(emulator) == after_lookup
    with pytest.raises(ApiError) as refused:
        emulator.connect(fiftieth["token"])
    # THEN Twilio refuses it as the page will see it: 53105, the room is full
    assert refused.value.code == 53105
    assert refused.value.message == "Room contains too many Participants"


def test_viewers_subscribe_to_the_host_only_and_the_host_to_nobody(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming
    _, host = go_live(server, emulator)
    # WHEN two viewers connect
    (_, alice), (_, bob) = viewer(server, emulator), viewer(server, emulator)
    # THEN the signed participant-connected callbacks were answered as handled ...
    connected = deliveries(emulator, "participant-connected")
    assert [d.params["ParticipantIdentity"] for d in connected] == [
        "host",
        alice.identity,
        bob.identity,
    ]
    assert all((d.status, json.loads(d.body)) == (200, {"handled": True}) for d in connected)
    # ... AND each viewer's subscribe rules are the host's tracks only; the host's, nothing
    assert alice.subscribe_rules == bob.subscribe_rules == HOST_ONLY
    assert host.subscribe_rules == NOTHING
    assert emulator.state.subscribed_publishers(alice.sid) == {"host"}
    assert emulator.state.subscribed_publishers(host.sid) == set()


def test_a_viewer_that_publishes_is_disconnected_and_reached_nobody(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming to two viewers
    _, host = go_live(server, emulator)
    (_, mallory), (_, bob) = viewer(server, emulator), viewer(server, emulator)
    settled(emulator)
    # WHEN one viewer publishes a camera track (a page modified to do so)
    emulator.state.publish_track(mallory.sid, "video", "camera")
    # THEN until the kick, nobody could subscribe to it: the other viewer's rules take the
    # host's tracks only and the host's take nothing (rules, not subscriptions, are checked:
    # the kick may already have removed the track by now)
    assert bob.subscribe_rules == HOST_ONLY
    assert host.subscribe_rules == NOTHING
    # AND the signed track-added callback made the server disconnect that viewer
    kicked = [
        d
        for d in deliveries(emulator, "track-added")
        if d.params["ParticipantIdentity"] == mallory.identity
    ]
    assert [(d.status, json.loads(d.body)) for d in kicked] == [(200, {"handled": True})]
    assert mallory.status == "disconnected"
    # AND the host's own tracks were not touched, the stream goes on for the others
    assert host.status == bob.status == "connected"
    room = emulator.state.rooms[host.room_sid]
    assert room.status == "in-progress"
    assert call(server, "audience_token")["room"] == room.unique_name


def test_the_host_leaving_ends_the_stream_for_everyone(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming to three viewers
    _, host = go_live(server, emulator)
    viewers = [viewer(server, emulator)[1] for _ in range(3)]
    settled(emulator)
    # WHEN the host's tab vanishes without a goodbye
    emulator.state.participant_leaves(host.sid)
    # THEN Twilio's report reached /room_events, which completed the room
    settled(emulator)
    room = emulator.state.rooms[host.room_sid]
    assert room.status == "completed"
    # AND every viewer was disconnected with it (their pages say the stream has ended)
    assert [v.status for v in viewers] == ["disconnected"] * 3
    (ended,) = deliveries(emulator, "room-ended")
    assert ended.status == 200
    # AND nothing is live any more for a new viewer
    assert call(server, "audience_token")["token"] is None
    assert emulator.state.running()["rooms"] == []


def test_stop_ends_the_stream_and_the_old_session_is_refused(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming to a viewer
    host, participant = go_live(server, emulator)
    _, watcher = viewer(server, emulator)
    # WHEN the host stops
    stopped = call(server, "stream_stop", {"session": host["session"]})
    assert (stopped["live"], stopped["audience"]) == (False, "video")
    # THEN the room is completed and everyone in it disconnected, with no Media v1 call at all
    settled(emulator)
    assert participant.status == watcher.status == "disconnected"
    assert not [key for key in emulator.calls if key[1].startswith("/media/")]
    assert call(server, "audience_token")["token"] is None
    # AND the old session cannot start anything again: 409, go live again
    status, answer = post(f"{server.url}/stream_start", {"session": host["session"]})
    assert status == 409 and "again" in answer["error"]
    # AND a second stop is harmless
    assert call(server, "stream_stop", {"session": host["session"]})["live"] is False


def test_every_answer_matches_the_openapi_document(
    server: DevServer, emulator: EmulatorServer
) -> None:
    """docs/openapi.yaml describes the video audience's answers, field by field."""
    from pathlib import Path

    import yaml
    from openapi_schema_validator import OAS30Validator

    document = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text("utf-8")
    )

    def check(answer: dict[str, Any], schema: str) -> None:
        resolved = {
            **document["components"]["schemas"][schema],
            "components": document["components"],
        }
        OAS30Validator(resolved).validate(answer)

    check(call(server, "audience_token"), "AudienceTokenResponse")
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    check(host, "HostTokenResponse")
    emulator.connect(host["token"])
    check(call(server, "stream_start", {"session": host["session"]}), "StreamStartResponse")
    check(call(server, "audience_token"), "AudienceTokenResponse")
    check(call(server, "stream_stop", {"session": host["session"]}), "StreamStopResponse")


def test_livescreen_cleanup_lists_and_ends_a_live_room_with_its_audience(
    server: DevServer, emulator: EmulatorServer
) -> None:
    from livescreen.cli.cleanup import make_sweeper
    from livescreen.providers.sweeping import end_all

    # GIVEN a host streaming to a viewer, and a host page that vanished without a trace
    host, participant = go_live(server, emulator)
    _, watcher = viewer(server, emulator)
    sweeper = make_sweeper("twilio", server.settings)
    assert sweeper is not None
    # WHEN `livescreen cleanup` looks (Twilio Live is gone: only Video rooms are listed)
    emulator.media_retired = True
    found = sweeper.find().resources
    # THEN it lists the live room, and ending it disconnects everyone in it
    assert [r.room for r in found] == [host["room"]]
    end_all(sweeper, found)
    settled(emulator)
    assert participant.status == watcher.status == "disconnected"
    assert emulator.state.running()["rooms"] == []


def test_a_host_who_waits_too_long_to_join_finds_the_room_ended_and_goes_live_again(
    server: DevServer, emulator: EmulatorServer
) -> None:
    clock = FakeClock()
    emulator.state.clock = clock
    # GIVEN an account with client-side room creation turned off (the Console's Video settings)
    emulator.state.client_room_creation = False
    # AND a host who signed in, then lingers (the screen picker) before joining
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    # WHEN 3 minutes pass with nobody in the room
    clock.now += 180
    # THEN Twilio ended it by itself and reported it; /room_events answered
    with pytest.raises(ApiError) as refused:
        emulator.connect(host["token"])
    assert refused.value.code == 53106  # the page shows Twilio's "Room not found"
    (ended,) = deliveries(emulator, "room-ended")
    assert ended.status == 200
    # AND going live with that session is refused with the way out: go live again
    status, answer = post(f"{server.url}/stream_start", {"session": host["session"]})
    assert status == 409 and "go live again" in answer["error"]
    # AND going live again works: a new room, joined in time
    go_live(server, emulator)


def test_a_host_who_joins_after_the_room_expired_is_refused_and_the_ad_hoc_room_completed(
    server: DevServer, emulator: EmulatorServer
) -> None:
    clock = FakeClock()
    emulator.state.clock = clock
    # GIVEN an account as Twilio opens it (client-side room creation on), and a host who
    # signed in, then left the screen picker open for 4 minutes: the room ended unused
    assert emulator.state.client_room_creation is True
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    clock.now += 240
    assert emulator.state.running()["rooms"] == []
    (ours,) = emulator.state.rooms.values()
    assert ours.status == "completed"
    (ended,) = deliveries(emulator, "room-ended")  # reported, and answered, before the connect
    assert ended.status == 200
    # WHEN the host's page connects: Twilio makes a new room of that name, with its defaults
    participant = emulator.connect(host["token"])
    emulator.state.publish_track(participant.sid, "video", "screen")
    adhoc = emulator.state.rooms[participant.room_sid]
    assert adhoc.unique_name == host["room"] and adhoc.sid != ours.sid
    assert (adhoc.status_callback, adhoc.unused_room_timeout) == (None, 5)
    # AND it goes live
    status, answer = post(f"{server.url}/stream_start", {"session": host["session"]})
    # THEN that is refused, saying what happened and the way out
    assert status == 409, answer
    assert "expired" in answer["error"] and "go live again" in answer["error"].lower()
    # AND the room the host's connect made is completed at once: the host is out, nothing bills
    assert (adhoc.status, participant.status) == ("completed", "disconnected")
    assert emulator.state.running()["rooms"] == []
    # AND viewers are told nothing is live
    assert call(server, "audience_token")["token"] is None
    # AND going live again works: a new room of ours, joined in time, and viewers get it
    again, _ = go_live(server, emulator)
    watching = call(server, "audience_token")
    assert watching["room"] == again["room"] != host["room"]


def test_viewers_are_never_sent_to_a_room_the_hosts_late_connect_made(
    twilio_video_settings: Settings, emulator: EmulatorServer
) -> None:
    clock = FakeClock()
    emulator.state.clock = clock
    # GIVEN a stack without room events (no PUBLIC_API_URL), and a host whose room ended
    # unused before its page connected, so the connect made a new room of that name
    clear_provider_cache()
    throttle.reset()
    port = free_port()
    dev = DevServer(twilio_video_settings.with_values(LIVE_LOOKUP_TTL="0"), port=port)
    dev.start_background()
    try:
        host = call(dev, "host_token", {"password": dev.settings["HOST_PASSWORD"]})
        clock.now += 240
        participant = emulator.connect(host["token"])
        assert emulator.state.rooms[participant.room_sid].unique_name == host["room"]
        # WHEN a viewer asks for a token before the host's page goes live
        answer = call(dev, "audience_token")
        # THEN there is nothing to watch: that room is not one this app created
        assert answer["token"] is None and "room" not in answer
        # AND going live is refused, and completes that room
        status, refusal = post(f"{dev.url}/stream_start", {"session": host["session"]})
        assert status == 409 and "go live again" in refusal["error"].lower()
        assert emulator.state.running()["rooms"] == []
    finally:
        dev.shutdown()
        clear_provider_cache()
        throttle.reset()


def test_a_host_reconnecting_is_still_live_for_going_live_and_for_viewers(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host in its room whose network blips before it goes live
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    participant = emulator.connect(host["token"])
    emulator.state.participant_reconnecting(participant.sid)
    # WHEN it goes live during the blip, THEN that works: it is still in the room
    started = call(server, "stream_start", {"session": host["session"]})
    assert started["live"] is True
    # AND a viewer asking meanwhile is told the stream is live, and can join it
    answer = call(server, "audience_token")
    assert answer["room"] == host["room"]
    emulator.connect(answer["token"])
    # AND when the host is back, nothing changed for anyone
    emulator.state.participant_reconnected(participant.sid)
    assert call(server, "audience_token")["room"] == host["room"]
    assert emulator.state.running()["rooms"] == [host["room"]]


def test_a_host_connected_for_max_duration_is_disconnected_and_the_stream_ends(
    server: DevServer, emulator: EmulatorServer
) -> None:
    clock = FakeClock()
    emulator.state.clock = clock
    # GIVEN a host streaming to a viewer, in a room that keeps participants MAX_DURATION
    _, host = go_live(server, emulator)
    _, watcher = viewer(server, emulator)
    room = emulator.state.rooms[host.room_sid]
    # WHEN the host has been connected that long
    clock.now += room.max_participant_duration
    emulator.state.expire()
    # THEN Twilio disconnected it, /room_events heard it and ended the stream for everyone
    settled(emulator)
    assert host.status == watcher.status == "disconnected"
    assert room.status == "completed"
    assert call(server, "audience_token")["token"] is None


#: 4xx answers that can mean "that participant has just left": Twilio documents none of them
#: for a subscribe-rules update or a kick, so any of them is checked against the participant.
GONE_ANSWERS = [(404, 20404), (404, 53204), (400, 53204), (400, 53209), (400, 20001), (409, 20409)]
KICK = ("POST", "/video/v1/Rooms/{Sid}/Participants/{ParticipantSid}")


def leave_every_viewer(emulator: EmulatorServer, room_sid: str) -> None:
    for participant in emulator.state.rooms[room_sid].connected():
        if participant.identity.startswith("viewer-"):
            emulator.state.participant_leaves(participant.sid)


@pytest.mark.parametrize(("status", "code"), GONE_ANSWERS)
@pytest.mark.parametrize("event", ["participant-connected", "track-added"])
def test_a_viewer_that_left_before_its_rules_or_its_kick_is_answered_200(
    server: DevServer, emulator: EmulatorServer, event: str, status: int, code: int
) -> None:
    # GIVEN a host streaming
    _, host = go_live(server, emulator)
    route = RULES if event == "participant-connected" else KICK
    # AND a viewer who leaves just as the server acts on its event: Twilio answers a 4xx
    emulator.fail_next(*route, status=status, code=code, retry_after=None)
    emulator.after_call(*route, lambda: leave_every_viewer(emulator, host.room_sid))
    _, guest = viewer(server, emulator)
    if event == "track-added":
        settled(emulator)
        emulator.state.publish_track(guest.sid, "video", "camera")
    # THEN the webhook is answered 200: nothing left to do
    (report,) = [
        d for d in deliveries(emulator, event) if d.params["ParticipantIdentity"] == guest.identity
    ]
    assert (report.status, json.loads(report.body)) == (200, {"handled": False})
    assert guest.status == "disconnected"
    assert emulator.state.rooms[host.room_sid].status == "in-progress"


def test_a_refusal_about_a_viewer_still_in_the_room_fails_the_webhook(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming, and Twilio refusing a viewer's rules although it is still there
    go_live(server, emulator)
    emulator.fail_next(*RULES, status=400, code=53215, retry_after=None)
    # WHEN the viewer connects
    _, guest = viewer(server, emulator)
    # THEN the webhook fails loudly (Twilio's refusal is a 502, in the log), nothing is hidden
    (report,) = [
        d
        for d in deliveries(emulator, "participant-connected")
        if d.params["ParticipantIdentity"] == guest.identity
    ]
    assert report.status == 502
    assert guest.status == "connected"
