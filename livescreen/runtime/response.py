"""``Response``: the Twilio Functions response object, with chainable setters."""

from __future__ import annotations

import json
from typing import Any, Self


class Response:
    """An HTTP response a function hands to ``callback(None, response)``.

    ``body`` may be ``str``, ``bytes``, or anything JSON-serialisable (sent as JSON with
    ``Content-Type: application/json`` unless a content type was set).
    """

    def __init__(
        self,
        body: Any = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body: Any = body
        self.headers: dict[str, list[str]] = {}
        self.cookies: list[str] = []
        if headers:
            self.set_headers(headers)

    def set_status_code(self, status_code: int) -> Self:
        if not 100 <= int(status_code) <= 599:
            raise ValueError(f"status code must be between 100 and 599, got {status_code}")
        self.status_code = int(status_code)
        return self

    def set_body(self, body: Any) -> Self:
        self.body = body
        return self

    def append_header(self, name: str, value: str) -> Self:
        self.headers.setdefault(name.lower(), []).append(str(value))
        return self

    def set_headers(self, headers: dict[str, str]) -> Self:
        """Replace every header (cookies are kept: they have their own setters)."""
        self.headers = {}
        for name, value in headers.items():
            self.append_header(name, value)
        return self

    def set_cookie(self, name: str, value: str, attributes: list[str] | None = None) -> Self:
        self.remove_cookie_entry(name)
        self.cookies.append("; ".join([f"{name}={value}", *(attributes or [])]))
        return self

    def remove_cookie(self, name: str) -> Self:
        self.remove_cookie_entry(name)
        self.cookies.append(f"{name}=; Max-Age=0")
        return self

    def remove_cookie_entry(self, name: str) -> None:
        self.cookies = [c for c in self.cookies if c.split("=", 1)[0] != name]

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ",".join(values) if values else None

    def encoded_body(self) -> bytes:
        """The body as bytes, setting a JSON content type when the body is structured."""
        body = self.body
        if body is None:
            return b""
        if isinstance(body, bytes):
            return body
        if isinstance(body, str):
            if self.header("content-type") is None:
                self.append_header("content-type", "text/plain; charset=utf-8")
            return body.encode("utf-8")
        if self.header("content-type") is None:
            self.append_header("content-type", "application/json")
        return json.dumps(body, separators=(",", ":")).encode("utf-8")
