"""Call a function in-process exactly as Lambda would: build the HTTP API event, run the adapter.

Used by the tests and the benchmarks; the dev server takes the same path over real HTTP.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livescreen.config import Settings
from livescreen.devserver.http_api_event import build_http_api_v2_event
from livescreen.runtime.api_gateway import handle_event
from livescreen.runtime.loader import FunctionRegistry

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = PROJECT_ROOT / "functions"

_registries: dict[Path, FunctionRegistry] = {}


def registry_for(functions_dir: Path) -> FunctionRegistry:
    registry = _registries.get(functions_dir)
    if registry is None:
        registry = _registries[functions_dir] = FunctionRegistry(functions_dir)
    return registry


@dataclass(frozen=True)
class InvokeResult:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: tuple[str, ...] = ()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def invoke(
    name: str,
    body: Mapping[str, Any] | str | bytes | None = None,
    *,
    settings: Settings,
    headers: Mapping[str, str] | None = None,
    method: str = "POST",
    raw_query: str = "",
    source_ip: str = "127.0.0.1",
    functions_dir: Path = FUNCTIONS_DIR,
) -> InvokeResult:
    """Invoke ``functions/<name>.py``; a mapping body is sent as JSON."""
    request_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if isinstance(body, Mapping):
        payload = json.dumps(body).encode()
        request_headers.setdefault("content-type", "application/json")
    elif isinstance(body, str):
        payload = body.encode()
    else:
        payload = body or b""
    event = build_http_api_v2_event(
        method=method,
        path=f"/{name}",
        headers=request_headers,
        body=payload,
        raw_query=raw_query,
        source_ip=source_ip,
    )
    response = handle_event(event, registry_for(functions_dir), name, lambda: settings)
    raw = response.get("body", "")
    data = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    return InvokeResult(
        status=response["statusCode"],
        headers=dict(response.get("headers", {})),
        body=data,
        cookies=tuple(response.get("cookies", ())),
    )
