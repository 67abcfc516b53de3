"""The host page keeps its device token, so others' guesses from its address cannot lock it out.

Someone sharing the host's address (a NAT, a CloudFront edge) fills the address's throttle
bucket with wrong passwords. The browser that signed in before sends its device token with the
password and goes live at once; a browser that never signed in waits, as any guesser does.
"""

from __future__ import annotations

from typing import Any

from browser_pages import PASSWORD, HostPage

from livescreen.security import password_guard
from livescreen.security.password_guard import MAX_FAILURES


def fill_the_address_bucket() -> None:
    for _ in range(MAX_FAILURES):
        password_guard.throttle.record_failure("127.0.0.1")


def test_a_host_who_signed_in_before_goes_live_while_the_address_is_throttled(
    server: Any, open_page: Any
) -> None:
    # GIVEN the host went live once from this browser, then stopped
    host = HostPage(open_page(), server.url).open()
    grant = host.go_live(PASSWORD)
    stored = host.page.evaluate("() => localStorage.getItem('livescreen.hostDevice')")
    assert stored and stored == grant["device"]
    host.page.click("#liveSwitch")
    host.wait_until("offline")

    # WHEN someone on the same address guesses until the address is throttled
    fill_the_address_bucket()

    # THEN the host goes live again at once, sending the device token with the password
    with host.page.expect_request("**/host_token") as sent:
        host.go_live(PASSWORD)
    assert sent.value.post_data_json["device"] == stored

    # AND a browser that never signed in is told to wait
    stranger = HostPage(open_page(), server.url).open()
    stranger.submit_password(PASSWORD)
    assert stranger.error().startswith("Too many wrong passwords")
