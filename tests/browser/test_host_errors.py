"""Whatever goes wrong while going live, the host sees why and nothing is left running."""

from __future__ import annotations

from typing import Any

import pytest
from browser_pages import PASSWORD, RECORD_CAPTURES, HostPage, audience_token, screenshot

from livescreen.providers.local.hub import HUB

LIVE_CAPTURED_TRACKS = (
    "() => window.__captured.flatMap(s => s.getTracks())"
    ".filter(t => t.readyState === 'live').length"
)


def reject(method: str, error_name: str, message: str, *, kind: str = "") -> str:
    """An init script making ``navigator.mediaDevices[method]`` fail like the browser does."""
    only = f"if (!(args[0] && args[0].{kind})) return original(...args);" if kind else ""
    return f"""
    (() => {{
      const media = navigator.mediaDevices;
      const original = media.{method}.bind(media);
      media.{method} = async (...args) => {{
        {only}
        throw new DOMException({message!r}, {error_name!r});
      }};
    }})();
    """


def test_a_wrong_password_is_refused_and_the_switch_goes_back(server: Any, open_page: Any) -> None:
    host = HostPage(open_page(), server.url).open()

    host.submit_password("not the password")

    assert host.error() == "Invalid password"
    host.wait_until("offline")
    assert host.is_offline()
    screenshot(host.page, "host-invalid-password")
    assert audience_token(host.page, server.url)["token"] is None


def test_the_password_field_submits_on_enter_and_cancel_goes_back(
    server: Any, open_page: Any
) -> None:
    host = HostPage(open_page(), server.url).open()
    host.page.click("#liveSwitch")
    assert host.page.locator("#password").is_visible()
    assert host.page.evaluate("() => document.activeElement.id") == "password"

    host.page.click("#cancelPassword")

    assert host.is_offline()
    assert host.page.locator("#password").is_hidden()


@pytest.mark.parametrize(
    ("init_script", "message"),
    [
        (
            reject("getDisplayMedia", "NotAllowedError", "Permission denied"),
            "Screen sharing was cancelled.",
        ),
        (
            reject("getDisplayMedia", "NotAllowedError", "Permission denied by system"),
            "Screen sharing is blocked by the browser or the operating system settings.",
        ),
        (
            reject("getUserMedia", "NotAllowedError", "Permission denied", kind="audio"),
            "Permission to use the microphone was denied. "
            "Allow it in the browser's site settings and try again.",
        ),
    ],
    ids=["share-dialog-cancelled", "screen-blocked", "microphone-denied"],
)
def test_a_refused_capture_is_explained_and_the_room_released(
    server: Any, open_page: Any, init_script: str, message: str
) -> None:
    host = HostPage(open_page(init_script=RECORD_CAPTURES + init_script), server.url).open()

    with (
        host.page.expect_response("**/stream_stop") as stopped,
        host.page.expect_response("**/host_token") as granted,
    ):
        host.submit_password(PASSWORD)

    assert host.error() == message
    assert host.is_offline()
    assert stopped.value.ok
    assert HUB.room(granted.value.json()["room"]) is None
    # and whatever was captured before the failure is no longer in use
    assert host.page.evaluate(LIVE_CAPTURED_TRACKS) == 0


def test_an_unreachable_server_is_explained(server: Any, open_page: Any) -> None:
    host = HostPage(open_page(), server.url).open()
    host.page.route("**/host_token", lambda route: route.abort("connectionrefused"))

    host.submit_password(PASSWORD)

    assert host.error() == "The server is unreachable. Check your connection and try again."
    assert host.is_offline()


def test_a_failed_start_releases_the_room(server: Any, open_page: Any) -> None:
    # GIVEN a server that fails to start the stream after handing out a room
    host = HostPage(open_page(init_script=RECORD_CAPTURES), server.url).open()
    host.page.route(
        "**/stream_start",
        lambda route: route.fulfill(
            status=502,
            content_type="application/json",
            body='{"error": "The streaming service did not answer"}',
        ),
    )

    with host.page.expect_response("**/host_token") as granted:
        host.submit_password(PASSWORD)

    # THEN the host sees the reason, the capture is released and the room is gone
    assert host.error() == "The streaming service did not answer"
    host.wait_until("offline")
    assert host.page.evaluate(LIVE_CAPTURED_TRACKS) == 0
    assert HUB.room(granted.value.json()["room"]) is None
