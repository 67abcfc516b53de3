"""The dev server's lifecycle: its listening socket, uvicorn, start-up and shutdown.

The app (``app.DevApp``) runs on uvicorn: one event loop accepts connections (with a
deep listen backlog, so a crowd arriving at once is queued, not refused), synchronous function
handlers run on a bounded pool of worker threads, and the pages' sockets
wait on the loop without holding a thread. Function files are reloaded when they change.
Ctrl+C ends every open page socket and stops within a couple of seconds.

Each connection is bounded (``http_protocol``: head size and deadline, a connection cap under
the open-file limit), each request's Host is checked and each answer gets the stack's security
headers (``guards``), and the log says each condition at most once a minute (``log_limit``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import threading
from pathlib import Path
from typing import TextIO

import uvicorn

from livescreen.chat.local.room import CHAT_ROOM
from livescreen.config import Settings
from livescreen.devserver import guards, log_limit
from livescreen.devserver.app import DevApp
from livescreen.devserver.connection_limits import ACCEPT_BATCH, Limits
from livescreen.devserver.http_protocol import protocol_for
from livescreen.devserver.page_socket import MAX_MESSAGE_BYTES
from livescreen.devserver.websocket_protocol import PageSocketProtocol
from livescreen.providers.local.hub import HUB
from livescreen.runtime.loader import FunctionRegistry, FunctionSpec
from livescreen.security import embed_origins
from livescreen.store.counting import flush_counter

logger = logging.getLogger("livescreen.devserver")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Connections the kernel queues before the server accepts them.
LISTEN_BACKLOG = 2048
#: Longest wait for requests still running once the server is told to stop.
SHUTDOWN_GRACE_SECONDS = 2
#: How long a stopping server waits for the audience counting of the streams it ends.
SHUTDOWN_COUNTING_SECONDS = 2.0


def list_assets(assets_dir: Path) -> list[str]:
    if not assets_dir.is_dir():
        return []
    return sorted(
        "/" + p.relative_to(assets_dir).as_posix()
        for p in assets_dir.rglob("*")
        if p.is_file() and "vendor" not in p.relative_to(assets_dir).parts[:1]
    )


class _Server(uvicorn.Server):
    """uvicorn's server, which first ends the pages' sockets when told to stop."""

    def __init__(self, config: uvicorn.Config, app: DevApp) -> None:
        super().__init__(config)
        self.dev_app = app
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.dev_app.bind_loop()
        await super().startup(sockets)
        # asyncio accepts as many connections at a time as the backlog it was given (uvicorn's
        # ``backlog``, ACCEPT_BATCH), before any of them reaches the connection cap: a small
        # batch keeps those below the descriptors the cap leaves free. The kernel's queue of
        # connections waiting to be accepted stays deep.
        for sock in sockets or []:
            sock.listen(LISTEN_BACKLOG)
        self.ready.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.dev_app.stop_streams()
        # viewers and the host are told the stream is over; offers waiting on a thread return
        HUB.reset()
        CHAT_ROOM.reset()
        # the streams just ended (and their viewers' minutes) are written before the exit
        flush_counter(SHUTDOWN_COUNTING_SECONDS)
        await super().shutdown(sockets)
        self.dev_app.close()


class DevServer:
    """The dev server; ``port=0`` picks a free port (tests)."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        root: Path = PROJECT_ROOT,
    ) -> None:
        # a bad EMBED_ORIGINS is refused before anything starts (ConfigError naming it)
        embed_origins.embed_origins(settings)
        self.settings = settings
        self.root = root
        self.functions = FunctionRegistry(root / "functions", reload=True)
        self.functions.on_reload = self._reloaded
        self.app = DevApp(lambda: self.settings, self.functions, root / "assets")
        self._socket = _listen(host, port)
        #: the bounds of every connection (see connection_limits.py); tests may change them
        self.limits = Limits(security_headers=lambda: guards.security_headers("/", self.settings))
        config = uvicorn.Config(
            self.app,
            http=protocol_for(self.limits),
            # each page's one WebSocket (page_socket): small JSON messages, none compressed
            ws=PageSocketProtocol,
            ws_max_size=MAX_MESSAGE_BYTES,
            ws_per_message_deflate=False,
            lifespan="off",
            # the throttle keys on the connection's address: never take it from a header
            proxy_headers=False,
            server_header=False,
            access_log=False,
            log_config=None,
            backlog=ACCEPT_BATCH,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
            timeout_keep_alive=5,
        )
        self._server = _Server(config, self.app)
        self._thread: threading.Thread | None = None

    @staticmethod
    def _reloaded(spec: FunctionSpec) -> None:
        logger.info("reloaded %s", spec.path.name)

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = str(self._socket.getsockname()[0])
        return f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{self.port}"

    def banner(self) -> str:
        lines = ["Functions available:"]
        names = self.functions.names()
        lines += [f"  {self.url}/{name}" for name in names] or ["  (no functions found)"]
        lines.append("Assets available:")
        assets = list_assets(self.root / "assets")
        lines += [f"  {self.url}{asset}" for asset in assets] or ["  (no assets found)"]
        if not (self.root / "assets" / "vendor").is_dir():
            lines.append("  ! assets/vendor is missing: run `npm ci && npm run build`")
        return "\n".join(lines)

    def serve_forever(self, out: TextIO = sys.stdout) -> None:
        """Serve until Ctrl+C (then ``KeyboardInterrupt`` is raised once stopped). The log's
        handlers let one line per condition per minute through meanwhile (log_limit.py)."""
        handlers = list(logging.getLogger().handlers)
        repeats = log_limit.RepeatFilter()
        log_limit.install(handlers, repeats)
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()
            repeats.flush(logger)
            log_limit.uninstall(handlers, repeats)

    def start_background(self) -> None:
        """Serve on a thread of its own; returns once the server accepts connections."""

        def serve() -> None:
            asyncio.run(self._server.serve(sockets=[self._socket]))

        self._thread = threading.Thread(target=serve, name="livescreen-dev", daemon=True)
        self._thread.start()
        if not self._server.ready.wait(10):
            raise RuntimeError("the dev server did not start within 10 s")

    def shutdown(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound now so that a busy port is an error before anything prints."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
