"""Requests from another site never reach the host password or session check.

A page on another site can make the host's own browser send requests to this app: a plain form
or ``fetch`` with ``text/plain`` needs no CORS preflight. Such a request is refused (403) before
the password is compared or the throttle counts anything, so it can neither guess nor lock the
host out; and a password is taken only from a JSON body, which a cross-site page cannot send.
Each request goes through the Lambda adapter, the path the dev server takes too.
"""

from __future__ import annotations

from typing import Any

import pytest

from livescreen.config import Settings
from livescreen.devserver.invoke import InvokeResult, invoke
from livescreen.endpoints import CROSS_SITE_REFUSED, NOT_JSON_MESSAGE
from livescreen.security import password_guard
from livescreen.security.password_guard import MAX_FAILURES

PASSWORD = "correct horse battery staple"
SETTINGS = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": PASSWORD,
        "HOST_SESSION_SECRET": "cross-site-session-secret-0123456789abcdef",
        "RECORDING": "off",
    },
    "test",
)
HOST = "198.51.100.7"
PAGE = {"host": "live.example.test", "origin": "https://live.example.test"}
#: What CloudFront forwards (Managed-AllViewerExceptHostHeader): the API's Host, the page's Origin.
THROUGH_CLOUDFRONT = {
    "host": "abc123.execute-api.eu-west-1.amazonaws.com",
    "origin": "https://d111111abcdef8.cloudfront.net",
    "x-amz-cf-id": "cf-request-id",
    "via": "2.0 abc.cloudfront.net (CloudFront)",
}
EVIL = "https://evil.example"


def call(name: str, body: Any = None, **kwargs: Any) -> InvokeResult:
    kwargs.setdefault("source_ip", HOST)
    return invoke(name, body if body is not None else {}, settings=SETTINGS, **kwargs)


def sign_in(headers: dict[str, str] | None = None) -> InvokeResult:
    return call("host_token", {"password": PASSWORD}, headers=headers or PAGE)


FOREIGN = [
    pytest.param({**PAGE, "sec-fetch-site": "cross-site", "origin": EVIL}, id="cross-site"),
    pytest.param(
        {**PAGE, "sec-fetch-site": "same-site", "origin": "https://blog.example.test"},
        id="same-site",
    ),
    pytest.param({**PAGE, "origin": EVIL}, id="foreign-origin-without-fetch-metadata"),
    pytest.param({**PAGE, "origin": "null"}, id="opaque-origin"),
    pytest.param({**PAGE, "origin": "https://live.example.test:8443"}, id="another-port"),
    pytest.param(
        {**THROUGH_CLOUDFRONT, "sec-fetch-site": "cross-site", "origin": EVIL},
        id="cross-site-through-cloudfront",
    ),
    pytest.param(
        {"host": "abc123.execute-api.eu-west-1.amazonaws.com", "origin": EVIL},
        id="foreign-origin-straight-to-the-api",
    ),
]


@pytest.mark.parametrize("headers", FOREIGN)
def test_a_password_from_another_site_is_403_and_never_counted(headers: dict[str, str]) -> None:
    # WHEN a page on another site sends the host's browser to guess, more often than the limit
    for _ in range(MAX_FAILURES + 2):
        answer = call("host_token", {"password": "guess"}, headers=headers)
        assert answer.status == 403
        assert answer.json() == {"error": CROSS_SITE_REFUSED}
    # AND even with the right password
    assert call("host_token", {"password": PASSWORD}, headers=headers).status == 403

    # THEN nothing was counted: the host signs in at once from the same address
    assert password_guard.throttle.retry_after(HOST) == 0
    assert sign_in().status == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-browser-headers"),
        pytest.param(PAGE, id="own-origin"),
        pytest.param({**PAGE, "sec-fetch-site": "same-origin"}, id="same-origin"),
        pytest.param({**PAGE, "sec-fetch-site": "none"}, id="typed-by-the-user"),
        pytest.param(
            {"host": "localhost:3000", "origin": "http://localhost:3000"}, id="dev-server-port"
        ),
        pytest.param({"host": "example.test:443", "origin": "https://example.test"}, id="port"),
        pytest.param(
            {
                "host": "127.0.0.1:3000",
                "x-forwarded-host": "tunnel.example.test",
                "origin": "https://tunnel.example.test",
            },
            id="behind-a-proxy",
        ),
        pytest.param(
            {**THROUGH_CLOUDFRONT, "sec-fetch-site": "same-origin"}, id="through-cloudfront"
        ),
    ],
)
def test_the_sites_own_pages_sign_in(headers: dict[str, str]) -> None:
    answer = sign_in(headers)

    assert answer.status == 200, answer.text
    assert answer.json()["session"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (f"password={PASSWORD}", "application/x-www-form-urlencoded"),
        (f'{{"password": "{PASSWORD}"}}', "text/plain;charset=UTF-8"),
        (f'{{"password": "{PASSWORD}"}}', None),
        (f'{{"password": "{PASSWORD}"}}', "application/vnd.api+json"),
    ],
    ids=["form", "text-plain", "no-content-type", "plus-json"],
)
@pytest.mark.parametrize("route", ["host_token", "recordings"])
def test_a_password_outside_a_json_body_is_415_and_never_checked(
    route: str, body: str, content_type: str | None
) -> None:
    headers = {**PAGE, **({"content-type": content_type} if content_type else {})}
    wrong = body.replace(PASSWORD, "guess")

    for _ in range(MAX_FAILURES + 1):
        answer = call(route, wrong.encode(), headers=headers)
        assert (answer.status, answer.json()) == (415, {"error": NOT_JSON_MESSAGE})
    assert call(route, body.encode(), headers=headers).status == 415

    assert password_guard.throttle.retry_after(HOST) == 0
    assert call(route, {"password": PASSWORD}, headers=PAGE).status == 200


@pytest.mark.parametrize("headers", FOREIGN[:3])
def test_a_host_session_from_another_site_is_403_and_the_stream_is_untouched(
    headers: dict[str, str],
) -> None:
    session = sign_in().json()["session"]

    # WHEN another site makes the host's browser send the (valid) session
    for route in ("stream_start", "stream_stop"):
        in_body = call(route, {"session": session}, headers=headers)
        in_header = call(route, {}, headers={**headers, "x-host-session": session})
        assert (in_body.status, in_header.status) == (403, 403)
    listing = call("recordings", {"session": session}, headers=headers)

    # THEN every request is refused and the stream never went live
    assert (listing.status, listing.json()) == (403, {"error": CROSS_SITE_REFUSED})
    assert call("audience_token", {}).json()["token"] is None
    # AND the host's own page still can
    assert call("stream_start", {"session": session}, headers=PAGE).json()["live"] is True


def test_viewers_are_not_affected_by_the_cross_site_rule() -> None:
    # the audience's calls carry no host secret: a page embedding the stream elsewhere may ask
    answer = call("audience_token", {}, headers={"sec-fetch-site": "cross-site", "origin": EVIL})

    assert answer.status == 200
