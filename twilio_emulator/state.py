"""The emulator's state of record and the rules Twilio applies to it.

Every operation takes the request parameters as Twilio names them (``UniqueName``,
``MaxDuration``...), validates them the way the REST API does and raises ``ApiError`` otherwise.
Each concept has its own module: rooms (``rooms.py``), what time does to them
(``timeouts.py``), participants (``participants.py``), recordings, compositions and the
(retired) Media v1 resources (``media_v1.py``); this one holds them together. Time-driven
transitions are evaluated against ``clock`` before every request (``expire``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from twilio_emulator.compositions import CompositionsMixin, new_media_key
from twilio_emulator.media_v1 import MediaMixin
from twilio_emulator.params import Params
from twilio_emulator.participants import ParticipantsMixin
from twilio_emulator.recording_resources import (
    Composition,
    RecordingRules,
    TrackRecording,
)
from twilio_emulator.recordings import RecordingsMixin
from twilio_emulator.resources import ACTIVE, MediaProcessor, PlayerStreamer, Room
from twilio_emulator.rooms import RoomEventSink, RoomsMixin
from twilio_emulator.timeouts import RoomTimersMixin

__all__ = ["EmulatorState", "Params"]


class EmulatorState(
    RoomsMixin, RoomTimersMixin, RecordingsMixin, CompositionsMixin, ParticipantsMixin, MediaMixin
):
    """Rooms (their participants, recording rules and track recordings), compositions,
    MediaProcessors and PlayerStreamers of one account.

    Safe to use from many threads.
    """

    def __init__(
        self,
        account_sid: str,
        *,
        new_account: bool = False,
        clock: Callable[[], float] = time.time,
        on_room_event: RoomEventSink | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.new_account = new_account
        self.clock = clock
        self.on_room_event = on_room_event
        self.lock = threading.RLock()
        self.rooms: dict[str, Room] = {}
        self.media_processors: dict[str, MediaProcessor] = {}
        self.player_streamers: dict[str, PlayerStreamer] = {}
        self.recording_rules: dict[str, RecordingRules] = {}
        self.track_recordings: dict[str, TrackRecording] = {}
        self.compositions: dict[str, Composition] = {}
        #: The account's "client-side room creation" setting, on by default as in Twilio: a
        #: client connecting to a name with no room in progress creates one (``ad_hoc_room``);
        #: off, it is refused with 53106 (``participants.py``).
        self.client_room_creation = True
        #: A composition moves one status further each time it is read (see compositions.py).
        self.auto_compose = True
        #: Where composition media URLs point (the server sets its own base URL).
        self.media_base = "http://127.0.0.1"
        self.media_key = new_media_key()

    # -- time -----------------------------------------------------------------------------

    def expire(self) -> None:
        """Apply everything time has decided by now: rooms and participants (``timeouts.py``),
        then every MediaProcessor/PlayerStreamer whose MaxDuration has run out."""
        now = self.clock()
        self.expire_rooms(now)
        self.expire_media(now)

    # -- for tests --------------------------------------------------------------------------

    def running(self) -> dict[str, list[str]]:
        """SIDs of everything still billing: active processors and streamers, open rooms."""
        with self.lock:
            self.expire()
            return {
                "media_processors": [
                    p.sid for p in self.media_processors.values() if p.status in ACTIVE
                ],
                "player_streamers": [
                    s.sid for s in self.player_streamers.values() if s.status in ACTIVE
                ],
                "rooms": [r.unique_name for r in self.rooms.values() if r.status == "in-progress"],
            }
