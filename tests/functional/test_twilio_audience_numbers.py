"""Audience numbers of the ``twilio`` provider, counted from Twilio's signed room callbacks.

Real HTTP both ways: the dev server runs the functions with a real stream store (SQLite in the
test's folder, or DynamoDB in moto), the emulator plays Twilio and the viewers' clients, and
posts its signed room callbacks to ``PUBLIC_API_URL/room_events``. Twilio's clock is the test's
(``FakeClock``), so the callbacks' ``Timestamp`` say exactly when each viewer came and went.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from dev_calls import call, settled
from devserver_support import free_port
from streams_table import create_streams_table, one_request_at_a_time
from twilio.request_validator import RequestValidator
from twilio_clock import START, FakeClock

from livescreen.config import Settings
from livescreen.devserver import DevServer
from livescreen.providers import clear_provider_cache
from livescreen.providers.twilio import audience_counting
from livescreen.providers.twilio.media import COMPOSER_IDENTITY
from livescreen.security.password_guard import throttle
from livescreen.store import (
    StoreUnavailableError,
    StreamRecord,
    StreamStore,
    clear_store_cache,
    get_stream_store,
)
from twilio_emulator import EmulatorServer
from twilio_emulator.resources import Participant, iso

TABLE = "livescreen-streams-test"


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_settings(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The stream store: a SQLite file in the test's folder, or a DynamoDB table in moto."""
    if request.param == "sqlite":
        yield {"STREAM_STORE": "sqlite", "STREAMS_DB": str(tmp_path / "streams.db")}
        return
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws(), one_request_at_a_time():  # (the emulator's callbacks arrive together)
        create_streams_table(TABLE)
        yield {"STREAM_STORE": "dynamodb", "STREAMS_TABLE": TABLE}


@contextmanager
def running(settings: Settings, **values: str) -> Iterator[DevServer]:
    """The dev server with ``settings`` and ``values``, telling Twilio to report room events
    to it."""
    clear_provider_cache()
    clear_store_cache()
    throttle.reset()
    port = free_port()
    dev = DevServer(
        settings.with_values(
            PUBLIC_API_URL=f"http://localhost:{port}", LIVE_LOOKUP_TTL="60", **values
        ),
        port=port,
    )
    dev.start_background()
    try:
        yield dev
    finally:
        dev.shutdown()
        clear_provider_cache()
        clear_store_cache()
        throttle.reset()


@pytest.fixture
def clock(emulator: EmulatorServer) -> FakeClock:
    """Twilio's time, moved only by the test."""
    clock = FakeClock()
    emulator.state.clock = clock
    return clock


@pytest.fixture
def server(
    twilio_video_settings: Settings, store_settings: dict[str, str], clock: FakeClock
) -> Iterator[DevServer]:
    """The dev server (twilio, video audience) with a working stream store."""
    with running(twilio_video_settings, **store_settings) as dev:
        yield dev


def store_of(server: DevServer) -> StreamStore:
    store = get_stream_store(server.settings)
    assert store is not None
    return store


def record(server: DevServer, room: str) -> StreamRecord:
    stream = store_of(server).get(room)
    assert stream is not None
    return stream


def go_live(server: DevServer, emulator: EmulatorServer) -> tuple[str, Participant]:
    """The host signs in (its stream recorded as starting now, Twilio's time), connects to
    its room, publishes its screen and goes live."""
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    store_of(server).stream_started(host["room"], provider="twilio", at=emulator.state.clock())
    participant = emulator.connect(host["token"])
    emulator.state.publish_track(participant.sid, "video", "screen")
    assert call(server, "stream_start", {"session": host["session"]})["live"] is True
    settled(emulator)
    return host["room"], participant


def viewer(server: DevServer, emulator: EmulatorServer) -> Participant:
    """A viewer's page: a token from /audience_token, then a connection with it."""
    return emulator.connect(call(server, "audience_token")["token"])


def reports(emulator: EmulatorServer, event: str, sid: str | None = None) -> list[Any]:
    """The room callbacks delivered so far for ``event`` (about participant ``sid``)."""
    settled(emulator)
    return [
        d
        for d in emulator.callbacks.deliveries
        if d.params["StatusCallbackEvent"] == event
        and (sid is None or d.params.get("ParticipantSid") == sid)
    ]


def send_signed(server: DevServer, params: Mapping[str, str]) -> tuple[int, Any]:
    """POST one room callback signed with the account's auth token, as Twilio does; its
    status and parsed answer."""
    url = f"{server.url}/room_events"
    signature = RequestValidator(server.settings["AUTH_TOKEN"]).compute_signature(url, dict(params))
    request = urllib.request.Request(
        url,
        data=urlencode(params).encode(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": signature,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def lose_leave_reports_of(emulator: EmulatorServer, participant: Participant) -> None:
    """From now on Twilio's ``participant-disconnected`` about ``participant`` never arrives."""
    send = emulator.state.on_room_event
    assert send is not None

    def deliver(url: str, method: str, params: dict[str, str]) -> None:
        lost = params.get("ParticipantSid") == participant.sid
        if not (lost and params["StatusCallbackEvent"] == "participant-disconnected"):
            send(url, method, params)

    emulator.state.on_room_event = deliver


def test_three_viewers_at_once_make_a_peak_of_3_and_their_minutes_are_counted(
    server: DevServer, emulator: EmulatorServer, clock: FakeClock
) -> None:
    # GIVEN a host streaming since START
    room, host = go_live(server, emulator)
    # WHEN three viewers join one minute apart
    viewers = []
    for _ in range(3):
        clock.now += 60
        viewers.append(viewer(server, emulator))
    settled(emulator)
    # THEN three are watching, the peak is 3, three joined; the host is not counted
    numbers = record(server, room).numbers
    assert (numbers.current, numbers.peak, numbers.joins) == (3, 3, 3)
    # WHEN Twilio sends every join report again (a retry after a slow answer)
    for report in reports(emulator, "participant-connected"):
        assert send_signed(server, report.params)[0] == 200
    # THEN nothing is counted twice
    numbers = record(server, room).numbers
    assert (numbers.current, numbers.peak, numbers.joins) == (3, 3, 3)
    # WHEN the first viewer leaves after 4 minutes, and Twilio reports it twice
    clock.now = START + 300
    emulator.state.participant_leaves(viewers[0].sid)
    (left,) = reports(emulator, "participant-disconnected", viewers[0].sid)
    assert (left.status, send_signed(server, left.params)) == (200, (200, {"handled": False}))
    # THEN two are watching, the peak stays 3, and its 4 minutes are counted once
    numbers = record(server, room).numbers
    assert (numbers.current, numbers.peak, numbers.joins) == (2, 3, 3)
    assert numbers.viewer_seconds == 240
    # WHEN the host's tab vanishes at START + 10 minutes
    clock.now = START + 600
    emulator.state.participant_leaves(host.sid)
    settled(emulator)
    # THEN the stream ended then, and the two still watching count until that end
    stream = record(server, room)
    assert (stream.started_at, stream.ended_at) == (START, START + 600)
    assert stream.numbers.current == 0
    assert (stream.numbers.peak, stream.numbers.joins) == (3, 3)
    assert stream.numbers.viewer_seconds == 240 + (600 - 120) + (600 - 180)
    assert stream.to_json()["viewerMinutes"] == 19.0
    # AND the room was completed as before: every report after the end was answered 200
    assert emulator.state.rooms[host.room_sid].status == "completed"
    assert all(d.status == 200 for d in emulator.callbacks.deliveries)


def test_a_leave_that_never_arrived_counts_until_room_ended(
    server: DevServer, emulator: EmulatorServer, clock: FakeClock
) -> None:
    # GIVEN a host streaming since START to two viewers who joined at once
    room, host = go_live(server, emulator)
    clock.now += 60
    alice, bob = viewer(server, emulator), viewer(server, emulator)
    # AND Twilio's report of Bob leaving, two minutes later, is lost
    lose_leave_reports_of(emulator, bob)
    clock.now += 120
    emulator.state.participant_leaves(bob.sid)
    settled(emulator)
    assert record(server, room).numbers.current == 2
    # WHEN Twilio reports the room ended at START + 5 minutes (and reports it again)
    clock.now = START + 300
    ended = {
        "AccountSid": emulator.state.account_sid,
        "RoomName": room,
        "RoomSid": host.room_sid,
        "RoomStatus": "completed",
        "StatusCallbackEvent": "room-ended",
        "Timestamp": iso(START + 300) or "",
    }
    assert send_signed(server, ended) == (200, {"handled": True})
    assert send_signed(server, ended) == (200, {"handled": True})
    # THEN the stream ended then, and both viewers count until that end (Bob's leave was lost)
    stream = record(server, room)
    assert stream.ended_at == START + 300
    assert (stream.numbers.current, stream.numbers.peak, stream.numbers.joins) == (0, 2, 2)
    assert stream.numbers.viewer_seconds == 2 * (300 - 60)
    # AND the room's end was acted on as before: completed, Alice disconnected with it
    settled(emulator)
    assert emulator.state.rooms[host.room_sid].status == "completed"
    assert alice.status == "disconnected"
    # AND Alice's leave, reported after the end, changed nothing
    assert record(server, room).numbers == stream.numbers


def test_the_host_and_a_room_not_this_apps_are_not_counted(
    server: DevServer, emulator: EmulatorServer, clock: FakeClock
) -> None:
    # GIVEN a host streaming: its own participant-connected was reported
    room, host = go_live(server, emulator)
    (joined,) = reports(emulator, "participant-connected", host.sid)
    assert joined.status == 200
    # THEN the host is nobody's viewer
    numbers = record(server, room).numbers
    assert (numbers.current, numbers.peak, numbers.joins) == (0, 0, 0)
    # WHEN Twilio reports a viewer joining another room of the account (signed all the same)
    other = {
        **joined.params,
        "RoomName": "daily-standup",
        "RoomSid": "RM" + "0" * 32,
        "ParticipantSid": "PA" + "1" * 32,
        "ParticipantIdentity": "viewer-0123456789abcdef",
    }
    # THEN it is answered, and nothing is counted anywhere
    assert send_signed(server, other) == (200, {"handled": False})
    assert record(server, room).numbers == numbers
    assert [s.id for s in store_of(server).list()] == [room]
    # AND a viewer of the host's room still is
    viewer(server, emulator)
    settled(emulator)
    assert record(server, room).numbers.joins == 1


def test_with_twilio_live_the_composer_is_not_a_viewer_and_the_host_leaving_ends_the_stream(
    twilio_settings: Settings, emulator: EmulatorServer, clock: FakeClock, tmp_path: Path
) -> None:
    with running(twilio_settings, STREAMS_DB=str(tmp_path / "streams.db")) as server:
        # GIVEN a host streaming through Twilio Live since START (its viewers watch the
        # PlayerStreamer, not the room: only the host and the composer are in it)
        host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
        store_of(server).stream_started(host["room"], provider="twilio", at=START)
        assert call(server, "stream_start", {"session": host["session"]})["live"] is True
        composer = f"{server.settings['APP_TAG']}-{COMPOSER_IDENTITY}"
        emulator.state.connect_participant(host["room"], composer)
        # WHEN the host's tab vanishes 10 minutes later
        clock.now = START + 600
        emulator.state.disconnect_participant(host["room"], server.settings["HOST_IDENTITY"])
        settled(emulator)
        # THEN the stream stopped as before, and its record ended then, with no viewer counted
        assert emulator.state.running()["player_streamers"] == []
        stream = record(server, host["room"])
        assert stream.ended_at == START + 600
        assert stream.numbers.joins == stream.numbers.peak == 0
        assert stream.numbers.viewer_seconds == 0


def test_a_failing_store_neither_fails_the_callbacks_nor_skips_their_work(
    twilio_video_settings: Settings,
    emulator: EmulatorServer,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a stream store that cannot be written (its file's folder is a file)
    (tmp_path / "not-a-folder").write_text("")
    broken = str(tmp_path / "not-a-folder" / "streams.db")
    caplog.set_level(logging.WARNING, logger="livescreen")
    with running(twilio_video_settings, STREAMS_DB=broken) as server:
        # AND a host streaming to a viewer
        host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
        participant = emulator.connect(host["token"])
        emulator.state.publish_track(participant.sid, "video", "screen")
        assert call(server, "stream_start", {"session": host["session"]})["live"] is True
        mallory = viewer(server, emulator)
        # WHEN the viewer publishes a camera (a page modified to do so)
        settled(emulator)
        emulator.state.publish_track(mallory.sid, "video", "camera")
        # THEN its join was answered and its rules set, and it was disconnected all the same
        (joined,) = reports(emulator, "participant-connected", mallory.sid)
        (kicked,) = reports(emulator, "track-added", mallory.sid)
        assert (joined.status, json.loads(joined.body)) == (200, {"handled": True})
        assert (kicked.status, json.loads(kicked.body)) == (200, {"handled": True})
        assert mallory.status == "disconnected"
        # WHEN the host leaves
        emulator.state.participant_leaves(participant.sid)
        settled(emulator)
        # THEN the room was completed as before, and every report was answered 200
        assert emulator.state.rooms[participant.room_sid].status == "completed"
        assert all(d.status == 200 for d in emulator.callbacks.deliveries)
    # AND each failed count was logged with its reason
    failures = [r for r in caplog.records if r.getMessage().startswith("Could not count")]
    assert {r.getMessage().split()[3] for r in failures} >= {
        "participant-connected",
        "participant-disconnected",
    }


class WatchingStore:
    """The real stream store, noting what Twilio's room already looked like when each count
    arrived; its ``stream_ended`` then fails, as a table timing out would."""

    def __init__(self, store: StreamStore, emulator: EmulatorServer) -> None:
        self.store = store
        self.emulator = emulator
        #: (count, whether the callback's own work was done when it arrived)
        self.seen: list[tuple[str, bool]] = []

    def _participant(self, sid: str) -> Participant:
        (participant,) = [
            p
            for room in self.emulator.state.rooms.values()
            for p in room.participants.values()
            if p.sid == sid
        ]
        return participant

    def viewer_joined(self, stream_id: str, viewer_id: str, *, at: float) -> bool:
        rules_set = self._participant(viewer_id).rules_updated is not None
        self.seen.append(("joined", rules_set))
        return self.store.viewer_joined(stream_id, viewer_id, at=at)

    def viewer_left(self, stream_id: str, viewer_id: str, *, at: float) -> bool:
        return self.store.viewer_left(stream_id, viewer_id, at=at)

    def stream_ended(self, stream_id: str, *, at: float) -> StreamRecord | None:
        rooms = self.emulator.state.rooms.values()
        completed = [r.status for r in rooms if r.unique_name == stream_id] == ["completed"]
        self.seen.append(("ended", completed))
        raise StoreUnavailableError("The stream table could not be reached: read timeout")


def test_the_callbacks_work_is_done_before_it_is_counted(
    twilio_video_settings: Settings,
    emulator: EmulatorServer,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="livescreen")
    with running(twilio_video_settings, STREAMS_DB=str(tmp_path / "streams.db")) as server:
        # GIVEN a stream store that notes the room's state when each count arrives, and times
        # out when the stream's end is counted
        watching = WatchingStore(store_of(server), emulator)
        monkeypatch.setattr(audience_counting, "get_stream_store", lambda settings: watching)
        # AND a host streaming since START
        room, host = go_live(server, emulator)
        # WHEN a viewer joins
        clock.now += 60
        viewer(server, emulator)
        settled(emulator)
        # THEN its subscribe rules were set before its join was counted, and it was counted
        assert watching.seen == [("joined", True)]
        assert record(server, room).numbers.joins == 1
        # WHEN the host's tab vanishes
        clock.now += 60
        emulator.state.participant_leaves(host.sid)
        settled(emulator)
        # THEN the room was completed before the end was counted (a paid room never waits on
        # the store), and the report was answered 200 although counting it failed
        assert watching.seen[-1] == ("ended", True)
        assert emulator.state.rooms[host.room_sid].status == "completed"
        (left,) = reports(emulator, "participant-disconnected", host.sid)
        assert (left.status, json.loads(left.body)) == (200, {"handled": True})
    # AND the failed count was logged with its reason
    assert "Could not count participant-disconnected" in caplog.text
    assert "read timeout" in caplog.text
