"""Find and end the paid resources a livestream can leave running.

``livescreen cleanup`` automates the "avoid unexpected charges" chore: for ``twilio`` it finds
MediaProcessors and PlayerStreamers still ``started`` (or ``created``) and the app's Video rooms
(``livestream-*``) still in progress; for ``ivs`` it finds the stages tagged with ``APP_TAG``.
A sweeper lists them (``find``) and ends one at a time (``end``); the service is the state of
record, so running cleanup twice is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from livescreen.config import ConfigError, Settings
from livescreen.errors import ProviderError
from livescreen.providers.twilio.timestamps import parse_time

if TYPE_CHECKING:
    from livescreen.providers.twilio.rest import TwilioApiError, TwilioRest

MEDIA_PROCESSOR = "MediaProcessor"
PLAYER_STREAMER = "PlayerStreamer"
VIDEO_ROOM = "Video room"
IVS_STAGE = "IVS stage"
#: The order resources are ended in: a composer first, so it stops writing to its streamer.
END_ORDER = (MEDIA_PROCESSOR, PLAYER_STREAMER, VIDEO_ROOM, IVS_STAGE)
ROOM_PREFIX = "livestream-"
_PAGE_SIZE = 100


class CleanupError(Exception):
    """Listing or ending failed in a way the user must fix; the message says how."""


@dataclass(frozen=True)
class Resource:
    """One running paid resource: ``ident`` is a Twilio SID or an AWS ARN."""

    kind: str
    ident: str
    status: str
    started_at: datetime | None = None
    room: str = ""


@dataclass
class Inventory:
    """What is running, plus notes worth telling the user (a retired API, for instance)."""

    resources: list[Resource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    ended: list[Resource] = field(default_factory=list)
    failed: list[tuple[Resource, str]] = field(default_factory=list)


class Sweeper(Protocol):
    provider: str

    def find(self) -> Inventory: ...

    def end(self, resource: Resource) -> None: ...


# -- Twilio ---------------------------------------------------------------------------------


class TwilioSweeper:
    """Twilio Live (Media v1) resources and the app's Video rooms."""

    provider = "twilio"

    def __init__(self, rest: TwilioRest, *, source: str = "the environment") -> None:
        self._rest = rest
        self._source = source

    def find(self) -> Inventory:
        from livescreen.providers.twilio.rest import TwilioApiError

        inventory = Inventory()
        try:
            inventory.resources += self._live_resources()
        except TwilioApiError as error:
            if not error.not_found:
                raise self._cleanup_error(error) from None
            inventory.notes.append(
                "Twilio Live is retired (Media v1 answers 404), so there can be no "
                "MediaProcessors or PlayerStreamers left running; checking Video rooms only."
            )
        try:
            inventory.resources += self._rooms()
        except TwilioApiError as error:
            raise self._cleanup_error(error) from None
        return inventory

    def end(self, resource: Resource) -> None:
        from livescreen.providers.twilio.provider import MEDIA, VIDEO
        from livescreen.providers.twilio.rest import TwilioApiError

        if resource.kind == VIDEO_ROOM:
            url, status = f"{VIDEO}/Rooms/{quote(resource.ident)}", "completed"
        elif resource.kind == MEDIA_PROCESSOR:
            url, status = f"{MEDIA}/MediaProcessors/{quote(resource.ident)}", "ended"
        elif resource.kind == PLAYER_STREAMER:
            url, status = f"{MEDIA}/PlayerStreamers/{quote(resource.ident)}", "ended"
        else:
            raise CleanupError(f"Twilio has no {resource.kind} to end")
        try:
            self._rest.call("POST", url, data={"Status": status}, idempotent=True)
        except TwilioApiError as error:
            # Gone, or (rooms) already completed: either way it no longer bills.
            if error.not_found or error.code == 53112:
                return
            raise self._cleanup_error(error) from None

    def _live_resources(self) -> list[Resource]:
        from livescreen.providers.twilio.provider import MEDIA, outputs_of, room_of

        processors = list(
            self._rest.pages(
                f"{MEDIA}/MediaProcessors",
                "media_processors",
                {"Status": "started", "PageSize": _PAGE_SIZE},
            )
        )
        room_by_streamer = {
            sid: room_of(processor) or ""
            for processor in processors
            for sid in outputs_of(processor)
        }
        found = [
            Resource(
                MEDIA_PROCESSOR,
                str(processor["sid"]),
                str(processor.get("status") or "started"),
                parse_time(processor.get("date_created")),
                room_of(processor) or "",
            )
            for processor in processors
        ]
        for status in ("started", "created"):
            for streamer in self._rest.pages(
                f"{MEDIA}/PlayerStreamers",
                "player_streamers",
                {"Status": status, "PageSize": _PAGE_SIZE},
            ):
                sid = str(streamer["sid"])
                found.append(
                    Resource(
                        PLAYER_STREAMER,
                        sid,
                        str(streamer.get("status") or status),
                        parse_time(streamer.get("date_created")),
                        room_by_streamer.get(sid, ""),
                    )
                )
        return found

    def _rooms(self) -> list[Resource]:
        from livescreen.providers.twilio.provider import VIDEO

        return [
            Resource(
                VIDEO_ROOM,
                str(room["sid"]),
                str(room.get("status") or "in-progress"),
                parse_time(room.get("date_created")),
                str(room.get("unique_name") or ""),
            )
            for room in self._rest.pages(
                f"{VIDEO}/Rooms", "rooms", {"Status": "in-progress", "PageSize": _PAGE_SIZE}
            )
            if str(room.get("unique_name") or "").startswith(ROOM_PREFIX)
        ]

    def _cleanup_error(self, error: TwilioApiError) -> CleanupError:
        if error.http_status == 401:
            return CleanupError(
                "Twilio rejected the credentials (HTTP 401): check ACCOUNT_SID, API_KEY_SID and "
                f"API_KEY_SECRET in {self._source}"
            )
        return CleanupError(error.message)


# -- IVS ------------------------------------------------------------------------------------


class IvsSweeper:
    """The IVS real-time stages tagged as this app's (``APP_TAG``)."""

    provider = "ivs"

    def __init__(self, client: Any, app_tag: str) -> None:
        self._client = client
        self._app_tag = app_tag

    def find(self) -> Inventory:
        from livescreen.providers.ivs.stages import list_app_stages

        try:
            stages = list_app_stages(self._client, self._app_tag)
        except Exception as exc:
            raise _aws_error("listing stages", exc) from None
        resources = []
        for stage in stages:
            started = stage.started_at
            resources.append(
                Resource(
                    IVS_STAGE,
                    stage.arn,
                    "live" if stage.live else "idle",
                    datetime.fromtimestamp(started, UTC) if started else None,
                    stage.room or stage.name,
                )
            )
        return Inventory(resources)

    def end(self, resource: Resource) -> None:
        try:
            self._client.delete_stage(arn=resource.ident)
        except Exception as exc:
            if _aws_code(exc) == "ResourceNotFoundException":
                return  # already deleted
            raise _aws_error("deleting the stage", exc) from None


def _aws_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _aws_error(action: str, exc: Exception) -> Exception:
    """A CleanupError for a botocore failure; anything else is re-raised unchanged."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from livescreen.providers.ivs.provider import upstream_error

    if isinstance(exc, NoCredentialsError):
        return CleanupError(
            "No AWS credentials found: configure them (aws configure, AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) for the account that runs the stack"
        )
    if isinstance(exc, ClientError | BotoCoreError):
        return CleanupError(upstream_error(action, exc).message)
    return exc


# -- building and running -------------------------------------------------------------------


def make_sweeper(provider: str, settings: Settings) -> Sweeper | None:
    """The sweeper for ``provider`` (None for ``local``, which runs nothing paid)."""
    if provider == "twilio":
        from livescreen.providers.twilio.rest import TwilioRest
        from livescreen.runtime.twilio_client import make_twilio_client

        return TwilioSweeper(TwilioRest(make_twilio_client(settings)), source=settings.source)
    if provider == "ivs":
        from botocore.exceptions import NoRegionError

        from livescreen.providers.ivs import provider as ivs

        try:
            client = ivs.make_client(settings)
        except NoRegionError:
            raise ConfigError(
                f"No AWS region: set IVS_REGION in {settings.source}, or AWS_REGION"
            ) from None
        return IvsSweeper(client, settings.require("APP_TAG"))
    return None


def end_all(sweeper: Sweeper, resources: Iterable[Resource]) -> Outcome:
    """End every resource in ``END_ORDER``; a failure is recorded and the rest still ended."""
    outcome = Outcome()
    for resource in sorted(resources, key=lambda r: END_ORDER.index(r.kind)):
        try:
            sweeper.end(resource)
        except (CleanupError, ProviderError) as exc:
            outcome.failed.append((resource, str(exc)))
        else:
            outcome.ended.append(resource)
    return outcome


def age(started_at: datetime | None, now: datetime) -> str:
    """``2d 3h``, ``3h 12m``, ``4m 05s``, ``42s``; ``-`` when unknown."""
    if started_at is None:
        return "-"
    seconds = max(0, int((now - started_at).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def table(resources: Iterable[Resource], now: datetime) -> list[str]:
    """The resources as aligned text rows, header first, in the order they would be ended."""
    header = ("KIND", "SID / ARN", "STATUS", "STARTED (UTC)", "AGE", "ROOM")
    rows = [header]
    for r in sorted(resources, key=lambda r: END_ORDER.index(r.kind)):
        started = r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else "-"
        rows.append((r.kind, r.ident, r.status, started, age(r.started_at, now), r.room or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
