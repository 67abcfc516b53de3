"""The local provider and its signalling, driven in-process the way the dev server drives them:
the host's and viewers' channels (what a page's socket subscribes to) and the answer route."""

from __future__ import annotations

import json
import queue
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from viewer_offers import CHROMIUM_VIEWER_OFFER, HOST_ANSWER

from livescreen.config import Settings
from livescreen.devserver.channels import Channel
from livescreen.devserver.relays import signalling
from livescreen.devserver.relays.http import RelayError
from livescreen.providers import ProviderError, ProviderUnavailableError, get_provider
from livescreen.providers.local.hub import Hub
from livescreen.providers.local.provider import LocalProvider
from livescreen.providers.local.room import Limits

OFFER = CHROMIUM_VIEWER_OFFER
ANSWER = HOST_ANSWER
#: Small enough for tests to reach, with the defaults' proportions.
LIMITS = Limits(
    max_viewers=6, max_viewers_per_address=3, max_pending_offers=4, max_pending_offers_per_address=2
)
HERE = "192.0.2.1"
ELSEWHERE = "198.51.100.7"

Reply = tuple[int, dict[str, object]]


class FakeClock:
    """The hub's clock, moved by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ChannelReader:
    """A channel's events, as the page's socket would send them."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def next(self, name: str, timeout: float = 2.0) -> dict[str, Any]:
        while True:
            got, data = self.channel.inbox.get(timeout=timeout)
            if got == name:
                return data

    def received(self, name: str) -> list[dict[str, Any]]:
        """Every ``name`` event waiting to be sent now."""
        seen: list[dict[str, Any]] = []
        while True:
            try:
                got, data = self.channel.inbox.get_nowait()
            except queue.Empty:
                return seen
            if got == name:
                seen.append(data)

    def close(self) -> None:
        """The page went away (or unsubscribed)."""
        self.channel.close()


class Signalling:
    """The ``/local`` signalling of one hub, called the way the dev server calls it."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def post(self, path: str, payload: object) -> Reply:
        status, headers, body = signalling.handle(
            "POST",
            path,
            {},
            {"Content-Type": "application/json"},
            json.dumps(payload).encode(),
            hub=self.hub,
        )
        assert headers["Content-Type"] == "application/json"
        assert isinstance(body, bytes)
        return status, json.loads(body)

    def host(self, message: Mapping[str, Any]) -> ChannelReader:
        return ChannelReader(signalling.host_channel(message, hub=self.hub))

    def viewer(self, viewer_token: str, sdp: str = OFFER, address: str = HERE) -> ChannelReader:
        message = {"token": viewer_token, "sdp": sdp}
        return ChannelReader(signalling.viewer_channel(message, address, hub=self.hub))

    def refusal(self, viewer_token: str, sdp: str = OFFER, address: str = HERE) -> Reply:
        """What a viewer's subscription is refused with: ``(status, {"error": ...})``."""
        with pytest.raises(RelayError) as refused:
            self.viewer(viewer_token, sdp, address)
        return refused.value.status, {"error": refused.value.message}


@pytest.fixture(autouse=True)
def not_on_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hub(clock: FakeClock) -> Iterator[Hub]:
    hub = Hub(clock=clock, limits=LIMITS)
    yield hub
    hub.reset()


@pytest.fixture
def provider(hub: Hub) -> LocalProvider:
    return LocalProvider(hub)


@pytest.fixture
def sig(hub: Hub) -> Signalling:
    return Signalling(hub)


def viewers_in(hub: Hub, room: str) -> int:
    """Viewers the server keeps for ``room``, counting offers not yet answered."""
    live = hub.room(room)
    assert live is not None
    return len(live.viewers)


def go_live(provider: LocalProvider, sig: Signalling) -> tuple[str, str, ChannelReader]:
    """A host subscribes to its channel and starts; ``(room, host token, host channel)``."""
    grant = provider.create_host_grant()
    assert grant.token is not None
    host = sig.host({"token": grant.token})
    assert host.next("viewers") == {"count": 0}
    provider.start_stream(grant.room)
    return grant.room, grant.token, host


def join(
    sig: Signalling,
    host: ChannelReader,
    host_token: str,
    viewer_token: str,
    address: str = HERE,
) -> tuple[str, ChannelReader]:
    """A viewer offers and the host answers; ``(viewer id, viewer channel)``."""
    viewer = sig.viewer(viewer_token, address=address)
    asked = host.next("offer")
    assert asked["sdp"] == OFFER
    assert asked["viewer"] == viewer.channel.welcome["viewer"]
    answer = {"token": host_token, "viewer": asked["viewer"], "sdp": ANSWER}
    assert sig.post("/answer", answer) == (200, {"ok": True})
    assert viewer.next("answer") == {"viewer": asked["viewer"], "sdp": ANSWER}
    return str(asked["viewer"]), viewer


def test_nothing_is_live_until_the_host_starts(provider: LocalProvider) -> None:
    # GIVEN a room created for a host
    grant = provider.create_host_grant()
    assert re.fullmatch(r"livestream-[0-9a-f]{16}", grant.room)
    assert grant.token and grant.extra == {"signalling": "/local", "recording": None}
    # THEN the audience has nothing to watch yet
    assert provider.audience_grant().token is None

    # WHEN the host starts, twice
    first = provider.start_stream(grant.room)
    again = provider.start_stream(grant.room)

    # THEN the stream is live once, and viewers get a token that is not the host's
    assert (first.live, first.started_now) == (True, True)
    assert (again.live, again.started_now) == (True, False)
    audience = provider.audience_grant()
    assert audience.token and audience.token != grant.token
    assert audience.extra["signalling"] == "/local"


def test_stopping_is_idempotent_and_ends_the_audience_token(provider: LocalProvider) -> None:
    grant = provider.create_host_grant()
    provider.start_stream(grant.room)

    assert provider.stop_stream(grant.room).live is False
    assert provider.stop_stream(grant.room).live is False
    assert provider.audience_grant().token is None


def test_starting_a_forgotten_room_says_what_to_do(provider: LocalProvider) -> None:
    with pytest.raises(ProviderError, match="switch LIVE on again") as raised:
        provider.start_stream("livestream-0000000000000000")
    assert raised.value.status == 409


def test_refuses_to_run_on_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    # (refused before its modules are imported: they are not packaged for Lambda)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "stream-start")
    with pytest.raises(ProviderUnavailableError, match="STREAM_PROVIDER=ivs"):
        get_provider(Settings({"STREAM_PROVIDER": "local"}, "test"))


def test_viewer_and_host_exchange_sdp_and_viewers_are_counted(
    provider: LocalProvider, sig: Signalling
) -> None:
    # GIVEN a live stream with its host listening for offers
    room, host_token, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)

    # WHEN two viewers join (their offer goes to the host, its answer comes back)
    first_id, first = join(sig, host, host_token, viewer_token)
    assert host.next("viewers") == {"count": 1}
    _, second = join(sig, host, host_token, viewer_token)
    assert host.next("viewers") == {"count": 2}

    # WHEN the first viewer closes its page
    first.close()

    # THEN the host is told to drop that peer, and the count goes down
    assert host.next("bye") == {"viewer": first_id}
    assert host.next("viewers") == {"count": 1}

    # WHEN the host stops
    provider.stop_stream(room)

    # THEN the remaining viewer and the host are told
    assert second.next("ended") == {"reason": "The host stopped the stream"}
    assert host.next("ended") == {"reason": "The host stopped the stream"}


def test_a_new_stream_ends_the_previous_one(provider: LocalProvider, sig: Signalling) -> None:
    _, host_token, host = go_live(provider, sig)
    old_token = str(provider.audience_grant().token)
    _, viewer = join(sig, host, host_token, old_token)

    go_live(provider, sig)

    assert viewer.next("ended") == {"reason": "Another stream started"}
    assert host.next("ended") == {"reason": "Another stream started"}
    assert provider.audience_grant().token not in (None, old_token)
    assert sig.refusal(old_token) == (410, {"error": "The stream is not live"})


def test_an_offer_nobody_answers_is_refused_in_time_and_frees_its_place(
    provider: LocalProvider, sig: Signalling, clock: FakeClock, hub: Hub
) -> None:
    # GIVEN a viewer whose offer the host never answers
    room, _, host = go_live(provider, sig)
    viewer = sig.viewer(str(provider.audience_grant().token))
    asked = host.next("offer")

    # WHEN the time for an answer has nearly passed, it still waits
    clock.advance(LIMITS.answer_seconds - 1)
    viewer.channel.on_idle()
    assert viewer.received("error") == []

    # WHEN it has passed
    clock.advance(2)
    viewer.channel.on_idle()

    # THEN the viewer is told to try again, and the host to forget that offer
    assert viewer.next("error") == {
        "status": 504,
        "error": "The host did not answer in time: try again",
    }
    assert host.next("bye") == {"viewer": asked["viewer"]}
    assert viewers_in(hub, room) == 0


@pytest.mark.parametrize(
    ("message", "status", "error"),
    [
        ({}, 401, "Missing host token"),
        ({"token": ["x"]}, 401, "Missing host token"),
        ({"token": "guess"}, 401, "Unknown or expired host token"),
    ],
)
def test_a_host_channel_needs_the_host_token(
    sig: Signalling, message: dict[str, Any], status: int, error: str
) -> None:
    with pytest.raises(RelayError) as refused:
        sig.host(message)

    assert refused.value.status == status
    assert refused.value.message.startswith(error)


@pytest.mark.parametrize(
    ("sdp", "status", "error"),
    [
        (None, 400, "Missing 'sdp'"),
        ("not an sdp", 400, "'sdp' must be an SDP offer (starting with v=0)"),
        ("v=0\ud800", 400, "'sdp' must be an SDP offer in valid Unicode"),
        (OFFER.replace("a=recvonly", "a=sendrecv"), 400, "A viewer's offer may only receive"),
        (OFFER + "junk\r\n", 400, "Line 204 of the offer is not an SDP line"),
    ],
)
def test_a_viewer_offer_must_only_receive(
    provider: LocalProvider, sig: Signalling, sdp: Any, status: int, error: str
) -> None:
    _, _, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)

    got_status, got = sig.refusal(viewer_token, sdp)

    assert got_status == status
    assert str(got["error"]).startswith(error)
    assert host.received("offer") == []


def test_a_viewer_needs_a_live_stream(sig: Signalling) -> None:
    assert sig.refusal("") == (401, {"error": "Missing viewer token"})
    assert sig.refusal("x") == (410, {"error": "The stream is not live"})


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/answer", b"not json", 400, "Request body must be JSON"),
        ("POST", "/answer", b"[1]", 400, "Request body must be a JSON object"),
        ("POST", "/answer", b'{"sdp": "v=0"}', 400, "Missing 'token'"),
        ("POST", "/answer", b'{"token": "guess"}', 401, "Unknown or expired host token"),
        ("POST", "/answer", b" " * 64 * 1024, 413, "Request body is larger than"),
        ("GET", "/answer", b"", 405, "GET is not allowed on /local/answer"),
        ("POST", "/offer", b"{}", 404, "No local signalling endpoint at /local/offer"),
        ("GET", "/host/events", b"", 404, "No local signalling endpoint at /local/host/events"),
        ("GET", "/viewer/events", b"", 404, "No local signalling endpoint"),
    ],
)
def test_bad_requests_get_a_json_error(
    hub: Hub, method: str, path: str, body: bytes, status: int, error: str
) -> None:
    got_status, headers, got_body = signalling.handle(method, path, {}, {}, body, hub=hub)

    assert got_status == status
    assert headers["Content-Type"] == "application/json"
    assert isinstance(got_body, bytes)
    assert json.loads(got_body)["error"].startswith(error)


def test_an_answer_must_be_sdp_for_a_viewer_still_there(
    provider: LocalProvider, sig: Signalling
) -> None:
    _, host_token, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)

    reply = sig.post("/answer", {"token": host_token, "viewer": "v", "sdp": "hello"})
    assert reply == (400, {"error": "'sdp' must be an SDP answer (starting with v=0)"})
    reply = sig.post("/answer", {"token": host_token, "viewer": "gone", "sdp": ANSWER})
    assert reply == (404, {"error": "That viewer has left"})

    # a second answer to the same viewer is refused: the first one stands
    viewer_id, viewer = join(sig, host, host_token, viewer_token)
    reply = sig.post("/answer", {"token": host_token, "viewer": viewer_id, "sdp": ANSWER})
    assert reply == (409, {"error": "That viewer already has its answer"})
    assert viewer.received("answer") == []


def test_an_oversized_offer_is_refused_before_it_reaches_the_host(
    provider: LocalProvider, sig: Signalling
) -> None:
    # GIVEN a live stream
    _, _, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)

    # WHEN a viewer sends an offer larger than any browser's (a real one is about 7 KB)
    padded = OFFER + "a=x-padding:" + "x" * signalling.MAX_SDP_BYTES + "\r\n"
    reply = sig.refusal(viewer_token, padded)

    # THEN it is refused at once and the host is never asked to answer it
    assert reply == (413, {"error": f"'sdp' is larger than {signalling.MAX_SDP_BYTES} bytes"})
    assert host.received("offer") == []


def test_offers_beyond_the_pending_limits_are_refused(
    provider: LocalProvider, sig: Signalling, hub: Hub
) -> None:
    # GIVEN a live stream with as many offers waiting from one address as one address may have
    room, host_token, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)
    waiting = [sig.viewer(viewer_token) for _ in range(LIMITS.max_pending_offers_per_address)]
    asked = [host.next("offer") for _ in waiting]

    # WHEN one more offer comes from there
    reply = sig.refusal(viewer_token)

    # THEN it is told to come back, at once, and neither the host nor the room sees it
    assert reply == (429, {"error": "Too many viewers are joining at once: try again shortly"})
    assert host.received("offer") == []
    assert viewers_in(hub, room) == LIMITS.max_pending_offers_per_address

    # WHILE offers from elsewhere still go through, up to the room's own limit
    others = LIMITS.max_pending_offers - LIMITS.max_pending_offers_per_address
    elsewhere = [sig.viewer(viewer_token, address=f"198.51.100.{n}") for n in range(others)]
    assert len([host.next("offer") for _ in elsewhere]) == others
    assert sig.refusal(viewer_token, address=ELSEWHERE)[0] == 429

    # WHEN the host answers one of the first address's offers
    answer = {"token": host_token, "viewer": asked[0]["viewer"], "sdp": ANSWER}
    assert sig.post("/answer", answer) == (200, {"ok": True})

    # THEN there is room for its next offer again
    sig.viewer(viewer_token)
    assert host.next("offer")["sdp"] == OFFER
    provider.stop_stream(room)
    assert [viewer.next("ended") for viewer in waiting] == [
        {"reason": "The host stopped the stream"}
    ] * len(waiting)


def test_one_address_takes_only_its_share_of_a_room(
    provider: LocalProvider, sig: Signalling, hub: Hub
) -> None:
    # GIVEN one address watching with as many viewers as one address may have
    room, host_token, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)
    mine = [
        join(sig, host, host_token, viewer_token) for _ in range(LIMITS.max_viewers_per_address)
    ]

    # WHEN it offers once more
    reply = sig.refusal(viewer_token)

    # THEN it is refused, while a viewer elsewhere still joins
    assert reply == (
        429,
        {"error": "This stream has as many viewers as it can take: try again later"},
    )
    join(sig, host, host_token, viewer_token, address=ELSEWHERE)

    # WHEN one of its viewers leaves, it may add one again
    mine[0][1].close()
    assert host.next("bye") == {"viewer": mine[0][0]}
    join(sig, host, host_token, viewer_token)
    assert viewers_in(hub, room) == LIMITS.max_viewers_per_address + 1


def test_a_full_room_refuses_more_viewers(
    provider: LocalProvider, sig: Signalling, hub: Hub
) -> None:
    # GIVEN a live stream with as many viewers as a room takes (from several addresses)
    room, host_token, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)
    watching = [
        join(sig, host, host_token, viewer_token, address=f"198.51.100.{n}")
        for n in range(LIMITS.max_viewers)
    ]

    # WHEN one more viewer offers
    reply = sig.refusal(viewer_token, address=ELSEWHERE)

    # THEN it is refused with a reason, and the host is not asked to open a connection for it
    assert reply == (
        429,
        {"error": "This stream has as many viewers as it can take: try again later"},
    )
    assert host.received("offer") == []
    assert viewers_in(hub, room) == LIMITS.max_viewers

    # WHEN a viewer leaves
    watching[0][1].close()
    assert host.next("bye") == {"viewer": watching[0][0]}

    # THEN a new viewer gets in
    join(sig, host, host_token, viewer_token, address=ELSEWHERE)


def test_offers_made_while_the_host_was_away_are_sent_again(
    provider: LocalProvider, sig: Signalling
) -> None:
    # GIVEN a viewer's offer made while the host's channel was closed (its socket reconnects)
    _, host_token, host = go_live(provider, sig)
    host.close()
    viewer = sig.viewer(str(provider.audience_grant().token))

    # WHEN the host subscribes again
    again = sig.host({"token": host_token})

    # THEN the offer is sent to it, and its answer reaches the viewer
    asked = again.next("offer")
    answer = {"token": host_token, "viewer": asked["viewer"], "sdp": ANSWER}
    assert sig.post("/answer", answer) == (200, {"ok": True})
    assert viewer.next("answer")["sdp"] == ANSWER


def test_a_host_that_vanishes_ends_the_stream(
    provider: LocalProvider, sig: Signalling, clock: FakeClock
) -> None:
    # GIVEN a live stream with one viewer
    _, host_token, host = go_live(provider, sig)
    _, viewer = join(sig, host, host_token, str(provider.audience_grant().token))

    # WHEN the host's page dies without stopping (its channel just closes)
    host.close()
    clock.advance(LIMITS.host_grace_seconds - 1)

    # THEN the stream is kept through a short outage
    assert provider.audience_grant().token is not None

    # WHEN the grace period has passed
    clock.advance(2)

    # THEN the viewer is told and nothing is live
    assert provider.audience_grant().token is None
    assert viewer.next("ended") == {"reason": "The host disconnected"}


def test_a_start_whose_host_never_connects_ends_after_the_grace_period(
    provider: LocalProvider, sig: Signalling, clock: FakeClock
) -> None:
    # GIVEN a host that started the stream but never subscribed to its channel
    grant = provider.create_host_grant()
    provider.start_stream(grant.room)
    clock.advance(LIMITS.host_grace_seconds - 1)
    assert provider.audience_grant().token is not None

    # WHEN the grace period has passed
    clock.advance(2)

    # THEN nothing is live, and the host's token no longer opens its channel
    assert provider.audience_grant().token is None
    with pytest.raises(RelayError) as refused:
        sig.host({"token": str(grant.token)})
    assert refused.value.status == 401


def test_a_host_that_connects_late_keeps_the_stream(
    provider: LocalProvider, sig: Signalling, clock: FakeClock
) -> None:
    # GIVEN a host that started before its channel was subscribed
    grant = provider.create_host_grant()
    provider.start_stream(grant.room)
    clock.advance(LIMITS.host_grace_seconds - 1)

    # WHEN its channel is subscribed within the grace period
    host = sig.host({"token": str(grant.token)})
    assert host.next("viewers") == {"count": 0}

    # THEN the stream stays live however long it runs
    clock.advance(3600)
    assert provider.audience_grant().token is not None
    host.close()
