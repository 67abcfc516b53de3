"""The player alone (``embed.html``) in another site's ``<iframe>``: it plays in a frame on a
site ``EMBED_ORIGINS`` lists and is refused everywhere else (CSP ``frame-ancestors``).

Two tiny parent sites run on two loopback ports, ``127.0.0.1:<allowed>`` (in ``EMBED_ORIGINS``)
and ``127.0.0.1:<other>`` (not); each frames ``http://localhost:<dev server>/embed.html``, a
site of its own as far as the browser is concerned.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from browser_pages import PASSWORD, HostPage, screenshot

EMBED = "/embed.html"
VIDEO = "#player video"

#: The parent's own page: one frame, and whether it has loaded (a refused frame loads too: the
#: browser's error page).
PARENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A blog</title></head>
<body>
  <h1>Our stream</h1>
  <iframe id="player" src="{src}" width="640" height="360" title="Live stream"
          onload="document.body.dataset.framed = 'loaded'"></iframe>
</body></html>
"""


class ParentSite:
    """A site on a loopback port of its own whose one page frames ``src``."""

    def __init__(self) -> None:
        self.src = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = PARENT_PAGE.format(src=site.src).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def parents() -> Iterator[tuple[ParentSite, ParentSite]]:
    allowed, other = ParentSite(), ParentSite()
    yield allowed, other
    allowed.close()
    other.close()


def framed(page: Any) -> Any:
    """The frame in ``page``, once it has loaded (whatever it shows)."""
    page.wait_for_function("document.body.dataset.framed === 'loaded'")
    (frame,) = page.main_frame.child_frames
    return frame


def test_an_allowed_site_plays_the_embedded_player_and_another_is_refused(
    server: Any, open_page: Any, parents: tuple[ParentSite, ParentSite]
) -> None:
    # GIVEN a dev server whose EMBED_ORIGINS lists one of the two parent sites
    allowed, other = parents
    server.settings = server.settings.with_values(EMBED_ORIGINS=allowed.origin)
    for parent in parents:
        parent.src = f"{server.url}{EMBED}"

    # WHEN the allowed site's page is open before the host goes live
    viewer = open_page()
    loaded: list[str] = []
    viewer.on("request", lambda r: loaded.append(r.url.removeprefix(server.url)))
    viewer.goto(allowed.origin + "/")
    player = framed(viewer)

    # THEN the frame shows the player, waiting
    assert player.url == f"{server.url}{EMBED}"
    player.wait_for_function("document.body.dataset.status === 'Not currently streaming.'")
    assert player.locator("#status").is_visible()
    assert player.locator("#chat, a").count() == 0  # the player alone: no chat, no links

    # WHEN the host goes live
    host = HostPage(open_page(), server.url).open()
    host.go_live(PASSWORD)

    # THEN the framed player picks it up without a reload and plays it, muted, with "Unmute"
    player.wait_for_function(
        f"""() => {{
          const v = document.querySelector('{VIDEO}');
          return v && v.videoWidth > 0 && !v.paused && v.currentTime > 0;
        }}""",
        timeout=15_000,
    )
    start = player.evaluate(f"document.querySelector('{VIDEO}').currentTime")
    player.wait_for_function(
        f"t => document.querySelector('{VIDEO}').currentTime > t + 0.5", arg=start
    )
    assert player.evaluate(f"document.querySelector('{VIDEO}').muted") is True
    unmute = player.locator("#soundButton")
    assert unmute.is_visible() and unmute.inner_text() == "Unmute"
    assert player.evaluate("document.body.dataset.status") == ""
    # it loaded the module of the provider the server named, and no other, and no chat
    assert [url for url in loaded if url.startswith("/js/providers/")] == ["/js/providers/local.js"]
    assert [url for url in loaded if url.startswith("/js/chat/")] == []
    screenshot(viewer, "embed-allowed-site")

    # WHEN the viewer clicks "Unmute"
    unmute.click()

    # THEN the sound is on and the button offers to mute it again
    assert player.evaluate(f"document.querySelector('{VIDEO}').muted") is False
    assert unmute.inner_text() == "Mute"

    # WHEN a page of the other site frames the same player
    refused = open_page()
    answers: list[Any] = []
    refused.on("response", lambda r: answers.append(r) if r.url.endswith(EMBED) else None)
    refused.goto(other.origin + "/")
    frame = framed(refused)

    # THEN the dev server answered it, saying only the allowed site may frame it, and the
    # browser refused to show it: the frame holds the browser's error page, not the player
    assert [a.status for a in answers] == [200]
    csp = answers[0].headers["content-security-policy"]
    assert f"frame-ancestors {allowed.origin}" in csp
    assert other.origin not in csp
    assert frame.url != f"{server.url}{EMBED}"
    assert frame.url.startswith("chrome-error://")
    screenshot(refused, "embed-refused-site")
    # and the allowed site's player is still playing
    now = player.evaluate(f"document.querySelector('{VIDEO}').currentTime")
    player.wait_for_function(
        f"t => document.querySelector('{VIDEO}').currentTime > t + 0.5", arg=now
    )


def test_by_default_no_site_may_frame_the_player(
    server: Any, open_page: Any, parents: tuple[ParentSite, ParentSite]
) -> None:
    # GIVEN a dev server without EMBED_ORIGINS
    parent, _ = parents
    parent.src = f"{server.url}{EMBED}"

    # WHEN a site frames the player
    page = open_page()
    with page.expect_response(f"**{EMBED}") as answer:
        page.goto(parent.origin + "/")
    frame = framed(page)

    # THEN the answer says no site may, and the browser shows the error page instead
    assert "frame-ancestors 'none'" in answer.value.headers["content-security-policy"]
    assert frame.url.startswith("chrome-error://")

    # WHEN the player is opened on its own, in a tab
    alone = open_page(f"{server.url}{EMBED}")

    # THEN it works there
    alone.wait_for_function("document.body.dataset.status === 'Not currently streaming.'")
