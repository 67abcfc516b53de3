"""Attack 6: host secrets in addresses.

An address ends up in browser history, proxy and server logs and ``Referer`` headers. A
``password``, ``session`` or ``device`` in the query string of any function route is a 400 that
says where to send it, and the value is never checked: the right password or session there is
refused like a wrong one, and nothing happens.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from dev_process import ROOT, DevProcess

from livescreen.runtime.loader import discover, load_function

ROUTES = [
    (name, method)
    for name, path in sorted(discover(ROOT / "functions").items())
    for method in load_function(name, path).methods
]
SESSION_MESSAGE = (
    "Send the host session in the X-Host-Session header or the request body, never in the address"
)
PASSWORD_MESSAGE = "Send the host password in the JSON body of a POST, never in the address"


def send(dev: DevProcess, method: str, path: str) -> tuple[int, dict[str, str]]:
    answer = (
        dev.post_json(path, {})
        if method == "POST"
        else dev.request("GET", path, headers={"Sec-Fetch-Site": "same-origin"})
    )
    return answer.status, answer.json()


def test_every_route_refuses_a_secret_in_its_address(dev: DevProcess) -> None:
    session = dev.host_sign_in().json()["session"]
    secrets = {
        f"session={quote(session)}": SESSION_MESSAGE,
        "session=forged": SESSION_MESSAGE,
        f"password={quote(dev.password)}": PASSWORD_MESSAGE,
        "password=guess": PASSWORD_MESSAGE,
    }
    for name, method in ROUTES:
        for query, message in secrets.items():
            status, body = send(dev, method, f"/{name}?{query}")
            assert (status, body) == (400, {"error": message}), f"{method} /{name}?{query}"


def test_the_right_password_in_an_address_signs_nobody_in(dev: DevProcess) -> None:
    right = f"password={quote(dev.password)}"

    for path in (f"/host_token?{right}", f"/recordings?{right}"):
        status, body = send(dev, "POST", path)
        assert status == 400 and "session" not in body and "recordings" not in body

    # and guesses there were never counted: the host signs in at once
    for n in range(10):
        assert send(dev, "POST", f"/host_token?password=guess-{n}")[0] == 400
    assert dev.host_sign_in().status == 200
    assert dev.password not in dev.output()


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("POST", "stream_start"),
        ("GET", "recordings"),
        ("POST", "recordings"),
        ("POST", "chat_token"),
    ],
)
def test_the_right_session_in_an_address_does_nothing(
    dev: DevProcess, method: str, route: str
) -> None:
    session = dev.host_sign_in().json()["session"]

    status, body = send(dev, method, f"/{route}?session={quote(session)}")

    assert (status, body) == (400, {"error": SESSION_MESSAGE})
    assert dev.post_json("/audience_token", {}).json()["token"] is None  # not live
    # the same session in the header is the host's
    live = dev.post_json("/stream_start", {}, headers={"X-Host-Session": session})
    assert live.status == 200 and live.json()["live"] is True


def test_a_live_stream_is_not_stopped_by_a_session_in_an_address(dev: DevProcess) -> None:
    session = dev.host_sign_in().json()["session"]
    assert dev.post_json("/stream_start", {"session": session}).json()["live"] is True

    status, _ = send(dev, "POST", f"/stream_stop?session={quote(session)}")

    assert status == 400
    assert dev.post_json("/audience_token", {}).json()["token"] is not None
