"""Delete a stage when its host stops publishing, so nothing keeps billing.

A plain Lambda handler for the EventBridge rule ``{"source": ["aws.ivs"], "detail-type":
["IVS Stage Update"], "detail": {"event_name": ["Participant Unpublished"]}}``. IVS sends those
events on a best-effort basis (late, out of order, or not at all), so the handler checks IVS
before acting, is safe to run twice, and the scheduled reaper (``providers.ivs.reaper``) remains the
backstop. This rule is also what counts an IVS stream's audience when its host leaves: IVS sends
no event for a viewer (a viewer never publishes), so before deleting the stage the handler reads
the session's participants from IVS (``audience``), and once the stage is gone writes them to
the stream store, then ends the stream's record at the event's own time (closing every viewer
session still open). The read and the write each end by a deadline taken from the function's
remaining time (the Lambda context's, else ``FUNCTION_SECONDS`` from the start), so the
DeleteStage always has its time. A store or counting failure is logged, never retried for: the
stage is deleted either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from livescreen import config
from livescreen.providers.ivs.audience import CountedViewers
from livescreen.providers.ivs.audience_runs import (
    DEFAULT_CALL_LIMIT,
    apply_deadline,
    apply_quietly,
    end_quietly,
    read_deadline,
    read_quietly,
    remaining_time,
    store_or_none,
    stream_of,
    worst_call_seconds,
)
from livescreen.providers.ivs.client import AWS_ERRORS, error_code, make_client
from livescreen.providers.ivs.stages import belongs_to_app
from livescreen.store import StreamStore

logger = logging.getLogger(__name__)

DETAIL_TYPE = "IVS Stage Update"
HOST_GONE_EVENTS = frozenset({"Participant Unpublished"})
#: The function's timeout (template.yaml), when the Lambda context does not say what is left.
FUNCTION_SECONDS = 30.0
#: Seconds the audience count may start IVS calls; then seconds it may write to the store, and
#: what it leaves for ending the stream.
READ_WINDOW = 6.0
APPLY_SECONDS = 4.0
END_SECONDS = 3.0

_client: Any = None
_counted = CountedViewers()


def handle_stage_update(
    event: Mapping[str, Any],
    client: Any,
    *,
    app_tag: str,
    host_identity: str,
    store: StreamStore | None = None,
    counted: CountedViewers | None = None,
    time_left: Callable[[], float] | None = None,
    call_limit: float = DEFAULT_CALL_LIMIT,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str]:
    """Decide about one event; returns ``{"action": "deleted" | "ignored", "reason": ...}``.

    ``time_left`` says how many seconds the function has left (default: ``FUNCTION_SECONDS``
    from now); ``call_limit`` is the longest one IVS call can take.
    """
    began = clock()
    left = time_left or (lambda: FUNCTION_SECONDS - (clock() - began))
    detail = event.get("detail") or {}
    resources = event.get("resources") or []
    if event.get("source") != "aws.ivs" or event.get("detail-type") != DETAIL_TYPE:
        return _ignored("not an IVS stage update")
    if detail.get("event_name") not in HOST_GONE_EVENTS:
        return _ignored(f"event {detail.get('event_name')!r} needs no action")
    if detail.get("user_id") != host_identity:
        return _ignored("a participant other than the host")
    if not resources:
        return _ignored("the event names no stage")
    stage_arn = str(resources[0])

    try:
        stage = client.get_stage(arn=stage_arn)["stage"]
    except AWS_ERRORS as exc:
        if error_code(exc) == "ResourceNotFoundException":
            end_quietly(store, stream_of(store, stage_arn), at=event_time(event) or time.time())
            return _ignored("the stage is already deleted", stage_arn)
        raise
    if not belongs_to_app(stage.get("tags"), app_tag):
        return _ignored("the stage is not this app's", stage_arn)

    session_id = detail.get("session_id")
    if session_id and _host_still_connected(client, stage_arn, session_id, host_identity):
        return _ignored("the host is still connected (reconnecting)", stage_arn)

    stream = stream_of(store, stage_arn)
    seen = counted or _counted
    read = None
    if store is not None and stream is not None and session_id:  # while the stage exists
        read = read_quietly(
            client,
            stage_arn=stage_arn,
            session_id=session_id,
            host_identity=host_identity,
            deadline=read_deadline(
                clock(),
                window=READ_WINDOW,
                call_limit=call_limit,
                time_left=left(),
                after=call_limit + APPLY_SECONDS + END_SECONDS,  # the DeleteStage first
            ),
            call_limit=call_limit,
            counted=seen,
            clock=clock,
            sleep=sleep,
        )
    try:
        client.delete_stage(arn=stage_arn)
    except AWS_ERRORS as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
    logger.info("host left: deleted IVS stage %s", stage_arn)
    deadline = apply_deadline(clock(), window=APPLY_SECONDS, time_left=left(), after=END_SECONDS)
    apply_quietly(
        store, read, stream_id=stream, final=True, deadline=deadline, counted=seen, clock=clock
    )
    end_quietly(store, stream, at=event_time(event) or time.time())
    return {"action": "deleted", "reason": "the host stopped publishing", "stageArn": stage_arn}


def _host_still_connected(client: Any, stage_arn: str, session_id: str, host: str) -> bool:
    # ListParticipants accepts one filter per request: filter by user, check the state here.
    response = client.list_participants(
        stageArn=stage_arn, sessionId=session_id, filterByUserId=host
    )
    return any(p.get("state") == "CONNECTED" for p in response.get("participants", []))


def event_time(event: Mapping[str, Any]) -> float | None:
    """When the event happened (seconds since the epoch): ``detail.event_time``, else ``time``."""
    detail = event.get("detail") or {}
    for value in (detail.get("event_time"), event.get("time")):
        if isinstance(value, str) and value:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                continue
            if moment.tzinfo is not None:
                return moment.timestamp()
    return None


def _ignored(reason: str, stage_arn: str | None = None) -> dict[str, str]:
    result = {"action": "ignored", "reason": reason}
    if stage_arn:
        result["stageArn"] = stage_arn
    logger.info("stage event ignored: %s", reason)
    return result


def handler(event: Mapping[str, Any], context: Any) -> dict[str, str]:
    """Lambda entry point (EventBridge target)."""
    global _client
    settings = config.load()
    if _client is None:
        _client = make_client(settings)
    return handle_stage_update(
        event,
        _client,
        app_tag=settings.require("APP_TAG"),
        host_identity=settings.require("HOST_IDENTITY"),
        store=store_or_none(settings),
        time_left=remaining_time(context),
        call_limit=worst_call_seconds(settings),
    )
