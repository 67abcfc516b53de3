"""Every HTTP endpoint of a running dev server, fuzzed with generated and malformed input.

Schemathesis generates requests from ``docs/openapi.yaml``, both ones that fit the schema and
ones that break it; Hypothesis and a table of hand-picked cases add what a schema cannot say:
wrong types, huge and deeply nested bodies, wrong content types, invalid UTF-8, lone
surrogates and junk headers. Whatever arrives, a client mistake never gets a 5xx, a stack trace
or a secret; the server stays up; and a ``local`` stream that is live for the whole run, with
its host's socket subscribed to its channel, is left untouched. The channels of the pages'
socket are fuzzed too, with malformed subscriptions.

Generation is derandomized with a fixed seed and a bounded number of examples, so every run
sends the same requests. The last test of the file checks the live stream: keep it last.
"""

from __future__ import annotations

import http.client
import json
import queue
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import APIOperation
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from twilio.request_validator import RequestValidator
from viewer_offers import VIEWER_OFFER
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from livescreen.chat import clear_chat_cache
from livescreen.chat.local.room import CHAT_ROOM
from livescreen.config import Settings
from livescreen.devserver import DevServer
from livescreen.providers import clear_provider_cache
from livescreen.providers.local.hub import HUB
from livescreen.runtime.loader import discover, load_function
from livescreen.security import password_guard

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = PROJECT_ROOT / "docs" / "openapi.yaml"

PASSWORD = "fuzz-host-password-4d9e1c"
SESSION_SECRET = "fuzz-host-session-secret-7d1e5b2a9c4f8e06"
AUTH_TOKEN = "fuzz-auth-token-6b0d2c8e4a1f9357"
SECRETS = (PASSWORD, SESSION_SECRET, AUTH_TOKEN)
SETTINGS = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": PASSWORD,
        "HOST_SESSION_SECRET": SESSION_SECRET,
        "AUTH_TOKEN": AUTH_TOKEN,
    },
    "test",
)

#: The seed of every generator here, and how many requests each generated test sends.
SEED = 20261203
EXAMPLES = 100
#: No request here may take longer to answer (none waits for a host: see LiveStream).
REQUEST_TIMEOUT = 10.0

FUNCTIONS = (
    "host_token",
    "stream_start",
    "stream_stop",
    "audience_token",
    "room_events",
    "chat_token",
    "recordings",
    "recording_media",
    "stream_details",
    "stream_stats",
)
#: The dev server's own relays (local signalling, local chat): path -> the one method it takes.
LOCAL_ROUTES = {
    "/local/answer": "POST",
    "/local/recording/upload": "POST",
    "/chat/send": "POST",
    "/chat/delete": "POST",
    "/chat/disconnect": "POST",
}
#: Relay routes with a path parameter (generated requests only: no fixed path to send junk to).
TEMPLATED_ROUTES = ("/local/recording/files/{file}",)
PATHS = (*(f"/{name}" for name in FUNCTIONS), *LOCAL_ROUTES)
#: Each function's methods, as its module declares them (``METHODS``).
FUNCTION_METHODS = {
    name: load_function(name, path).methods
    for name, path in discover(PROJECT_ROOT / "functions").items()
}
OTHER_METHODS = [
    pytest.param(f"/{name}", method, id=f"{method}-/{name}")
    for name in FUNCTIONS
    for method in ("GET", "PUT", "DELETE", "PATCH", "HEAD", "POST")
    if method not in FUNCTION_METHODS[name]
    and not (method == "HEAD" and "GET" in FUNCTION_METHODS[name])
]


def allow_of(path: str) -> str:
    return ", ".join([*FUNCTION_METHODS[path.lstrip("/")], "OPTIONS"])


def method_of(path: str) -> str:
    """The method a request to ``path`` is sent with: the route's, or the function's first."""
    return LOCAL_ROUTES.get(path) or FUNCTION_METHODS[path.lstrip("/")][-1]


SCHEMA = schemathesis.openapi.from_path(SCHEMA_PATH, config=schemathesis.Config(seed=SEED))


def load_operations() -> list[APIOperation]:
    operations: list[APIOperation] = []
    for result in SCHEMA.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # an operation the document describes wrongly
        operations.append(result.ok())
    return operations


OPERATIONS = load_operations()


def breakable(operation: APIOperation) -> bool:
    """Whether a request can break the operation's schema: OPTIONS takes no input, and an
    operation whose only input is an optional free-text header has nothing to break."""
    inputs = len(operation.query) + len(operation.body) + len(operation.path_parameters)
    return operation.method.upper() != "OPTIONS" and inputs > 0


#: (operation, mode) pairs.
GENERATED = [
    pytest.param(operation, mode, id=f"{operation.label}-{mode.value}")
    for operation in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or breakable(operation)
]
CONFORMANCE_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def fuzz_settings(examples: int = EXAMPLES) -> Callable[[Any], Any]:
    """Bounded, derandomized Hypothesis settings (no database, no shrinking: same run each time)."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )


# -- answers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


#: What the HTTP server itself answers to bytes that are not HTTP (a control character in a
#: header value, say) before any of the app's code runs: a plain-text 400.
HTTP_PARSER_REJECTION = (400, b"Invalid HTTP request received.")


def check_answer(answer: Answer, what: str) -> None:
    """What every answer to a client mistake must be: no 5xx, no stack trace, no secret; and a
    4xx from the app is JSON ``{"error": "<message>"}``."""
    shown = f"{what} -> {answer.status} {answer.body[:300]!r}"
    assert answer.status < 500, shown
    assert b"Traceback" not in answer.body, shown
    assert b'File "' not in answer.body, shown
    everything = answer.body + repr(answer.headers).encode()
    for secret in SECRETS:
        assert secret.encode() not in everything, f"{what} leaked a secret"
    if (answer.status, answer.body) == HTTP_PARSER_REJECTION:
        return
    if 400 <= answer.status < 500:
        assert answer.content_type.startswith("application/json"), shown
        payload = json.loads(answer.body)
        assert isinstance(payload, dict) and set(payload) == {"error"}, shown
        assert isinstance(payload["error"], str) and payload["error"], shown


def send(
    server: DevServer,
    method: str,
    path: str,
    body: bytes = b"",
    headers: list[tuple[str, str | bytes]] | None = None,
) -> Answer:
    """One request sent exactly as given (raw header bytes, no normalising), on its own socket."""
    headers = list(headers or [])
    names = {name.lower() for name, _ in headers}
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if "host" not in names:
            connection.putheader("Host", f"127.0.0.1:{server.port}")
        for name, value in headers:
            connection.putheader(name, value)
        if "content-length" not in names and (body or method not in ("GET", "HEAD")):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        if answer_headers.get("content-type", "").startswith("text/event-stream"):
            return Answer(response.status, answer_headers, b"")  # never read a live stream
        return Answer(response.status, answer_headers, response.read())
    finally:
        connection.close()


def post_json(server: DevServer, path: str, payload: Any) -> Answer:
    return send(
        server,
        "POST",
        path,
        json.dumps(payload).encode(),
        [("Content-Type", "application/json")],
    )


# -- the server and the stream that is live during the whole run -----------------------------


@dataclass
class LiveStream:
    """A real ``local`` stream: a host signed in, subscribed to its channel and went live."""

    server: DevServer
    room: str
    session: str
    host_token: str
    viewer_token: str
    #: (event name, JSON data) from the host's channel; pings are ("ping", "")
    host_events: queue.Queue[tuple[str, str]]
    host_socket: ClientConnection


def open_socket(server: DevServer) -> ClientConnection:
    origin = Origin(f"http://localhost:{server.port}")
    return connect(
        f"ws://localhost:{server.port}/socket",
        origin=origin,
        open_timeout=REQUEST_TIMEOUT,
        legacy=True,
    )


def read_events(socket: ClientConnection, into: queue.Queue[tuple[str, str]]) -> None:
    try:
        for text in socket:
            message = json.loads(text)
            into.put((message["event"], json.dumps(message.get("data", ""))))
    except ConnectionClosed:
        pass
    into.put(("closed", ""))


def next_event(events: queue.Queue[tuple[str, str]], *, skip: tuple[str, ...]) -> tuple[str, str]:
    """The next event not named in ``skip``, waiting at most REQUEST_TIMEOUT for each."""
    while True:
        event = events.get(timeout=REQUEST_TIMEOUT)
        if event[0] not in skip:
            return event


@pytest.fixture(scope="module")
def live() -> Iterator[LiveStream]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
        password_guard.throttle.reset()
        clear_provider_cache()
        clear_chat_cache()
        HUB.reset()
        CHAT_ROOM.reset()
        server = DevServer(SETTINGS, port=0, root=PROJECT_ROOT)
        server.start_background()
        try:
            yield from go_live(server)
        finally:
            server.shutdown()
            password_guard.throttle.reset()
            clear_provider_cache()
            clear_chat_cache()
            HUB.reset()
            CHAT_ROOM.reset()


def go_live(server: DevServer) -> Iterator[LiveStream]:
    host = post_json(server, "/host_token", {"password": PASSWORD})
    assert host.status == 200, host
    grant = json.loads(host.body)
    # The host's page subscribes to its channel, then goes live: the hub sees a connected host,
    # so the stream is not ended for want of one however long the fuzzing takes.
    host_socket = open_socket(server)
    subscribe = {"type": "subscribe", "channel": "host", "token": grant["token"]}
    host_socket.send(json.dumps(subscribe))
    events: queue.Queue[tuple[str, str]] = queue.Queue()
    reader = threading.Thread(target=read_events, args=(host_socket, events), daemon=True)
    reader.start()
    try:
        assert next_event(events, skip=()) == ("subscribed", "{}")
        started = post_json(server, "/stream_start", {"session": grant["session"]})
        assert started.status == 200, started
        audience = json.loads(post_json(server, "/audience_token", {}).body)
        assert audience["room"] == grant["room"] and audience["token"]
        stream = LiveStream(
            server=server,
            room=grant["room"],
            session=grant["session"],
            host_token=grant["token"],
            viewer_token=audience["token"],
            host_events=events,
            host_socket=host_socket,
        )
        yield stream
        # The host's own stop still works after the fuzzing, and its page hears of it.
        stopped = post_json(server, "/stream_stop", {"session": stream.session})
        assert stopped.status == 200, stopped
        assert next_event(events, skip=("ping", "viewers"))[0] == "ended"
    finally:
        host_socket.close()
        reader.join(timeout=REQUEST_TIMEOUT)


@pytest.fixture(autouse=True)
def fresh_throttle() -> Iterator[None]:
    password_guard.throttle.reset()
    yield
    password_guard.throttle.reset()


# -- the document ---------------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_names_every_endpoint() -> None:
    SCHEMA.validate()  # against the OpenAPI 3.0 meta-schema
    assert {operation.path for operation in OPERATIONS} == {*PATHS, *TEMPLATED_ROUTES}
    assert set(FUNCTIONS) == set(discover(PROJECT_ROOT / "functions"))


# -- generated from the document --------------------------------------------------------------


@pytest.mark.parametrize(("operation", "mode"), GENERATED)
def test_generated_requests_get_documented_answers(
    live: LiveStream, operation: APIOperation, mode: GenerationMode
) -> None:
    @seed(SEED)
    @fuzz_settings()
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case: Any) -> None:
        password_guard.throttle.reset()  # else every wrong password after the fifth is a 429
        # A fresh connection each time: a kept-alive one waits on delayed ACKs (~40 ms a call).
        with requests.Session() as http_session:
            response = case.call(base_url=live.server.url, session=http_session, timeout=10)
        answer = Answer(
            response.status_code,
            {k.lower(): ", ".join(values) for k, values in response.headers.items()},
            response.content,
        )
        check_answer(answer, f"{case.method} {case.formatted_path} ({mode.value})")
        case.validate_response(response, checks=CONFORMANCE_CHECKS)

    one()


# -- malformed on purpose ---------------------------------------------------------------------

JSON = ("Content-Type", "application/json")
FORM = ("Content-Type", "application/x-www-form-urlencoded")
TEXT = ("Content-Type", "text/plain;charset=UTF-8")

#: (name, body, headers): sent to every endpoint with its own method.
MALFORMED: list[tuple[str, bytes, list[tuple[str, str | bytes]]]] = [
    # wrong types
    ("number for a string", b'{"password": 1, "session": 2, "token": 3, "sdp": 4}', [JSON]),
    ("null fields", b'{"password": null, "session": null, "token": null, "viewer": null}', [JSON]),
    ("lists for strings", b'{"password": ["a"], "session": ["b"], "token": ["c"]}', [JSON]),
    ("objects for strings", b'{"password": {"$ne": ""}, "session": {}, "token": {}}', [JSON]),
    ("booleans", b'{"password": true, "session": false, "token": true, "sdp": false}', [JSON]),
    ("a JSON array", b'["password", "session"]', [JSON]),
    ("a JSON string", b'"password"', [JSON]),
    ("a JSON number", b"12", [JSON]),
    ("JSON null", b"null", [JSON]),
    ("NaN and infinity", b'{"password": NaN, "session": Infinity, "token": -Infinity}', [JSON]),
    ("a float too big", b'{"password": 1e999999, "session": -1e999999}', [JSON]),
    ("an integer too long", b'{"password": ' + b"9" * 5000 + b"}", [JSON]),
    ("a bare integer too long", b"9" * 5000, [JSON]),
    ("repeated form keys", b"password=a&password=b&session=c&session=d", [FORM]),
    ("empty strings", b'{"password": "", "session": "", "token": "", "sdp": ""}', [JSON]),
    ("truncated JSON", b'{"password": "abc', [JSON]),
    ("duplicate keys", b'{"session": "x", "session": 1, "token": "a", "token": null}', [JSON]),
    # huge and deeply nested
    ("a 70 KB string", b'{"password": "' + b"x" * 70_000 + b'"}', [JSON]),
    ("a 900 KB body", b'{"session": "' + b"y" * 900_000 + b'"}', [JSON]),
    (
        "a 2 KB field",
        b'{"password": "' + b"p" * 2_000 + b'", "token": "' + b"t" * 2_000 + b'"}',
        [JSON],
    ),
    ("arrays nested 50,000 deep", b"[" * 50_000 + b"]" * 50_000, [JSON]),
    ("objects nested 15,000 deep", b'{"a":' * 15_000 + b"1" + b"}" * 15_000, [JSON]),
    ("unclosed nesting", b"[" * 60_000, [JSON]),
    ("nesting in text/plain", b'{"s":' * 15_000 + b"1" + b"}" * 15_000, [TEXT]),
    ("nesting with no content type", b"[" * 15_000 + b"]" * 15_000, []),
    ("10,000 form fields", b"&".join(b"k%d=v" % i for i in range(10_000)), [FORM]),
    # wrong content types
    ("XML", b"<password>x</password>", [("Content-Type", "application/xml")]),
    ("multipart", b"--b\r\n\r\nx\r\n--b--", [("Content-Type", "multipart/form-data; boundary=b")]),
    ("octet-stream", b"\x00\x01\x02\xff", [("Content-Type", "application/octet-stream")]),
    ("JSON sent as a form", b'{"password": "x"}', [FORM]),
    ("a form sent as JSON", b"password=x&session=y", [JSON]),
    ("a form sent as text", b"password=x", [TEXT]),
    ("UTF-16 JSON", '{"password": "x"}'.encode("utf-16"), [JSON]),
    ("a junk content type", b'{"password": "x"}', [("Content-Type", "\x01;;;=\x7f")]),
    ("an empty content type", b'{"password": "x"}', [("Content-Type", "")]),
    ("two content types", b'{"password": "x"}', [JSON, ("Content-Type", "text/html")]),
    (
        "a charset that is not one",
        b'{"password": "x"}',
        [("Content-Type", "application/json; charset=nope")],
    ),
    ("a +json type", b'{"password": 5}', [("Content-Type", "application/problem+json")]),
    # invalid UTF-8
    ("invalid UTF-8 in JSON", b'{"password": "\xff\xfe", "session": "\xc3\x28"}', [JSON]),
    ("invalid UTF-8 in a form", b"password=\xff&session=\xc0\xaf", [FORM]),
    ("invalid UTF-8 in text", b'{"session": "\xed\xa0\x80"}', [TEXT]),
    ("invalid UTF-8, no content type", b'{"token": "\xf8\x88\x80\x80\x80"}', []),
    (
        "an encoded surrogate (CESU)",
        b'{"password": "\xed\xa0\x80", "token": "\xed\xbf\xbf"}',
        [JSON],
    ),
    ("a lone continuation byte", b"\x80", [JSON]),
    ("percent-encoded invalid UTF-8", b"password=%ff%fe&session=%ed%a0%80", [FORM]),
    # lone surrogates (valid JSON escapes, invalid Unicode)
    (
        "a lone high surrogate",
        b'{"password": "\\ud800", "session": "\\ud800", "token": "\\ud800"}',
        [JSON],
    ),
    (
        "a lone low surrogate",
        b'{"password": "\\udfff", "session": "a.\\udfff", "token": "\\udfff"}',
        [JSON],
    ),
    (
        "surrogates in every field",
        b'{"token": "\\ud800", "viewer": "\\udc00", "sdp": "v=0\\ud800"}',
        [JSON],
    ),
    ("a surrogate key", b'{"\\ud800": "x", "password": "x\\udbff"}', [JSON]),
    ("surrogates in text/plain", b'{"session": "\\ud83d"}', [TEXT]),
    ("NUL bytes", b'{"password": "a\\u0000b", "session": "\\u0000", "token": "\\u0000"}', [JSON]),
    # junk headers
    ("a junk session header", b"", [("X-Host-Session", b"\xff\xfe.\x00\x01junk")]),
    ("a forged session header", b"", [("X-Host-Session", "eyJ2IjoxfQ.c2ln")]),
    ("an 8 KB header", b"{}", [JSON, ("X-Junk", "j" * 8_000)]),
    ("60 junk headers", b"{}", [JSON, *((f"X-Junk-{i}", "\x01\x7f\xff") for i in range(60))]),
    ("a junk host", b"{}", [JSON, ("Host", "[")]),
    ("a host with a junk port", b"{}", [JSON, ("Host", "localhost:99999")]),
    ("a host with a word for a port", b"{}", [JSON, ("Host", "localhost:port")]),
    (
        "junk forwarding headers",
        b"{}",
        [
            JSON,
            ("X-Forwarded-Host", "]["),
            ("X-Forwarded-Proto", "\xff"),
            ("X-Forwarded-For", "not an address"),
        ],
    ),
    ("a junk cookie", b"{}", [JSON, ("Cookie", '=;;";\x7f=\xff; a="b')]),
    ("latin-1 header bytes", b"{}", [JSON, ("X-Name", b"\xe9\xe8\xff"), ("Accept", b"\x80\x81")]),
    (
        "a junk signature",
        b"StatusCallbackEvent=room-ended",
        [FORM, ("X-Twilio-Signature", b"\xff\x00=")],
    ),
    (
        "a signature and a junk host",
        b"RoomName=x",
        [FORM, ("X-Twilio-Signature", "abc="), ("Host", "[::1")],
    ),
    (
        "a signature and a word port",
        b"RoomName=x",
        [FORM, ("X-Twilio-Signature", "abc="), ("X-Forwarded-Host", "a:b")],
    ),
    ("a junk content encoding", b"\x1f\x8b\x08junk", [JSON, ("Content-Encoding", "gzip")]),
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("body", "headers"),
    [pytest.param(body, headers, id=name) for name, body, headers in MALFORMED],
)
def test_malformed_requests_get_a_clear_4xx(
    live: LiveStream, path: str, body: bytes, headers: list[tuple[str, str | bytes]]
) -> None:
    method = method_of(path)
    answer = send(live.server, method, path, body, headers)
    check_answer(answer, f"{method} {path}")


JUNK_QUERIES = [
    "password=%ff%fe&session=%ed%a0%80",
    "token=%00&viewer=%ff",
    "token=" + "t" * 6_000,
    "session=a&session=b&session=c",
    "%=%%&&==&;;",
    "token=\\ud800&viewer=\\udc00",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("query", JUNK_QUERIES)
def test_junk_query_strings_get_a_clear_4xx(live: LiveStream, path: str, query: str) -> None:
    method = method_of(path)
    answer = send(live.server, method, f"{path}?{query}", b"{}", [JSON])
    check_answer(answer, f"{method} {path}?{query[:40]}")


@pytest.mark.parametrize(("path", "method"), OTHER_METHODS)
def test_other_methods_on_a_function_are_405_with_allow(
    live: LiveStream, path: str, method: str
) -> None:
    answer = send(live.server, method, path, b"{}", [JSON])

    assert answer.status == 405
    assert answer.headers["allow"] == allow_of(path)
    if method != "HEAD":
        check_answer(answer, f"{method} {path}")


@pytest.mark.parametrize("path", [f"/{name}" for name in FUNCTIONS])
def test_options_on_a_function_lists_its_methods(live: LiveStream, path: str) -> None:
    answer = send(live.server, "OPTIONS", path)

    assert answer.status == 204
    assert answer.headers["allow"] == allow_of(path)


@pytest.mark.parametrize("path", list(LOCAL_ROUTES))
def test_another_method_on_a_signalling_route_is_405_with_allow(
    live: LiveStream, path: str
) -> None:
    method = "POST" if LOCAL_ROUTES[path] == "GET" else "GET"
    answer = send(live.server, method, path, b"{}" if method == "POST" else b"", [JSON])

    check_answer(answer, f"{method} {path}")
    assert answer.status == 405
    assert answer.headers["allow"] == LOCAL_ROUTES[path]


def test_wrong_passwords_are_throttled_with_a_429(live: LiveStream) -> None:
    statuses = [
        post_json(live.server, "/host_token", {"password": f"guess-{n}"}).status for n in range(5)
    ]
    throttled = post_json(live.server, "/host_token", {"password": PASSWORD})

    assert statuses == [401] * 5
    check_answer(throttled, "POST /host_token after five wrong passwords")
    assert throttled.status == 429
    assert int(throttled.headers["retry-after"]) >= 1


# -- the signalling routes, malformed, with the live stream's real tokens ----------------------


def real_token_cases(stream: LiveStream) -> list[tuple[str, dict[str, Any] | bytes]]:
    """Requests with a real token but wrong otherwise: each is refused, and nothing changes."""
    host = stream.host_token
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    return [
        ("/local/answer", {"token": host, "viewer": "no-such-viewer", "sdp": sdp}),
        ("/local/answer", {"token": host, "viewer": "\ud800", "sdp": sdp}),
        ("/local/answer", {"token": host, "viewer": "x", "sdp": "not an sdp"}),
        ("/local/answer", {"token": host, "viewer": "x", "sdp": "v=0\ud800"}),
        ("/local/answer", {"token": host, "viewer": "x", "sdp": "v=0" + "a" * 20_000}),
        ("/local/answer", {"token": host, "viewer": ["x"], "sdp": sdp}),
        ("/local/answer", {"token": host, "viewer": "x", "sdp": {"type": "answer"}}),
        ("/local/answer", {"token": host + "\ud800", "viewer": "x", "sdp": sdp}),
    ]


def test_signalling_requests_with_real_tokens_but_bad_fields_are_refused(
    live: LiveStream,
) -> None:
    for path, payload in real_token_cases(live):
        if isinstance(payload, bytes):
            answer = send(live.server, "POST", path, payload, [JSON])
        else:
            answer = post_json(live.server, path, payload)
        check_answer(answer, f"POST {path} {str(payload)[:60]}")
        assert answer.status in (400, 401, 404, 410, 413), answer


def refusals(server: DevServer, messages: list[str | bytes]) -> list[dict[str, Any]]:
    """What the page's socket answers to each message: the ``error`` events, in order."""
    socket = open_socket(server)
    try:
        answers = []
        for message in messages:
            socket.send(message)
            while True:
                answer = json.loads(socket.recv(REQUEST_TIMEOUT))
                if answer.get("event") != "ping":
                    break
            assert answer["event"] == "error", answer
            answers.append(answer["data"])
        return answers
    finally:
        socket.close()


def test_channel_subscriptions_with_real_tokens_but_bad_fields_are_refused(
    live: LiveStream,
) -> None:
    viewer, host = live.viewer_token, live.host_token
    subscriptions: list[dict[str, Any]] = [
        {"channel": "viewer", "token": viewer, "sdp": "v=0\ud800"},
        {"channel": "viewer", "token": viewer, "sdp": "not an sdp"},
        {"channel": "viewer", "token": viewer, "sdp": "v=0" + "b" * 17_000},
        {"channel": "viewer", "token": viewer, "sdp": VIEWER_OFFER.replace("recv", "send")},
        {"channel": "viewer", "token": viewer, "sdp": VIEWER_OFFER + "junk\r\n"},
        {"channel": "viewer", "token": viewer, "sdp": None},
        {"channel": "viewer", "token": viewer},
        {"channel": "viewer", "token": viewer + "\udc00", "sdp": VIEWER_OFFER},
        {"channel": "viewer", "token": [viewer], "sdp": VIEWER_OFFER},
        {"channel": "viewer", "token": host, "sdp": VIEWER_OFFER},
        {"channel": "host", "token": viewer},
        {"channel": "host", "token": host + "\ud800"},
        {"channel": "host"},
        {"channel": "chat", "token": viewer},
        {"channel": "chat", "token": {"$ne": ""}},
        {"channel": "nope", "token": host},
        {"channel": ["host"], "token": host},
    ]
    messages: list[str | bytes] = [
        json.dumps({"type": "subscribe", **fields}) for fields in subscriptions
    ]
    messages += [
        json.dumps({"type": "publish", "channel": "host", "token": host}),
        json.dumps(["subscribe"]),
        "not json",
        "[" * 20_000,
    ]
    for refused in refusals(live.server, messages):
        assert set(refused) == {"status", "error"}, refused
        assert refused["status"] in (400, 401, 404, 410, 413), refused
        assert not any(secret in refused["error"] for secret in SECRETS), refused


# -- the chat routes, malformed, with real chat tokens ----------------------------------------


def chat_grant(stream: LiveStream, body: dict[str, Any]) -> dict[str, Any]:
    answer = post_json(stream.server, "/chat_token", body)
    assert answer.status == 200, answer
    grant: dict[str, Any] = json.loads(answer.body)
    return grant


def test_chat_requests_with_real_tokens_but_bad_fields_are_refused(live: LiveStream) -> None:
    # GIVEN a real viewer's and the host's chat tokens, and one real message
    viewer = chat_grant(live, {"name": "Fuzzy"})
    host = chat_grant(live, {"session": live.session})
    sent = post_json(live.server, "/chat/send", {"token": viewer["token"], "text": "hello"})
    assert sent.status == 200, sent
    message_id = json.loads(sent.body)["message"]["id"]
    cases: list[tuple[str, dict[str, Any] | bytes]] = [
        ("/chat/send", {"token": viewer["token"], "text": "\ud800"}),
        ("/chat/send", {"token": viewer["token"], "text": "a\u0000b"}),
        ("/chat/send", {"token": viewer["token"], "text": "\u202e" + "x"}),
        ("/chat/send", {"token": viewer["token"], "text": "x" * 501}),
        ("/chat/send", {"token": viewer["token"], "text": ["hi"]}),
        ("/chat/send", {"token": viewer["token"], "text": {"$ne": ""}}),
        ("/chat/send", {"token": viewer["token"] + "\udc00", "text": "hi"}),
        ("/chat/send", {"token": [viewer["token"]], "text": "hi"}),
        ("/chat/send", b'{"token": "' + viewer["token"].encode() + b'", "text": "\xff"}'),
        ("/chat/send", b'{"token": "' + viewer["token"].encode() + b'", "text": ' + b"[" * 20_000),
        ("/chat/delete", {"token": viewer["token"], "id": message_id}),
        ("/chat/delete", {"token": host["token"], "id": "\ud800"}),
        ("/chat/delete", {"token": host["token"], "id": 12}),
        ("/chat/disconnect", {"token": viewer["token"], "identity": host["identity"]}),
        ("/chat/disconnect", {"token": host["token"], "identity": host["identity"]}),
        ("/chat/disconnect", {"token": host["token"], "identity": "\udfff"}),
        ("/chat/disconnect", {"token": host["token"], "identity": None}),
    ]
    # WHEN each is sent THEN it is refused with a clear 4xx, and nothing changes
    for path, payload in cases:
        if isinstance(payload, bytes):
            answer = send(live.server, "POST", path, payload, [JSON])
        else:
            answer = post_json(live.server, path, payload)
        check_answer(answer, f"POST {path} {str(payload)[:60]}")
        assert answer.status in (400, 401, 403, 404, 413), answer
    subscriptions = [{"token": viewer["token"] + "\ud800"}, {"token": ""}, {"tokens": "x"}]
    messages: list[str | bytes] = [
        json.dumps({"type": "subscribe", "channel": "chat", **fields}) for fields in subscriptions
    ]
    assert [refused["status"] for refused in refusals(live.server, messages)] == [401] * 3
    # AND the message is still there for a late joiner, and both tokens still work
    assert CHAT_ROOM.chatter(viewer["token"]).name == "Fuzzy"
    assert CHAT_ROOM.chatter(host["token"]).role == "host"
    again = post_json(live.server, "/chat/send", {"token": host["token"], "text": "still here"})
    assert again.status == 200, again


# -- Hypothesis: arbitrary requests, byte by byte ---------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),  # any code point, lone surrogates included
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["password", "session", "token", "viewer", "sdp", "request", "name", "text"]
            )
            | st.text(),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(
    st.sampled_from(
        [
            "password",
            "session",
            "token",
            "viewer",
            "sdp",
            "StatusCallbackEvent",
            "name",
            "text",
            "id",
            "identity",
        ]
    ),
    json_values,
    max_size=5,
)
bodies = st.one_of(
    json_objects.map(lambda value: json.dumps(value).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    json_objects.map(
        lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8", "replace")
    ),
    st.binary(max_size=2_000),
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4).map(
        lambda fields: urlencode(
            {k.encode("utf-8", "replace"): v.encode("utf-8", "replace") for k, v in fields.items()}
        ).encode()
    ),
)
#: Header values: mostly bytes HTTP allows (printable ASCII and obs-text), sometimes control
#: characters too, which the HTTP server itself refuses.
header_text = st.one_of(
    st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=60),
    st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=60),
).map(lambda text: text.encode("latin-1"))
content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/vnd.api+json",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "text/html",
        "*/*",
        "",
    ]
)
junk_headers = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "X-Host-Session",
                "X-Twilio-Signature",
                "X-Forwarded-Host",
                "X-Forwarded-Proto",
                "X-Forwarded-For",
                "Cookie",
                "Accept",
                "Origin",
                "Authorization",
                "Content-Encoding",
                "X-Junk",
            ]
        ),
        header_text,
    ),
    max_size=4,
)


@seed(SEED)
@fuzz_settings(examples=800)
@given(
    path=st.sampled_from(PATHS),
    method=st.sampled_from(["POST", "GET"]),
    body=bodies,
    content_type=content_types,
    headers=junk_headers,
)
def test_arbitrary_bytes_and_headers_never_get_a_5xx(
    live: LiveStream,
    path: str,
    method: str,
    body: bytes,
    content_type: str | None,
    headers: list[tuple[str, bytes]],
) -> None:
    password_guard.throttle.reset()
    sent: list[tuple[str, str | bytes]] = list(headers)
    if content_type is not None:
        sent.append(("Content-Type", content_type))
    answer = send(live.server, method, path, body, sent)
    check_answer(answer, f"{method} {path} {body[:60]!r} {sent!r}")


def signed(url: str, fields: Mapping[str, str]) -> str:
    return str(RequestValidator(AUTH_TOKEN).compute_signature(url, dict(fields)))


form_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@seed(SEED)
@fuzz_settings(examples=100)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            ["StatusCallbackEvent", "RoomName", "RoomSid", "ParticipantIdentity", "AccountSid"]
        )
        | form_text,
        form_text,
        max_size=6,
    ),
    event=st.sampled_from(["room-ended", "participant-disconnected", "room-created", ""]),
)
def test_signed_room_events_with_generated_fields_are_read_without_error(
    live: LiveStream, fields: dict[str, str], event: str
) -> None:
    # GIVEN a room event correctly signed with AUTH_TOKEN, about the live room or anything else
    fields = {"StatusCallbackEvent": event, "RoomName": live.room, **fields}
    body = urlencode(fields).encode()
    url = f"http://127.0.0.1:{live.server.port}/room_events"
    # (the signature covers the fields as the server reads them back from the body)
    from urllib.parse import parse_qsl

    read_back = dict(parse_qsl(body.decode(), keep_blank_values=True))
    headers: list[tuple[str, str | bytes]] = [FORM, ("X-Twilio-Signature", signed(url, read_back))]

    # WHEN Twilio (or someone with the auth token) posts it to the dev server
    answer = send(live.server, "POST", "/room_events", body, headers)

    # THEN it is read (the local provider has nothing to stop), never a 5xx
    check_answer(answer, f"POST /room_events {fields!r}")
    assert answer.status == 200, answer
    assert json.loads(answer.body) == {"handled": False}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"StatusCallbackEvent": "room-ended"', "application/json", 400),
        (b"[" * 50_000, "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"<xml/>", "application/xml", 415),
        (b'{"RoomName": "\\ud800", "StatusCallbackEvent": "room-ended"}', "application/json", 200),
    ],
)
def test_a_signed_room_event_with_a_malformed_body_is_refused_or_ignored(
    live: LiveStream, body: bytes, content_type: str, status: int
) -> None:
    # Not form-encoded: the signature covers the URL alone, so these reach the body parser.
    url = f"http://127.0.0.1:{live.server.port}/room_events"
    headers: list[tuple[str, str | bytes]] = [
        ("Content-Type", content_type),
        ("X-Twilio-Signature", signed(url, {})),
    ]
    answer = send(live.server, "POST", "/room_events", body, headers)

    check_answer(answer, f"signed POST /room_events {body[:40]!r}")
    assert answer.status == status, answer


# -- the dev server layer (livescreen/devserver/) ---------------------------------------------


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "FUZZ"])
def test_an_unknown_method_is_a_4xx(live: LiveStream, path: str, method: str) -> None:
    answer = send(live.server, method, path, b"", [])

    check_answer(answer, f"{method} {path}")
    # 405 from the app, or the HTTP parser's 400 for a method it does not know at all
    assert answer.status == 405 or (answer.status, answer.body) == HTTP_PARSER_REJECTION


def test_a_body_over_the_limit_is_a_413_the_client_can_read(live: LiveStream) -> None:
    answer = send(live.server, "POST", "/audience_token", b"{" + b" " * 3_000_000 + b"}", [JSON])

    assert answer.status == 413
    check_answer(answer, "POST /audience_token with 3 MB")


def test_a_header_of_two_megabytes_is_refused(live: LiveStream) -> None:
    answer = send(live.server, "POST", "/audience_token", b"{}", [JSON, ("X-Big", "h" * 2_000_000)])

    check_answer(answer, "POST /audience_token with a 2 MB header")
    assert answer.status == 431, answer


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


#: (name, the request after its request line, status): bytes no ordinary client would send.
RAW_REQUESTS: list[tuple[str, bytes, int]] = [
    (
        "a chunked body of bad JSON",
        b"Transfer-Encoding: chunked\r\n\r\n" + chunked(b'{"a', b"b"),
        400,
    ),
    (
        "a chunked body over 1 MiB",
        b"Transfer-Encoding: chunked\r\n\r\n" + chunked(*[b"x" * 65_536] * 20),
        413,
    ),
    (
        "a chunk size that is no number",
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    (
        "a length and chunks",
        b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    ("two lengths", b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", 400),
    ("a negative length", b"Content-Length: -1\r\n\r\n", 400),
    ("a length that is no number", b"Content-Length: ten\r\n\r\n", 400),
    ("100-continue", b'Expect: 100-continue\r\nContent-Length: 11\r\n\r\n{"sdp": 1}\n', 400),
    ("a header without a colon", b"X-Junk\r\nContent-Length: 0\r\n\r\n", 400),
    ("a NUL in a header", b"X-Junk: a\x00b\r\nContent-Length: 0\r\n\r\n", 400),
]


@pytest.mark.parametrize("path", ["/host_token", "/room_events", "/local/answer", "/chat/send"])
@pytest.mark.parametrize(
    ("rest", "status"), [pytest.param(rest, status, id=name) for name, rest, status in RAW_REQUESTS]
)
def test_requests_that_break_http_itself_get_a_4xx(
    live: LiveStream, path: str, rest: bytes, status: int
) -> None:
    head = b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" % (
        path.encode()
    )
    with socket.create_connection(("127.0.0.1", live.server.port), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(head + rest)
        response = http.client.HTTPResponse(sock)
        response.begin()  # skips a 100 Continue
        answer = Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )

    check_answer(answer, f"POST {path} {rest[:60]!r}")
    if path == "/room_events" and status == 400 and answer.body != HTTP_PARSER_REJECTION[1]:
        status = 401  # the signature is checked before the body is read
    assert answer.status == status, answer


# -- after all of the above (keep last) --------------------------------------------------------


def test_the_server_is_up_and_the_live_stream_untouched(live: LiveStream) -> None:
    # The server still answers, and the audience is still sent to the same stream
    audience = post_json(live.server, "/audience_token", {})
    assert audience.status == 200
    assert json.loads(audience.body) == {
        "provider": "local",
        "token": live.viewer_token,
        "room": live.room,
        "signalling": "/local",
        "recordingsPublic": False,
    }
    # The hub's live room is the one that went live, with its host connected and no viewers
    room = HUB.live_room()
    assert room is not None and room.name == live.room
    assert room.live and not room.ended
    assert room.viewer_token == live.viewer_token
    assert room.host_token == live.host_token
    assert room.host_inbox is not None
    assert room.viewers == {}
    # The host's page heard nothing but pings and the viewer count
    seen: list[tuple[str, str]] = []
    while not live.host_events.empty():
        seen.append(live.host_events.get_nowait())
    assert {name for name, _ in seen} <= {"ping", "viewers"}, seen
    assert all(json.loads(data) == {"count": 0} for name, data in seen if name == "viewers")
    # And the host's session still works: going live again starts nothing new
    again = post_json(live.server, "/stream_start", {"session": live.session})
    assert again.status == 200
    assert json.loads(again.body)["startedNow"] is False
