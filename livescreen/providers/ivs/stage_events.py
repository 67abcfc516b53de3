"""Delete a stage when its host stops publishing, so nothing keeps billing.

A plain Lambda handler for the EventBridge rule ``{"source": ["aws.ivs"], "detail-type":
["IVS Stage Update"], "detail": {"event_name": ["Participant Unpublished"]}}``. IVS sends those
events on a best-effort basis (late, out of order, or not at all), so the handler checks IVS
before acting, is safe to run twice, and the scheduled reaper (``providers.ivs.reaper``) remains the
backstop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from livescreen import config
from livescreen.providers.ivs.client import AWS_ERRORS, error_code, make_client
from livescreen.providers.ivs.stages import belongs_to_app

logger = logging.getLogger(__name__)

DETAIL_TYPE = "IVS Stage Update"
HOST_GONE_EVENTS = frozenset({"Participant Unpublished"})

_client: Any = None


def handle_stage_update(
    event: Mapping[str, Any], client: Any, *, app_tag: str, host_identity: str
) -> dict[str, str]:
    """Decide about one event; returns ``{"action": "deleted" | "ignored", "reason": ...}``."""
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
            return _ignored("the stage is already deleted", stage_arn)
        raise
    if not belongs_to_app(stage.get("tags"), app_tag):
        return _ignored("the stage is not this app's", stage_arn)

    session_id = detail.get("session_id")
    if session_id and _host_still_connected(client, stage_arn, session_id, host_identity):
        return _ignored("the host is still connected (reconnecting)", stage_arn)

    try:
        client.delete_stage(arn=stage_arn)
    except AWS_ERRORS as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
    logger.info("host left: deleted IVS stage %s", stage_arn)
    return {"action": "deleted", "reason": "the host stopped publishing", "stageArn": stage_arn}


def _host_still_connected(client: Any, stage_arn: str, session_id: str, host: str) -> bool:
    # ListParticipants accepts one filter per request: filter by user, check the state here.
    response = client.list_participants(
        stageArn=stage_arn, sessionId=session_id, filterByUserId=host
    )
    return any(p.get("state") == "CONNECTED" for p in response.get("participants", []))


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
    )
