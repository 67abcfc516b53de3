"""Builds the API Gateway HTTP API (payload 2.0) event Lambda would receive for a request."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from typing import Any

_TEXT_CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/")

#: API Gateway writes the month in English whatever the locale (``%b`` would follow LC_TIME).
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def request_time(epoch_seconds: float) -> str:
    """``requestContext.time`` as API Gateway writes it: ``06/Dec/2026:22:15:03 +0000`` (UTC)."""
    moment = time.gmtime(epoch_seconds)
    month = _MONTHS[moment.tm_mon - 1]
    return f"{moment.tm_mday:02d}/{month}/{time.strftime('%Y:%H:%M:%S', moment)} +0000"


def build_http_api_v2_event(
    *,
    method: str,
    path: str,
    headers: Mapping[str, str] | list[tuple[str, str]],
    body: bytes = b"",
    raw_query: str = "",
    source_ip: str = "127.0.0.1",
    domain_name: str = "localhost",
    route_key: str | None = None,
) -> dict[str, Any]:
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in pairs:
        lname = name.lower()
        if lname == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[lname] = f"{joined[lname]},{value}" if lname in joined else value
    query: dict[str, str] = {}
    if raw_query:
        from urllib.parse import parse_qsl

        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
    content_type = joined.get("content-type", "").lower()
    is_text = not body or content_type.startswith(_TEXT_CONTENT_TYPES)
    text_body = ""
    if body and is_text:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            # Bytes that are not UTF-8 travel base64-encoded, exactly as received: the function
            # then answers 400 for them instead of the event failing to build.
            is_text = False
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method.upper()} {path}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", 1)[0],
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key or f"{method.upper()} {path}",
            "stage": "$default",
            "time": request_time(now),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = text_body if is_text else base64.b64encode(body).decode()
    return event
