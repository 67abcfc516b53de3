"""Where a page fetches HLS recordings from, faked at the network boundary with ``page.route``.

``HlsOrigin`` answers the playlists and segments of some ``HlsRecording``s the way the
recordings' origin (the IVS recordings bucket behind the CDN) would, and lets a test make
chosen requests fail first: with an HTTP status, or with a dropped connection. It logs every
answer with its time, so a test can tell what the player fetched and when.
``list_recordings`` answers the page's ``POST /recordings`` with those recordings, in the back
end's own shape (``Recording.to_json``).
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from hls_media import HlsRecording

from livescreen.recordings import Recording

#: Where the recordings are served from on the page's own origin (the recordings CSP allows
#: media and fetches from 'self' only).
PREFIX = "/ivs-recordings"

#: A fault: an HTTP status to answer, a Playwright abort code (``"failed"``,
#: ``"connectionreset"``...) for a request that never gets an answer, or a body to answer with
#: 200 in place of the file (a corrupt one).
Fault = int | str | bytes


@dataclass(frozen=True)
class Answer:
    recording: str
    file: str
    #: the HTTP status, or the abort code of a dropped request ("corrupt": a 200 with a body
    #: that is not the file's)
    outcome: int | str
    #: time.monotonic() when it was answered
    at: float


@dataclass
class HlsOrigin:
    page: Any
    base_url: str
    recordings: dict[str, HlsRecording]
    log: list[Answer] = field(default_factory=list)
    _faults: dict[tuple[str, str], list[Fault]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        self.page.route(f"{self.base_url}{PREFIX}/**", self._answer)

    def playback_url(self, name: str) -> str:
        return f"{self.base_url}{PREFIX}/{name}/multivariant.m3u8"

    def fail(self, name: str, file: str, *faults: Fault) -> None:
        """The next requests for ``file`` of recording ``name`` get these faults, in order;
        the ones after them get the file."""
        self._faults[(name, file)].extend(faults)

    def answers(self, name: str, file: str) -> list[Answer]:
        return [a for a in self.log if (a.recording, a.file) == (name, file)]

    def _answer(self, route: Any) -> None:
        path = route.request.url.split("?", 1)[0].split(PREFIX + "/", 1)[1]
        name, file = path.split("/", 1)
        files = self.recordings[name].files() if name in self.recordings else {}
        faults = self._faults[(name, file)]
        if faults:
            fault = faults.pop(0)
            outcome = "corrupt" if isinstance(fault, bytes) else fault
            self.log.append(Answer(name, file, outcome, time.monotonic()))
            if isinstance(fault, str):
                route.abort(fault)
            elif isinstance(fault, bytes):
                content_type = files[file][0] if file in files else "application/octet-stream"
                route.fulfill(status=200, content_type=content_type, body=fault)
            else:
                route.fulfill(status=fault, content_type="text/plain", body="fault")
            return
        if file not in files:
            self.log.append(Answer(name, file, 404, time.monotonic()))
            route.fulfill(status=404, content_type="text/plain", body="not found")
            return
        content_type, body = files[file]
        self.log.append(Answer(name, file, 200, time.monotonic()))
        route.fulfill(status=200, content_type=content_type, body=body)


def list_recordings(page: Any, origin: HlsOrigin, titles: dict[str, str]) -> None:
    """The page's ``POST /recordings`` lists these recordings of ``origin`` (name: title),
    ready, as IVS recordings (``hls``), in this order."""
    listed = [
        Recording(
            id=name,
            title=title,
            started_at=1_700_000_000.0 - index * 3600,
            duration=origin.recordings[name].duration,
            playback_url=origin.playback_url(name),
            format="hls",
        ).to_json()
        for index, (name, title) in enumerate(titles.items())
    ]
    page.route(
        re.compile(r"/recordings$"),
        lambda route: route.fulfill(json={"recordings": listed, "recording": True}),
    )
