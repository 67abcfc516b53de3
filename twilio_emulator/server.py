"""The emulator over real HTTP: its port, its clock ticking, its connections and call counts.

``EmulatorServer`` is the one assembly point: the state of record (``state.py``) answered by the
HTTP handler (``handler.py``), with the account's credentials (``credentials.py``), the faults
a test injects (``faults.py``) and the status callbacks rooms send (``callbacks.py``). Refused
connections are a fault too, but of the listening socket, so they live here.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping

from twilio_emulator.callbacks import CallbackSender
from twilio_emulator.credentials import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Credentials
from twilio_emulator.faults import FaultsMixin
from twilio_emulator.handler import EmulatorHTTPServer, RequestHandler
from twilio_emulator.resources import Participant
from twilio_emulator.state import EmulatorState


class EmulatorServer(FaultsMixin):
    """A stateful Twilio Video + Media v1 emulator on ``http://host:port/<domain>/v1/...``.

    Credentials: the account SID with its auth token, or any API key SID with its secret from
    ``api_keys``. Switches (plain attributes, safe to flip while running): ``media_retired``
    answers every Media v1 path with Twilio's 404, ``latency`` adds seconds to every call,
    ``state.new_account`` refuses ``go`` rooms with error 53126.

    Faults: ``fail_next`` queues error answers; ``hang_next`` makes calls answer only after
    ``release_hung`` (later than any client waits); ``refuse_connections`` and
    ``refuse_connections_after`` stop listening, so the port refuses connections until
    ``accept_connections``; ``gate`` holds calls until several have arrived; ``after_call``
    runs a test's action at one point of a flow; ``clear_faults`` undoes them all.

    ``calls`` counts requests per ``(method, route template)``. Rooms created with a
    ``StatusCallback`` get Twilio's signed callbacks (``callbacks.deliveries`` records them;
    ``state.disconnect_participant`` plays a participant leaving). ``connect`` plays a client
    joining a room with an access token; ``state.publish_track``,
    ``state.participant_reconnecting``/``participant_reconnected`` and
    ``state.participant_leaves`` play what it does next.

    Time: ``clock`` (injectable) is Twilio's. What it decides (rooms ending on their
    timeouts, participants on ``MaxParticipantDuration``, MaxDuration) is applied before every
    request and client action, and with ``tick_interval`` also every that many seconds, so a
    room ends on time with nobody calling.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        api_keys: Mapping[str, str] | None = None,
        media_retired: bool = False,
        new_account: bool = False,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
        tick_interval: float | None = None,
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.credentials = Credentials(account_sid, auth_token, api_keys)
        self.media_retired = media_retired
        self.latency = latency
        self.callbacks = CallbackSender(auth_token)
        self.state = EmulatorState(
            account_sid, new_account=new_account, clock=clock, on_room_event=self.callbacks.send
        )
        self.calls: Counter[tuple[str, str]] = Counter()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._serving_lock = threading.Lock()
        self._httpd = self._bind(host, port)
        self._address: tuple[str, int] = (str(self._httpd.server_address[0]), self.port)
        self.state.media_base = self.base_url
        self._thread: threading.Thread | None = None
        #: Seconds between checks of what time has decided (rooms timing out...), or None:
        #: then they are checked before every request and client action only.
        self.tick_interval = tick_interval
        self._ticker: threading.Thread | None = None
        self._ticking = threading.Event()
        self._stopped = False
        #: False while connections are refused (``refuse_connections``), and after ``stop``.
        self.listening = True

    def _bind(self, host: str, port: int) -> EmulatorHTTPServer:
        httpd = EmulatorHTTPServer((host, port), RequestHandler)
        httpd.emulator = self
        return httpd

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        host, port = self._address
        return f"http://{host}:{port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="twilio-emulator", daemon=True
        )
        self._thread.start()
        self._start_ticker()
        return self

    def _start_ticker(self) -> None:
        if self.tick_interval is None or self._ticker is not None:
            return
        interval = self.tick_interval

        def tick() -> None:
            while not self._ticking.wait(interval):
                with self.state.lock:
                    self.state.expire()

        self._ticker = threading.Thread(target=tick, name="twilio-emulator-clock", daemon=True)
        self._ticker.start()

    def serve_forever(self) -> None:
        self._start_ticker()
        self._httpd.serve_forever()

    def stop(self) -> None:
        self.release_hung()
        self._ticking.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        with self._serving_lock:
            self._stopped = True
            self._httpd.shutdown()
            self._httpd.server_close()
            self.listening = False
            if self._thread is not None:
                self._thread.join(timeout=5)
        self._drop_connections(keep=None)
        self.callbacks.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- connections and counters ---------------------------------------------------------------

    def refuse_connections(self, *, keep: socket.socket | None = None) -> None:
        """Stop listening and close every open connection: new calls are refused by the OS.

        ``keep`` is a connection to leave open (the one still answering its last call).
        """
        with self._serving_lock:
            if self.listening:
                self._httpd.shutdown()
                self._httpd.server_close()
                if self._thread is not None:
                    self._thread.join(timeout=5)
                self.listening = False
        self._drop_connections(keep=keep)

    def accept_connections(self) -> None:
        """Listen again on the same port after ``refuse_connections``."""
        with self._serving_lock:
            if self.listening or self._stopped:
                return
            self._httpd = self._bind(*self._address)
            self.start()
            self.listening = True

    def clear_faults(self) -> None:
        """Undo every injected fault: queued failures and hangs, gates, refused connections."""
        self.clear_queued_faults()
        self.accept_connections()

    def opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _drop_connections(self, *, keep: socket.socket | None) -> None:
        with self._lock:
            doomed = [conn for conn in self._connections if conn is not keep]
        for conn in doomed:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)

    def count(self, method: str, route: str) -> None:
        with self._lock:
            self.calls[(method, route)] += 1

    def calls_to(self, method: str, route: str) -> int:
        with self._lock:
            return self.calls[(method, route)]

    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    # -- clients (what the Video SDK does) ------------------------------------------------------

    def connect(self, token: str) -> Participant:
        """A client connects with a Video access token, as ``Video.connect(token)`` does.

        The token must be signed with one of this account's API keys (HS256, ``iss`` the key,
        ``sub`` the account), unexpired, and carry an identity and a VideoGrant naming a room.
        Refusals are Twilio's: 20101 invalid token (or no identity or no room in its
        grant), 20104 expired, 53106 no such room in progress, 53105 the room is full.
        """
        identity, room = self.credentials.video_grant(token)
        return self.state.connect_participant(room, identity)

    def authorised(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries this account's credentials."""
        return self.credentials.authorised(header)
