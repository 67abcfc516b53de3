"""Sweep the app's IVS stages on a schedule and delete every one nobody will use again.

The stage-events handler ends a stream as soon as its host leaves, but IVS delivers those events
best effort, and a host who asks for a token and never goes live leaves a stage behind. This
plain Lambda handler, run by an EventBridge schedule (template.yaml), is the backstop. It deletes
a stage tagged ``app=APP_TAG`` that

- never went live and was created more than ``GRACE_SECONDS`` ago;
- has been live longer than ``MAX_DURATION`` seconds;
- is live but has had no connected publisher for more than ``GRACE_SECONDS``.

IVS reports neither when a stage was created nor when its last publisher left, so both are tags:
``livescreen:created-at`` (written by ``create_host_grant``; a stage without it gets one the first
time the sweep sees it) and ``livescreen:unattended-since`` (written when the sweep first finds
nobody publishing, removed when a publisher is back). Stages without the app tag are never
touched, a stage already gone is fine, and a second run changes nothing the first did not.
Before it deletes a stage of a recorded stream it reads the active session's audience from IVS
(``audience``); after, it writes it to the stream store and ends the stream at the sweep's time
(a failure there is only logged: the stage is deleted either way). The read and the write end
by deadlines taken from the function's remaining time (the Lambda context's, else
``FUNCTION_SECONDS`` from the sweep's start), so each DeleteStage keeps its time; with too
little left the count is skipped and the stream's end closes its viewers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
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
from livescreen.providers.ivs.stages import (
    TAG_CREATED_AT,
    TAG_UNATTENDED_SINCE,
    StageSummary,
    list_app_stages,
)
from livescreen.store import StreamStore

logger = logging.getLogger(__name__)

#: How long a stage may wait for its host to go live, or for a publisher to come back.
GRACE_SECONDS = 600
_PARTICIPANT_PAGE_SIZE = 100  # the most ListParticipants returns per page
_NOT_FOUND = "ResourceNotFoundException"
#: The function's timeout (template.yaml), when the Lambda context does not say what is left.
FUNCTION_SECONDS = 60.0
#: Seconds one stage's audience count may start IVS calls; then seconds it may write to the
#: store, and what it leaves for ending the stream.
READ_WINDOW = 3.0
APPLY_SECONDS = 3.0
END_SECONDS = 2.0

_client: Any = None
_clock: Callable[[], float] = time.time
_sleep: Callable[[float], None] = time.sleep


class ReaperError(Exception):
    """Some stages could not be swept; the next scheduled run tries them again."""


def sweep(
    client: Any,
    *,
    app_tag: str,
    max_duration: int,
    clock: Callable[[], float] = time.time,
    grace: int = GRACE_SECONDS,
    store: StreamStore | None = None,
    host_identity: str = "",  # the host's userId: needed to count the audience
    sleep: Callable[[float], None] = time.sleep,
    time_left: Callable[[], float] | None = None,
    call_limit: float = DEFAULT_CALL_LIMIT,
) -> dict[str, Any]:
    """Sweep every stage of the app once; returns what was checked and deleted.

    A failure on one stage does not stop the others; it is logged and raised at the end as a
    ``ReaperError`` so the run shows up as failed. ``time_left`` says how many seconds the
    function has left (default: ``FUNCTION_SECONDS`` from now); ``call_limit`` is the longest
    one IVS call can take.
    """
    began = clock()
    left = time_left or (lambda: FUNCTION_SECONDS - (clock() - began))
    deleted: list[dict[str, str]] = []
    failed: list[dict[str, str]] = []
    stages = list_app_stages(client, app_tag)
    for stage in stages:
        read, counted = None, CountedViewers()
        try:
            reason = _reason_to_delete(
                client, stage, now=int(clock()), max_duration=max_duration, grace=grace
            )
            if reason is None:
                continue
            stream = stream_of(store, stage.arn)
            if store and stream and stage.active_session_id and host_identity:
                read = read_quietly(  # while the stage exists, leaving the DeleteStage its time
                    client,
                    stage_arn=stage.arn,
                    session_id=stage.active_session_id,
                    host_identity=host_identity,
                    deadline=read_deadline(
                        clock(),
                        window=READ_WINDOW,
                        call_limit=call_limit,
                        time_left=left(),
                        after=call_limit + APPLY_SECONDS + END_SECONDS,
                    ),
                    call_limit=call_limit,
                    counted=counted,
                    clock=clock,
                    sleep=sleep,
                )
            _delete(client, stage.arn)
        except AWS_ERRORS as exc:
            code = error_code(exc) or type(exc).__name__
            if code == _NOT_FOUND:
                continue  # deleted by someone else meanwhile: nothing left to pay for
            logger.error("reaper could not sweep IVS stage %s: %s", stage.arn, code)
            failed.append({"stageArn": stage.arn, "error": code})
            continue
        logger.info("reaper deleted IVS stage %s (room %s): %s", stage.arn, stage.room, reason)
        deadline = apply_deadline(
            clock(), window=APPLY_SECONDS, time_left=left(), after=END_SECONDS
        )
        apply_quietly(
            store,
            read,
            stream_id=stream,
            final=True,
            deadline=deadline,
            counted=counted,
            clock=clock,
        )
        end_quietly(store, stream, at=clock())
        deleted.append({"stageArn": stage.arn, "reason": reason})
    if failed:
        raise ReaperError(
            f"could not sweep {len(failed)} of {len(stages)} stages: "
            + ", ".join(f"{f['stageArn']} ({f['error']})" for f in failed)
        )
    return {"checked": len(stages), "deleted": deleted}


def _reason_to_delete(
    client: Any, stage: StageSummary, *, now: int, max_duration: int, grace: int
) -> str | None:
    """Why ``stage`` should go now, or None to keep it (tagging what the next run must know)."""
    if not stage.live:
        created_at = stage.created_at
        if created_at is None:
            _tag(client, stage.arn, TAG_CREATED_AT, now)
            return None
        if now - created_at > grace:
            return f"never went live within {grace} s of its creation"
        return None
    if now - stage.started_at > max_duration:
        return f"live for longer than MAX_DURATION ({max_duration} s)"
    unattended_since = stage.unattended_since
    if _has_connected_publisher(client, stage):
        if unattended_since is not None:
            client.untag_resource(resourceArn=stage.arn, tagKeys=[TAG_UNATTENDED_SINCE])
        return None
    if unattended_since is None:
        _tag(client, stage.arn, TAG_UNATTENDED_SINCE, now)
        return None
    if now - unattended_since > grace:
        return f"live with no connected publisher for over {grace} s"
    return None


def _has_connected_publisher(client: Any, stage: StageSummary) -> bool:
    if not stage.active_session_id:
        return False  # no session: nobody is connected at all
    # ListParticipants takes one filter per request: ask for publishers, check the state here.
    kwargs: dict[str, Any] = {
        "stageArn": stage.arn,
        "sessionId": stage.active_session_id,
        "filterByPublished": True,
        "maxResults": _PARTICIPANT_PAGE_SIZE,
    }
    while True:
        page = client.list_participants(**kwargs)
        if any(p.get("state") == "CONNECTED" for p in page.get("participants", [])):
            return True
        token = page.get("nextToken")
        if not token:
            return False
        kwargs["nextToken"] = token


def _tag(client: Any, stage_arn: str, key: str, now: int) -> None:
    client.tag_resource(resourceArn=stage_arn, tags={key: str(now)})


def _delete(client: Any, stage_arn: str) -> None:
    try:
        client.delete_stage(arn=stage_arn)
    except AWS_ERRORS as exc:
        if error_code(exc) != _NOT_FOUND:
            raise


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (EventBridge schedule target); the event itself carries nothing."""
    global _client
    settings = config.load()
    if _client is None:
        _client = make_client(settings)
    return sweep(
        _client,
        app_tag=settings.require("APP_TAG"),
        max_duration=settings.get_int("MAX_DURATION", minimum=60, maximum=90000),
        clock=_clock,
        store=store_or_none(settings),
        host_identity=settings.require("HOST_IDENTITY"),
        sleep=_sleep,
        time_left=remaining_time(context),
        call_limit=worst_call_seconds(settings),
    )
