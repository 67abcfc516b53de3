"""What the endpoint functions share: reading fields, the host session, the provider."""

from __future__ import annotations

from typing import Any

from livescreen import host_session, password_guard
from livescreen.providers import StreamProvider, get_provider
from livescreen.runtime.context import FunctionContext
from livescreen.runtime.errors import BadRequestError, TooManyRequestsError, UnauthorizedError

SESSION_HEADER = "x-host-session"


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
    Behind CloudFront this is the edge's address, shared by the viewers that edge serves.
    """
    request = event.get("request")
    address = request.get("sourceIp") if isinstance(request, dict) else None
    return address if isinstance(address, str) and address else "unknown"


def require_host_session(
    context: FunctionContext, event: dict[str, Any]
) -> host_session.HostSession:
    """The caller's host session (body field ``session`` or header ``X-Host-Session``), or 401."""
    token = event.get("session") or headers_of(event).get(SESSION_HEADER)
    try:
        return host_session.verify(token, secret=context.settings.require("HOST_SESSION_SECRET"))
    except host_session.InvalidSessionError as exc:
        raise UnauthorizedError(str(exc)) from None


def require_host_password(context: FunctionContext, event: dict[str, Any]) -> None:
    """The request's ``password`` is the host password, or a 401 (429 after repeated failures,
    per client address)."""
    client = client_address(event)
    throttle = password_guard.throttle  # looked up per call: tests swap in a fake clock
    wait = throttle.retry_after(client)
    if wait:
        raise TooManyRequestsError(
            f"Too many wrong passwords: try again in {wait} seconds",
            headers={"retry-after": str(wait)},
        )
    password = require_string(event, "password")
    if not password_guard.password_matches(password, context.settings.require("HOST_PASSWORD")):
        throttle.record_failure(client)
        raise UnauthorizedError("Invalid password")
    throttle.record_success(client)


def provider_of(context: FunctionContext) -> StreamProvider:
    return get_provider(context.settings)
