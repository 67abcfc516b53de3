"""The ``twilio`` provider against the emulator: the real twilio client, real HTTP.

The emulator is the state of record here exactly as Twilio would be: each test looks at what
is running there (what a Twilio bill would show), not at the provider's internals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
from twilio_clock import FakeClock

from livescreen.config import ConfigError, Settings
from livescreen.providers import ProviderError, ProviderUnavailableError, get_provider
from livescreen.providers.twilio.media import room_of
from livescreen.providers.twilio.playback import PlaybackGrantCache
from livescreen.providers.twilio.provider import TwilioProvider
from livescreen.providers.twilio.rest import RetryPolicy
from livescreen.runtime.twilio_client import make_twilio_client, rewrite_url
from twilio_emulator import EmulatorServer

MakeProvider = Callable[..., TwilioProvider]


def claims(token: str, settings: Settings) -> dict[str, Any]:
    """Verify a Twilio access token the way Twilio would: signed with the API key secret."""
    return jwt.decode(token, settings["API_KEY_SECRET"], algorithms=["HS256"])


@pytest.fixture
def sleeps() -> list[float]:
    """Every back-off pause the provider asked for (nothing really sleeps)."""
    return []


@pytest.fixture
def make_provider(twilio_settings: Settings, sleeps: list[float]) -> MakeProvider:
    def make(**overrides: str) -> TwilioProvider:
        settings = twilio_settings.with_values(**overrides)
        retry = RetryPolicy(sleep=sleeps.append)
        return TwilioProvider(settings, make_twilio_client(settings), retry=retry)

    return make


@pytest.fixture
def provider(make_provider: MakeProvider) -> TwilioProvider:
    return make_provider()


def started_processors(emulator: EmulatorServer) -> dict[str | None, Any]:
    state = emulator.state
    return {
        room_of(p.to_json()): p
        for p in state.media_processors.values()
        if p.sid in state.running()["media_processors"]
    }


# -- the client ---------------------------------------------------------------------------------


def test_base_url_rewrites_twilio_domains_only() -> None:
    base = "http://127.0.0.1:4010"
    rewritten = rewrite_url("https://video.twilio.com/v1/Rooms?A=1", base)
    assert rewritten == f"{base}/video/v1/Rooms?A=1"
    assert rewrite_url("https://media.twilio.com/v1/X", base + "/") == f"{base}/media/v1/X"
    assert rewrite_url("https://example.com/v1/X", base) == "https://example.com/v1/X"


def test_registry_builds_the_twilio_provider(twilio_settings: Settings) -> None:
    provider = get_provider(twilio_settings)
    assert provider.name == "twilio"
    assert provider.audience_grant().token is None


# -- host -------------------------------------------------------------------------------------


def test_host_grant_creates_a_group_room_and_a_token_for_that_room_only(
    provider: TwilioProvider, emulator: EmulatorServer, twilio_settings: Settings
) -> None:
    grant = provider.create_host_grant()
    # THEN the room is in progress at Twilio, as a group room
    (room,) = emulator.state.rooms.values()
    assert (room.unique_name, room.status, room.type) == (grant.room, "in-progress", "group")
    assert grant.room.startswith("livestream-")
    # AND the token lets the host identity into that room and nothing else
    token = claims(grant.token or "", twilio_settings)
    assert token["grants"] == {"identity": "host", "video": {"room": grant.room}}
    assert token["sub"] == twilio_settings["ACCOUNT_SID"]
    assert token["exp"] - token["nbf"] == 14400


@pytest.mark.parametrize(("max_duration", "expected"), [("14400", 14400), ("90000", 86400)])
def test_the_room_keeps_the_host_connected_as_long_as_the_stream_may_run(
    emulator: EmulatorServer, make_provider: MakeProvider, max_duration: str, expected: int
) -> None:
    # GIVEN a stream allowed to run MAX_DURATION seconds (Twilio rooms cap participants at 24 h)
    make_provider(MAX_DURATION=max_duration).create_host_grant()
    # THEN the room will not disconnect the host before then
    (room,) = emulator.state.rooms.values()
    assert room.max_participant_duration == expected


def test_each_host_grant_gets_its_own_room(provider: TwilioProvider) -> None:
    assert provider.create_host_grant().room != provider.create_host_grant().room


@pytest.mark.parametrize("room_type", ["go", "peer-to-peer", "group-small"])
def test_a_room_type_twilio_no_longer_offers_is_refused_by_name_at_start_up(
    make_provider: MakeProvider, emulator: EmulatorServer, room_type: str
) -> None:
    # GIVEN a setting left from the days of legacy room types
    # WHEN the provider is built, THEN it names the setting, the reason and the fix
    with pytest.raises(ConfigError, match="ROOM_TYPE") as caught:
        make_provider(ROOM_TYPE=room_type)
    message = str(caught.value)
    assert room_type in message and "only room type" in message
    assert "Set ROOM_TYPE=group," in message
    # AND nothing was asked of Twilio
    assert emulator.total_calls() == 0


def test_rooms_end_by_themselves_soon_after_nobody_is_left(
    provider: TwilioProvider, emulator: EmulatorServer
) -> None:
    """Without room events (no PUBLIC_API_URL) Twilio's own timeouts are the bound."""
    clock = FakeClock()
    emulator.state.clock = clock
    # WHEN the host signs in, THEN its room asks Twilio to end it 3 minutes after its creation
    # if nobody joins, and 1 minute after everyone left (Twilio's default: 5 and 5)
    grant = provider.create_host_grant()
    (room,) = emulator.state.rooms.values()
    assert (room.unused_room_timeout, room.empty_room_timeout) == (3, 1)
    # AND once the host was in it and left, the room ends one minute later
    host = emulator.connect(grant.token or "")
    clock.now += 3600
    emulator.state.participant_leaves(host.sid)
    clock.now += 59
    assert emulator.state.running()["rooms"] == [grant.room]
    clock.now += 1
    assert emulator.state.running()["rooms"] == []


# -- start / stop -------------------------------------------------------------------------------


def test_start_composes_the_room_into_a_player_streamer(
    provider: TwilioProvider, emulator: EmulatorServer
) -> None:
    room = provider.create_host_grant().room
    state = provider.start_stream(room)
    assert (state.live, state.started_now) == (True, True)
    processor = started_processors(emulator)[room]
    assert processor.extension == "video-composer-v1"
    (streamer_sid,) = processor.outputs
    assert emulator.state.player_streamers[streamer_sid].status == "started"
    # AND both are bounded by MAX_DURATION (4 h by default), not Twilio's silent 5 minutes
    assert processor.max_duration == 14400
    assert emulator.state.player_streamers[streamer_sid].max_duration == 14400


def test_max_duration_comes_from_settings(
    make_provider: MakeProvider, emulator: EmulatorServer
) -> None:
    provider = make_provider(MAX_DURATION="600")
    room = provider.create_host_grant().room
    provider.start_stream(room)
    assert started_processors(emulator)[room].max_duration == 600


def test_starting_twice_starts_nothing_new(
    provider: TwilioProvider, make_provider: MakeProvider, emulator: EmulatorServer
) -> None:
    room = provider.create_host_grant().room
    provider.start_stream(room)
    # WHEN another instance (another Lambda container) starts the same room
    again = make_provider().start_stream(room)
    assert (again.live, again.started_now) == (True, False)
    assert emulator.calls_to("POST", "/media/v1/MediaProcessors") == 1
    assert emulator.calls_to("POST", "/media/v1/PlayerStreamers") == 1


def test_stop_ends_everything_it_started_and_completes_the_room(
    provider: TwilioProvider, emulator: EmulatorServer
) -> None:
    room = provider.create_host_grant().room
    provider.start_stream(room)
    state = provider.stop_stream(room)
    assert state.live is False
    assert emulator.state.running() == {"media_processors": [], "player_streamers": [], "rooms": []}


def test_stopping_twice_is_fine(provider: TwilioProvider, emulator: EmulatorServer) -> None:
    room = provider.create_host_grant().room
    provider.start_stream(room)
    provider.stop_stream(room)
    assert provider.stop_stream(room).live is False
    assert emulator.state.running()["rooms"] == []


def test_stop_without_a_start_releases_the_room(
    provider: TwilioProvider, emulator: EmulatorServer
) -> None:
    room = provider.create_host_grant().room
    provider.stop_stream(room)
    assert emulator.state.running()["rooms"] == []


def test_stop_stops_only_its_own_room(provider: TwilioProvider, emulator: EmulatorServer) -> None:
    first, second = provider.create_host_grant().room, provider.create_host_grant().room
    provider.start_stream(first)
    provider.start_stream(second)
    provider.stop_stream(first)
    running = emulator.state.running()
    assert list(started_processors(emulator)) == [second]
    assert running["rooms"] == [second]
    assert running["player_streamers"] == list(started_processors(emulator)[second].outputs)


def test_start_for_a_room_that_has_ended_is_refused(
    provider: TwilioProvider, emulator: EmulatorServer
) -> None:
    room = provider.create_host_grant().room
    provider.stop_stream(room)
    with pytest.raises(ProviderError, match="has ended") as caught:
        provider.start_stream(room)
    assert caught.value.status == 409
    assert emulator.state.running()["player_streamers"] == []


def test_failed_processor_create_leaves_no_player_streamer_running(
    provider: TwilioProvider, emulator: EmulatorServer
) -> None:
    room = provider.create_host_grant().room
    emulator.fail_next("POST", "/media/v1/MediaProcessors", status=503, retry_after=None)
    with pytest.raises(ProviderError) as caught:
        provider.start_stream(room)
    assert caught.value.status == 502
    # THEN the create was not retried (it may have been done) and nothing bills
    assert emulator.calls_to("POST", "/media/v1/MediaProcessors") == 1
    assert emulator.state.running()["player_streamers"] == []
    assert len(emulator.state.player_streamers) == 1


# -- audience -----------------------------------------------------------------------------------


def test_audience_before_during_and_after_a_stream(
    provider: TwilioProvider,
    make_provider: MakeProvider,
    emulator: EmulatorServer,
    twilio_settings: Settings,
) -> None:
    # GIVEN viewers served by another instance that looks the stream up on every call
    audience = make_provider(LIVE_LOOKUP_TTL="0")
    assert audience.audience_grant().token is None
    room = provider.create_host_grant().room
    provider.start_stream(room)
    token = audience.audience_grant().token
    assert token is not None
    player = claims(token, twilio_settings)["grants"]["player"]
    assert player["playerStreamerSid"] == started_processors(emulator)[room].outputs[0]
    lifetime = claims(token, twilio_settings)
    assert lifetime["exp"] - lifetime["nbf"] <= 60
    provider.stop_stream(room)
    assert audience.audience_grant().token is None


def test_one_grant_serves_a_crowd_of_concurrent_viewers(
    make_provider: MakeProvider, emulator: EmulatorServer, twilio_settings: Settings
) -> None:
    # (one lookup period longer than the crowd can take, however slow the machine)
    provider = make_provider(LIVE_LOOKUP_TTL="60")
    provider.start_stream(provider.create_host_grant().room)
    emulator.calls.clear()
    emulator.latency = 0.05  # a realistic round trip, so the viewers really overlap
    barrier = threading.Barrier(200)

    def view(_: int) -> str | None:
        barrier.wait()
        return provider.audience_grant().token

    with ThreadPoolExecutor(max_workers=200) as pool:
        tokens = list(pool.map(view, range(200)))
    # THEN one lookup and one PlaybackGrant served them all
    assert emulator.calls_to("GET", "/media/v1/MediaProcessors") == 1
    assert emulator.calls_to("POST", "/media/v1/PlayerStreamers/{Sid}/PlaybackGrant") == 1
    decoded = [claims(token or "", twilio_settings) for token in tokens]
    assert len({d["grants"]["player"]["playbackUrl"] for d in decoded}) == 1
    # AND every viewer has an identity of their own
    assert len({d["grants"]["identity"] for d in decoded}) == 200


def test_viewers_of_one_stack_never_get_another_stacks_stream(
    make_provider: MakeProvider, emulator: EmulatorServer
) -> None:
    # GIVEN two stacks (dev and prod) sharing one Twilio account, only dev live
    dev = make_provider(APP_TAG="live-screen-sharing-dev")
    prod = make_provider(APP_TAG="live-screen-sharing-prod")
    dev.start_stream(dev.create_host_grant().room)
    # THEN prod's viewers are told nothing is live, and dev's get the stream
    assert prod.audience_grant().token is None
    assert dev.audience_grant().token is not None


def test_grant_is_renewed_before_it_expires() -> None:
    now = [0.0]
    made: list[str] = []

    def create(streamer: str) -> dict[str, Any]:
        made.append(streamer)
        return {"n": len(made)}

    cache = PlaybackGrantCache(
        lambda: "VJ1", create, lookup_ttl=5, grant_ttl=60, clock=lambda: now[0]
    )
    assert cache.current() == {"n": 1}
    now[0] = 54.9
    assert cache.current() == {"n": 1}
    now[0] = 55.0  # five seconds before expiry
    assert cache.current() == {"n": 2}


def test_live_lookup_is_cached_for_live_lookup_ttl() -> None:
    now = [0.0]
    lookups: list[float] = []

    def find() -> str | None:
        lookups.append(now[0])
        return None

    cache = PlaybackGrantCache(find, lambda s: {}, lookup_ttl=5, grant_ttl=60, clock=lambda: now[0])
    for t in (0.0, 1.0, 4.9, 5.0, 9.9):
        now[0] = t
        assert cache.current() is None
    assert lookups == [0.0, 5.0]


# -- failures -----------------------------------------------------------------------------------


def test_retired_media_api_becomes_a_clear_unavailable_error(
    provider: TwilioProvider, emulator: EmulatorServer
) -> None:
    emulator.media_retired = True
    # Video still runs: the host gets a room
    room = provider.create_host_grant().room
    for action in (lambda: provider.start_stream(room), provider.audience_grant):
        with pytest.raises(ProviderUnavailableError) as caught:
            action()
        message = caught.value.message
        assert caught.value.status == 503
        assert "retired" in message and "2023-11-30" in message
        assert "STREAM_PROVIDER=ivs" in message and "STREAM_PROVIDER=local" in message
    # AND a crowd of viewers does not hammer the retired API
    for _ in range(10):
        with pytest.raises(ProviderUnavailableError):
            provider.audience_grant()
    # (one list call for the start's check, one lookup for every viewer since)
    assert emulator.calls_to("GET", "/media/v1/MediaProcessors") == 2
    # AND stopping still releases the room
    assert provider.stop_stream(room).live is False
    assert emulator.state.running()["rooms"] == []


def test_rate_limited_lookup_is_retried_after_retry_after(
    provider: TwilioProvider, emulator: EmulatorServer, sleeps: list[float]
) -> None:
    provider.start_stream(provider.create_host_grant().room)
    emulator.calls.clear()
    emulator.fail_next("GET", "/media/v1/MediaProcessors", count=2, status=429, retry_after=1)
    assert provider.audience_grant().token is not None
    assert sleeps == [1.0, 1.0]
    assert emulator.calls_to("GET", "/media/v1/MediaProcessors") == 3


def test_rate_limited_create_is_retried(
    provider: TwilioProvider, emulator: EmulatorServer, sleeps: list[float]
) -> None:
    emulator.fail_next("POST", "/video/v1/Rooms", status=429, retry_after=2)
    provider.create_host_grant()
    assert sleeps == [2.0]
    assert len(emulator.state.rooms) == 1


def test_server_errors_on_reads_back_off_exponentially(
    provider: TwilioProvider, emulator: EmulatorServer, sleeps: list[float]
) -> None:
    emulator.fail_next("GET", "/media/v1/MediaProcessors", count=3, status=500)
    assert provider.audience_grant().token is None
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2]


def test_retry_after_beyond_the_budget_gives_up_at_once(
    provider: TwilioProvider, emulator: EmulatorServer, sleeps: list[float]
) -> None:
    emulator.fail_next("GET", "/media/v1/MediaProcessors", status=429, retry_after=30)
    with pytest.raises(ProviderError, match="rate limiting") as caught:
        provider.audience_grant()
    assert caught.value.status == 503
    assert sleeps == []


def test_persistent_failure_is_bounded(
    provider: TwilioProvider, emulator: EmulatorServer, sleeps: list[float]
) -> None:
    emulator.fail_next("GET", "/media/v1/MediaProcessors", count=50, status=503, retry_after=None)
    with pytest.raises(ProviderError):
        provider.audience_grant()
    assert emulator.calls_to("GET", "/media/v1/MediaProcessors") <= 4
    assert sum(sleeps) <= RetryPolicy().budget


def test_slow_twilio_times_out_within_upstream_timeout(
    make_provider: MakeProvider, emulator: EmulatorServer
) -> None:
    emulator.latency = 1.0
    provider = make_provider(UPSTREAM_TIMEOUT="0.3")
    with pytest.raises(ProviderError, match="did not answer in time"):
        provider.create_host_grant()


def test_wrong_credentials_fail_without_revealing_them(
    make_provider: MakeProvider, twilio_settings: Settings
) -> None:
    secret = "a-wrong-secret-that-must-never-be-shown-0000"
    with pytest.raises(ProviderError) as caught:
        make_provider(API_KEY_SECRET=secret).create_host_grant()
    assert "401" in caught.value.message
    assert secret not in caught.value.message
    assert twilio_settings["AUTH_TOKEN"] not in caught.value.message
