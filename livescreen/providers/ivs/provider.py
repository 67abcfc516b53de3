"""The ``ivs`` provider: Amazon IVS real-time stages, all inside the user's AWS account.

One stage per host session: ``create_host_grant`` creates it (with the host's PUBLISH token in
the same call), ``start_stream`` tags it live, ``stop_stream`` deletes it. Viewers get
self-signed SUBSCRIBE tokens, so ``audience_grant`` makes no control-plane call per viewer: the
live stage is looked up at most once every ``LIVE_LOOKUP_TTL`` seconds per instance.
The audience is counted from IVS's participant records (``audience_runs``), never in a
viewer's path: by ``stop_stream`` (read before it deletes the stage, written to the store after,
each step bounded so the DeleteStage fits in /stream_stop's timeout), and by
``refresh_audience``.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from livescreen.config import ConfigError, Settings
from livescreen.providers.base import (
    AudienceGrant,
    HostGrant,
    ProviderError,
    ProviderUnavailableError,
    StreamState,
)
from livescreen.providers.ivs.audience_runs import RoomAudience
from livescreen.providers.ivs.client import (
    AWS_ERRORS,
    error_code,
    make_client,
    maybe_done,
    upstream_error,
)
from livescreen.providers.ivs.live_stage import LiveStageCache
from livescreen.providers.ivs.recording import recording_configuration
from livescreen.providers.ivs.stages import (
    LiveStage,
    StageSummary,
    list_app_stages,
    live_tags,
    newest_live_stage,
    room_stage,
    room_tags,
)
from livescreen.providers.ivs.tokens import SubscribeTokenSigner

logger = logging.getLogger(__name__)

Clock = Callable[[], float]

MAX_TOKEN_MINUTES = 20160  # CreateParticipantToken's upper bound (14 days)
_ENDPOINT_CACHE_SIZE = 32
#: A live stream's audience is read from IVS at most this often per instance.
AUDIENCE_REFRESH_SECONDS = 10.0


class IvsProvider:
    """Amazon IVS real-time stages (see the module docstring)."""

    name = "ivs"

    def __init__(
        self,
        settings: Settings,
        *,
        client: Any = None,
        clock: Clock = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._client = client
        self._client_lock = threading.Lock()
        self._clock = clock
        self._app_tag = settings.require("APP_TAG")
        self._host_identity = settings.require("HOST_IDENTITY")
        self._token_ttl = settings.get_int(
            "HOST_TOKEN_TTL", minimum=60, maximum=MAX_TOKEN_MINUTES * 60
        )
        self._signer = SubscribeTokenSigner.from_pem(
            settings.require("IVS_PRIVATE_KEY"), settings.require("IVS_PUBLIC_KEY_ARN")
        )
        # Read on the first CreateStage only: /host_token is the one function that creates
        # stages, and the only one the stack gives IVS_STORAGE_CONFIGURATION_ARN. Checking it
        # here would make every other function answer 503 with RECORDING=on.
        self._recording: dict[str, Any] | None = None
        self._recording_read = False
        self._endpoints: dict[str, LiveStage] = {}
        self._live = LiveStageCache(
            self._lookup_live_stage,
            ttl=settings.get_int("LIVE_LOOKUP_TTL", minimum=1, maximum=60),
            clock=clock,
        )
        self._audience = RoomAudience(settings, AUDIENCE_REFRESH_SECONDS, clock=clock, sleep=sleep)

    @property
    def client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self._client = make_client(self._settings)
            return self._client

    # -- host ------------------------------------------------------------------------------

    def create_host_grant(self) -> HostGrant:
        room = f"livestream-{secrets.token_hex(8)}"
        recording: dict[str, Any] = {}
        configuration = self._recording_configuration()
        if configuration is not None:
            recording["autoParticipantRecordingConfiguration"] = configuration
        try:
            response = self.client.create_stage(
                name=room,
                tags=room_tags(self._app_tag, room, int(self._clock())),
                participantTokenConfigurations=[
                    {
                        "userId": self._host_identity,
                        # SUBSCRIBE lets the host's page see who joins; it subscribes to no one.
                        "capabilities": ["PUBLISH", "SUBSCRIBE"],
                        "duration": math.ceil(self._token_ttl / 60),
                    }
                ],
                **recording,
            )
        except AWS_ERRORS as exc:
            if maybe_done(exc):
                # The stage may exist although the answer was lost: it is tagged with the room.
                self._delete_room_stage_quietly(room)
            raise self._upstream("creating a stage", exc) from exc
        stage_arn = response["stage"]["arn"]
        tokens = response.get("participantTokens") or []
        token = tokens[0].get("token") if tokens else None
        if not token:
            self._delete_quietly(stage_arn)
            raise ProviderError("IVS created a stage but returned no host token; try again")
        logger.info("created IVS stage %s for room %s", stage_arn, room)
        return HostGrant(room=room, token=token, extra={"stageArn": stage_arn})

    def start_stream(self, room: str) -> StreamState:
        stage = self._find_room_stage(room)
        if stage is None:
            raise self._room_gone(room)
        if stage.live:
            return StreamState(room, live=True, started_now=False, extra={"stageArn": stage.arn})
        try:
            self.client.tag_resource(resourceArn=stage.arn, tags=live_tags(int(self._clock())))
        except AWS_ERRORS as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise self._room_gone(room) from exc
            raise self._upstream("marking the stage live", exc) from exc
        self._live.invalidate()
        logger.info("IVS stage %s is live", stage.arn)
        return StreamState(room, live=True, started_now=True, extra={"stageArn": stage.arn})

    def stop_stream(self, room: str) -> StreamState:
        began = self._clock()
        stage = self._find_room_stage(room)
        if stage is None:
            return StreamState(room, live=False)  # already deleted: nothing left to pay for
        # read while the stage exists, within a deadline that leaves the DeleteStage its time;
        # a failed or cut-short read never stops the delete; written to the store once deleted
        read = self._audience.read_before_stop(self.client, stage, began=began)
        try:
            self.client.delete_stage(arn=stage.arn)
        except AWS_ERRORS as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise self._upstream("deleting the stage", exc) from exc
        self._live.invalidate()
        logger.info("deleted IVS stage %s", stage.arn)
        self._audience.apply_after_stop(room, read, began=began)
        return StreamState(room, live=False, extra={"stageArn": stage.arn})

    # -- audience --------------------------------------------------------------------------

    def refresh_audience(self, room: str) -> None:
        """Count the room's live stage's viewers into the stream store, at most once every
        ``AUDIENCE_REFRESH_SECONDS`` per instance (a call meanwhile returns at once). A viewer
        who left, but whose leave could not be read in time, waits for a later refresh. Never
        raises: a failure is logged and the store keeps its last numbers."""
        if not self._audience.due(room, self._clock()):
            return
        try:
            stage = self._find_room_stage(room)
            if stage is not None and stage.live:
                self._audience.refresh(self.client, room, stage)
        except ProviderError as exc:
            logger.warning("could not count the audience of room %s: %s", room, exc)
        finally:
            self._audience.done()

    def audience_grant(self) -> AudienceGrant:
        stage = self._live.get()
        if stage is None:
            return AudienceGrant(token=None)
        token = self._signer.subscribe_token(stage, now=self._clock(), ttl_seconds=self._token_ttl)
        return AudienceGrant(token=token)

    def _lookup_live_stage(self) -> LiveStage | None:
        try:
            summary = newest_live_stage(list_app_stages(self.client, self._app_tag))
        except AWS_ERRORS as exc:
            raise self._upstream("listing stages", exc) from exc
        if summary is None:
            return None
        return self._with_endpoints(summary)

    def _with_endpoints(self, summary: StageSummary) -> LiveStage | None:
        # IVS recommends caching a stage's endpoints; they never change for a stage.
        cached = self._endpoints.get(summary.arn)
        if cached is not None:
            return cached
        try:
            stage = self.client.get_stage(arn=summary.arn)["stage"]
        except AWS_ERRORS as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None  # deleted between the two calls: nothing is live
            raise self._upstream("reading the live stage", exc) from exc
        endpoints = stage.get("endpoints") or {}
        if not endpoints.get("events") or not endpoints.get("whip"):
            raise ProviderError("IVS returned a stage without endpoints; viewers cannot join it")
        live = LiveStage(summary.arn, events_url=endpoints["events"], whip_url=endpoints["whip"])
        if len(self._endpoints) >= _ENDPOINT_CACHE_SIZE:
            self._endpoints.clear()
        self._endpoints[summary.arn] = live
        return live

    # -- helpers ---------------------------------------------------------------------------

    def _recording_configuration(self) -> dict[str, Any] | None:
        """What new stages record with (None: not recorded); a bad setting is a clear 503."""
        if not self._recording_read:
            try:
                self._recording = recording_configuration(self._settings)
            except ConfigError as exc:
                raise ProviderUnavailableError(str(exc)) from exc
            self._recording_read = True
        return self._recording

    def _find_room_stage(self, room: str) -> StageSummary | None:
        try:
            return room_stage(list_app_stages(self.client, self._app_tag), room)
        except AWS_ERRORS as exc:
            raise self._upstream("listing stages", exc) from exc

    @staticmethod
    def _room_gone(room: str) -> ProviderError:
        return ProviderError(
            f"The stage for room {room} no longer exists (it was stopped or cleaned up): "
            "go live again to get a new room",
            status=409,
        )

    @staticmethod
    def _upstream(action: str, exc: Exception) -> ProviderError:
        logger.warning("IVS call failed while %s: %s", action, error_code(exc) or exc)
        return upstream_error(action, exc)

    def _delete_room_stage_quietly(self, room: str) -> None:
        """Delete every stage tagged with ``room`` (botocore may have retried the create)."""
        try:
            stages = [s for s in list_app_stages(self.client, self._app_tag) if s.room == room]
        except AWS_ERRORS as exc:
            logger.error(
                "could not look for the stage of room %s: %s; run `livescreen cleanup`",
                room,
                error_code(exc) or type(exc).__name__,
            )
            return
        for stage in stages:
            self._delete_quietly(stage.arn)

    def _delete_quietly(self, stage_arn: str) -> None:
        try:
            self.client.delete_stage(arn=stage_arn)
        except AWS_ERRORS as exc:
            logger.error("could not delete IVS stage %s: %s", stage_arn, error_code(exc) or exc)


def create_provider(settings: Settings) -> IvsProvider:
    """Build the provider; a missing or malformed key fails here, naming the setting."""
    try:
        return IvsProvider(settings)
    except ConfigError as exc:
        raise ProviderUnavailableError(str(exc)) from exc
