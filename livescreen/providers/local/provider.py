"""The ``local`` provider: browser-to-browser WebRTC, with the dev server relaying signalling.

No account and no network are needed, which makes it the default for development and the
browser tests. Its state lives in the dev server's memory (``providers.local.hub.HUB``), so it
cannot run on Lambda, where every container would have its own. Its audience is counted by the
process's background ``store.counting.Counter`` (none with ``STREAM_STORE=off``), off the
viewers' path: the hub only queues what it sees.
"""

from __future__ import annotations

from livescreen.config import Settings
from livescreen.providers.base import (
    AudienceGrant,
    HostGrant,
    ProviderError,
    StreamState,
)
from livescreen.providers.local.audience import FLUSH_SECONDS, Audience
from livescreen.providers.local.hub import HUB, Hub
from livescreen.providers.local.recorder import CHUNK_BYTES, UPLOAD_PATH
from livescreen.recordings import recording_enabled
from livescreen.store.counting import counter_for

#: Where the dev server mounts ``devserver.relays.signalling.handle``; the page is told this.
SIGNALLING_PATH = "/local"
#: Where the host's page uploads what it records (``devserver.relays.recordings``).
RECORDING_UPLOAD_PATH = SIGNALLING_PATH + UPLOAD_PATH


class LocalProvider:
    """Rooms and the live stream kept in the dev server's memory."""

    name = "local"

    def __init__(
        self, hub: Hub = HUB, *, recording: bool = False, audience: Audience | None = None
    ) -> None:
        self._hub = hub
        self._recording = recording
        self._audience = audience

    def create_host_grant(self) -> HostGrant:
        room = self._hub.create_room()
        # The host's page records what it publishes and uploads it while live (RECORDING=on).
        upload = {"upload": RECORDING_UPLOAD_PATH, "chunkBytes": CHUNK_BYTES}
        return HostGrant(
            room=room.name,
            token=room.host_token,
            extra={"signalling": SIGNALLING_PATH, "recording": upload if self._recording else None},
        )

    def start_stream(self, room: str) -> StreamState:
        started = self._hub.start(room, audience=self._audience)
        if started is None:
            raise ProviderError(
                f"Room {room} is not known to this dev server (was it restarted, or was the "
                "stream already stopped?): switch LIVE on again",
                status=409,
            )
        _, started_now = started
        if started_now and self._audience is not None:
            # a stream this one replaced is counted to its end before this one is recorded
            # (recording a start ends any stream still open, as of the start)
            self._audience.flush(FLUSH_SECONDS)
        return StreamState(room=room, live=True, started_now=started_now)

    def stop_stream(self, room: str) -> StreamState:
        self._hub.stop(room)
        if self._audience is not None:
            # the stream's last joins and leaves are written before its summary is read
            self._audience.flush(FLUSH_SECONDS)
        return StreamState(room=room, live=False)

    def refresh_audience(self, room: str) -> None:
        """Nothing to do: the hub reports every join and leave as it happens."""

    def audience_grant(self) -> AudienceGrant:
        live = self._hub.live_room()
        if live is None:
            return AudienceGrant(token=None)
        return AudienceGrant(
            token=live.viewer_token, extra={"room": live.name, "signalling": SIGNALLING_PATH}
        )


def create_provider(settings: Settings) -> LocalProvider:
    """The ``local`` provider (``get_provider`` refuses it on Lambda, where it could not work)."""
    return LocalProvider(recording=recording_enabled(settings), audience=counter_for(settings))
