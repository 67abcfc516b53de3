"""A real ``livescreen dev`` in its own process, for the attack suite: loopback only.

Every attack in ``tests/attacks`` runs against this process, the way a stranger on the network
would meet it: over real sockets, with nothing patched inside the server. Each test gets a fresh
server in a temporary folder with its own ``.env`` (``DevProcess.start(tmp_path, **settings)``).
The attacks are bounded (a few hundred requests at most) and never leave 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from livescreen.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "attack-suite-host-password-0123"
#: Loopback addresses that stand for different machines (Linux routes all of 127/8 to lo).
HOST_ADDRESS = "127.0.0.1"
NEIGHBOUR_ADDRESS = "127.0.0.2"
ATTACKER_ADDRESS = "127.0.0.66"
SESSION_SECRET = "attack-suite-session-secret-0123456789abcdef"
READY_LINE = "Press Ctrl+C to stop."


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def _prepare(folder: Path, settings: Mapping[str, str]) -> dict[str, str]:
    """Write ``folder/.env`` (the suite's defaults, then ``settings``); the environment to run
    ``livescreen dev`` in: none of the app's settings from this process, not on Lambda."""
    folder.mkdir(parents=True, exist_ok=True)
    values = {
        "STREAM_PROVIDER": "local",
        "CHAT_PROVIDER": "local",
        "HOST_PASSWORD": PASSWORD,
        "HOST_SESSION_SECRET": SESSION_SECRET,
        "RECORDING": "off",
        **settings,
    }
    (folder / ".env").write_text(
        "".join(f"{key}={value}\n" for key, value in values.items()), encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k not in DEFAULTS}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DevProcess:
    """``livescreen dev`` on 127.0.0.1 with the given settings, run from ``folder``."""

    def __init__(self, folder: Path, process: subprocess.Popen[str], port: int) -> None:
        self.folder = folder
        self.process = process
        self.port = port
        self.host = "127.0.0.1"
        self.password = PASSWORD
        self._lines: list[str] = []
        self._lines_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        folder: Path,
        *,
        extra_args: tuple[str, ...] = (),
        preexec: Any = None,
        **settings: str,
    ) -> DevProcess:
        """Write ``folder/.env`` from the defaults below and ``settings``; start and wait until
        the server prints its ready line (30 s at most)."""
        env = _prepare(folder, settings)
        port = _free_port()
        cli = Path(sys.executable).with_name("livescreen")
        process = subprocess.Popen(
            [str(cli), "dev", "--host", "127.0.0.1", "--port", str(port), *extra_args],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=preexec,
        )
        dev = cls(folder, process, port)
        dev._wait_ready()
        return dev

    def _wait_ready(self) -> None:
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                with self._lines_lock:
                    self._lines.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            if READY_LINE in line:
                return
        self.stop()
        raise RuntimeError("livescreen dev did not become ready:\n" + self.output())

    def output(self) -> str:
        """Everything the server has printed so far (its log included)."""
        with self._lines_lock:
            return "".join(self._lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    # -- requests ----------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        source: str = "127.0.0.1",
    ) -> Answer:
        """One request on a fresh connection from ``source`` (any 127.x.y.z address: each is
        another client to the server); ``Host`` is ``localhost:<port>`` unless given."""
        all_headers = {"Host": f"localhost:{self.port}", **(headers or {})}
        started = time.monotonic()
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=timeout, source_address=(source, 0)
        )
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in all_headers.items():
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            return Answer(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                data,
                time.monotonic() - started,
            )
        finally:
            connection.close()

    def post_json(
        self,
        path: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
        *,
        source: str = "127.0.0.1",
    ) -> Answer:
        """A same-origin JSON POST from ``source``, as the app's own pages send it."""
        return self.request(
            "POST",
            path,
            source=source,
            body=json.dumps(payload).encode(),
            headers={
                "Content-Type": "application/json",
                "Origin": self.origin,
                "Sec-Fetch-Site": "same-origin",
                **(headers or {}),
            },
        )

    def open_socket(
        self, *, source: str = "127.0.0.1", origin: str | None = None, timeout: float = 10.0
    ) -> ClientConnection:
        """A page's WebSocket (``/socket``) from ``source``, with the page's own ``Origin``
        unless told otherwise; close it when done (it is a context manager)."""
        sock = socket.create_connection((self.host, self.port), timeout, (source, 0))
        try:
            return connect(
                f"ws://localhost:{self.port}/socket",
                sock=sock,
                origin=Origin(origin or self.origin),
                open_timeout=timeout,
                legacy=True,
            )
        except BaseException:
            sock.close()
            raise

    def host_sign_in(self) -> Answer:
        """What the host page does first: ``POST /host_token`` with the password."""
        return self.host_sign_in_from(HOST_ADDRESS)

    def host_sign_in_from(self, source: str) -> Answer:
        """``POST /host_token`` with the right password, from ``source``."""
        return self.post_json("/host_token", {"password": self.password}, source=source)


def failed_start(folder: Path, *, timeout: float = 30.0, **settings: str) -> tuple[int, str]:
    """Run ``livescreen dev`` with ``folder/.env`` written as ``DevProcess.start`` writes it, for
    a start that must be refused: its exit status and everything it printed. A server that
    starts instead is stopped, and the status is then 0."""
    env = _prepare(folder, settings)
    cli = Path(sys.executable).with_name("livescreen")
    command = [str(cli), "dev", "--host", "127.0.0.1", "--port", str(_free_port())]
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
        return 0, output
    return process.returncode, output


# -- the chat, as its pages use it -----------------------------------------------------------------


def chat_token(
    dev: DevProcess, name: str | None = None, *, source: str, session: str | None = None
) -> Answer:
    """``POST /chat_token`` from ``source``: a viewer's (``name``) or, with ``session``, the
    host's."""
    body: dict[str, Any] = {}
    if name is not None:
        body["name"] = name
    if session is not None:
        body["session"] = session
    return dev.post_json("/chat_token", body, source=source)


def chat_send(dev: DevProcess, token: str, text: str, *, source: str) -> Answer:
    """``POST /chat/send``: one message, as the chat panel sends it."""
    return dev.post_json("/chat/send", {"token": token, "text": text}, source=source)


class ChatConnection:
    """One chatter's open chat connection (``open_chat``): ``status`` 200 once the server took
    it, else the status it refused it with (401, 403, 429) and its ``error``."""

    def __init__(
        self,
        status: int,
        error: str,
        connection: Any = None,
        stack: Any = None,
    ) -> None:
        self.status = status
        self.error = error
        self._connection = connection
        self._stack = stack

    def next_event(self, timeout: float = 10.0) -> tuple[str, Any]:
        """The next chat event ``(name, data)``, keep-alives skipped; ``TimeoutError`` after
        ``timeout`` seconds of nothing."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no chat event")
            message = json.loads(self._connection.recv(timeout=left))
            if message.get("channel") == "chat":
                return message["event"], message.get("data")

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self._connection = self._stack = None


def open_chat(dev: DevProcess, token: str, source: str) -> ChatConnection:
    """Open the chat's event connection for ``token`` from ``source`` as the page does, and wait
    (10 s at most) until the server has taken it or refused it.

    The page's transport is its WebSocket (``/socket``, channel ``chat``): a subscription is
    taken (``subscribed``) or refused (``error`` ``{status, error}``). The one place the attack
    suite opens a chat connection: change it here if the transport changes.
    """
    import contextlib

    from websockets.sync.client import connect
    from websockets.typing import Origin

    sock = socket.create_connection((dev.host, dev.port), timeout=10, source_address=(source, 0))
    sock.settimeout(None)  # the connection waits for events as long as it is open
    stack = contextlib.ExitStack()
    connection = stack.enter_context(
        connect(
            f"ws://localhost:{dev.port}/socket",
            sock=sock,
            origin=Origin(dev.origin),
            open_timeout=10,
            compression=None,
            proxy=None,
        )
    )
    connection.send(json.dumps({"type": "subscribe", "channel": "chat", "token": token}))
    opened = ChatConnection(200, "", connection, stack)
    try:
        event, data = opened.next_event()
    except BaseException:
        opened.close()
        raise
    if event == "subscribed":
        return opened
    opened.close()
    if event != "error":
        raise AssertionError(f"the chat answered {event} {data} before subscribing")
    return ChatConnection(int(data["status"]), str(data["error"]))
