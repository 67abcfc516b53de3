"""A viewer's token never grants publishing, whatever the provider.

``/audience_token`` answers anyone, so what it hands out must let a viewer watch and nothing
more: ``local`` checks its tokens itself, ``ivs`` signs SUBSCRIBE-only tokens that IVS enforces,
and ``twilio`` hands out a PlaybackGrant, which plays a stream and carries no Video grant.
docs/failures.md says what each provider enforces and where that stops.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from faults_support import call, fresh_process, session_of, sign_in, sleeps, use_ivs_client
from ivs_support import PUBLIC_PEM, StubbedIvs, ivs_settings, stage_arn, summary
from viewer_offers import VIEWER_OFFER

from livescreen.config import Settings
from livescreen.devserver.relays import signalling as local_signalling
from livescreen.devserver.relays.http import RelayError
from twilio_emulator import EmulatorServer

__all__ = ["fresh_process", "sleeps"]  # fixtures used by name

pytestmark = pytest.mark.usefixtures("fresh_process")

LOCAL = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": "viewer token test password",
        "HOST_SESSION_SECRET": "viewer-token-test-session-secret-0123456789",
    },
    "the test settings",
)
ANSWER = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=host answer\r\n"


def signalling(method: str, path: str, query: dict[str, str], body: Any = b"") -> int:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    headers = {"content-type": "application/json"}
    status, _, _ = local_signalling.handle(method, path, query, headers, data)
    return status


# -- local --------------------------------------------------------------------------------------


def test_local_viewer_token_opens_no_host_route() -> None:
    host = sign_in(LOCAL)
    call("stream_start", LOCAL, {"session": host["session"]})
    viewer = call("audience_token", LOCAL).json()["token"]
    assert viewer and viewer != host["token"]
    # THEN the viewer token is not a host token: no host events, no answers to viewers ...
    with pytest.raises(RelayError) as refused:
        local_signalling.host_channel({"token": viewer})
    assert refused.value.status == 401
    body = {"token": viewer, "viewer": "0123456789abcdef", "sdp": ANSWER}
    assert signalling("POST", "/answer", {}, body) == 401
    # ... AND not a host session: it can neither start nor stop the stream
    for endpoint in ("stream_start", "stream_stop"):
        answer = call(endpoint, LOCAL, {"session": viewer})
        assert answer.status == 401, answer.text
    # AND the stream is untouched
    assert call("audience_token", LOCAL).json()["token"] == viewer


def test_local_host_token_does_not_work_as_a_viewer_token_either() -> None:
    """The two tokens are separate secrets: neither can be derived from the other's routes."""
    host = sign_in(LOCAL)
    call("stream_start", LOCAL, {"session": host["session"]})
    with pytest.raises(RelayError) as refused:
        local_signalling.viewer_channel({"token": host["token"], "sdp": VIEWER_OFFER}, "127.0.0.1")
    assert refused.value.status == 410


# -- ivs ----------------------------------------------------------------------------------------


def test_ivs_viewer_token_is_subscribe_only(monkeypatch: pytest.MonkeyPatch) -> None:
    ivs = StubbedIvs.create()
    use_ivs_client(monkeypatch, ivs.client)
    settings = ivs_settings()
    room, arn = "livestream-0123456789abcdef", stage_arn()
    ivs.expect_list(summary(arn, room, live=True))
    ivs.expect_get_stage(arn)
    token = call("audience_token", settings).json()["token"]
    # THEN IVS, which verifies the ES384 signature with the imported public key, reads ...
    claims = jwt.decode(token, PUBLIC_PEM, algorithms=["ES384"])
    assert claims["capabilities"] == {"allow_publish": False, "allow_subscribe": True}
    assert claims["resource"] == arn
    # ... AND it is no host session either
    for endpoint in ("stream_start", "stream_stop"):
        assert call(endpoint, settings, {"session": token}).status == 401
    ivs.stubber.assert_no_pending_responses()


def test_ivs_host_token_is_the_only_publish_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """PUBLISH is asked for in exactly one place: the host's token, made with the stage."""
    ivs = StubbedIvs.create()
    use_ivs_client(monkeypatch, ivs.client)
    settings = ivs_settings()
    ivs.stubber.add_response(
        "create_stage",
        {"stage": {"arn": stage_arn()}, "participantTokens": [{"token": "host-token"}]},
    )
    sign_in(settings)
    ((_, params),) = [c for c in ivs.calls if c[0] == "CreateStage"]
    (configuration,) = params["participantTokenConfigurations"]
    assert configuration["userId"] == settings["HOST_IDENTITY"]
    assert "PUBLISH" in configuration["capabilities"]
    assert [op for op, _ in ivs.calls] == ["CreateStage"]  # no CreateParticipantToken at all


# -- twilio -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("sleeps")
def test_twilio_viewer_token_carries_a_playback_grant_and_no_video_grant(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    host = sign_in(twilio_settings)
    call("stream_start", twilio_settings, {"session": host["session"]})
    token = call("audience_token", twilio_settings).json()["token"]
    # Twilio verifies the signature with the API key secret, as here
    claims = jwt.decode(token, twilio_settings["API_KEY_SECRET"], algorithms=["HS256"])
    grants = claims["grants"]
    assert set(grants) == {"identity", "player"}  # PlaybackGrant only: nothing to publish with
    assert grants["player"]["playerStreamerSid"].startswith("VJ")
    assert grants["identity"] != twilio_settings["HOST_IDENTITY"]
    # AND the host's token is the only one with a Video grant, for the host's room alone
    host_claims = jwt.decode(host["token"], twilio_settings["API_KEY_SECRET"], algorithms=["HS256"])
    assert host_claims["grants"]["video"] == {"room": host["room"]}
    # AND the viewer token is no host session
    for endpoint in ("stream_start", "stream_stop"):
        assert call(endpoint, twilio_settings, {"session": token}).status == 401
    assert len(emulator.state.running()["media_processors"]) == 1


@pytest.mark.usefixtures("sleeps")
def test_twilio_host_session_of_another_room_cannot_touch_this_stream(
    twilio_settings: Settings, emulator: EmulatorServer
) -> None:
    host = sign_in(twilio_settings)
    call("stream_start", twilio_settings, {"session": host["session"]})
    other = session_of("livestream-ffffffffffffffff", twilio_settings)
    assert call("stream_stop", twilio_settings, {"session": other}).status == 200
    assert emulator.state.running()["rooms"] == [host["room"]]
    assert len(emulator.state.running()["media_processors"]) == 1
