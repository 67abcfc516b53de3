"""``twilio`` recordings: the host's tracks only, one mp4 composition per room, a safe redirect.

Real HTTP all the way: the dev server runs the functions with the real twilio client against
the emulator, which posts its signed room callbacks back to ``/room_events``. Compositions move
on only when a test says so (``auto_compose`` off), so "processing" and "ready" are both seen.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from dev_calls import call, post, settled
from devserver_support import free_port
from twilio_credentials import API_KEY_SECRET, AUTH_TOKEN, HOST_SESSION_SECRET

from livescreen.config import Settings
from livescreen.devserver import DevServer
from livescreen.providers import clear_provider_cache
from livescreen.providers.twilio.recording import RoomRecorder
from livescreen.providers.twilio.rest import TwilioRest
from livescreen.recordings import RecordingNotFoundError, clear_store_cache, get_store
from livescreen.recordings.playback_links import media_link
from livescreen.runtime.twilio_client import make_twilio_client
from livescreen.security.password_guard import throttle
from twilio_emulator import EmulatorServer
from twilio_emulator.recording_resources import Composition
from twilio_emulator.resources import Participant

HOST_ONLY = [{"type": "include", "publisher": "host"}]
RECORDING_RULES = ("POST", "/video/v1/Rooms/{Sid}/RecordingRules")
COMPOSITION_CREATE = ("POST", "/video/v1/Compositions")


def start_server(settings: Settings) -> DevServer:
    clear_provider_cache()
    clear_store_cache()
    throttle.reset()
    port = free_port()
    dev = DevServer(settings.with_values(PUBLIC_API_URL=f"http://localhost:{port}"), port=port)
    dev.start_background()
    return dev


@pytest.fixture
def recording_settings(twilio_video_settings: Settings, emulator: EmulatorServer) -> Settings:
    emulator.state.auto_compose = False
    return twilio_video_settings.with_values(RECORDING="on", LIVE_LOOKUP_TTL="60")


@pytest.fixture
def server(recording_settings: Settings) -> Iterator[DevServer]:
    dev = start_server(recording_settings)
    try:
        yield dev
    finally:
        dev.shutdown()
        clear_provider_cache()
        clear_store_cache()
        throttle.reset()


def go_live(server: DevServer, emulator: EmulatorServer) -> tuple[dict[str, Any], Participant]:
    """The host signs in, publishes its screen and microphone, and goes live."""
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    participant = emulator.connect(host["token"])
    emulator.state.publish_track(participant.sid, "video", "screen")
    emulator.state.publish_track(participant.sid, "audio", "microphone")
    call(server, "stream_start", {"session": host["session"]})
    settled(emulator)
    return host, participant


def stop(server: DevServer, emulator: EmulatorServer, host: dict[str, Any]) -> None:
    call(server, "stream_stop", {"session": host["session"]})
    settled(emulator)


def compositions_of(emulator: EmulatorServer, room_sid: str) -> list[Composition]:
    return [c for c in emulator.state.compositions.values() if c.room_sid == room_sid]


def listing(server: DevServer, session: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{server.url}/recordings", headers={"X-Host-Session": session}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["recordings"])


def media(server: DevServer, path: str) -> requests.Response:
    return requests.get(f"{server.url}{path}", allow_redirects=False, timeout=10)


def finish(emulator: EmulatorServer) -> None:
    emulator.state.advance_compositions()  # processing
    emulator.state.advance_compositions()  # completed


# -- what is recorded ---------------------------------------------------------------------------


def test_the_room_records_the_host_and_never_a_viewer(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming its screen and microphone
    _, participant = go_live(server, emulator)
    room = emulator.state.rooms[participant.room_sid]
    # THEN the room records nobody by default, and its rules include the host alone
    assert room.record_participants_on_connect is False
    assert emulator.state.get_recording_rules(room.sid, "/").rules == HOST_ONLY
    # WHEN a viewer joins and publishes a camera anyway (before the kick lands)
    answer = call(server, "audience_token")
    viewer = emulator.connect(answer["token"])
    emulator.state.publish_track(viewer.sid, "video", "camera")
    settled(emulator)
    # THEN only the host's two tracks are being recorded
    recorded = emulator.state.room_recordings(room.sid)
    assert sorted((r.participant_sid, r.kind) for r in recorded) == [
        (participant.sid, "audio"),
        (participant.sid, "video"),
    ]
    assert viewer.status == "disconnected"


def test_recording_off_sets_no_rules_and_composes_nothing(
    recording_settings: Settings, emulator: EmulatorServer
) -> None:
    # GIVEN recording turned off
    dev = start_server(recording_settings.with_values(RECORDING="off"))
    try:
        # WHEN a host streams, then stops
        host, participant = go_live(dev, emulator)
        stop(dev, emulator, host)
    finally:
        dev.shutdown()
        clear_provider_cache()
    # THEN no rule was set, nothing was recorded and no composition was asked for
    assert emulator.calls_to(*RECORDING_RULES) == 0
    assert emulator.state.rooms[participant.room_sid].record_participants_on_connect is False
    assert emulator.state.track_recordings == {}
    assert emulator.calls_to(*COMPOSITION_CREATE) == 0
    assert emulator.state.compositions == {}


# -- one composition per room ---------------------------------------------------------------------


def test_stopping_composes_one_mp4_and_repeated_room_ended_callbacks_add_none(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming
    host, participant = go_live(server, emulator)
    # WHEN the host stops (and Twilio reports room-ended to /room_events)
    stop(server, emulator, host)
    ended = [
        d for d in emulator.callbacks.deliveries if d.params["StatusCallbackEvent"] == "room-ended"
    ]
    assert [d.status for d in ended] == [200]
    # AND Twilio sends that callback twice more
    for _ in range(2):
        emulator.callbacks.send(ended[0].url, "POST", dict(ended[0].params))
    settled(emulator)
    # THEN the room is completed and has exactly one composition: mp4 of its recordings
    room = emulator.state.rooms[participant.room_sid]
    assert room.status == "completed"
    (composition,) = compositions_of(emulator, room.sid)
    assert (composition.format, composition.resolution) == ("mp4", "1280x720")
    assert emulator.calls_to(*COMPOSITION_CREATE) == 1


def test_the_host_leaving_ends_the_room_and_composes_it_once(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming
    _, participant = go_live(server, emulator)
    # WHEN the host's tab closes: Twilio reports participant-disconnected, then room-ended
    emulator.state.participant_leaves(participant.sid)
    settled(emulator)
    settled(emulator)  # the room-ended callback the completion caused
    # THEN the room is completed with one composition, made by whichever path came first
    assert emulator.state.rooms[participant.room_sid].status == "completed"
    assert len(compositions_of(emulator, participant.room_sid)) == 1


def test_a_room_where_the_host_published_nothing_is_not_composed(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host whose page connected but never published
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    participant = emulator.connect(host["token"])
    # WHEN the stream is stopped
    stop(server, emulator, host)
    # THEN no composition is paid for
    assert compositions_of(emulator, participant.room_sid) == []
    assert emulator.calls_to(*COMPOSITION_CREATE) == 0


def test_twilio_failing_to_compose_still_ends_the_room(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a host streaming, and Twilio failing every composition request
    host, participant = go_live(server, emulator)
    emulator.fail_next(*COMPOSITION_CREATE, count=10, status=500)
    # WHEN the host stops
    status, answer = post(f"{server.url}/stream_stop", {"session": host["session"]})
    settled(emulator)
    emulator.clear_faults()
    # THEN the stop succeeds and the room is completed (the failure is only logged)
    assert (status, answer["live"]) == (200, False)
    assert emulator.state.rooms[participant.room_sid].status == "completed"
    assert compositions_of(emulator, participant.room_sid) == []
    # AND the room-ended callback was answered, not failed
    ended = [
        d for d in emulator.callbacks.deliveries if d.params["StatusCallbackEvent"] == "room-ended"
    ]
    assert [d.status for d in ended] == [200]


def test_two_containers_composing_one_room_at_once_keep_one_composition(
    recording_settings: Settings, emulator: EmulatorServer
) -> None:
    # GIVEN a completed room with the host's recordings
    dev = start_server(recording_settings)
    try:
        host, participant = go_live(dev, emulator)
        stop(dev, emulator, host)
    finally:
        dev.shutdown()
        clear_provider_cache()
    emulator.state.compositions.clear()  # as if the stop had not composed it
    # WHEN two containers (two recorders) compose it at the very same moment
    recorders = [
        RoomRecorder(TwilioRest(make_twilio_client(recording_settings)), "host", enabled=True)
        for _ in range(2)
    ]
    emulator.gate(*COMPOSITION_CREATE, parties=2)
    kept: list[str | None] = []
    threads = [
        threading.Thread(target=lambda r=r: kept.append(r.compose(participant.room_sid)))
        for r in recorders
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    # THEN both were created and one was deleted: one composition remains
    made = compositions_of(emulator, participant.room_sid)
    live = [c for c in made if c.status != "deleted"]
    assert len(made) == 2 and len(live) == 1
    # (a container whose list ran before the other's create answered names its own; which one
    # is deleted is decided by the one that saw both)
    assert set(kept) <= {c.sid for c in made} and len(kept) == 2
    # AND composing again, from either container, names the one that remains and makes none
    assert [recorder.compose(participant.room_sid) for recorder in recorders] == [live[0].sid] * 2
    assert len(compositions_of(emulator, participant.room_sid)) == 2


# -- the list and the media -----------------------------------------------------------------------


def test_the_list_shows_processing_then_ready_with_a_signed_link(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a stream that ended
    host, _ = go_live(server, emulator)
    stop(server, emulator, host)
    # WHEN the host lists the recordings while Twilio composes
    (processing,) = listing(server, host["session"])
    # THEN it is there, processing, with nothing to play yet
    assert (processing["title"], processing["streamId"]) == ("Untitled stream", host["room"])
    assert (processing["status"], processing["playbackUrl"]) == ("processing", None)
    assert processing["format"] == "mp4"
    # WHEN the composition completes
    finish(emulator)
    (ready,) = listing(server, host["session"])
    # THEN it is ready, with a duration and a signed link to /recording_media
    assert ready["id"] == processing["id"]
    assert ready["status"] == "ready" and ready["duration"] >= 1
    assert ready["playbackUrl"].startswith(f"/recording_media?id={ready['id']}&expires=")
    assert "&sig=" in ready["playbackUrl"]


def test_recording_media_redirects_to_twilio_without_a_credential(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a recording that is ready
    host, _ = go_live(server, emulator)
    stop(server, emulator, host)
    finish(emulator)
    (ready,) = listing(server, host["session"])
    # WHEN the page's <video> asks for it
    answer = media(server, ready["playbackUrl"])
    # THEN it is sent to Twilio's short-lived URL, which nobody may cache
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{emulator.base_url}/composition-media/{ready['id']}.mp4?")
    assert answer.headers["Cache-Control"] == "no-store"
    # AND no credential is anywhere in the answer
    everything = answer.text + repr(dict(answer.headers))
    for secret in (AUTH_TOKEN, API_KEY_SECRET, HOST_SESSION_SECRET):
        assert secret not in everything
    # AND the URL plays the mp4 without any credential
    played = requests.get(location, timeout=10)
    assert played.status_code == 200 and played.headers["Content-Type"] == "video/mp4"
    assert played.content[4:8] == b"ftyp"


def test_recording_media_refuses_what_it_must(server: DevServer, emulator: EmulatorServer) -> None:
    # GIVEN one recording ready and another (of this app) still processing
    host, _ = go_live(server, emulator)
    stop(server, emulator, host)
    finish(emulator)
    host2, _ = go_live(server, emulator)
    stop(server, emulator, host2)
    by_status = {r["status"]: r for r in listing(server, host2["session"])}
    ready, processing = by_status["ready"], by_status["processing"]
    ttl = 3600

    def signed(recording_id: str, **kwargs: Any) -> str:
        return media_link(recording_id, secret=HOST_SESSION_SECRET, ttl_seconds=ttl, **kwargs)

    # THEN a malformed id is a 400
    assert media(server, "/recording_media?id=CJ123").status_code == 400
    assert media(server, "/recording_media?id=" + "CJ" + "A" * 32).status_code == 400
    # AND a link without a signature, with a forged one, or expired, is a 401
    assert media(server, f"/recording_media?id={ready['id']}").status_code == 401
    forged = ready["playbackUrl"][:-4] + "0000"
    assert media(server, forged).status_code == 401
    expired = signed(ready["id"], now=lambda: 1_000_000_000.0)
    assert media(server, expired).status_code == 401
    # AND an unknown composition, or one not ready yet, is a 404
    assert media(server, signed("CJ" + "0" * 32)).status_code == 404
    assert media(server, signed(processing["id"])).status_code == 404
    # AND errors are JSON a person can read
    answer = media(server, signed(processing["id"]))
    assert set(answer.json()) == {"error"}


def test_a_composition_of_another_apps_room_is_not_listed_nor_played(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a room this app did not create (another name), recorded and composed
    room = emulator.state.create_room({"UniqueName": "someone-elses-room"})
    other = emulator.state.connect_participant(room.sid, "host")
    emulator.state.update_recording_rules(room.sid, "/", {"Rules": json.dumps(HOST_ONLY)})
    emulator.state.publish_track(other.sid, "video", "screen")
    emulator.state.update_room(room.sid, "/", {"Status": "completed"})
    foreign = emulator.state.create_composition(
        {"RoomSid": room.sid, "AudioSources": "*", "Format": "mp4"}
    )
    finish(emulator)
    host = call(server, "host_token", {"password": server.settings["HOST_PASSWORD"]})
    # THEN the host's list does not show it, and its media is a 404 even with a valid link
    assert listing(server, host["session"]) == []
    link = media_link(foreign.sid, secret=HOST_SESSION_SECRET, ttl_seconds=600)
    assert media(server, link).status_code == 404
    # AND it cannot be deleted through this app
    with pytest.raises(RecordingNotFoundError):
        get_store(server.settings).delete(foreign.sid)


def test_a_public_list_links_without_a_signature(
    recording_settings: Settings, emulator: EmulatorServer
) -> None:
    # GIVEN recordings that anyone may list
    dev = start_server(recording_settings.with_values(RECORDINGS_PUBLIC="true"))
    try:
        host, _ = go_live(dev, emulator)
        stop(dev, emulator, host)
        finish(emulator)
        # WHEN anyone lists them
        answer = requests.get(f"{dev.url}/recordings", timeout=10).json()
        (ready,) = answer["recordings"]
        # THEN the link is plain, and it plays
        assert ready["playbackUrl"] == f"/recording_media?id={ready['id']}"
        assert media(dev, ready["playbackUrl"]).status_code == 302
    finally:
        dev.shutdown()
        clear_provider_cache()
        clear_store_cache()


# -- delete ----------------------------------------------------------------------------------------


def test_delete_removes_the_composition_and_the_rooms_track_recordings(
    server: DevServer, emulator: EmulatorServer
) -> None:
    # GIVEN a recording that is ready
    host, participant = go_live(server, emulator)
    stop(server, emulator, host)
    finish(emulator)
    (ready,) = listing(server, host["session"])
    store = get_store(server.settings)
    # WHEN it is deleted (what `livescreen recordings delete ID` does)
    store.delete(ready["id"])
    # THEN the composition and every track recording of the room are deleted at Twilio
    assert emulator.state.compositions[ready["id"]].status == "deleted"
    tracks = emulator.state.room_recordings(participant.room_sid)
    assert tracks and all(t.status == "deleted" for t in tracks)
    # AND the list no longer shows it, and its link is a 404
    assert listing(server, host["session"]) == []
    assert media(server, ready["playbackUrl"]).status_code == 404
    # AND deleting it again, or an id that cannot be one, says there is no such recording
    for wrong in (ready["id"], "CJ" + "0" * 32, "not-an-id", "../etc"):
        with pytest.raises(RecordingNotFoundError):
            store.delete(wrong)
