"""UI tests of the pages with the ``twilio`` provider and a Twilio Video audience.

With ``TWILIO_AUDIENCE=video`` viewers join the host's group room without publishing and play
the host's tracks with twilio-video. Twilio cannot be reached from here: the back end's replies
are routed in the browser and /vendor/twilio-video.min.js is replaced by the double in
``twilio_doubles`` (the last test checks its public names against the real vendored file). What
is tested is the pages and ``js/providers/twilio.js``; the real SDK's behaviour is not.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from browser_pages import ROOT, VIDEO, HostPage, ViewerPage, polls_after, screenshot
from browser_settings import settings_for
from twilio_doubles import serve_doubles

ROOM = "livestream-0123456789abcdef"
HOST = "host-0123456789abcdef"
FULL = "This stream is full. Try again later."


def jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped token (unsigned: the double only reads its identity)."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT', 'cty': 'twilio-fpa;v=1'})}.{part(claims)}.sig"


def reply(route: Any, payload: dict[str, Any]) -> None:
    route.fulfill(status=200, content_type="application/json", body=json.dumps(payload))


class VideoBackEnd:
    """The endpoints as the twilio provider answers them with ``TWILIO_AUDIENCE=video`` (or,
    with ``audience="live"``, the Live flow)."""

    def __init__(self, page: Any, *, audience: str = "video") -> None:
        self.audience = audience
        self.live = False
        self.issued: list[str] = []
        self.requests: list[str] = []
        for name in ("host_token", "stream_start", "stream_stop", "audience_token"):
            page.route(f"**/{name}", self._handler(name))

    def _handler(self, name: str) -> Any:
        def handle(route: Any) -> None:
            self.requests.append(name)
            if name == "host_token":
                token = jwt({"grants": {"identity": HOST, "video": {"room": ROOM}}})
                reply(
                    route,
                    {
                        "provider": "twilio",
                        "audience": self.audience,
                        "room": ROOM,
                        "token": token,
                        "identity": HOST,
                        "session": "session-1",
                        "sessionExpiresAt": 4102444800,
                    },
                )
            elif name in ("stream_start", "stream_stop"):
                self.live = name == "stream_start"
                reply(route, {"provider": "twilio", "room": ROOM, "live": self.live})
            elif not self.live:
                reply(route, {"provider": "twilio", "audience": self.audience, "token": None})
            elif self.audience == "live":
                token = jwt({"grants": {"player": {"playbackGrant": {}}}, "n": len(self.issued)})
                self.issued.append(token)
                reply(route, {"provider": "twilio", "token": token})
            else:
                identity = f"viewer-{len(self.issued):08x}"
                token = jwt({"grants": {"identity": identity, "video": {"room": ROOM}}})
                self.issued.append(token)
                reply(
                    route,
                    {
                        "provider": "twilio",
                        "audience": "video",
                        "token": token,
                        "room": ROOM,
                        "identity": identity,
                        "hostIdentity": HOST,
                    },
                )

        return handle


def open_viewer(open_page: Any, server: Any, *, live: bool = True, init: str | None = None) -> Any:
    page = open_page(init_script=init)
    serve_doubles(page)
    back_end = VideoBackEnd(page)
    back_end.live = live
    viewer = ViewerPage(page, server.url).open()
    return viewer, back_end


def wait_for_connects(page: Any, count: int) -> None:
    page.wait_for_function(
        "n => window.__twilio && window.__twilio.rooms.length === n", arg=count, timeout=10_000
    )


def watching(open_page: Any, server: Any) -> tuple[ViewerPage, VideoBackEnd]:
    """A viewer playing the host's screen in the room."""
    viewer, back_end = open_viewer(open_page, server)
    wait_for_connects(viewer.page, 1)
    viewer.page.evaluate("id => window.__twilio.hostPublishes(id)", HOST)
    viewer.wait_for_video((1280, 720))
    return viewer, back_end


def test_a_viewer_waits_joins_without_publishing_plays_and_sees_the_host_leave(
    server: Any, open_page: Any
) -> None:
    # GIVEN a viewer while nothing is live
    viewer, back_end = open_viewer(open_page, server, live=False)
    viewer.wait_for_status("Not currently streaming.")

    # WHEN the host goes live
    back_end.live = True
    wait_for_connects(viewer.page, 1)

    # THEN the page joined the host's room with its own token and no local tracks
    connects = viewer.page.evaluate(
        """() => window.__twilio.connects.map(c => ({
          token: c.token, name: c.name, tracks: c.tracks.length, audio: c.audio, video: c.video,
        }))"""
    )
    assert connects == [
        {"token": back_end.issued[0], "name": ROOM, "tracks": 0, "audio": False, "video": False}
    ]
    assert viewer.page.evaluate("() => window.__twilio.room.localParticipant.tracks.size") == 0

    # WHEN another viewer joins, then the host's screen and microphone are subscribed
    viewer.page.evaluate("() => window.__twilio.participantJoins('viewer-other')")
    viewer.page.evaluate("id => window.__twilio.hostPublishes(id)", HOST)

    # THEN the host's 1280x720 screen plays with its sound, muted until clicked
    playing = viewer.wait_for_video((1280, 720))
    assert (playing["width"], playing["height"], playing["audioTracks"]) == (1280, 720, 1)
    assert (playing["muted"], playing["paused"]) == (True, False)
    assert viewer.status() == ""
    screenshot(viewer.page, "twilio-video-audience-playing")
    viewer.page.click(VIDEO)
    assert viewer.video()["muted"] is False

    # WHEN another viewer leaves, nothing changes; WHEN the host leaves the room
    viewer.page.evaluate("() => window.__twilio.participantLeaves('viewer-other')")
    assert viewer.video()["width"] == 1280
    viewer.page.evaluate("id => window.__twilio.participantLeaves(id)", HOST)

    # THEN the viewer is told at once, has left the room and shows no video
    viewer.wait_for_status("The stream has ended.", timeout=3_000)
    assert viewer.page.evaluate("() => window.__twilio.room.state") == "disconnected"
    assert viewer.page.locator(VIDEO).count() == 0

    # AND it does not join that room again while /audience_token still names it
    polls_after(viewer.page, 2)
    assert viewer.page.evaluate("() => window.__twilio.rooms.length") == 1
    assert viewer.status() == "The stream has ended."
    screenshot(viewer.page, "twilio-video-audience-ended")


def test_a_viewer_sees_the_end_when_the_room_is_completed(server: Any, open_page: Any) -> None:
    viewer, back_end = watching(open_page, server)

    # WHEN the room ends (the host stopped, or the server completed it): disconnected, 53118
    viewer.page.evaluate("() => window.__twilio.endRoom()")

    viewer.wait_for_status("The stream has ended.", timeout=3_000)
    assert viewer.page.locator(VIDEO).count() == 0
    # and the next stream is watched without a reload
    back_end.live = False
    polls_after(viewer.page, 1)
    assert viewer.status() == "The stream has ended."


@pytest.mark.parametrize(
    "code",
    [
        53105,  # Room contains too many Participants: the room holds its MaxParticipants
        53206,  # The Participant concurrency quota was exceeded: the account's rooms are full
    ],
)
def test_a_full_room_says_so_and_the_viewer_gets_in_once_there_is_space(
    server: Any, open_page: Any, code: int
) -> None:
    # GIVEN a room (or account) that already holds as many participants as it may
    viewer, _ = open_viewer(open_page, server, init=f"window.__twilio = {{ roomFull: {code} }};")

    # THEN connect() is refused with that code and the viewer is told, with no spinner
    viewer.wait_for_status(FULL)
    assert viewer.page.locator(VIDEO).count() == 0
    screenshot(viewer.page, f"twilio-video-audience-full-{code}")

    # WHEN it is still full at the next try, it still says so
    viewer.page.wait_for_function("() => window.__twilio.connects.length >= 2", timeout=15_000)
    assert viewer.status() == FULL

    # WHEN a place frees up, the page gets in by itself
    viewer.page.evaluate("() => { window.__twilio.roomFull = false; }")
    wait_for_connects(viewer.page, 1)
    viewer.page.evaluate("id => window.__twilio.hostPublishes(id)", HOST)
    assert viewer.wait_for_video((1280, 720))["width"] == 1280
    assert viewer.status() == ""


def test_a_viewer_rides_out_a_reconnection_and_rejoins_after_a_drop(
    server: Any, open_page: Any
) -> None:
    viewer, back_end = watching(open_page, server)

    # WHEN the SDK loses its signaling connection and tries to get it back
    viewer.page.evaluate("() => window.__twilio.breakConnection()")

    # THEN the viewer is told, over the picture, which stays
    viewer.wait_for_status("Reconnecting…", timeout=3_000)
    assert viewer.video()["width"] == 1280
    screenshot(viewer.page, "twilio-video-audience-reconnecting")

    # WHEN the SDK gets it back, the same room plays on
    viewer.page.evaluate("() => window.__twilio.restoreConnection()")
    viewer.page.wait_for_function("() => document.body.dataset.status === ''", timeout=3_000)
    assert viewer.wait_for_video((1280, 720))["paused"] is False
    assert viewer.page.evaluate("() => window.__twilio.rooms.length") == 1

    # WHEN the SDK gives up (disconnected with an error that is no end of the room)
    viewer.page.evaluate("() => window.__twilio.breakConnection()")
    viewer.page.evaluate("() => window.__twilio.loseConnection()")

    # THEN the page says it is reconnecting and joins again by itself with a fresh token
    viewer.wait_for_status("Reconnecting…", timeout=3_000)
    wait_for_connects(viewer.page, 2)
    assert len(set(back_end.issued)) == len(back_end.issued) >= 2
    viewer.page.evaluate("id => window.__twilio.hostPublishes(id)", HOST)
    assert viewer.wait_for_video((1280, 720))["width"] == 1280
    assert viewer.status() == ""


def test_the_host_sees_the_viewers_in_the_room(server: Any, open_page: Any) -> None:
    page = open_page()
    serve_doubles(page)
    back_end = VideoBackEnd(page)
    host = HostPage(page, server.url).open()
    host.go_live("any password")
    count = page.locator("#viewerCount")

    count.filter(has_text="0 viewers").wait_for()
    for viewer in ("viewer-1", "viewer-2", "viewer-3"):
        page.evaluate("id => window.__twilio.participantJoins(id)", viewer)
    count.filter(has_text="3 viewers").wait_for()
    page.evaluate("() => window.__twilio.participantLeaves('viewer-2')")
    page.evaluate("() => window.__twilio.participantLeaves('viewer-3')")
    count.filter(has_text="1 viewer").wait_for()
    assert count.inner_text() == "1 viewer"
    screenshot(page, "twilio-video-host-live")
    assert back_end.requests[:2] == ["host_token", "stream_start"]


def test_the_live_player_plays_only_once_ready(server: Any, open_page: Any) -> None:
    page = open_page()
    serve_doubles(page, player_auto_ready=False)
    back_end = VideoBackEnd(page, audience="live")
    back_end.live = True
    viewer = ViewerPage(page, server.url).open()

    # WHILE the player is still idle, the page does not call play() (it would have no effect)
    page.wait_for_function("() => window.__twilio && window.__twilio.players.length === 1")
    page.locator("#soundHint").wait_for()  # play() has returned: the page is watching
    assert page.evaluate("() => window.__twilio.players[0].state") == "idle"
    assert page.evaluate("() => window.__twilio.players[0].plays") == []

    # WHEN it is ready, the page plays it
    page.evaluate("() => window.__twilio.players[0]._setState('ready')")
    assert viewer.wait_for_video((1280, 720))["width"] == 1280
    assert page.evaluate("() => window.__twilio.players[0].plays") == ["ready"]


def test_a_live_player_error_is_no_end_of_the_stream(server: Any, open_page: Any) -> None:
    page = open_page()
    serve_doubles(page)
    back_end = VideoBackEnd(page, audience="live")
    back_end.live = True
    viewer = ViewerPage(page, server.url).open()
    viewer.wait_for_video((1280, 720))

    # WHEN the player fails (it goes `ended`, then emits `error`, as the SDK does)
    page.evaluate("() => window.__twilio.players[0]._fail(56005, 'Network error')")

    # THEN the page does not say the stream ended: it reconnects with a fresh player and token
    viewer.wait_for_status("Reconnecting…", timeout=3_000)
    page.wait_for_function("() => window.__twilio.players.length === 2", timeout=10_000)
    assert viewer.wait_for_video((1280, 720))["width"] == 1280
    assert viewer.status() == ""
    tokens = page.evaluate("() => window.__twilio.players.map(p => p.token)")
    assert tokens == back_end.issued[:2]


PUBLIC_SHAPE = """async () => {
  const Video = window.Twilio.Video;
  const members = (object) => {
    const names = new Set();
    for (let o = object; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const name of Object.getOwnPropertyNames(o)) if (!name.startsWith('_')) names.add(name);
    }
    return [...names].sort();
  };
  const canvas = document.createElement('canvas');
  canvas.getContext('2d').fillRect(0, 0, 1, 1);
  const track = new Video.LocalVideoTrack(canvas.captureStream(1).getVideoTracks()[0],
    { name: 'screen' });
  let error = null;
  try {
    // The real SDK fails to reach Twilio from here; the double refuses the token: both reject
    // with a TwilioError.
    await Video.connect('x.y.z', { name: 'room', audio: false, video: false, tracks: [] });
  } catch (e) {
    error = {
      name: e.name, code: typeof e.code, isError: e instanceof Error,
      ownKeys: Object.keys(e).sort(), toString: String(e).startsWith(`TwilioError ${e.code}`),
    };
  }
  return {
    exports: Object.fromEntries(Object.keys(Video).sort().map((k) => [k, typeof Video[k]])),
    version: Video.version,
    cancelable: typeof Video.connect('x.y.z', { tracks: [] }).catch(() => {}).cancel,
    track: { kind: track.kind, name: track.name, isEnabled: track.isEnabled,
      isStopped: track.isStopped, members: members(track) },
    error,
  };
}"""


def test_the_video_double_keeps_the_shape_of_the_vendored_sdk(server: Any, open_page: Any) -> None:
    # the pages are served as the twilio provider's are: under its CSP, which allows what the
    # real SDK runs as it loads (a function built from a string) ...
    server.settings = settings_for("twilio")
    real_page = open_page(f"{server.url}/index.html")
    real_page.add_script_tag(url="/vendor/twilio-video.min.js")
    real = real_page.evaluate(PUBLIC_SHAPE)
    double_page = open_page()
    serve_doubles(double_page)
    double_page.goto(f"{server.url}/index.html")
    double_page.add_script_tag(url="/vendor/twilio-video.min.js")
    double = double_page.evaluate(PUBLIC_SHAPE)

    # ... which the other providers' policy refuses: there the real SDK does not load at all
    server.settings = settings_for("local")
    strict_page = open_page(f"{server.url}/index.html")
    errors: list[str] = []
    strict_page.on("pageerror", lambda error: errors.append(str(error)))
    strict_page.add_script_tag(url="/vendor/twilio-video.min.js")
    assert strict_page.evaluate("typeof window.Twilio") == "undefined"
    assert any("unsafe-eval" in error for error in errors), errors

    assert sorted(real["exports"]) == [
        "LocalAudioTrack",
        "LocalDataTrack",
        "LocalVideoTrack",
        "Logger",
        "connect",
        "createLocalAudioTrack",
        "createLocalTracks",
        "createLocalVideoTrack",
        "isSupported",
        "runPreflight",
        "version",
    ]
    assert double["exports"] == real["exports"]
    assert double["version"] == real["version"]
    assert double["error"] == real["error"]
    assert real["error"]["name"] == "TwilioError"
    # every member of the double's LocalVideoTrack is one of the real one's
    assert set(double["track"].pop("members")) <= set(real["track"].pop("members"))
    assert double["track"] == real["track"]


TYPINGS = ROOT / "node_modules" / "twilio-video" / "tsdef"
#: Node's EventEmitter, which the typings extend without listing its methods.
EVENT_EMITTER = {"on", "addListener", "once", "off", "removeListener", "removeAllListeners", "emit"}
CLASS = re.compile(r"^export class (\w+)(?: extends (\w+))? \{$(.*?)^\}", re.M | re.S)
MEMBER = re.compile(r"^  (\w+)\??[(:<]", re.M)
EVENT = re.compile(r"on\(event: '(\w+)', listener: \(([^)]*)\) => void\)")


def typings() -> dict[str, tuple[set[str], dict[str, int]]]:
    """Every class in the SDK's typings: its members and its events (with their arity), with
    those of the classes it extends."""
    own: dict[str, tuple[str | None, set[str], dict[str, int]]] = {}
    for path in sorted(TYPINGS.glob("*.d.ts")):
        for name, base, body in CLASS.findall(path.read_text()):
            assert name not in own, f"class {name} is declared twice in the typings"
            arity = {
                e: len([a for a in args.split(",") if a.strip()]) for e, args in EVENT.findall(body)
            }
            own[name] = (base or None, set(MEMBER.findall(body)) - {"on"}, arity)
    result = {}
    for name in own:
        members: set[str] = set()
        events: dict[str, int] = {}
        cls: str | None = name
        while cls in own:
            base, cls_members, cls_events = own[cls]
            members |= cls_members
            events = {**cls_events, **events}
            cls = base
        result[name] = (members, events)
    return result


ROOM_SHAPE = """(hostIdentity) => {
  const members = (object) => {
    const names = new Set();
    for (let o = object; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const name of Object.getOwnPropertyNames(o)) {
        if (!name.startsWith('_') && name !== 'constructor') names.add(name);
      }
    }
    return [...names];
  };
  const room = window.__twilio.room;
  const host = [...room.participants.values()].find((p) => p.identity === hostIdentity);
  const publications = [...host.tracks.values()];
  return {
    members: {
      Room: members(room),
      LocalParticipant: members(room.localParticipant),
      RemoteParticipant: members(host),
      RemoteTrackPublication: members(publications[0]),
      RemoteVideoTrack: members(publications.find((p) => p.kind === 'video').track),
      RemoteAudioTrack: members(publications.find((p) => p.kind === 'audio').track),
    },
    emitted: window.__twilio.emitted,
  };
}"""


@pytest.mark.skipif(not TYPINGS.is_dir(), reason="node_modules/twilio-video: run `npm ci`")
def test_the_video_double_keeps_the_names_and_events_of_the_sdks_typings(
    server: Any, open_page: Any
) -> None:
    # GIVEN a viewer that went through every event the double emits
    viewer, _ = watching(open_page, server)
    page = viewer.page
    page.evaluate("() => window.__twilio.participantJoins('viewer-other')")
    page.evaluate("() => window.__twilio.participantLeaves('viewer-other')")
    page.evaluate("() => window.__twilio.breakConnection()")
    page.evaluate("() => window.__twilio.restoreConnection()")
    shape = page.evaluate(ROOM_SHAPE, HOST)
    page.evaluate("id => window.__twilio.participantLeaves(id)", HOST)
    page.evaluate("() => window.__twilio.loseConnection()")
    emitted = page.evaluate("() => window.__twilio.emitted")

    sdk = typings()
    # THEN every member of the double's objects is in the typings of the class it stands for
    for name, members in shape["members"].items():
        assert set(members) - EVENT_EMITTER <= sdk[name][0], name
    # AND every event it emitted is one of that class's, with as many arguments
    seen = set()
    for signature in emitted:
        cls, event, arity = signature.split(":")
        assert sdk[cls][1].get(event) == int(arity), signature
        seen.add(f"{cls}:{event}")
    assert {
        "Room:participantConnected",
        "Room:participantDisconnected",
        "Room:trackSubscribed",
        "Room:trackUnsubscribed",
        "Room:reconnecting",
        "Room:reconnected",
        "Room:disconnected",
    } <= seen


def test_a_viewer_leaves_a_room_its_host_never_shows_up_in(server: Any, open_page: Any) -> None:
    # GIVEN a token for a room the host is not in (a lookup that lagged behind the stream's
    # end, or a room the token's connect created anew)
    viewer, back_end = open_viewer(open_page, server)
    wait_for_connects(viewer.page, 1)
    back_end.live = False  # by now the server knows the stream is over
    # WHEN the host never shows up, THEN the viewer leaves that room within the wait, so it is
    # not billed sitting in an empty room
    viewer.page.wait_for_function(
        "() => window.__twilio.rooms[0].state === 'disconnected'", timeout=15_000
    )
    # AND the page asks again and says nothing is live, instead of joining again
    viewer.wait_for_status("Not currently streaming.", timeout=15_000)
    assert viewer.page.evaluate("() => window.__twilio.rooms.length") == 1
