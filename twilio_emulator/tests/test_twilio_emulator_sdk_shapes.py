"""The emulator answers in the shape Twilio's own SDK reads, on every route it serves.

A real ``twilio.rest.Client`` drives each route of ``routes.ROUTES`` over HTTP through the SDK's
resource classes (``client.video.v1.rooms``, ``.participants``, ``.subscribe_rules``,
``.recording_rules``, ``.recordings``, ``compositions``). Every answer is recorded as it comes off
the wire and checked against the SDK's published definition (twilio 9.13.0):

- the properties each ``*Instance.__init__`` reads (``payload.get("...")``) are read out of the
  SDK's source, so the list comes from the SDK, never from this file; an answer must carry each
  of them and nothing else;
- each value has the type the SDK annotates (``str``, ``int``, ``bool``, ``datetime`` that
  ``deserialize.iso8601_datetime`` accepts, lists, objects), enum values lie within the SDK's
  enum classes, and the few facts the SDK cannot express come from the OpenAPI description
  (twilio-oai ``twilio_video_v1.json``): which properties may be null, which are URIs, the SID
  prefixes, the GET/POST ``status_callback_method`` and the HTTP status of each operation;
- every status an SDK enum lists is produced by the emulator, through its ordinary flows or its
  test controls, except those named in ``UNPRODUCIBLE`` with the reason.

Adding a route to the emulator without driving it here fails ``test_every_route_is_covered``.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from twilio.base import deserialize
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from twilio.rest.video.v1.composition import CompositionInstance
from twilio.rest.video.v1.recording import RecordingInstance
from twilio.rest.video.v1.room import RoomInstance
from twilio.rest.video.v1.room.participant import ParticipantInstance
from twilio.rest.video.v1.room.participant.subscribe_rules import SubscribeRulesInstance
from twilio.rest.video.v1.room.recording_rules import RecordingRulesInstance
from twilio.rest.video.v1.room.room_recording import RoomRecordingInstance
from twilio_clock import FakeClock
from twilio_credentials import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    emulated_account,
)

from livescreen.runtime.twilio_client import rewrite_url
from twilio_emulator import EmulatorServer
from twilio_emulator.routes import ROUTES, match

# -- what the SDK reads -------------------------------------------------------------------------


@dataclass(frozen=True)
class Prop:
    """One property an SDK instance class reads from the payload, typed as the SDK annotates it."""

    key: str
    kind: str  # str | int | bool | datetime | list | dict | enum
    enum: frozenset[str] = frozenset()  # allowed values (of the value, or of each list item)
    item: str = ""  # a list's item kind


def _enum_values(holder: type) -> frozenset[str]:
    return frozenset(
        v for k, v in vars(holder).items() if not k.startswith("_") and isinstance(v, str)
    )


def _kind(annotation: ast.expr, owner: type) -> tuple[str, frozenset[str], str]:
    """``Optional[X]`` -> (kind, enum values, list item kind) for X."""
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "Optional":
        annotation = annotation.slice
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        holder = owner
        for part in annotation.value.split(".")[1:]:  # 'RoomInstance.RoomStatus'
            holder = getattr(holder, part)
        return "enum", _enum_values(holder), ""
    if isinstance(annotation, ast.Name):
        return annotation.id, frozenset(), ""
    if isinstance(annotation, ast.Subscript):
        outer = ast.unparse(annotation.value)
        if outer == "List":
            item, values, _ = _kind(annotation.slice, owner)
            return "list", values, item
        if outer == "Dict":
            return "dict", frozenset(), ""
    raise AssertionError(f"{owner.__name__}: unknown annotation {ast.unparse(annotation)}")


def sdk_props(instance_class: type) -> dict[str, Prop]:
    """The properties ``instance_class.__init__`` reads with ``payload.get(...)``, from source."""
    source = textwrap.dedent(inspect.getsource(instance_class.__init__))  # type: ignore[misc]
    props: dict[str, Prop] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.AnnAssign) or node.value is None:
            continue
        keys = [
            call.args[0].value
            for call in ast.walk(node.value)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "get"
            and ast.unparse(call.func.value) == "payload"
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ]
        for key in keys:
            kind, values, item = _kind(node.annotation, instance_class)
            props[key] = Prop(key, kind, values, item)
    assert props, f"no payload properties found in {instance_class.__name__}"
    return props


# -- what the OpenAPI description adds (twilio-oai, spec/json/twilio_video_v1.json) ---------------

#: Properties the spec does not mark nullable (enum refs, and integers with a default of 0).
NOT_NULLABLE: dict[type, frozenset[str]] = {
    RoomInstance: frozenset(
        {
            "status",
            "type",
            "max_participants",
            "max_participant_duration",
            "empty_room_timeout",
            "unused_room_timeout",
        }
    ),
    ParticipantInstance: frozenset({"status"}),
    RoomRecordingInstance: frozenset({"status", "type", "container_format", "codec"}),
    RecordingInstance: frozenset({"status", "type", "container_format", "codec"}),
    CompositionInstance: frozenset({"status", "format", "bitrate", "duration"}),
    SubscribeRulesInstance: frozenset(),
    RecordingRulesInstance: frozenset(),
}
#: ``format: uri`` strings; ``links`` is a ``uri-map``.
URI_PROPS = frozenset({"url", "status_callback", "media_external_location"})
#: ``status_callback_method`` is ``format: http-method`` with this enum in every Video resource.
CALLBACK_METHODS = frozenset({"GET", "POST"})
#: SID patterns: ``^XX[0-9a-fA-F]{32}$`` with these prefixes (``source_sid``: any two letters).
SID_PREFIX = {"account_sid": "AC", "room_sid": "RM", "participant_sid": "PA", "source_sid": ""}
OWN_SID_PREFIX: dict[type, str] = {
    RoomInstance: "RM",
    ParticipantInstance: "PA",
    RoomRecordingInstance: "RT",
    RecordingInstance: "RT",
    CompositionInstance: "CJ",
}
#: The SDK types ``rules`` as ``List[str]``; the spec's items are rule objects.
OBJECT_ITEMS = frozenset({"rules"})
#: The list envelope's ``meta`` (every list response schema): name -> (type, nullable, uri).
META: dict[str, tuple[type, bool, bool]] = {
    "first_page_url": (str, False, True),
    "key": (str, False, False),
    "next_page_url": (str, True, True),
    "page": (int, False, False),
    "page_size": (int, False, False),
    "previous_page_url": (str, True, True),
    "url": (str, False, True),
}

# -- the routes ------------------------------------------------------------------------------------

V = "/video/v1"
PARTICIPANT = f"{V}/Rooms/{{Sid}}/Participants/{{ParticipantSid}}"


@dataclass(frozen=True)
class Shape:
    """How one route answers: the SDK class of its items (None: not in the SDK) and list key."""

    instance: type | None
    list_key: str = ""


SHAPES: dict[str, Shape] = {
    f"{V}/Rooms": Shape(RoomInstance, "rooms"),
    f"{V}/Rooms/{{Sid}}": Shape(RoomInstance),
    f"{V}/Rooms/{{Sid}}/Participants": Shape(ParticipantInstance, "participants"),
    PARTICIPANT: Shape(ParticipantInstance),
    f"{PARTICIPANT}/SubscribeRules": Shape(SubscribeRulesInstance),
    f"{V}/Rooms/{{Sid}}/RecordingRules": Shape(RecordingRulesInstance),
    f"{V}/Rooms/{{Sid}}/Recordings": Shape(RoomRecordingInstance, "recordings"),
    f"{V}/Rooms/{{Sid}}/Recordings/{{ParticipantSid}}": Shape(RoomRecordingInstance),
    f"{V}/Recordings": Shape(RecordingInstance, "recordings"),
    f"{V}/Recordings/{{Sid}}": Shape(RecordingInstance),
    f"{V}/Compositions": Shape(CompositionInstance, "compositions"),
    f"{V}/Compositions/{{Sid}}": Shape(CompositionInstance),
    # Not in the spec nor the SDK: Twilio documents it as a 302 whose body holds ``redirect_to``
    # (compositions-resource "Retrieve Composition Media"); the SDK reaches it with
    # ``client.request`` on ``links["media"]``.
    f"{V}/Compositions/{{Sid}}/Media": Shape(None),
    # Media v1 (Twilio Live's MediaProcessors and PlayerStreamers) is not in twilio 9.13.0: it
    # has no resource class to read these answers, so they are driven with ``client.request``
    # and only their status codes and list envelopes are checked here.
    "/media/v1/MediaProcessors": Shape(None, "media_processors"),
    "/media/v1/MediaProcessors/{Sid}": Shape(None),
    "/media/v1/PlayerStreamers": Shape(None, "player_streamers"),
    "/media/v1/PlayerStreamers/{Sid}": Shape(None),
    "/media/v1/PlayerStreamers/{Sid}/PlaybackGrant": Shape(None),
}

#: The HTTP status of each operation's success, from the spec (Media v1: its own description).
SPEC_STATUS: dict[tuple[str, str], int] = {
    ("GET", f"{V}/Rooms"): 200,
    ("POST", f"{V}/Rooms"): 201,
    ("GET", f"{V}/Rooms/{{Sid}}"): 200,
    ("POST", f"{V}/Rooms/{{Sid}}"): 202,
    ("GET", f"{V}/Rooms/{{Sid}}/Participants"): 200,
    ("GET", PARTICIPANT): 200,
    ("POST", PARTICIPANT): 202,
    ("GET", f"{PARTICIPANT}/SubscribeRules"): 200,
    ("POST", f"{PARTICIPANT}/SubscribeRules"): 200,
    ("GET", f"{V}/Rooms/{{Sid}}/RecordingRules"): 200,
    ("POST", f"{V}/Rooms/{{Sid}}/RecordingRules"): 200,
    ("GET", f"{V}/Rooms/{{Sid}}/Recordings"): 200,
    ("GET", f"{V}/Rooms/{{Sid}}/Recordings/{{ParticipantSid}}"): 200,
    ("GET", f"{V}/Recordings"): 200,
    ("GET", f"{V}/Recordings/{{Sid}}"): 200,
    ("DELETE", f"{V}/Recordings/{{Sid}}"): 204,
    ("GET", f"{V}/Compositions"): 200,
    ("POST", f"{V}/Compositions"): 201,
    ("GET", f"{V}/Compositions/{{Sid}}"): 200,
    ("DELETE", f"{V}/Compositions/{{Sid}}"): 204,
    ("GET", f"{V}/Compositions/{{Sid}}/Media"): 302,
    ("GET", "/media/v1/MediaProcessors"): 200,
    ("POST", "/media/v1/MediaProcessors"): 201,
    ("GET", "/media/v1/MediaProcessors/{Sid}"): 200,
    ("POST", "/media/v1/MediaProcessors/{Sid}"): 200,
    ("GET", "/media/v1/PlayerStreamers"): 200,
    ("POST", "/media/v1/PlayerStreamers"): 201,
    ("GET", "/media/v1/PlayerStreamers/{Sid}"): 200,
    ("POST", "/media/v1/PlayerStreamers/{Sid}"): 200,
    ("GET", "/media/v1/PlayerStreamers/{Sid}/PlaybackGrant"): 200,
    ("POST", "/media/v1/PlayerStreamers/{Sid}/PlaybackGrant"): 201,
}

#: Statuses in an SDK enum that no faithful emulator can produce, and why.
UNPRODUCIBLE: dict[tuple[type, str], str] = {
    (RoomInstance, "failed"): (
        "Twilio documents no request and no client action that ends a room 'failed': it is "
        "Twilio's own fault, and the emulator would have to invent what happens to its "
        "participants, recordings and callbacks"
    ),
}

#: Properties the SDK reads that the emulator never fills, and why (always null is in the spec).
ALWAYS_NULL: dict[tuple[type, str], str] = {
    (RoomRecordingInstance, "media_external_location"): (
        "set only when recordings go to the account's own S3 bucket (RecordingSettings), "
        "which the emulator does not serve"
    ),
    (RecordingInstance, "media_external_location"): "as for room recordings",
    (CompositionInstance, "media_external_location"): (
        "set only with CompositionSettings' external storage, which the emulator does not serve"
    ),
    (RecordingInstance, "status_callback"): (
        "no request in the Video v1 spec sets a track recording's status callback"
    ),
}


# -- recording and checking answers ---------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    method: str
    template: str
    path: str
    status: int
    body: str
    location: str | None


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_sid(value: object, prefix: str) -> bool:
    pattern = (prefix or "[a-zA-Z]{2}") + "[0-9a-fA-F]{32}"
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


def _type_problem(prop: Prop, value: object) -> str | None:
    """What is wrong with a non-null ``value`` for ``prop``, or None."""
    kind = prop.kind
    if kind == "str" and not isinstance(value, str):
        return f"expected a string, got {value!r}"
    if kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
        return f"expected an integer, got {value!r}"
    if kind == "bool" and not isinstance(value, bool):
        return f"expected a boolean, got {value!r}"
    if kind == "datetime" and not isinstance(deserialize.iso8601_datetime(value), datetime):
        return f"expected an ISO 8601 date-time the SDK parses, got {value!r}"
    if kind == "dict" and not isinstance(value, dict):
        return f"expected an object, got {value!r}"
    if kind == "enum" and value not in prop.enum:
        return f"expected one of {sorted(prop.enum)}, got {value!r}"
    if kind == "list":
        if not isinstance(value, list):
            return f"expected an array, got {value!r}"
        item_kind = "dict" if prop.key in OBJECT_ITEMS else prop.item
        for item in value:
            problem = _type_problem(Prop(prop.key, item_kind, prop.enum), item)
            if problem:
                return f"item: {problem}"
    return None


def _url_problem(instance: type, payload: dict[str, Any], url: str) -> str | None:
    """An instance's ``url`` is where the SDK fetches it: the emulator's route for the same
    resource class, ending in the instance's own SID."""
    route, _ = match(urlsplit(rewrite_url(url, "http://emulator")).path)
    shape = SHAPES.get(route.template) if route else None
    if route is None or shape is None or shape.instance is not instance or shape.list_key:
        return f"{url!r} is not where the SDK fetches a {instance.__name__}"
    if "sid" in payload and not url.endswith(f"/{payload['sid']}"):
        return f"{url!r} does not end in the instance's SID"
    return None


@dataclass
class Checker:
    """Checks every recorded answer; remembers what it saw for the coverage and status tests."""

    problems: list[str] = field(default_factory=list)
    #: answers whose HTTP status is not the one the spec gives the operation
    wrong_status: list[str] = field(default_factory=list)
    #: (instance class, property) -> the value was non-null at least once
    filled: set[tuple[type, str]] = field(default_factory=set)
    #: (instance class, property) -> enum values seen
    values: dict[tuple[type, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    answered: set[tuple[str, str]] = field(default_factory=set)

    def check(self, answer: Answer) -> None:
        where = f"{answer.method} {answer.path}"
        operation = (answer.method, answer.template)
        self.answered.add(operation)
        expected = SPEC_STATUS.get(operation)
        if answer.status != expected:
            self.wrong_status.append(f"{where}: HTTP {answer.status}, the spec says {expected}")
        if answer.status == 204 or (answer.status >= 300 and answer.status != 302):
            return
        body = json.loads(answer.body)
        shape = SHAPES[answer.template]
        if answer.status == 302:
            target = body.get("redirect_to")
            if not _is_uri(target) or target != answer.location:
                self.problems.append(f"{where}: redirect_to {target!r} vs Location")
            return
        if shape.list_key and answer.method == "GET":
            self._check_page(where, shape.list_key, body)
            items = body.get(shape.list_key, [])
        else:
            items = [body]
        if shape.instance is not None:
            for item in items:
                self._check_instance(where, shape.instance, item)

    def _check_page(self, where: str, key: str, body: dict[str, Any]) -> None:
        if set(body) != {key, "meta"} or not isinstance(body[key], list):
            self.problems.append(f"{where}: list keys {sorted(body)}, expected {key!r}, 'meta'")
        meta = body.get("meta", {})
        if set(meta) != set(META):
            self.problems.append(f"{where}: meta has {sorted(meta)}, the spec {sorted(META)}")
        for name, (kind, nullable, uri) in META.items():
            value = meta.get(name)
            if value is None and nullable:
                continue
            if not isinstance(value, kind) or (uri and not _is_uri(value)):
                self.problems.append(f"{where}: meta.{name} = {value!r}")
        if meta.get("key") != key:
            self.problems.append(f"{where}: meta.key = {meta.get('key')!r}, expected {key!r}")

    def _check_instance(self, where: str, instance: type, payload: dict[str, Any]) -> None:
        name = instance.__name__
        props = sdk_props(instance)
        missing = sorted(set(props) - set(payload))
        if missing:
            self.problems.append(f"{where}: {name} misses {missing}")
        extra = sorted(set(payload) - set(props))
        if extra:
            self.problems.append(f"{where}: {name} has properties the SDK does not read: {extra}")
        for key, prop in props.items():
            if key not in payload:
                continue
            value = payload[key]
            label = f"{where}: {name}.{key}"
            if value is None:
                if key in NOT_NULLABLE[instance]:
                    self.problems.append(f"{label} is null; the spec does not allow it")
                continue
            self.filled.add((instance, key))
            problem = _type_problem(prop, value)
            if problem is None and key in URI_PROPS and not _is_uri(value):
                problem = f"expected a URI, got {value!r}"
            if problem is None and key == "url":
                problem = _url_problem(instance, payload, value)
            if problem is None and key == "links" and not all(map(_is_uri, value.values())):
                problem = f"expected a map of URIs, got {value!r}"
            if (
                problem is None
                and key == "status_callback_method"
                and value not in CALLBACK_METHODS
            ):
                problem = f"expected one of {sorted(CALLBACK_METHODS)}, got {value!r}"
            if problem is None and key.endswith("sid") and not isinstance(value, dict):
                prefix = OWN_SID_PREFIX.get(instance, "") if key == "sid" else SID_PREFIX[key]
                if not _is_sid(value, prefix):
                    problem = f"expected a {prefix or 'XX'}... SID, got {value!r}"
            if problem is not None:
                self.problems.append(f"{label}: {problem}")
            if prop.kind == "enum" and isinstance(value, str):
                self.values[(instance, key)].add(value)


class RecordingHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to the emulator and checks each answer as it arrives."""

    def __init__(self, base_url: str, checker: Checker) -> None:
        super().__init__(timeout=5)
        self.base_url = base_url
        self.checker = checker

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        target = rewrite_url(url, self.base_url)
        response: Response = super().request(
            method, target, params, data, headers, auth, timeout, allow_redirects
        )
        path = urlsplit(target).path
        route, _ = match(path)
        assert route is not None, f"the SDK called {method} {path}, which the emulator lacks"
        location = (response.headers or {}).get("Location")
        answer = Answer(method, route.template, path, response.status_code, response.text, location)
        self.checker.check(answer)
        return response


@dataclass
class Twilio:
    emulator: EmulatorServer
    client: Client
    checker: Checker
    clock: FakeClock

    def tick(self, seconds: float = 7.0) -> None:
        self.clock.now += seconds


@pytest.fixture
def twilio() -> Iterator[Twilio]:
    clock = FakeClock()
    with emulated_account(clock) as emulator:
        checker = Checker()
        client = Client(
            username=API_KEY_SID,
            password=API_KEY_SECRET,
            account_sid=ACCOUNT_SID,
            http_client=RecordingHttpClient(emulator.base_url, checker),
        )
        yield Twilio(emulator, client, checker, clock)


# -- the flows ------------------------------------------------------------------------------------

#: A StatusCallback nobody answers (deliveries are best effort and recorded, never retried).
CALLBACK = "http://127.0.0.1:9/room-events"
LAYOUT = {"main": {"video_sources": ["*"]}}


def drive_every_route(twilio: Twilio) -> None:
    """One room's life through every route the emulator serves, through the SDK."""
    video = twilio.client.video.v1
    state = twilio.emulator.state

    room = video.rooms.create(
        unique_name="shapes",
        type="group",
        status_callback=CALLBACK,
        status_callback_method="POST",
        max_participant_duration=3600,
    )
    spare = video.rooms.create(unique_name="spare")
    assert room.status == "in-progress"
    assert {r.sid for r in video.rooms.list(page_size=1)} == {room.sid, spare.sid}  # 2 pages
    assert [r.sid for r in video.rooms.list(status="in-progress", unique_name="shapes")] == [
        room.sid
    ]
    assert video.rooms(room.sid).fetch().unique_name == "shapes"

    host = state.connect_participant(room.sid, "host")
    viewer = state.connect_participant(room.sid, "viewer")
    state.publish_track(host.sid, "audio", "mic")
    state.publish_track(host.sid, "video", "screen")
    twilio.tick()
    participants = video.rooms(room.sid).participants
    assert {p.identity for p in participants.list(status="connected", page_size=1)} == {
        "host",
        "viewer",
    }
    assert participants(host.sid).fetch().status == "connected"
    assert participants(viewer.sid).subscribe_rules.fetch().rules
    rules = [{"type": "include", "publisher": "host"}]
    assert participants(viewer.sid).subscribe_rules.update(rules=rules).rules == rules

    recording_rules = video.rooms(room.sid).recording_rules
    assert recording_rules.fetch().rules == []
    recording_rules.update(rules=[{"type": "include", "publisher": "host"}])
    twilio.tick()
    in_room = video.rooms(room.sid).recordings.list(status="processing", page_size=1)
    assert {r.type for r in in_room} == {"audio", "video"}
    assert video.rooms(room.sid).recordings(in_room[0].sid).fetch().status == "processing"
    assert video.recordings(in_room[0].sid).fetch().status == "processing"

    composition = video.compositions.create(
        room_sid=room.sid,
        video_layout=LAYOUT,
        audio_sources=["host"],
        format="mp4",
        resolution="1280x720",
        status_callback=CALLBACK,
        status_callback_method="POST",
    )
    assert video.compositions(composition.sid).fetch().status == "enqueued"  # room in progress

    assert participants(viewer.sid).update(status="disconnected").status == "disconnected"
    assert [p.sid for p in participants.list(status="disconnected")] == [viewer.sid]
    twilio.tick(60)
    assert video.rooms(room.sid).update(status="completed").status == "completed"
    video.rooms(spare.sid).update(status="completed")

    done = video.rooms(room.sid).recordings.list(status="completed")
    assert {(r.sid, r.duration) for r in done} == {(r.sid, 67) for r in in_room}
    everything = video.recordings.list(grouping_sid=[room.sid], page_size=1)
    assert {r.status for r in everything} == {"completed"}
    assert video.recordings(everything[0].sid).fetch().duration == 67

    statuses = [video.compositions(composition.sid).fetch().status for _ in range(2)]
    assert statuses == ["processing", "completed"]
    assert [c.sid for c in video.compositions.list(room_sid=room.sid, page_size=1)] == [
        composition.sid
    ]
    media = video.compositions(composition.sid).fetch().links["media"]
    answer = twilio.client.request("GET", media, params={"Ttl": 60})
    assert answer.status_code == 302
    assert video.compositions(composition.sid).delete() is True
    assert video.compositions(composition.sid).fetch().status == "deleted"
    assert video.recordings(everything[0].sid).delete() is True
    assert video.recordings(everything[0].sid).fetch().status == "deleted"
    assert video.rooms(room.sid).recordings(everything[0].sid).fetch().status == "deleted"

    drive_media_v1(twilio)


def drive_media_v1(twilio: Twilio) -> None:
    """MediaProcessors and PlayerStreamers, through the client's generic ``request``."""
    client = twilio.client
    base = "https://media.twilio.com/v1"
    twilio.client.video.v1.rooms.create(unique_name="live")

    def call(method: str, path: str, data: dict[str, object] | None = None) -> Any:
        answer = client.request(method, base + path, data=data)
        assert answer.status_code < 300, answer.text
        return json.loads(answer.text)

    streamer = call("POST", "/PlayerStreamers", {"Video": "true"})["sid"]
    context = {"room": {"name": "live"}, "identity": "live-stream", "outputs": [streamer]}
    processor = call(
        "POST",
        "/MediaProcessors",
        {"Extension": "video-composer-v1", "ExtensionContext": json.dumps(context)},
    )["sid"]
    assert [p["sid"] for p in call("GET", "/MediaProcessors")["media_processors"]] == [processor]
    assert call("GET", f"/MediaProcessors/{processor}")["status"] == "started"
    assert call("GET", "/PlayerStreamers")["player_streamers"][0]["sid"] == streamer
    assert call("GET", f"/PlayerStreamers/{streamer}")["status"] == "started"
    call("POST", f"/PlayerStreamers/{streamer}/PlaybackGrant", {"Ttl": "60"})
    assert call("GET", f"/PlayerStreamers/{streamer}/PlaybackGrant")["sid"] == streamer
    assert call("POST", f"/MediaProcessors/{processor}", {"Status": "ended"})["status"] == "ended"
    assert call("POST", f"/PlayerStreamers/{streamer}", {"Status": "ended"})["status"] == "ended"


def drive_failures(twilio: Twilio) -> None:
    """The statuses only a failure or a network blip produces, through the test controls."""
    video = twilio.client.video.v1
    state = twilio.emulator.state

    # A room where nothing was recorded: its composition fails.
    empty = video.rooms.create(unique_name="empty")
    nothing = video.compositions.create(room_sid=empty.sid, audio_sources=["*"])
    video.rooms(empty.sid).update(status="completed")
    statuses = [video.compositions(nothing.sid).fetch().status for _ in range(2)]
    assert statuses == ["processing", "failed"]

    # A track recording the media server loses: failed, and left out of the composition.
    room = video.rooms.create(unique_name="lossy", record_participants_on_connect=True)
    host = state.connect_participant(room.sid, "host")
    state.publish_track(host.sid, "audio", "mic")
    (recording,) = video.rooms(room.sid).recordings.list()
    twilio.tick()
    state.fail_recording(recording.sid)
    assert video.recordings(recording.sid).fetch().status == "failed"
    assert video.rooms(room.sid).recordings(recording.sid).fetch().size is None

    # A participant whose network drops for a moment.
    state.participant_reconnecting(host.sid)
    assert video.rooms(room.sid).participants(host.sid).fetch().status == "reconnecting"

    # The lost recording was the room's only one: nothing is left to compose.
    lost = video.compositions.create(room_sid=room.sid, audio_sources=["*"])
    video.rooms(room.sid).update(status="completed")
    assert [video.compositions(lost.sid).fetch().status for _ in range(2)] == [
        "processing",
        "failed",
    ]


# -- the tests -------------------------------------------------------------------------------------


def test_the_sdk_properties_are_read_from_the_sdk() -> None:
    room = sdk_props(RoomInstance)
    assert room["status"].enum == {"in-progress", "completed", "failed"}
    assert room["date_created"].kind == "datetime"
    assert room["video_codecs"].kind == "list"
    assert room["video_codecs"].enum == {"VP8", "H264"}
    assert sdk_props(ParticipantInstance)["status"].enum >= {"connected", "disconnected"}
    assert "room_sid" in sdk_props(RoomRecordingInstance)
    assert set(NOT_NULLABLE) == {shape.instance for shape in SHAPES.values()} - {None}


def test_the_checker_refuses_what_the_sdk_would_misread() -> None:
    checker = Checker()
    path = f"{V}/Rooms/RM{'0' * 32}/Participants/PA{'0' * 32}"
    good = {
        "sid": f"PA{'0' * 32}",
        "room_sid": f"RM{'0' * 32}",
        "account_sid": ACCOUNT_SID,
        "status": "connected",
        "identity": "host",
        "date_created": "2024-01-01T00:00:00Z",
        "date_updated": "2024-01-01T00:00:00Z",
        "start_time": "2024-01-01T00:00:00Z",
        "end_time": None,
        "duration": None,
        "url": f"https://video.twilio.com{path.removeprefix('/video')}",
        "links": {},
    }
    bad = {
        **good,
        "status": "gone",  # not in the SDK's enum
        "date_updated": "2024-01-01 00:00:00",  # not the SDK's ISO 8601
        "duration": "5",  # a string for an integer
        "room_sid": "RM1",  # not a SID
        "extra": 1,  # not read by the SDK
    }
    del bad["identity"]
    for payload in (good, bad):
        checker.check(Answer("GET", PARTICIPANT, path, 200, json.dumps(payload), None))
    assert [problem.split(": ", 1)[1] for problem in checker.problems] == [
        "ParticipantInstance misses ['identity']",
        "ParticipantInstance has properties the SDK does not read: ['extra']",
        "ParticipantInstance.room_sid: expected a RM... SID, got 'RM1'",
        "ParticipantInstance.status: expected one of "
        "['connected', 'disconnected', 'reconnecting'], got 'gone'",
        "ParticipantInstance.date_updated: expected an ISO 8601 date-time the SDK parses, "
        "got '2024-01-01 00:00:00'",
        "ParticipantInstance.duration: expected an integer, got '5'",
    ]


def test_every_answer_on_every_route_is_what_the_sdk_reads(twilio: Twilio) -> None:
    drive_every_route(twilio)

    assert not twilio.checker.problems, "\n".join(twilio.checker.problems)
    never_filled = [
        f"{instance.__name__}.{key}"
        for instance in NOT_NULLABLE
        for key in sdk_props(instance)
        if (instance, key) not in twilio.checker.filled and (instance, key) not in ALWAYS_NULL
    ]
    assert never_filled == [], "these properties were never seen with a value to check"
    filled_after_all = sorted(
        f"{instance.__name__}.{key}"
        for instance, key in ALWAYS_NULL
        if (instance, key) in twilio.checker.filled
    )
    assert filled_after_all == [], "ALWAYS_NULL names properties that now have values"


def test_every_operation_answers_with_the_spec_status(twilio: Twilio) -> None:
    drive_every_route(twilio)

    assert not twilio.checker.wrong_status, "\n".join(twilio.checker.wrong_status)


def test_every_route_is_covered(twilio: Twilio) -> None:
    served = {(method, route.template) for route in ROUTES for method in route.handlers}
    assert {template for _, template in served} == set(SHAPES)
    assert served == set(SPEC_STATUS)

    drive_every_route(twilio)

    called = {key for key, count in twilio.emulator.calls.items() if count}
    assert sorted(served - called) == []
    assert sorted(served - twilio.checker.answered) == []


def test_every_status_the_sdk_lists_is_produced(twilio: Twilio) -> None:
    drive_every_route(twilio)
    drive_failures(twilio)

    missing: list[str] = []
    for instance in NOT_NULLABLE:
        status = sdk_props(instance).get("status")
        if status is None:
            continue
        seen = twilio.checker.values[(instance, "status")]
        for value in sorted(status.enum - seen):
            if (instance, value) not in UNPRODUCIBLE:
                missing.append(f"{instance.__name__}.status={value}")
        for value in sorted(seen):
            assert (instance, value) not in UNPRODUCIBLE, f"{value} was produced after all"
    assert missing == [], "statuses never produced"
    assert not twilio.checker.problems, "\n".join(twilio.checker.problems)
