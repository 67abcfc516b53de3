"""Playwright on Debian's chromium against the real dev server (``local`` provider).

Chromium's fake devices stand in for the screen (1280x720 test pattern), the camera and the
microphone; ``--use-fake-ui-for-media-stream`` accepts every permission prompt and picks the
(fake) screen in the share dialog.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_settings import settings_for
from page_world import PageWorld, WorldClock, world_from_environment

from livescreen.chat import clear_chat_cache
from livescreen.chat.local.room import CHAT_ROOM
from livescreen.providers import clear_provider_cache
from livescreen.providers.local.hub import HUB
from livescreen.providers.local.recorder import LOCAL_RECORDINGS
from livescreen.security import password_guard

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
    "--autoplay-policy=user-gesture-required",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install chromium` to run the browser tests")
    if not (ROOT / "assets" / "vendor" / "bootstrap.min.css").is_file():
        pytest.fail("assets/vendor is missing: run `npm ci && npm run build` first")
    from playwright.sync_api import sync_playwright

    # launch() gives every run a fresh, throw-away profile directory.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page_world() -> PageWorld:
    """The locale, time zone and clock this test runs in (see ``page_world.py``); a test
    parametrizes ``page_world`` to choose its own."""
    return world_from_environment()


@pytest.fixture
def world_clock(page_world: PageWorld, monkeypatch: pytest.MonkeyPatch) -> WorldClock:
    """The test's clock: the pages' and the dev server's wall clocks (recording start times,
    chat times) both read it."""
    clock = WorldClock(page_world)
    monkeypatch.setattr(LOCAL_RECORDINGS, "wall_clock", clock)
    monkeypatch.setattr(CHAT_ROOM, "wall_clock", clock)
    return clock


@pytest.fixture
def server(tmp_path: Path, world_clock: WorldClock) -> Iterator[Any]:
    """A dev server on a free port with the ``local`` provider and chat, an empty hub, an
    empty chat room, its recordings and its stream store in a folder of its own, its wall
    clock in the test's world."""
    from livescreen.devserver import DevServer

    # a fresh dev server: a restarted one has forgotten every wrong password as well
    password_guard.throttle.reset()
    HUB.reset()
    CHAT_ROOM.reset()
    clear_provider_cache()
    clear_chat_cache()
    clear_stream_store()
    recordings = str(tmp_path / "recordings")
    streams = str(tmp_path / "streams.db")
    dev = DevServer(settings_for(RECORDINGS_DIR=recordings, STREAMS_DB=streams), port=0, root=ROOT)
    dev.start_background()
    yield dev
    dev.shutdown()
    HUB.reset()
    CHAT_ROOM.reset()
    clear_provider_cache()
    clear_chat_cache()
    clear_stream_store()


def clear_stream_store() -> None:
    """Forget the stream store and its background counter (each test has its own file)."""
    from livescreen.store import clear_store_cache
    from livescreen.store.counting import clear_counter

    clear_counter()
    clear_store_cache()


@pytest.fixture
def open_page(chromium_browser: Any, world_clock: WorldClock) -> Iterator[Any]:
    """Opens a page in its own browser context (own cookies and connection pool), in the
    test's world: its locale, time zone and clock."""
    contexts: list[Any] = []

    def open_(
        url: str | None = None,
        *,
        init_script: str | None = None,
        viewport: tuple[int, int] = (1280, 720),
    ) -> Any:
        width, height = viewport
        world = world_clock.world
        context = chromium_browser.new_context(
            viewport={"width": width, "height": height},
            locale=world.locale,
            timezone_id=world.timezone_id,
        )
        world_clock.install(context)
        context.set_default_timeout(10_000)
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        if url:
            page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()
