"""Shared pieces for the fault tests (``test_faults_*.py``).

The endpoints are called through the same adapter Lambda runs (``invoke``); the provider each
one builds is the registry's, except that the ``twilio`` provider's back-off never really
sleeps (``RetryPolicy(sleep=...)`` records the pauses) and the ``ivs`` provider talks to a
botocore Stubber instead of AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from livescreen.config import Settings
from livescreen.devserver.invoke import InvokeResult, invoke
from livescreen.providers import clear_provider_cache
from livescreen.providers.ivs import provider as ivs_module
from livescreen.providers.ivs.provider import IvsProvider
from livescreen.providers.local.hub import HUB
from livescreen.providers.twilio import factory as twilio_module
from livescreen.providers.twilio.provider import TwilioProvider
from livescreen.providers.twilio.rest import RetryPolicy
from livescreen.runtime.twilio_client import make_twilio_client
from livescreen.security import host_session
from livescreen.security.password_guard import throttle

NOTHING_RUNNING: dict[str, list[str]] = {
    "media_processors": [],
    "player_streamers": [],
    "rooms": [],
}

#: Words that must never reach a caller: a Python traceback, or how the code failed inside.
LEAKS = ("Traceback", 'File "', "Error(", "requests.exceptions", "botocore.exceptions")


@pytest.fixture
def fresh_process() -> Iterator[None]:
    """A new container: no cached provider, no throttled address, an empty local hub."""
    clear_provider_cache()
    throttle.reset()
    HUB.reset()
    yield
    clear_provider_cache()
    throttle.reset()
    HUB.reset()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every back-off pause the ``twilio`` provider asked for; nothing really sleeps."""
    pauses: list[float] = []

    def fast_provider(settings: Settings) -> TwilioProvider:
        retry = RetryPolicy(sleep=pauses.append)
        return TwilioProvider(settings, make_twilio_client(settings), retry=retry)

    monkeypatch.setattr(twilio_module, "create_provider", fast_provider)
    return pauses


def use_ivs_client(monkeypatch: pytest.MonkeyPatch, client: Any) -> None:
    """Make the registry build the ``ivs`` provider on ``client`` (a stubbed ivs-realtime)."""
    monkeypatch.setattr(
        ivs_module, "create_provider", lambda settings: IvsProvider(settings, client=client)
    )


def call(name: str, settings: Settings, body: dict[str, Any] | None = None) -> InvokeResult:
    return invoke(name, body or {}, settings=settings)


def sign_in(settings: Settings) -> dict[str, Any]:
    """``/host_token`` with the right password; the host's grant and session."""
    answer = call("host_token", settings, {"password": settings["HOST_PASSWORD"]})
    assert answer.status == 200, answer.text
    return dict(answer.json())


def session_of(room: str, settings: Settings) -> str:
    """A valid host session for ``room``, as ``/host_token`` would have issued it."""
    return host_session.issue(room, secret=settings["HOST_SESSION_SECRET"], ttl_seconds=600)[0]


def secrets_of(settings: Settings) -> list[str]:
    keys = ("HOST_PASSWORD", "HOST_SESSION_SECRET", "AUTH_TOKEN", "API_KEY_SECRET")
    return [settings[key] for key in keys if key in settings]


def assert_clear_error(
    answer: InvokeResult, statuses: Iterable[int], settings: Settings
) -> dict[str, Any]:
    """A JSON ``{"error": <words>}`` with one of ``statuses``, no traceback and no secret."""
    assert answer.status in set(statuses), (answer.status, answer.text)
    assert answer.headers.get("content-type", "").startswith("application/json")
    payload = json.loads(answer.body)
    assert set(payload) == {"error"}, payload
    message = payload["error"]
    assert isinstance(message, str) and len(message.split()) >= 4, message
    for leak in (*LEAKS, *secrets_of(settings)):
        assert leak not in answer.text, f"{leak!r} leaked in {answer.text}"
    return dict(payload)
