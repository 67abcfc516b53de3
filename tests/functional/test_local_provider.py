"""The local provider and its signalling, driven in-process the way the dev server drives them."""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Iterator

import pytest

from livescreen.config import Settings
from livescreen.providers import ProviderError, ProviderUnavailableError, local_hub
from livescreen.providers import local_signalling as signalling
from livescreen.providers.local import LocalProvider, create_provider
from livescreen.providers.local_hub import HUB

OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=viewer offer\r\n"
ANSWER = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=host answer\r\n"


@pytest.fixture(autouse=True)
def fresh_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.setattr(signalling, "KEEPALIVE_SECONDS", 0.05)
    monkeypatch.setattr(signalling, "ANSWER_TIMEOUT_SECONDS", 2.0)
    HUB.reset()
    yield
    HUB.reset()


@pytest.fixture
def provider() -> LocalProvider:
    return create_provider(Settings({"STREAM_PROVIDER": "local"}, "test"))


def post(path: str, payload: object) -> tuple[int, dict[str, object]]:
    status, headers, body = signalling.handle(
        "POST", path, {}, {"Content-Type": "application/json"}, json.dumps(payload).encode()
    )
    assert headers["Content-Type"] == "application/json"
    assert isinstance(body, bytes)
    return status, json.loads(body)


class EventReader:
    """Reads an SSE iterator on a thread, like the dev server writing it to a socket."""

    def __init__(self, body: bytes | Iterator[bytes]) -> None:
        assert not isinstance(body, bytes)
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

    def close(self) -> None:
        """The client went away: the next write (a keep-alive at the latest) fails."""
        self._closing.set()
        assert self.finished.wait(2.0)


def go_live(provider: LocalProvider) -> tuple[str, str, EventReader]:
    grant = provider.create_host_grant()
    assert grant.token is not None
    status, headers, body = signalling.handle(
        "GET", "/host/events", {"token": grant.token}, {}, b""
    )
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    host = EventReader(body)
    provider.start_stream(grant.room)
    return grant.room, grant.token, host


def join(host: EventReader, host_token: str, viewer_token: str) -> tuple[str, EventReader]:
    """A viewer offers, the host answers, the viewer opens its event stream."""
    result: dict[str, tuple[int, dict[str, object]]] = {}
    offer = threading.Thread(
        target=lambda: result.update(r=post("/offer", {"token": viewer_token, "sdp": OFFER}))
    )
    offer.start()
    asked = host.next("offer")
    assert asked["sdp"] == OFFER
    assert post("/answer", {"token": host_token, "viewer": asked["viewer"], "sdp": ANSWER}) == (
        200,
        {"ok": True},
    )
    offer.join(2.0)
    status, answered = result["r"]
    assert (status, answered) == (200, {"viewer": asked["viewer"], "sdp": ANSWER})
    viewer_id = str(answered["viewer"])
    _, _, body = signalling.handle(
        "GET", "/viewer/events", {"token": viewer_token, "viewer": viewer_id}, {}, b""
    )
    return viewer_id, EventReader(body)


def test_nothing_is_live_until_the_host_starts(provider: LocalProvider) -> None:
    # GIVEN a room created for a host
    grant = provider.create_host_grant()
    assert re.fullmatch(r"livestream-[0-9a-f]{16}", grant.room)
    assert grant.token and grant.extra == {"signalling": "/local"}
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
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "stream-start")
    with pytest.raises(ProviderUnavailableError, match="STREAM_PROVIDER=ivs"):
        create_provider(Settings({"STREAM_PROVIDER": "local"}, "test"))


def test_viewer_and_host_exchange_sdp_and_viewers_are_counted(provider: LocalProvider) -> None:
    # GIVEN a live stream with its host listening for offers
    room, host_token, host = go_live(provider)
    viewer_token = str(provider.audience_grant().token)

    # WHEN two viewers join
    first_id, first = join(host, host_token, viewer_token)
    assert host.next("viewers") == {"count": 1}
    _, second = join(host, host_token, viewer_token)
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


def test_a_new_stream_ends_the_previous_one(provider: LocalProvider) -> None:
    _, host_token, host = go_live(provider)
    old_token = str(provider.audience_grant().token)
    _, viewer = join(host, host_token, old_token)

    _, _, _ = go_live(provider)

    assert viewer.next("ended") == {"reason": "Another stream started"}
    assert host.next("ended") == {"reason": "Another stream started"}
    assert provider.audience_grant().token not in (None, old_token)
    assert post("/offer", {"token": old_token, "sdp": OFFER}) == (
        410,
        {"error": "The stream is not live"},
    )


def test_an_offer_nobody_answers_times_out(provider: LocalProvider, monkeypatch) -> None:
    monkeypatch.setattr(signalling, "ANSWER_TIMEOUT_SECONDS", 0.2)
    grant = provider.create_host_grant()
    provider.start_stream(grant.room)

    status, body = post("/offer", {"token": provider.audience_grant().token, "sdp": OFFER})

    assert (status, body) == (504, {"error": "The host did not answer in time: try again"})


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "status", "error"),
    [
        ("GET", "/host/events", {}, b"", 401, "Missing host token"),
        ("GET", "/host/events", {"token": "guess"}, b"", 401, "Unknown or expired host token"),
        ("POST", "/offer", {}, b"not json", 400, "Request body must be JSON"),
        ("POST", "/offer", {}, b"[1]", 400, "Request body must be a JSON object"),
        ("POST", "/offer", {}, b'{"sdp": "v=0"}', 400, "Missing 'token'"),
        ("POST", "/offer", {}, b'{"token": "x", "sdp": "v=0"}', 410, "The stream is not live"),
        ("POST", "/answer", {}, b'{"token": "guess"}', 401, "Unknown or expired host token"),
        ("GET", "/viewer/events", {"token": "x"}, b"", 410, "The stream is not live"),
        ("GET", "/offer", {}, b"", 405, "GET is not allowed on /local/offer"),
        ("GET", "/nope", {}, b"", 404, "No local signalling endpoint at /local/nope"),
    ],
)
def test_bad_requests_get_a_json_error(
    method: str, path: str, query: dict[str, str], body: bytes, status: int, error: str
) -> None:
    got_status, headers, got_body = signalling.handle(method, path, query, {}, body)

    assert got_status == status
    assert headers["Content-Type"] == "application/json"
    assert isinstance(got_body, bytes)
    assert json.loads(got_body)["error"].startswith(error)


def test_an_answer_must_be_sdp(provider: LocalProvider) -> None:
    _, host_token, host = go_live(provider)

    status, body = post("/answer", {"token": host_token, "viewer": "v", "sdp": "hello"})

    assert (status, body) == (400, {"error": "'sdp' must be an SDP answer (starting with v=0)"})
    host.close()


def test_a_host_that_vanishes_ends_the_stream(provider: LocalProvider, monkeypatch) -> None:
    # GIVEN a live stream with one viewer, and a short grace period for a lost host
    monkeypatch.setattr(local_hub, "HOST_GRACE_SECONDS", 0.2)
    _, host_token, host = go_live(provider)
    _, viewer = join(host, host_token, str(provider.audience_grant().token))

    # WHEN the host's page dies without stopping (its event stream just closes)
    host.close()

    # THEN after the grace period the viewer is told and nothing is live
    assert viewer.next("ended") == {"reason": "The host disconnected"}
    assert provider.audience_grant().token is None
