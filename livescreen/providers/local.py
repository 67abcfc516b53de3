"""The ``local`` provider: browser-to-browser WebRTC, with the dev server relaying signalling.

No account and no network are needed, which makes it the default for development and the
browser tests. Its state lives in the dev server's memory (``local_hub.HUB``), so it cannot run
on Lambda, where every container would have its own.
"""

from __future__ import annotations

from livescreen.config import Settings, running_on_lambda
from livescreen.providers.base import (
    AudienceGrant,
    HostGrant,
    ProviderError,
    ProviderUnavailableError,
    StreamState,
)
from livescreen.providers.local_hub import HUB, Hub

#: Where the dev server mounts ``local_signalling.handle``; the browser module is told this.
SIGNALLING_PATH = "/local"


class LocalProvider:
    """Rooms and the live stream kept in the dev server's memory."""

    name = "local"

    def __init__(self, hub: Hub = HUB) -> None:
        self._hub = hub

    def create_host_grant(self) -> HostGrant:
        room = self._hub.create_room()
        return HostGrant(
            room=room.name, token=room.host_token, extra={"signalling": SIGNALLING_PATH}
        )

    def start_stream(self, room: str) -> StreamState:
        started = self._hub.start(room)
        if started is None:
            raise ProviderError(
                f"Room {room} is not known to this dev server (was it restarted, or was the "
                "stream already stopped?): switch LIVE on again",
                status=409,
            )
        _, started_now = started
        return StreamState(room=room, live=True, started_now=started_now)

    def stop_stream(self, room: str) -> StreamState:
        self._hub.stop(room)
        return StreamState(room=room, live=False)

    def audience_grant(self) -> AudienceGrant:
        live = self._hub.live_room()
        if live is None:
            return AudienceGrant(token=None)
        return AudienceGrant(
            token=live.viewer_token, extra={"room": live.name, "signalling": SIGNALLING_PATH}
        )


def create_provider(settings: Settings) -> LocalProvider:
    """The ``local`` provider; refuses to run on Lambda, where it could not work."""
    if running_on_lambda():
        raise ProviderUnavailableError(
            "The local provider only runs in the dev server (`livescreen dev`): its rooms live in "
            "one process's memory. Set STREAM_PROVIDER=ivs (or twilio) for a deployed stack."
        )
    return LocalProvider()
