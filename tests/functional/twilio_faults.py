"""Failing one Twilio call of a request: the fault table's vocabulary, shared by the tests of
each Twilio audience (``test_faults_twilio_upstream``, ``test_faults_twilio_video``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faults_support import assert_clear_error, call

from livescreen.config import Settings
from livescreen.devserver.invoke import InvokeResult
from twilio_emulator import EmulatorServer

#: A client timeout far below the emulator's hang (30 s), and far above a loopback round trip.
#: It applies to every call of the request under test, not only the hung one: at 0.5 s, a
#: normal call stalled that long on a busy CI machine and the request failed where it should not.
CLIENT_TIMEOUT = "2"


@dataclass(frozen=True)
class TwilioCall:
    """One Twilio call an endpoint makes, and the call made just before it in that request."""

    endpoint: str
    method: str
    route: str
    previous: tuple[str, str] | None = None
    #: False for a call whose failure the endpoint survives (the answer is still a success).
    fails_request: bool = True

    @property
    def id(self) -> str:
        return f"{self.endpoint}:{self.method} {self.route}"


FAULTS = ("429", "500", "timeout", "refused")
#: What the caller is told for each fault: try later (503) or Twilio failed (502).
EXPECTED_STATUS = {"429": 503, "500": 502, "timeout": 503, "refused": 503}


def settings_for(fault: str, settings: Settings) -> Settings:
    """The request under test waits ``CLIENT_TIMEOUT`` for a hung call; the others, as usual.

    (Other settings build another provider instance, as another container would: the state
    of record is the emulator, so nothing is lost between them.)
    """
    return settings.with_values(UPSTREAM_TIMEOUT=CLIENT_TIMEOUT) if fault == "timeout" else settings


def arm(emulator: EmulatorServer, fault: str, method: str, route: str) -> None:
    """Make ``method route`` fail with ``fault`` for every attempt the provider makes."""
    if fault == "429":
        emulator.fail_next(method, route, count=20, status=429, retry_after=1)
    elif fault == "500":
        emulator.fail_next(method, route, count=20, status=500)
    elif fault == "timeout":
        emulator.hang_next(method, route, count=20, after_processing=True)
    else:
        raise AssertionError(fault)


def inject(emulator: EmulatorServer, fault: str, target: TwilioCall) -> None:
    """Arm ``fault`` so that it hits ``target`` exactly, not an earlier call of the request."""
    if fault == "refused":
        if target.previous is None:
            emulator.refuse_connections()
        else:
            emulator.refuse_connections_after(*target.previous)
        return
    if target.previous is None:
        arm(emulator, fault, target.method, target.route)
        return

    def arm_target() -> None:
        arm(emulator, fault, target.method, target.route)

    emulator.after_call(*target.previous, arm_target)


def body_for(endpoint: str, prepared: dict[str, Any]) -> dict[str, Any]:
    if endpoint == "host_token":
        return {"password": prepared["password"]}
    if endpoint in ("stream_start", "stream_stop"):
        return {"session": prepared["session"]}
    return {}


def answer_while_failing(
    emulator: EmulatorServer,
    settings: Settings,
    target: TwilioCall,
    fault: str,
    body: dict[str, Any],
) -> InvokeResult:
    """Call ``target.endpoint`` while ``target``'s Twilio call fails with ``fault``, however
    often it is tried; checks that the failing call was really reached."""
    inject(emulator, fault, target)
    try:
        answer = call(target.endpoint, settings_for(fault, settings), body)
    finally:
        emulator.clear_faults()
    if fault != "refused":
        assert emulator.calls_to(target.method, target.route) >= 1
    return answer


def assert_told_clearly(
    answer: InvokeResult, fault: str, settings: Settings, sleeps: list[float]
) -> None:
    """A clear 502/503 for ``fault``; after a 429, Twilio's Retry-After was waited and passed on."""
    assert_clear_error(answer, {EXPECTED_STATUS[fault]}, settings)
    if fault == "429":
        assert answer.headers.get("retry-after") == "1"
        assert sleeps and all(pause == 1.0 for pause in sleeps)  # Twilio's Retry-After
