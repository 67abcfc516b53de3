"""``HttpRequest``: one request, read from an API Gateway HTTP API (2.0) or REST API (1.0) event."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from livescreen.runtime.errors import BadRequestError


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    #: lower-cased names; repeated headers joined with ", " as HTTP allows
    headers: dict[str, str]
    #: repeated keys keep every value, in order
    query: list[tuple[str, str]]
    cookies: dict[str, str]
    body: bytes
    source_ip: str = ""
    request_id: str = ""
    domain_name: str = ""
    raw_query: str = ""
    stage_prefix: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def parse_cookies(values: list[str]) -> dict[str, str]:
    jar: dict[str, str] = {}
    for value in values:
        cookie = SimpleCookie()
        try:
            cookie.load(value)
        except CookieError:
            continue
        jar.update({name: morsel.value for name, morsel in cookie.items()})
    return jar


def _decode_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequestError("The request body is not valid base64") from None
    return str(body).encode("utf-8")


def from_http_api_v2(event: Mapping[str, Any]) -> HttpRequest:
    """An HTTP API payload format 2.0 event (also what the dev server builds)."""
    http = event.get("requestContext", {}).get("http", {})
    headers = {k.lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    cookie_values = list(event.get("cookies") or [])
    if not cookie_values and "cookie" in headers:
        cookie_values = [headers["cookie"]]
    raw_query = event.get("rawQueryString") or ""
    return HttpRequest(
        method=str(http.get("method", "GET")).upper(),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        headers=headers,
        query=parse_qsl(raw_query, keep_blank_values=True),
        cookies=parse_cookies(cookie_values),
        body=_decode_body(event),
        source_ip=str(http.get("sourceIp", "")),
        request_id=str(event.get("requestContext", {}).get("requestId", "")),
        domain_name=str(event.get("requestContext", {}).get("domainName", "")),
        raw_query=raw_query,
    )


def from_rest_api_v1(event: Mapping[str, Any]) -> HttpRequest:
    """A REST API (payload format 1.0) proxy event."""
    multi = event.get("multiValueHeaders") or {}
    headers: dict[str, str] = {}
    if multi:
        for name, values in multi.items():
            headers[name.lower()] = ", ".join(str(v) for v in values or [])
    for name, value in (event.get("headers") or {}).items():
        headers.setdefault(name.lower(), str(value))
    query: list[tuple[str, str]] = []
    multi_query = event.get("multiValueQueryStringParameters") or {}
    if multi_query:
        query = [(k, str(v)) for k, values in multi_query.items() for v in values or []]
    else:
        query = [(k, str(v)) for k, v in (event.get("queryStringParameters") or {}).items()]
    cookie_values = [v.strip() for v in (multi.get("Cookie") or multi.get("cookie") or [])]
    if not cookie_values and "cookie" in headers:
        cookie_values = [headers["cookie"]]
    context = event.get("requestContext") or {}
    return HttpRequest(
        method=str(event.get("httpMethod", "GET")).upper(),
        path=str(event.get("path") or "/"),
        headers=headers,
        query=query,
        cookies=parse_cookies(cookie_values),
        body=_decode_body(event),
        source_ip=str((context.get("identity") or {}).get("sourceIp", "")),
        request_id=str(context.get("requestId", "")),
        domain_name=str(context.get("domainName", "")),
    )


def from_api_gateway(event: Mapping[str, Any]) -> tuple[HttpRequest, str]:
    """Read either event format; returns the request and the format ("2.0" or "1.0")."""
    if event.get("version") == "2.0":
        return from_http_api_v2(event), "2.0"
    if "httpMethod" in event:
        return from_rest_api_v1(event), "1.0"
    raise BadRequestError("Unsupported event: expected an API Gateway HTTP API or REST API event")
