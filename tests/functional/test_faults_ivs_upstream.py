"""IVS failing on every call the four endpoints make: throttled, 5xx, no answer, unreachable.

The calls are answered by botocore's Stubber (checked against the ivs-realtime service model);
a call that gets no answer or cannot connect raises botocore's own exception from the first
event of that call. The caller must get a clear 502/503 and nothing may be left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.stub import ANY
from faults_support import assert_clear_error, call, fresh_process, session_of, use_ivs_client
from ivs_support import StubbedIvs, ivs_settings, stage_arn, summary

from livescreen.config import Settings

__all__ = ["fresh_process"]  # a fixture used by name

pytestmark = pytest.mark.usefixtures("fresh_process")

ROOM = "livestream-0123456789abcdef"
ARN = stage_arn()
ENDPOINT = "https://ivsrealtime.us-east-1.amazonaws.com"

#: fault -> (status the caller gets, words its message must hold)
FAULTS: dict[str, tuple[int, str]] = {
    "throttled": (503, "throttling"),
    "internal-error": (502, "try again shortly"),
    "timeout": (503, "did not answer in time"),
    "unreachable": (503, "Could not reach IVS"),
}
RAISED: dict[str, Callable[[], Exception]] = {
    "timeout": lambda: ReadTimeoutError(endpoint_url=ENDPOINT),
    "unreachable": lambda: EndpointConnectionError(endpoint_url=ENDPOINT),
}


@dataclass(frozen=True)
class IvsCall:
    endpoint: str
    operation: str  # the botocore method name
    model_name: str  # the API operation name
    before: tuple[str, ...] = ()  # calls answered normally first, in order


CALLS = (
    IvsCall("host_token", "create_stage", "CreateStage"),
    IvsCall("stream_start", "list_stages", "ListStages"),
    IvsCall("stream_start", "tag_resource", "TagResource", before=("list_stages",)),
    IvsCall("stream_stop", "list_stages", "ListStages"),
    IvsCall("stream_stop", "delete_stage", "DeleteStage", before=("list_stages",)),
    IvsCall("audience_token", "list_stages", "ListStages"),
    IvsCall("audience_token", "get_stage", "GetStage", before=("list_stages",)),
)


def expect_normal(ivs: StubbedIvs, operation: str, endpoint: str) -> None:
    if operation == "list_stages":
        live = endpoint in ("stream_stop", "audience_token")
        ivs.expect_list(summary(ARN, ROOM, live=live))
    elif operation == "tag_resource":
        ivs.expect("tag_resource", {}, {"resourceArn": ARN, "tags": ANY})
    else:
        raise AssertionError(operation)


def body_for(endpoint: str, settings: Settings) -> dict[str, Any]:
    if endpoint == "host_token":
        return {"password": settings["HOST_PASSWORD"]}
    if endpoint in ("stream_start", "stream_stop"):
        return {"session": session_of(ROOM, settings)}
    return {}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("target", CALLS, ids=[f"{c.endpoint}:{c.model_name}" for c in CALLS])
def test_a_failing_ivs_call_gets_a_clear_answer(
    monkeypatch: pytest.MonkeyPatch, target: IvsCall, fault: str
) -> None:
    ivs = StubbedIvs.create()
    use_ivs_client(monkeypatch, ivs.client)
    settings = ivs_settings()
    for operation in target.before:
        expect_normal(ivs, operation, target.endpoint)
    if fault in RAISED:

        def no_answer(**_: Any) -> None:
            raise RAISED[fault]()

        event = f"provide-client-params.ivs-realtime.{target.model_name}"
        ivs.client.meta.events.register(event, no_answer)
    elif fault == "throttled":
        ivs.expect_error(target.operation, "ThrottlingException", 429)
    else:
        ivs.expect_error(target.operation, "InternalServerException", 500)
    cleanup: list[str] = []
    if target.operation == "create_stage" and fault != "throttled":
        # the stage may have been made although the answer was lost: it is looked for
        ivs.expect_list()
        cleanup.append("ListStages")
    answer = call(target.endpoint, settings, body_for(target.endpoint, settings))
    status, words = FAULTS[fault]
    error = assert_clear_error(answer, {status}, settings)["error"]
    assert words in error
    # THEN the provider made exactly the calls expected, and none after the failure but the
    # search for a stage whose creation may have happened (there was none to delete)
    ivs.stubber.assert_no_pending_responses()
    before = ["ListStages" for _ in target.before]
    assert ivs.operations == [*before, target.model_name, *cleanup]
