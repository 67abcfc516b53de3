"""Attack 4: locking the host out with wrong passwords.

Five wrong passwords fill a throttle bucket for five minutes. The attacks try to fill the
host's: from another address, from a page on another site that makes the host's own browser
post ``text/plain`` (no CORS preflight needed), and from someone sharing the host's address
(a NAT, or a CloudFront edge on AWS). After each, the host signs in at once, on
``POST /host_token`` and on ``POST /recordings``.
"""

from __future__ import annotations

import json

from dev_process import ATTACKER_ADDRESS, HOST_ADDRESS, NEIGHBOUR_ADDRESS, Answer, DevProcess

from livescreen.security.password_guard import MAX_FAILURES

GUESSES = MAX_FAILURES + 3
EVIL = "https://evil.example"


def host_signs_in_at_once(dev: DevProcess, device: str | None = None) -> None:
    extra = {"device": device} if device else {}
    signed = dev.post_json("/host_token", {"password": dev.password, **extra})
    listed = dev.post_json("/recordings", {"password": dev.password, **extra})

    assert signed.status == 200, signed.body
    assert signed.json()["session"]
    assert signed.headers["cache-control"] == "no-store"
    assert listed.status == 200, listed.body
    assert "recordings" in listed.json()


def cross_site_post(dev: DevProcess, path: str, body: bytes, headers: dict[str, str]) -> Answer:
    """What a form or a ``fetch(..., {mode: 'no-cors'})`` on evil.example makes the host's
    browser send: from the host's own address, no preflight."""
    return dev.request(
        "POST",
        path,
        source=HOST_ADDRESS,
        body=body,
        headers={"Origin": EVIL, **headers},
    )


def test_guesses_from_other_addresses_do_not_lock_out_the_host(dev: DevProcess) -> None:
    # GIVEN an attacker (and a neighbour) guessing until they are refused
    for source in (ATTACKER_ADDRESS, NEIGHBOUR_ADDRESS):
        for route in ("/host_token", "/recordings"):
            statuses = [
                dev.post_json(route, {"password": f"guess-{n}"}, source=source).status
                for n in range(GUESSES)
            ]
            assert 429 in statuses and set(statuses) <= {401, 429}

    # THEN the host signs in at once from its own address
    host_signs_in_at_once(dev)


def test_cross_site_text_plain_posts_through_the_hosts_browser_do_not_lock_out_the_host(
    dev: DevProcess,
) -> None:
    guess = json.dumps({"password": "guess"}).encode()
    variants = [
        # a current browser says where the request comes from
        {"Content-Type": "text/plain;charset=UTF-8", "Sec-Fetch-Site": "cross-site"},
        # an older browser sends only the Origin
        {"Content-Type": "text/plain;charset=UTF-8"},
        # a form post
        {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site"},
    ]
    # WHEN a page on another site posts wrong passwords through the host's browser, many times
    for route in ("/host_token", "/recordings"):
        for headers in variants:
            body = b"password=guess" if "urlencoded" in headers["Content-Type"] else guess
            for _ in range(GUESSES):
                answer = cross_site_post(dev, route, body, headers)
                assert answer.status == 403, answer.body
                assert "another site" in answer.json()["error"]

    # THEN none was counted: the host signs in at once
    host_signs_in_at_once(dev)


def test_text_plain_passwords_are_never_checked_whoever_sends_them(dev: DevProcess) -> None:
    # a client with no browser headers at all (curl, a script): still no password outside JSON
    for route in ("/host_token", "/recordings"):
        for _ in range(GUESSES):
            answer = dev.request(
                "POST",
                route,
                source=HOST_ADDRESS,
                body=json.dumps({"password": "guess"}).encode(),
                headers={"Content-Type": "text/plain"},
            )
            assert answer.status == 415
            assert "application/json" in answer.json()["error"]

    host_signs_in_at_once(dev)


def test_someone_sharing_the_hosts_address_cannot_lock_out_a_host_who_signed_in_before(
    dev: DevProcess,
) -> None:
    # GIVEN the host signed in once from this browser, which kept its device token
    first = dev.host_sign_in()
    assert first.status == 200
    device = first.json()["device"]

    # WHEN someone behind the same address (a NAT, a CloudFront edge) guesses until refused
    statuses = [
        dev.post_json("/host_token", {"password": f"guess-{n}"}, source=HOST_ADDRESS).status
        for n in range(GUESSES)
    ]
    assert statuses[:MAX_FAILURES] == [401] * MAX_FAILURES
    assert statuses[MAX_FAILURES:] == [429] * (GUESSES - MAX_FAILURES)

    # THEN the host's browser signs in at once, on both routes
    host_signs_in_at_once(dev, device)
    # AND the guesser is still refused, the password unchecked
    assert dev.post_json("/host_token", {"password": dev.password}).status == 429
