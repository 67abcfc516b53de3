"""What the Twilio Live player meets on the wire, faked at the network boundary.

The real Live Player SDK (/vendor/twilio-live-player.min.js, @twilio/live-player-sdk 1.0.2)
reads the playback URL from the ``player`` grant of its access token; its wasm worker (the
Amazon IVS player inside it) then fetches that URL as an HLS playlist. Twilio Live was retired,
so nothing answers there: these helpers answer the page's ``/audience_token`` with a token of
the shape Twilio issued (built with the twilio library's own ``PlaybackGrant``, the grant as the
emulator's ``create_playback_grant`` describes it) and answer the playback host's requests,
which Playwright intercepts in the worker too.
"""

from __future__ import annotations

import json
import math
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import PlaybackGrant

STREAMER_SID = "VJ" + "0123456789abcdef" * 2
#: On a host the pages' CSP lets the player reach (``connect-src https://*.live-video.net``).
PLAYBACK_URL = f"https://edge.playback.live-video.net/{STREAMER_SID}/playlist.m3u8"
PLAYBACK_ROUTE = "https://*.playback.live-video.net/**"


def playback_token(playback_url: str = PLAYBACK_URL) -> str:
    """A viewer's access token carrying a PlaybackGrant, signed as the back end signs it."""
    grant = {
        "requestCredentials": None,
        "playbackUrl": playback_url,
        "playerStreamerSid": STREAMER_SID,
        "accessControlAllowOrigin": None,
    }
    token = AccessToken(
        "AC" + "0" * 32,
        "SK" + "0" * 32,
        "browser-tests-api-key-secret-0123456789abcdef",
        identity="0123456789abcdef",
        ttl=60,
        grants=[PlaybackGrant(grant=grant)],
    )
    return str(token.to_jwt())


class LiveBackEnd:
    """``/audience_token`` as the back end answers it with ``TWILIO_AUDIENCE=live``: a fresh
    playback token for the first ``streams`` asks (the stream is live), then no token (it is
    over). Counts the page's asks."""

    def __init__(self, page: Any, *, streams: int = 1) -> None:
        self.streams = streams
        self.asks = 0
        page.route("**/audience_token", self._answer)

    def _answer(self, route: Any) -> None:
        self.asks += 1
        token = playback_token() if self.asks <= self.streams else None
        body = {"provider": "twilio", "audience": "live", "token": token}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


@dataclass
class PlaybackHost:
    """The playback host: every request answered with ``status``; records when it first
    answered (the moment the fault reached the player) and what was asked."""

    status: int
    first_answer_at: float | None = None
    urls: list[str] = field(default_factory=list)

    def install(self, page: Any) -> PlaybackHost:
        page.route(PLAYBACK_ROUTE, self._answer)
        return self

    def _answer(self, route: Any) -> None:
        self.urls.append(route.request.url)
        if self.first_answer_at is None:
            self.first_answer_at = time.monotonic()
        route.fulfill(status=self.status, content_type="text/plain", body="")


# -- a stream that plays, then ends ---------------------------------------------------------

#: Records a few seconds of a changing canvas with the browser's own H.264 encoder into
#: fragmented MP4 (one fragment a second), so no media file is kept in the repository.
RECORD_TEST_PATTERN = """async (seconds) => {
  const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 180 });
  const context = canvas.getContext('2d');
  let frame = 0;
  const painter = setInterval(() => {
    context.fillStyle = `hsl(${(frame++ * 12) % 360} 80% 50%)`;
    context.fillRect(0, 0, canvas.width, canvas.height);
  }, 33);
  const recorder = new MediaRecorder(canvas.captureStream(30), {
    mimeType: 'video/mp4;codecs=avc1.42E01E', videoBitsPerSecond: 300000,
  });
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  const stopped = new Promise((resolve) => (recorder.onstop = resolve));
  recorder.start(1000);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  recorder.stop();
  await stopped;
  clearInterval(painter);
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  return Array.from(bytes, (byte) => String.fromCharCode(byte)).join('');
}"""
H264_MP4 = "video/mp4;codecs=avc1.42E01E"


def record_test_pattern(page: Any, seconds: float) -> bytes:
    """``seconds`` of video recorded in ``page`` as fragmented MP4."""
    text: str = page.evaluate(RECORD_TEST_PATTERN, seconds)
    return text.encode("latin-1")


def split_fragmented_mp4(data: bytes, segments: int) -> tuple[bytes, list[bytes]]:
    """An fMP4 file as HLS serves it: the initialization section (``ftyp`` + ``moov``), and its
    fragments (``moof`` + ``mdat``, one a second) in ``segments`` consecutive segments."""
    init, fragments, offset = b"", [b""], 0
    while offset < len(data):
        (size,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if size < 8:
            raise ValueError(f"unexpected MP4 box size {size} at {offset}")
        box = data[offset : offset + size]
        if kind in (b"ftyp", b"moov"):
            init += box
        elif kind == b"moof" and fragments[-1]:
            fragments.append(box)
        else:
            fragments[-1] += box
        offset += size
    if len(fragments) < segments:
        raise ValueError(f"{len(fragments)} fragments cannot make {segments} segments")
    size = math.ceil(len(fragments) / segments)
    return init, [b"".join(fragments[i : i + size]) for i in range(0, len(fragments), size)]


@dataclass
class LiveHlsStream:
    """The playback host of a live HLS stream of fMP4 segments: a multivariant playlist naming
    one rendition, and its media playlist, which lists the segments published so far and,
    once ``end()`` is called, ``#EXT-X-ENDLIST`` (HLS's word for "this stream is over").
    While ``network_down`` every request of the player fails as on a lost connection."""

    init: bytes
    segments: list[bytes]
    segment_seconds: float
    published: int = 1
    network_down: bool = False
    ended_at: float | None = None
    urls: list[str] = field(default_factory=list)

    def install(self, page: Any) -> LiveHlsStream:
        page.route(PLAYBACK_ROUTE, self._answer)
        return self

    def publish_all(self) -> None:
        self.published = len(self.segments)

    def end(self) -> None:
        self.ended_at = time.monotonic()

    def _answer(self, route: Any) -> None:
        name = route.request.url.rsplit("/", 1)[-1]
        self.urls.append(name)
        if self.network_down:
            route.abort("internetdisconnected")
        elif name == "playlist.m3u8":
            self._playlist(route, self._multivariant())
        elif name == "media.m3u8":
            self._playlist(route, self._media())
        elif name == "init.mp4":
            route.fulfill(status=200, content_type="video/mp4", body=self.init)
        elif name.startswith("segment") and name.endswith(".m4s"):
            index = int(name[len("segment") : -len(".m4s")])
            route.fulfill(status=200, content_type="video/mp4", body=self.segments[index])
        else:
            route.fulfill(status=404, content_type="text/plain", body="")

    @staticmethod
    def _playlist(route: Any, body: str) -> None:
        route.fulfill(status=200, content_type="application/vnd.apple.mpegurl", body=body)

    @staticmethod
    def _multivariant() -> str:
        return (
            "#EXTM3U\n"
            '#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x180,CODECS="avc1.42e01e"\n'
            "media.m3u8\n"
        )

    def _media(self) -> str:
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:7",
            f"#EXT-X-TARGETDURATION:{math.ceil(self.segment_seconds)}",
            "#EXT-X-MEDIA-SEQUENCE:0",
            '#EXT-X-MAP:URI="init.mp4"',
        ]
        for index in range(self.published):
            lines += [f"#EXTINF:{self.segment_seconds:.3f},", f"segment{index}.m4s"]
        if self.ended_at is not None:
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"
