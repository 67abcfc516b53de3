"""``livescreen cleanup`` for ``ivs``: the IVS real-time stages tagged as this app's.

botocore and the provider module are imported only when an error needs them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from livescreen.providers.sweeping import IVS_STAGE, CleanupError, Inventory, Resource


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

    from livescreen.providers.ivs.client import upstream_error

    if isinstance(exc, NoCredentialsError):
        return CleanupError(
            "No AWS credentials found: configure them (aws configure, AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) for the account that runs the stack"
        )
    if isinstance(exc, ClientError | BotoCoreError):
        return CleanupError(upstream_error(action, exc).message)
    return exc
