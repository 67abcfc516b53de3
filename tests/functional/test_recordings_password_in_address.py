"""The host password reaches /recordings only in a POST body, never in a GET's address.

A password in a URL stays in browser history, proxy and access logs; and GET /recordings has a
higher route throttle than POST (it is the public list's route), so guesses sent as GETs would
escape the POST route's low limit. Each request is an API Gateway 2.0 event answered by
``handle_event``, the path Lambda and the dev server take.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from livescreen.config import Settings
from livescreen.devserver.http_api_event import build_http_api_v2_event
from livescreen.recordings import clear_store_cache
from livescreen.runtime.api_gateway import handle_event
from livescreen.runtime.loader import FunctionRegistry
from livescreen.security import password_guard
from livescreen.security.password_guard import FailureThrottle

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
PASSWORD = "the-host-password-for-recordings"


class Recordings:
    """Sends requests to the recordings function from one address, with its own throttle."""

    address = "198.51.100.20"

    def __init__(self, folder: Path) -> None:
        self.throttle = FailureThrottle()
        self.settings = Settings(
            {
                "STREAM_PROVIDER": "local",
                "HOST_PASSWORD": PASSWORD,
                "HOST_SESSION_SECRET": "recordings-address-session-secret-0123456789",
                "RECORDINGS_DIR": str(folder),
            },
            "test",
        )
        self.registry = FunctionRegistry(FUNCTIONS)

    def send(self, method: str, query: str = "", body: dict[str, str] | None = None) -> Any:
        event = build_http_api_v2_event(
            method=method,
            path="/recordings",
            headers={"content-type": "application/json"},
            body=json.dumps(body).encode() if body is not None else b"",
            raw_query=query,
            source_ip=self.address,
        )
        return handle_event(event, self.registry, "recordings", lambda: self.settings)


@pytest.fixture
def recordings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recordings]:
    clear_store_cache()
    sender = Recordings(tmp_path / "recordings")
    monkeypatch.setattr(password_guard, "throttle", sender.throttle)
    yield sender
    clear_store_cache()


def test_the_right_password_in_a_get_address_is_refused_and_lists_nothing(
    recordings: Recordings,
) -> None:
    # WHEN the host password is sent in the address of a GET
    answer = recordings.send("GET", f"password={PASSWORD}")

    # THEN it is a 400 that says how to send it, and no recording list comes back
    assert answer["statusCode"] == 400
    body = json.loads(answer["body"])
    assert "POST" in body["error"] and "recordings" not in body


def test_wrong_passwords_in_get_addresses_are_not_checked(recordings: Recordings) -> None:
    # WHEN a guesser sends many wrong passwords as GETs
    for n in range(20):
        assert recordings.send("GET", f"password=guess-{n}")["statusCode"] == 400

    # THEN none was checked: the address has no failures, and the host signs in at once
    assert recordings.throttle.retry_after(recordings.address) == 0
    assert recordings.send("POST", body={"password": PASSWORD})["statusCode"] == 200
