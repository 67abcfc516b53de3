"""The local provider and its signalling, driven in-process the way the dev server drives them."""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Callable, Iterator

import pytest

from livescreen.config import Settings
from livescreen.providers import ProviderError, ProviderUnavailableError, get_provider
from livescreen.providers import local_signalling as signalling
from livescreen.providers.local import LocalProvider
from livescreen.providers.local_hub import Hub, Limits
from livescreen.relay_http import FileBody

OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=viewer offer\r\n"
ANSWER = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=host answer\r\n"
#: Small enough for tests to reach, with the defaults' proportions.
LIMITS = Limits(max_viewers=3, max_pending_offers=2)

Reply = tuple[int, dict[str, object]]


class FakeClock:
    """The hub's clock, moved by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class EventReader:
    """Reads an SSE iterator on a thread, like the dev server writing it to a socket."""

    def __init__(self, body: bytes | Iterator[bytes] | FileBody) -> None:
        assert not isinstance(body, (bytes, FileBody))
        self._body = body
        self.events: queue.Queue[tuple[str, dict[str, object]]] = queue.Queue()
        self.finished = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for chunk in self._body:
            match = re.match(r"event: (\w+)\ndata: (.*)\n\n", chunk.decode())
            if match:
                self.events.put((match[1], json.loads(match[2])))
            if self._closing.is_set():
                self._body.close()  # type: ignore[attr-defined]
                break
        self.finished.set()

    def next(self, name: str, timeout: float = 2.0) -> dict[str, object]:
        while True:
            got, data = self.events.get(timeout=timeout)
            if got == name:
                return data

    def received(self, name: str, wait: float = 0.2) -> list[dict[str, object]]:
        """Every ``name`` event that arrives within ``wait`` seconds from now."""
        seen: list[dict[str, object]] = []
        try:
            while True:
                got, data = self.events.get(timeout=wait)
                if got == name:
                    seen.append(data)
        except queue.Empty:
            return seen

    def close(self) -> None:
        """The client went away: the next write (a keep-alive at the latest) fails."""
        self._closing.set()
        assert self.finished.wait(2.0)


class Signalling:
    """The ``/local`` endpoints of one hub, called the way the dev server calls them."""

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

    def get(self, path: str, query: dict[str, str]) -> signalling.Response:
        return signalling.handle("GET", path, query, {}, b"", hub=self.hub)

    def viewer_events(self, viewer_token: str, viewer_id: str) -> EventReader:
        status, headers, body = self.get(
            "/viewer/events", {"token": viewer_token, "viewer": viewer_id}
        )
        assert (status, headers["Content-Type"]) == (200, "text/event-stream")
        return EventReader(body)

    def offer_in_background(self, viewer_token: str, sdp: str = OFFER) -> Callable[[], Reply]:
        """Sends an offer on a thread (it waits for the host); call the result for its reply."""
        replies: list[Reply] = []
        payload = {"token": viewer_token, "sdp": sdp}
        thread = threading.Thread(target=lambda: replies.append(self.post("/offer", payload)))
        thread.start()

        def reply() -> Reply:
            thread.join(10.0)
            assert not thread.is_alive(), "the offer got no reply within 10 s"
            return replies[0]

        return reply


@pytest.fixture(autouse=True)
def quick_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.setattr(signalling, "KEEPALIVE_SECONDS", 0.05)
    monkeypatch.setattr(signalling, "ANSWER_TIMEOUT_SECONDS", 2.0)


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


def go_live(provider: LocalProvider, sig: Signalling) -> tuple[str, str, EventReader]:
    """A host opens its event stream and starts; ``(room, host token, host events)``."""
    grant = provider.create_host_grant()
    assert grant.token is not None
    status, headers, body = sig.get("/host/events", {"token": grant.token})
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    host = EventReader(body)
    provider.start_stream(grant.room)
    return grant.room, grant.token, host


def answered_offer(sig: Signalling, host: EventReader, host_token: str, viewer_token: str) -> str:
    """A viewer offers and the host answers; the viewer's id."""
    reply = sig.offer_in_background(viewer_token)
    asked = host.next("offer")
    assert asked["sdp"] == OFFER
    answer = {"token": host_token, "viewer": asked["viewer"], "sdp": ANSWER}
    assert sig.post("/answer", answer) == (200, {"ok": True})
    assert reply() == (200, {"viewer": asked["viewer"], "sdp": ANSWER})
    return str(asked["viewer"])


def join(
    sig: Signalling, host: EventReader, host_token: str, viewer_token: str
) -> tuple[str, EventReader]:
    """A viewer offers, the host answers, the viewer opens its event stream."""
    viewer_id = answered_offer(sig, host, host_token, viewer_token)
    return viewer_id, sig.viewer_events(viewer_token, viewer_id)


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

    # WHEN two viewers join
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

    # THEN the remaining viewer and the host are told, and both event streams finish
    assert second.next("ended") == {"reason": "The host stopped the stream"}
    assert host.next("ended") == {"reason": "The host stopped the stream"}
    assert second.finished.wait(2.0) and host.finished.wait(2.0)


def test_a_new_stream_ends_the_previous_one(provider: LocalProvider, sig: Signalling) -> None:
    _, host_token, host = go_live(provider, sig)
    old_token = str(provider.audience_grant().token)
    _, viewer = join(sig, host, host_token, old_token)

    go_live(provider, sig)

    assert viewer.next("ended") == {"reason": "Another stream started"}
    assert host.next("ended") == {"reason": "Another stream started"}
    assert provider.audience_grant().token not in (None, old_token)
    assert sig.post("/offer", {"token": old_token, "sdp": OFFER}) == (
        410,
        {"error": "The stream is not live"},
    )


def test_an_offer_nobody_answers_times_out(
    provider: LocalProvider, sig: Signalling, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signalling, "ANSWER_TIMEOUT_SECONDS", 0.2)
    grant = provider.create_host_grant()
    provider.start_stream(grant.room)

    reply = sig.post("/offer", {"token": provider.audience_grant().token, "sdp": OFFER})

    assert reply == (504, {"error": "The host did not answer in time: try again"})


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "status", "error"),
    [
        ("GET", "/host/events", {}, b"", 401, "Missing host token"),
        ("GET", "/host/events", {"token": "guess"}, b"", 401, "Unknown or expired host token"),
        ("POST", "/offer", {}, b"not json", 400, "Request body must be JSON"),
        ("POST", "/offer", {}, b"[1]", 400, "Request body must be a JSON object"),
        ("POST", "/offer", {}, b'{"sdp": "v=0"}', 400, "Missing 'token'"),
        ("POST", "/offer", {}, b'{"token": "x", "sdp": "v=0"}', 410, "The stream is not live"),
        ("POST", "/offer", {}, b" " * 64 * 1024, 413, "Request body is larger than"),
        ("POST", "/answer", {}, b'{"token": "guess"}', 401, "Unknown or expired host token"),
        ("GET", "/viewer/events", {"token": "x"}, b"", 410, "The stream is not live"),
        ("GET", "/offer", {}, b"", 405, "GET is not allowed on /local/offer"),
        ("GET", "/nope", {}, b"", 404, "No local signalling endpoint at /local/nope"),
    ],
)
def test_bad_requests_get_a_json_error(
    hub: Hub, method: str, path: str, query: dict[str, str], body: bytes, status: int, error: str
) -> None:
    got_status, headers, got_body = signalling.handle(method, path, query, {}, body, hub=hub)

    assert got_status == status
    assert headers["Content-Type"] == "application/json"
    assert isinstance(got_body, bytes)
    assert json.loads(got_body)["error"].startswith(error)


def test_an_answer_must_be_sdp(provider: LocalProvider, sig: Signalling) -> None:
    _, host_token, host = go_live(provider, sig)

    reply = sig.post("/answer", {"token": host_token, "viewer": "v", "sdp": "hello"})

    assert reply == (400, {"error": "'sdp' must be an SDP answer (starting with v=0)"})
    host.close()


def test_an_oversized_offer_is_refused_before_it_reaches_the_host(
    provider: LocalProvider, sig: Signalling
) -> None:
    # GIVEN a live stream
    _, _, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)

    # WHEN a viewer sends an offer larger than any browser's (a real one is about 7 KB)
    padded = OFFER + "a=x-padding:" + "x" * signalling.MAX_SDP_BYTES + "\r\n"
    reply = sig.post("/offer", {"token": viewer_token, "sdp": padded})

    # THEN it is refused at once and the host is never asked to answer it
    assert reply == (413, {"error": f"'sdp' is larger than {signalling.MAX_SDP_BYTES} bytes"})
    assert host.received("offer") == []


def test_offers_beyond_the_pending_limit_are_refused(
    provider: LocalProvider, sig: Signalling, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (offers wait for their answer longer than this test can take: only the stop ends them)
    monkeypatch.setattr(signalling, "ANSWER_TIMEOUT_SECONDS", 60.0)
    # GIVEN a live stream whose host has as many offers to answer as it takes at once
    room, host_token, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)
    waiting = [sig.offer_in_background(viewer_token) for _ in range(LIMITS.max_pending_offers)]
    asked = [host.next("offer") for _ in waiting]

    # WHEN one more viewer offers
    reply = sig.post("/offer", {"token": viewer_token, "sdp": OFFER})

    # THEN it is told to come back, at once, and neither the host nor the room sees it
    assert reply == (429, {"error": "Too many viewers are joining at once: try again shortly"})
    assert host.received("offer") == []
    assert viewers_in(hub, room) == LIMITS.max_pending_offers

    # WHEN the host answers one of the waiting offers
    answer = {"token": host_token, "viewer": asked[0]["viewer"], "sdp": ANSWER}
    assert sig.post("/answer", answer) == (200, {"ok": True})

    # THEN there is room for the next offer again
    again = sig.offer_in_background(viewer_token)
    assert host.next("offer")["sdp"] == OFFER
    provider.stop_stream(room)
    assert [reply()[0] for reply in waiting] == [200, 410]
    assert again() == (410, {"error": "The stream has ended"})


def test_a_full_room_refuses_more_viewers(
    provider: LocalProvider, sig: Signalling, hub: Hub
) -> None:
    # GIVEN a live stream with as many viewers as a room takes
    room, host_token, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)
    watching = [join(sig, host, host_token, viewer_token) for _ in range(LIMITS.max_viewers)]

    # WHEN one more viewer offers
    reply = sig.post("/offer", {"token": viewer_token, "sdp": OFFER})

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
    join(sig, host, host_token, viewer_token)


def test_one_viewer_cannot_hold_many_event_streams(
    provider: LocalProvider, sig: Signalling
) -> None:
    # GIVEN a viewer that has opened its event stream (a reconnecting page may briefly add more)
    _, host_token, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)
    viewer_id, _ = join(sig, host, host_token, viewer_token)
    for _ in range(LIMITS.max_streams_per_viewer - 1):
        sig.viewer_events(viewer_token, viewer_id)
    assert host.next("viewers") == {"count": 1}

    # WHEN it opens one more
    status, _, body = sig.get("/viewer/events", {"token": viewer_token, "viewer": viewer_id})

    # THEN that one is refused
    assert isinstance(body, bytes)
    assert (status, json.loads(body)) == (
        429,
        {"error": "This viewer already has its event streams open"},
    )


def test_an_answered_viewer_that_never_connects_is_dropped(
    provider: LocalProvider, sig: Signalling, clock: FakeClock
) -> None:
    # GIVEN a live stream with one viewer watching
    _, host_token, host = go_live(provider, sig)
    viewer_token = str(provider.audience_grant().token)
    watcher_id, watcher = join(sig, host, host_token, viewer_token)
    assert host.next("viewers") == {"count": 1}

    # WHEN another viewer gets the host's answer but never opens its event stream
    ghost_id = answered_offer(sig, host, host_token, viewer_token)
    clock.advance(LIMITS.viewer_connect_seconds - 1)
    provider.audience_grant()

    # THEN it is kept for a while
    assert host.received("bye") == []

    # WHEN the time to connect has passed
    clock.advance(2)
    provider.audience_grant()

    # THEN the host is told to close its connection, and the count is still one viewer
    assert host.next("bye") == {"viewer": ghost_id}
    assert host.next("viewers") == {"count": 1}
    assert host.received("bye") == []
    # AND the dropped viewer has to offer again, while the one watching is untouched
    status, _, _ = sig.get("/viewer/events", {"token": viewer_token, "viewer": ghost_id})
    assert status == 404
    assert watcher.received("ended") == []
    assert watcher_id != ghost_id


def test_a_host_that_vanishes_ends_the_stream(
    provider: LocalProvider, sig: Signalling, clock: FakeClock
) -> None:
    # GIVEN a live stream with one viewer
    _, host_token, host = go_live(provider, sig)
    _, viewer = join(sig, host, host_token, str(provider.audience_grant().token))

    # WHEN the host's page dies without stopping (its event stream just closes)
    host.close()
    clock.advance(LIMITS.host_grace_seconds - 1)

    # THEN the stream is kept through a short outage
    assert provider.audience_grant().token is not None

    # WHEN the grace period has passed
    clock.advance(2)

    # THEN the viewer is told and nothing is live
    assert viewer.next("ended") == {"reason": "The host disconnected"}
    assert provider.audience_grant().token is None


def test_a_start_whose_host_never_connects_ends_after_the_grace_period(
    provider: LocalProvider, sig: Signalling, clock: FakeClock
) -> None:
    # GIVEN a host that started the stream but never opened its event stream
    grant = provider.create_host_grant()
    provider.start_stream(grant.room)
    clock.advance(LIMITS.host_grace_seconds - 1)
    assert provider.audience_grant().token is not None

    # WHEN the grace period has passed
    clock.advance(2)

    # THEN nothing is live, and the host's token no longer opens an event stream
    assert provider.audience_grant().token is None
    status, _, _ = sig.get("/host/events", {"token": str(grant.token)})
    assert status == 401


def test_a_host_that_connects_late_keeps_the_stream(
    provider: LocalProvider, sig: Signalling, clock: FakeClock
) -> None:
    # GIVEN a host that started before its event stream connected
    grant = provider.create_host_grant()
    provider.start_stream(grant.room)
    clock.advance(LIMITS.host_grace_seconds - 1)

    # WHEN its event stream connects within the grace period
    _, _, body = sig.get("/host/events", {"token": str(grant.token)})
    host = EventReader(body)
    assert host.next("viewers") == {"count": 0}

    # THEN the stream stays live however long it runs
    clock.advance(3600)
    assert provider.audience_grant().token is not None
    host.close()
