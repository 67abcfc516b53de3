"""Attack 7: a page framing or sniffing the dev server, and DNS rebinding.

Every answer of ``livescreen dev`` (pages, functions, relays, errors) carries the security
headers the stack's CloudFront sends, so a page that works here works under the stack's CSP and
no other site can frame it. A page on another site that points its own name at 127.0.0.1 (DNS
rebinding) sends that name as ``Host``: it gets 421 and nothing runs, a WebSocket included.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dev_process import ATTACKER_ADDRESS, DevProcess
from raw_http import open_socket, read_answer
from raw_wire import websocket_handshake

from livescreen.devserver import guards

REBOUND = "rebound.example"
TUNNEL = "tunnel.example"
PAGE_HEADERS = {
    "content-security-policy": guards.PAGE_CSP.format(region=guards.DEFAULT_REGION, twilio_eval=""),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": guards.PERMISSIONS_POLICY,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    """One ``livescreen dev`` that also answers to a tunnel's name (``DEV_ALLOWED_HOSTS``)."""
    dev = DevProcess.start(tmp_path_factory.mktemp("attack07") / "app", DEV_ALLOWED_HOSTS=TUNNEL)
    yield dev
    dev.stop()


def security_headers(headers: dict[str, str]) -> dict[str, str | None]:
    return {name: headers.get(name) for name in PAGE_HEADERS}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/index.html", 200),
        ("GET", "/js/api.js", 200),
        ("GET", "/no-such-page.html", 404),
        ("DELETE", "/index.html", 405),
        ("POST", "/host_token", 401),
        ("GET", "/audience_token", 405),
        ("POST", "/chat/no-such-route", 404),
    ],
)
def test_every_kind_of_answer_carries_the_stacks_headers(
    server: DevProcess, method: str, path: str, status: int
) -> None:
    body = b'{"password": "wrong-guess"}' if method == "POST" else None
    answer = server.request(
        method,
        path,
        body=body,
        headers={"Content-Type": "application/json", "Origin": server.origin},
        source=ATTACKER_ADDRESS,
    )

    assert answer.status == status
    assert security_headers(answer.headers) == PAGE_HEADERS


def test_the_host_page_may_capture_and_nothing_may_frame_it(server: DevProcess) -> None:
    answer = server.request("GET", "/host.html")

    assert answer.headers["permissions-policy"] == guards.HOST_PAGE_PERMISSIONS_POLICY
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"


def test_an_answer_written_below_the_app_carries_them_too(server: DevProcess) -> None:
    with open_socket(server, ATTACKER_ADDRESS) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-No-Colon\r\n\r\n")
        malformed = read_answer(sock)

    assert malformed.status == 400
    assert security_headers(malformed.headers) == PAGE_HEADERS


@pytest.mark.parametrize("path", ["/", "/index.html", "/host_token", "/chat/send"])
def test_a_rebinding_page_gets_421_naming_the_setting(server: DevProcess, path: str) -> None:
    answer = server.request(
        "POST" if path != "/" else "GET",
        path,
        body=b"{}",
        headers={"Host": f"{REBOUND}:{server.port}", "Origin": f"http://{REBOUND}:{server.port}"},
        source=ATTACKER_ADDRESS,
    )

    assert answer.status == 421
    assert "DEV_ALLOWED_HOSTS" in answer.json()["error"]
    assert security_headers(answer.headers) == PAGE_HEADERS


def test_nothing_runs_for_a_rebinding_page(server: DevProcess) -> None:
    # GIVEN a rebinding page that guesses the host password from the host's own machine, as
    # same-origin requests of its own name, ten times (twice the throttle's allowance)
    rebound = f"http://{REBOUND}:{server.port}"
    for n in range(10):
        guess = server.request(
            "POST",
            "/host_token",
            body=b'{"password": "guess-%d"}' % n,
            headers={
                "Host": f"{REBOUND}:{server.port}",
                "Origin": rebound,
                "Sec-Fetch-Site": "same-origin",
                "Content-Type": "application/json",
            },
        )
        assert guess.status == 421
    # THEN no guess reached the password check: the host, from the same address, signs in
    assert server.host_sign_in().status == 200
    # AND the log shows the refusals, without a line per request
    assert server.output().count("refused a request for host") <= 1


def handshake(server: DevProcess, host: str) -> bytes:
    with open_socket(server, ATTACKER_ADDRESS) as sock:
        return websocket_handshake(sock, host, key=b"attack-07-socket")


def test_a_rebinding_page_cannot_open_the_pages_websocket(server: DevProcess) -> None:
    # the socket's own check (Origin equals Host) passes for a rebound name: the Host check
    # is what stops it
    refused = handshake(server, f"{REBOUND}:{server.port}")
    own = handshake(server, f"localhost:{server.port}")

    assert refused.startswith(b"HTTP/1.1 421 ")
    assert own.startswith(b"HTTP/1.1 101 ")


def test_a_name_in_dev_allowed_hosts_is_served(server: DevProcess) -> None:
    page = server.request("GET", "/index.html", headers={"Host": TUNNEL})
    socket_answer = handshake(server, TUNNEL)

    assert page.status == 200
    assert socket_answer.startswith(b"HTTP/1.1 101 ")
