"""``TWILIO_AUDIENCE`` picks the twilio provider's flow; its settings are checked at start-up."""

from __future__ import annotations

from typing import Any

import pytest

from livescreen.config import ConfigError, Settings
from livescreen.providers.twilio import factory as twilio_module
from livescreen.providers.twilio.live_room import LiveRoomLookup
from livescreen.providers.twilio.provider import TwilioProvider
from livescreen.providers.twilio.room_event_rules import (
    HOST_RULES,
    KICK,
    STOP,
    VIEWER_RULES,
    room_event_action,
)
from livescreen.providers.twilio.video import TwilioVideoProvider

ROOM = "livestream-0123456789abcdef"


def settings(**values: str) -> Settings:
    base = {
        "STREAM_PROVIDER": "twilio",
        "ACCOUNT_SID": "AC" + "1" * 32,
        "AUTH_TOKEN": "unit-test-auth-token",
        "API_KEY_SID": "SK" + "2" * 32,
        "API_KEY_SECRET": "unit-test-api-key-secret-0123456789",
    }
    return Settings({**base, **values}, source="the test settings")


def test_video_is_the_default_and_live_keeps_the_retired_flow() -> None:
    video = twilio_module.create_provider(settings())
    assert isinstance(video, TwilioVideoProvider)
    assert video.max_participants == 50  # 49 viewers and the host
    live = twilio_module.create_provider(settings(TWILIO_AUDIENCE="live"))
    assert type(live) is TwilioProvider


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"TWILIO_AUDIENCE": "hls"}, "TWILIO_AUDIENCE must be one of video, live"),
        ({"TWILIO_MAX_VIEWERS": "50"}, "TWILIO_MAX_VIEWERS must be at most 49"),
        ({"TWILIO_MAX_VIEWERS": "0"}, "TWILIO_MAX_VIEWERS must be at least 1"),
        ({"ROOM_TYPE": "peer-to-peer"}, "ROOM_TYPE=peer-to-peer is a room type Twilio no longer"),
        ({"ROOM_TYPE": "group-small"}, "ROOM_TYPE=group-small is a room type Twilio no longer"),
        ({"ROOM_TYPE": "large"}, "ROOM_TYPE must be group, got 'large'"),
    ],
)
def test_a_wrong_setting_is_named_at_start_up(values: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        twilio_module.create_provider(settings(**values))


def test_the_room_holds_the_host_and_twilio_max_viewers() -> None:
    provider = twilio_module.create_provider(settings(ROOM_TYPE="Group", TWILIO_MAX_VIEWERS="9"))
    assert isinstance(provider, TwilioVideoProvider)
    assert (provider.room_type, provider.max_participants) == ("group", 10)


@pytest.mark.parametrize(
    ("event", "identity", "action"),
    [
        ("participant-connected", "viewer-0123456789abcdef", VIEWER_RULES),
        ("participant-connected", "someone-else", VIEWER_RULES),
        ("participant-connected", "host", HOST_RULES),
        ("track-added", "viewer-0123456789abcdef", KICK),
        ("track-added", "host", None),
        ("participant-disconnected", "host", STOP),
        ("participant-disconnected", "viewer-0123456789abcdef", None),
        ("room-ended", "", STOP),
        ("room-created", "", None),
        ("track-removed", "viewer-0123456789abcdef", None),
    ],
)
def test_what_each_room_event_asks_of_the_server(
    event: str, identity: str, action: str | None
) -> None:
    assert room_event_action(event, ROOM, identity, "host") == action
    # and nothing at all for a room this app did not create
    assert room_event_action(event, "someone-elses-room", identity, "host") is None


def test_the_live_lookup_asks_once_per_ttl_and_remembers_failures() -> None:
    now = [0.0]
    answers: list[Any] = ["room-a", RuntimeError("Twilio down"), None]
    asked: list[float] = []

    def find() -> str | None:
        asked.append(now[0])
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    lookup = LiveRoomLookup(find, ttl=5, clock=lambda: now[0])
    assert [lookup.current() for _ in range(3)] == ["room-a"] * 3
    now[0] = 5.0
    for _ in range(3):
        with pytest.raises(RuntimeError):
            lookup.current()
    now[0] = 9.9
    with pytest.raises(RuntimeError):
        lookup.current()
    lookup.clear()  # this container started or stopped a stream: ask again at once
    assert lookup.current() is None
    assert asked == [0.0, 5.0, 9.9]
