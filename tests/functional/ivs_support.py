"""Shared pieces for the IVS tests: a Stubber-backed ``ivs-realtime`` client and fixed data.

botocore's Stubber checks every request against the real ivs-realtime service model (required
parameters, types, ranges) and every canned response against the model's output shape, so the
provider is tested against the API AWS publishes, not against a fake we invented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session
from botocore.stub import Stubber

from livescreen.config import Settings
from livescreen.providers.ivs.keys import generate_key_pair

REGION = "us-east-1"
ACCOUNT = "123456789012"
APP_TAG = "live-screen-sharing"
PUBLIC_KEY_ARN = f"arn:aws:ivs:{REGION}:{ACCOUNT}:public-key/Pk0123456789"
EVENTS_URL = "wss://global.events.live-video.net"
WHIP_URL = "https://f99084460c35.global-bm.whip.live-video.net"
EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"

PRIVATE_PEM, PUBLIC_PEM = generate_key_pair()


def stage_arn(stage_id: str = "AbCdEfGh1234") -> str:
    return f"arn:aws:ivs:{REGION}:{ACCOUNT}:stage/{stage_id}"


def ivs_settings(**overrides: str) -> Settings:
    values = {
        "STREAM_PROVIDER": "ivs",
        "HOST_PASSWORD": "correct horse battery staple",
        "HOST_SESSION_SECRET": "test-host-session-secret-0123456789",
        "IVS_REGION": REGION,
        "IVS_PRIVATE_KEY": PRIVATE_PEM,
        "IVS_PUBLIC_KEY_ARN": PUBLIC_KEY_ARN,
        "APP_TAG": APP_TAG,
        "HOST_IDENTITY": "host",
        "HOST_TOKEN_TTL": "14400",
        "LIVE_LOOKUP_TTL": "5",
    }
    values.update(overrides)
    return Settings(values, source="the test settings")


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


class FakeClock:
    """A clock the test moves by hand (seconds since the epoch)."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class StubbedIvs:
    """A real ivs-realtime client whose HTTP layer is the Stubber; records what was called."""

    client: Any
    stubber: Stubber
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def create(cls) -> StubbedIvs:
        client = botocore.session.get_session().create_client(
            "ivs-realtime",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        stubbed = cls(client, Stubber(client))
        client.meta.events.register("provide-client-params.ivs-realtime.*", stubbed._record)
        stubbed.stubber.activate()
        return stubbed

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    @property
    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    # -- canned IVS answers ------------------------------------------------------------------

    def expect(self, operation: str, response: dict[str, Any], params: Any = None) -> None:
        self.stubber.add_response(operation, response, params)

    def expect_error(self, operation: str, code: str, status: int = 400) -> None:
        self.stubber.add_client_error(
            operation,
            service_error_code=code,
            service_message=f"{code} (stubbed)",
            http_status_code=status,
        )

    def expect_list(
        self, *stages: dict[str, Any], next_token: str | None = None, params: Any = None
    ) -> None:
        response: dict[str, Any] = {"stages": list(stages)}
        if next_token:
            response["nextToken"] = next_token
        self.expect("list_stages", response, params)

    def expect_get_stage(self, arn: str, tags: dict[str, str] | None = None) -> None:
        self.expect(
            "get_stage",
            {
                "stage": {
                    "arn": arn,
                    "name": "livestream-0123456789abcdef",
                    "tags": tags or {},
                    "endpoints": {"events": EVENTS_URL, "whip": WHIP_URL},
                }
            },
            {"arn": arn},
        )


def summary(
    arn: str, room: str, *, app: str = APP_TAG, live: bool = False, started_at: int = 1_750_000_000
) -> dict[str, Any]:
    """A stage as ListStages returns it."""
    tags = {"app": app, "livescreen:room": room}
    if live:
        tags.update({"livescreen:live": "true", "livescreen:started-at": str(started_at)})
    return {"arn": arn, "name": room, "tags": tags}
