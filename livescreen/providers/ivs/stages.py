"""The app's IVS stages: how they are tagged, found and told apart from everything else.

IVS itself is the state of record. A stage belongs to this app when its ``app`` tag equals the
``APP_TAG`` setting; ``livescreen:room`` names the room it serves, ``livescreen:created-at`` when
it was created (IVS reports no creation time) and ``livescreen:live`` marks the stage viewers
should join. ``ListStages`` returns every stage's tags and active session, so one paginated call
answers "which stage is this room?", "what is live?" and "what can the reaper delete?".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

TAG_APP = "app"
TAG_ROOM = "livescreen:room"
TAG_LIVE = "livescreen:live"
TAG_STARTED_AT = "livescreen:started-at"
TAG_CREATED_AT = "livescreen:created-at"
#: Set by the reaper when it first finds a live stage with nobody publishing.
TAG_UNATTENDED_SINCE = "livescreen:unattended-since"

_PAGE_SIZE = 100  # the most ListStages returns per page


@dataclass(frozen=True)
class StageSummary:
    """One stage as ``ListStages`` describes it."""

    arn: str
    name: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    active_session_id: str | None = None

    @property
    def room(self) -> str | None:
        return self.tags.get(TAG_ROOM)

    @property
    def live(self) -> bool:
        return self.tags.get(TAG_LIVE) == "true"

    @property
    def started_at(self) -> int:
        return _epoch(self.tags, TAG_STARTED_AT) or 0

    @property
    def created_at(self) -> int | None:
        return _epoch(self.tags, TAG_CREATED_AT)

    @property
    def unattended_since(self) -> int | None:
        return _epoch(self.tags, TAG_UNATTENDED_SINCE)


def _epoch(tags: Mapping[str, str], key: str) -> int | None:
    """A tag holding seconds since the epoch; None when it is missing or malformed."""
    try:
        return int(tags[key])
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class LiveStage:
    """What a viewer's token needs: the stage and the endpoints IVS assigned it."""

    arn: str
    events_url: str
    whip_url: str

    @property
    def stage_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


def belongs_to_app(tags: Mapping[str, str] | None, app_tag: str) -> bool:
    return tags is not None and tags.get(TAG_APP) == app_tag


def room_tags(app_tag: str, room: str, created_at: int) -> dict[str, str]:
    """The tags a new stage is created with."""
    return {TAG_APP: app_tag, TAG_ROOM: room, TAG_CREATED_AT: str(created_at)}


def live_tags(started_at: int) -> dict[str, str]:
    """The tags ``start_stream`` adds to a stage."""
    return {TAG_LIVE: "true", TAG_STARTED_AT: str(started_at)}


def _pages(client: Any) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {"maxResults": _PAGE_SIZE}
    while True:
        page = client.list_stages(**kwargs)
        yield page
        token = page.get("nextToken")
        if not token:
            return
        kwargs["nextToken"] = token


def list_app_stages(client: Any, app_tag: str) -> list[StageSummary]:
    """Every stage in the region tagged as this app's (one ``ListStages`` call per 100 stages)."""
    stages = []
    for page in _pages(client):
        for raw in page.get("stages", []):
            tags = raw.get("tags") or {}
            if belongs_to_app(tags, app_tag):
                stages.append(
                    StageSummary(
                        raw["arn"], raw.get("name", ""), dict(tags), raw.get("activeSessionId")
                    )
                )
    return stages


def room_stage(stages: Iterable[StageSummary], room: str) -> StageSummary | None:
    return next((stage for stage in stages if stage.room == room), None)


def newest_live_stage(stages: Iterable[StageSummary]) -> StageSummary | None:
    """The live stage started last: a host who went live twice is watched on the newer stage."""
    live = [stage for stage in stages if stage.live]
    return max(live, key=lambda stage: stage.started_at) if live else None
