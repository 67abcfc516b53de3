"""Invoke the functions the way Lambda would, configured only by what template.yaml sets.

The handler is the one the template names, the environment is the template's (parameters at
their defaults, the provider overridden to twilio as `sam deploy --parameter-overrides` would),
the secrets come from moto's SSM under the template's PARAMETER_PATH, and Twilio is the local
emulator (TWILIO_API_BASE_URL is the one setting the stack never sets).
"""

from __future__ import annotations

import base64
import importlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from stack_support import ROOT
from twilio.request_validator import RequestValidator

from livescreen.config import Settings
from livescreen.providers import clear_provider_cache
from livescreen.security import password_guard
from livescreen.store import clear_store_cache, get_stream_store
from twilio_emulator import EmulatorServer

pytestmark = pytest.mark.stack

STACK = "live-test"
REGION = "us-east-1"
ACCOUNT_SID = "AC" + "3c" * 16
AUTH_TOKEN = "stack-test-auth-token-0123456789"
API_KEY_SID = "SK" + "4d" * 16
API_KEY_SECRET = "stack-test-api-key-secret-0123456789"
HOST_PASSWORD = "a stack test password"
EVENT_PATH = ROOT / "tests" / "events" / "http_api_v2_example.json"
#: The HTTP API's id in the example event (its domain is <id>.execute-api.<region>.amazonaws.com).
API_ID = "a1b2c3d4e5"


def resolve(value: Any, parameters_: dict[str, Any]) -> str:
    """The value CloudFormation would give a plain environment variable."""
    pseudo = {
        "AWS::StackName": STACK,
        "AWS::Region": REGION,
        "AWS::AccountId": "123456789012",
        "AWS::URLSuffix": "amazonaws.com",
        "HttpApi": API_ID,
    }
    names = {**pseudo, **parameters_}
    if isinstance(value, dict) and "Ref" in value:
        return str(names[value["Ref"]])
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(names[m.group(1)]), value["Fn::Sub"])
    return str(value)


def table_names(template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> the name CloudFormation gives each DynamoDB table (a ``Ref`` to it)."""
    return {
        logical_id: f"{STACK}-{logical_id}-1A2B3C4D5E6F"
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }


def create_tables(template: dict[str, Any]) -> None:
    """The stack's DynamoDB tables in moto, with the keys and billing the template declares."""
    dynamodb = boto3.client("dynamodb")
    for logical_id, name in table_names(template).items():
        properties = template["Resources"][logical_id]["Properties"]
        dynamodb.create_table(
            TableName=name,
            KeySchema=properties["KeySchema"],
            AttributeDefinitions=properties["AttributeDefinitions"],
            BillingMode=properties["BillingMode"],
        )


def function_environment(
    template: dict[str, Any], logical_id: str, overrides: dict[str, str]
) -> dict[str, str]:
    parameters_: dict[str, Any] = table_names(template)
    parameters_.update({name: p.get("Default") for name, p in template["Parameters"].items()})
    parameters_.update(overrides)
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    function = template["Resources"][logical_id]["Properties"]
    variables.update(function.get("Environment", {}).get("Variables", {}))
    return {key: resolve(value, parameters_) for key, value in variables.items()}


class LambdaContext:
    function_name = f"{STACK}-function"
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{STACK}-function"
    memory_limit_in_mb = 256
    aws_request_id = "5d1f0c9e-7a6b-4c3d-9e8f-0a1b2c3d4e5f"
    log_group_name = f"/aws/lambda/{STACK}"
    log_stream_name = "2025/06/15/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, api_keys={API_KEY_SID: API_KEY_SECRET}
    ) as server:
        yield server


@pytest.fixture
def invoke(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer
) -> Iterator[Callable[[str, dict[str, Any]], dict[str, Any]]]:
    """invoke(logical_id, event) -> the Lambda response, with the template's handler and env."""
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": f"{STACK}-function",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    parameters.clear_caches()
    clear_provider_cache()
    clear_store_cache()
    password_guard.throttle.reset()
    with mock_aws():
        ssm = boto3.client("ssm")
        create_tables(template)

        def run(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
            env = function_environment(template, logical_id, {"StreamProvider": "twilio"})
            env["TWILIO_API_BASE_URL"] = emulator.base_url
            for key, value in env.items():
                monkeypatch.setenv(key, value)
            for key, value in {
                "HOST_PASSWORD": HOST_PASSWORD,
                "HOST_SESSION_SECRET": "stack-test-session-secret-0123456789",
                "ACCOUNT_SID": ACCOUNT_SID,
                "AUTH_TOKEN": AUTH_TOKEN,
                "API_KEY_SID": API_KEY_SID,
                "API_KEY_SECRET": API_KEY_SECRET,
            }.items():
                ssm.put_parameter(
                    Name=f"{env['PARAMETER_PATH']}/{key}",
                    Value=value,
                    Type="SecureString",
                    Overwrite=True,
                )
            # and the settings the stack itself stores (the API's URL)
            for resource in template["Resources"].values():
                if resource["Type"] == "AWS::SSM::Parameter":
                    stored = resource["Properties"]
                    ssm.put_parameter(
                        Name=resolve(stored["Name"], {}),
                        Value=resolve(stored["Value"], {}),
                        Type=stored["Type"],
                        Overwrite=True,
                    )
            handler_name = template["Resources"][logical_id]["Properties"]["Handler"]
            module_name, _, attribute = handler_name.rpartition(".")
            handler = getattr(importlib.import_module(module_name), attribute)
            return handler(event, LambdaContext())

        yield run
    parameters.clear_caches()
    clear_provider_cache()
    clear_store_cache()
    password_guard.throttle.reset()


def load_event(path: Path, route: str, body: dict[str, Any]) -> dict[str, Any]:
    event = json.loads(path.read_text(encoding="utf-8"))
    event["routeKey"] = event["requestContext"]["routeKey"] = f"POST {route}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = route
    event["body"] = json.dumps(body)
    event["headers"]["content-length"] = str(len(event["body"]))
    return event


def decoded_body(response: dict[str, Any]) -> Any:
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return json.loads(body)


def header(response: dict[str, Any], name: str) -> str:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    return str(headers.get(name.lower(), ""))


def test_audience_token_answers_the_documented_http_api_event_with_no_live_stream(
    invoke: Callable[[str, dict[str, Any]], dict[str, Any]],
) -> None:
    # GIVEN AWS's HTTP API payload 2.0 example, as CloudFront forwards it to /audience_token
    event = json.loads(EVENT_PATH.read_text(encoding="utf-8"))
    assert event["rawPath"] == "/audience_token"
    # WHEN Lambda invokes the handler the template names, with the template's environment
    response = invoke("AudienceTokenFunction", event)
    # THEN the viewer gets JSON saying which provider is in use and that nothing is live
    assert response["statusCode"] == 200
    assert header(response, "content-type").startswith("application/json")
    assert decoded_body(response) == {
        "provider": "twilio",
        "audience": "video",
        "token": None,
        "recordingsPublic": False,
    }


def test_host_token_refuses_a_wrong_password_with_a_json_401(
    invoke: Callable[[str, dict[str, Any]], dict[str, Any]],
) -> None:
    event = load_event(EVENT_PATH, "/host_token", {"password": "guess"})
    response = invoke("HostTokenFunction", event)
    assert response["statusCode"] == 401
    assert decoded_body(response) == {"error": "Invalid password"}


def test_host_token_with_the_ssm_password_gets_a_room_and_a_session(
    invoke: Callable[[str, dict[str, Any]], dict[str, Any]],
) -> None:
    event = load_event(EVENT_PATH, "/host_token", {"password": HOST_PASSWORD})
    response = invoke("HostTokenFunction", event)
    assert response["statusCode"] == 200, response
    body = decoded_body(response)
    assert (body["provider"], body["audience"]) == ("twilio", "video")  # the stack's default
    assert body["room"]
    assert body["token"]
    assert body["session"]
    # AND no secret travels back in the response
    assert HOST_PASSWORD not in response["body"]
    assert AUTH_TOKEN not in response["body"]


def test_room_events_stops_the_stream_when_twilio_reports_that_the_host_left(
    invoke: Callable[[str, dict[str, Any]], dict[str, Any]],
    emulator: EmulatorServer,
    template: dict[str, Any],
) -> None:
    # GIVEN a host who went live through the deployed functions (its page in the room first)
    host = decoded_body(
        invoke(
            "HostTokenFunction", load_event(EVENT_PATH, "/host_token", {"password": HOST_PASSWORD})
        )
    )
    emulator.connect(host["token"])
    started = invoke(
        "StreamStartFunction", load_event(EVENT_PATH, "/stream_start", {"session": host["session"]})
    )
    assert started["statusCode"] == 200, started
    # AND the room reports to the API's own URL, from the setting the stack stores in SSM
    (room,) = [r for r in emulator.state.rooms.values() if r.unique_name == host["room"]]
    assert (
        room.status_callback == f"https://{API_ID}.execute-api.{REGION}.amazonaws.com/room_events"
    )
    # WHEN Twilio posts participant-disconnected for the host, signed over that URL, and API
    # Gateway hands it to the function with its own Host header
    form = {
        "StatusCallbackEvent": "participant-disconnected",
        "RoomName": host["room"],
        "ParticipantIdentity": host["identity"],
    }
    event = load_event(EVENT_PATH, "/room_events", {})
    event["body"] = urlencode(form)
    event["headers"].update(
        {
            "content-type": "application/x-www-form-urlencoded",
            "content-length": str(len(event["body"])),
            "x-twilio-signature": RequestValidator(AUTH_TOKEN).compute_signature(
                room.status_callback, form
            ),
        }
    )
    response = invoke("RoomEventsFunction", event)
    # THEN the signature verifies and the stream is stopped
    assert response["statusCode"] == 200, response
    assert decoded_body(response) == {"handled": True}
    running = emulator.state.running()
    assert running == {"media_processors": [], "player_streamers": [], "rooms": []}
    # AND the stack's stream table, as the template names it, has the stream recorded and ended
    table = function_environment(template, "RoomEventsFunction", {})["STREAMS_TABLE"]
    store = get_stream_store(
        Settings({"STREAM_STORE": "dynamodb", "STREAMS_TABLE": table}, source="the test")
    )
    assert store is not None
    record = store.get(host["room"])
    assert record is not None and record.provider == "twilio"
    assert record.ended_at is not None and record.numbers.current == 0
