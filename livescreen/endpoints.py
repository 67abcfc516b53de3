"""What the endpoint functions share: reading fields, the host session, the provider.

A request that carries the host password or the host session must come from one of this site's
own pages: ``refuse_cross_site`` runs before either is looked at (and before the password
throttle counts anything), so a page on another site can neither guess with the host's browser
nor fill the host's throttle bucket.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from livescreen.providers import StreamProvider, get_provider
from livescreen.runtime.context import FunctionContext
from livescreen.runtime.errors import (
    BadRequestError,
    ForbiddenError,
    TooManyRequestsError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
)
from livescreen.security import host_session, password_guard

SESSION_HEADER = "x-host-session"
#: The body field that carries the device token ``/host_token`` hands out (password_guard).
DEVICE_FIELD = "device"

CROSS_SITE_REFUSED = (
    "Refused: the host password and the host session are accepted only from this site's own "
    "pages, and this request came from another site"
)
NOT_JSON_MESSAGE = (
    "Send the host password in a JSON body (Content-Type: application/json), as the host page does"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def require_string(event: dict[str, Any], key: str, *, max_length: int = 1024) -> str:
    """The non-empty string field ``key`` of the request, or a 400 that says what is wrong."""
    if key not in event:
        raise BadRequestError(f"Missing field {key!r}")
    value = event[key]
    if not isinstance(value, str):
        raise BadRequestError(f"Field {key!r} must be a string, got {type(value).__name__}")
    if not value:
        raise BadRequestError(f"Field {key!r} must not be empty")
    if len(value) > max_length:
        raise BadRequestError(f"Field {key!r} is longer than {max_length} characters")
    return value


def headers_of(event: dict[str, Any]) -> dict[str, str]:
    request = event.get("request")
    return request.get("headers", {}) if isinstance(request, dict) else {}


def client_address(event: dict[str, Any]) -> str:
    """The address the request came from, as API Gateway (or the dev server) saw the connection.

    Headers such as ``X-Forwarded-For`` or ``CloudFront-Viewer-Address`` are not used: a caller
    that reaches the API directly could set them to anything and so escape the throttle.
    Behind CloudFront this is the edge's address, shared by the viewers that edge serves: the
    host's device token (see ``password_guard``) keeps their guesses out of the host's bucket.
    """
    request = event.get("request")
    address = request.get("sourceIp") if isinstance(request, dict) else None
    return address if isinstance(address, str) and address else "unknown"


def _host_and_port(authority: str, scheme: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"//{authority.strip()}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def is_own_origin(origin: str, headers: dict[str, str]) -> bool:
    """Whether ``origin`` (an ``Origin`` header) is the origin the request was addressed to.

    The request's own origin is its ``Host`` (or a proxy's ``X-Forwarded-Host``: a page cannot
    add that header to a cross-site request without a CORS preflight, which is never granted).
    Behind CloudFront the function cannot know it: the origin request policy
    (Managed-AllViewerExceptHostHeader) replaces ``Host`` with the API's own domain and forwards
    no header naming the page's, so a request that came through CloudFront (``X-Amz-Cf-Id``,
    which a browser cannot add either) is judged by ``Sec-Fetch-Site`` alone.
    """
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or parts.path or parts.query:
        return False
    if "x-amz-cf-id" in headers:
        return True
    wanted = _host_and_port(parts.netloc, scheme)
    if wanted is None:
        return False
    own = [headers.get("host", ""), headers.get("x-forwarded-host", "").split(",")[0]]
    return any(_host_and_port(authority, scheme) == wanted for authority in own if authority)


def refuse_cross_site(event: dict[str, Any]) -> None:
    """403 for a request a browser sent from a page on another site (or a sibling subdomain)."""
    headers = headers_of(event)
    site = headers.get("sec-fetch-site", "").strip().lower()
    if site in ("cross-site", "same-site"):
        raise ForbiddenError(CROSS_SITE_REFUSED)
    origin = headers.get("origin")
    if origin is not None and not is_own_origin(origin, headers):
        raise ForbiddenError(CROSS_SITE_REFUSED)


def _content_type(event: dict[str, Any]) -> str:
    return headers_of(event).get("content-type", "").split(";", 1)[0].strip().lower()


def require_host_session(
    context: FunctionContext, event: dict[str, Any]
) -> host_session.HostSession:
    """The caller's host session (body field ``session`` or header ``X-Host-Session``), or 401;
    403 for a request from another site, before the session is looked at."""
    refuse_cross_site(event)
    token = event.get("session") or headers_of(event).get(SESSION_HEADER)
    try:
        return host_session.verify(token, secret=context.settings.require("HOST_SESSION_SECRET"))
    except host_session.InvalidSessionError as exc:
        raise UnauthorizedError(str(exc)) from None


def require_host_password(context: FunctionContext, event: dict[str, Any]) -> str:
    """The request's ``password`` is the host password, or a 401 (429 after repeated failures).

    In order: 403 for a request from another site; 415 for a password that is not in a JSON
    body; 429 while the request's throttle bucket is full (its device's when it carries a valid
    ``device`` token, else its client address's); only then is the password compared. Returns a
    device token for the browser to send with its next sign-in (the same device, renewed).
    """
    refuse_cross_site(event)
    if "password" in event and _content_type(event) != "application/json":
        raise UnsupportedMediaTypeError(NOT_JSON_MESSAGE)
    secret = context.settings.require("HOST_SESSION_SECRET")
    device = password_guard.device_of(event.get(DEVICE_FIELD), secret=secret)
    bucket = password_guard.bucket_for(client_address(event), device)
    throttle = password_guard.throttle  # looked up per call: tests swap in a fake clock
    wait = throttle.retry_after(bucket)
    if wait:
        raise TooManyRequestsError(
            f"Too many wrong passwords: try again in {wait} seconds",
            headers={"retry-after": str(wait)},
        )
    password = require_string(event, "password")
    if not password_guard.password_matches(password, context.settings.require("HOST_PASSWORD")):
        throttle.record_failure(bucket)
        raise UnauthorizedError("Invalid password")
    if device:
        throttle.record_success(bucket)
    return password_guard.issue_device_token(secret=secret, device_id=device)


def require_host(
    context: FunctionContext, event: dict[str, Any], *, refusal: str
) -> host_session.HostSession | None:
    """The host, by the host password (``require_host_password``: a JSON body, throttled) or by
    the host session (``require_host_session``); 401 with ``refusal`` when neither is sent.
    Returns the session, or None for a sign-in with the password."""
    if event.get("password") not in (None, ""):
        require_host_password(context, event)
        return None
    if event.get("session") not in (None, "") or headers_of(event).get(SESSION_HEADER):
        return require_host_session(context, event)
    raise UnauthorizedError(refusal)


def provider_of(context: FunctionContext) -> StreamProvider:
    return get_provider(context.settings)
