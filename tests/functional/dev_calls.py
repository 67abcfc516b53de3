"""JSON calls to a running dev server's functions, and waiting for the emulator's callbacks."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from livescreen.devserver import DevServer
from twilio_emulator import EmulatorServer


def post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST ``body`` as JSON; the status and the parsed answer, errors included."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def call(server: DevServer, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The 200 answer of the function ``name``; anything else fails the test."""
    status, answer = post(f"{server.url}/{name}", body or {})
    assert status == 200, answer
    return dict(answer)


def settled(emulator: EmulatorServer) -> None:
    """Every room callback queued so far was delivered and answered."""
    assert emulator.callbacks.wait_idle(timeout=10), "room callbacks still pending"
