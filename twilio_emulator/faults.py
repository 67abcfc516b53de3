"""Faults a test injects into the emulator, each for one ``(method, route template)``.

An error answer (``fail_next``), a call that never answers in time (``hang_next``), a gate
that holds calls until several have arrived (``gate``), so that a race between two callers is
certain to happen, a test's own action at one point of a flow (``after_call``), and refused
connections once a call has been answered (``refuse_connections_after``). The HTTP handler
(``handler.py``) takes each one as a call arrives; the server refuses connections.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import NamedTuple


class Failure(NamedTuple):
    """An injected error answer: HTTP status, ``Retry-After`` seconds, Twilio error code."""

    status: int
    retry_after: int | None = None
    code: int | None = None


class FaultsMixin:
    """The queued faults of an ``EmulatorServer``; safe to arm from any thread while it runs."""

    #: The longest a hung call waits for ``release_hung`` (``stop`` releases it at once).
    HANG_LIMIT = 30.0

    def __init__(self) -> None:
        self._faults_lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[Failure]] = {}
        self._hangs: dict[tuple[str, str], deque[bool]] = {}
        self._refuse_after: set[tuple[str, str]] = set()
        self._after: dict[tuple[str, str], deque[Callable[[], None]]] = {}
        self._gates: dict[tuple[str, str], threading.Barrier] = {}
        self._released = threading.Event()

    def fail_next(
        self,
        method: str,
        route: str,
        *,
        count: int = 1,
        status: int = 429,
        retry_after: int | None = 1,
        code: int | None = None,
    ) -> None:
        """Answer the next ``count`` calls to ``method route`` (a route template) with ``status``.

        ``retry_after`` (seconds) is sent as the ``Retry-After`` header on 429 and 503 answers;
        ``code`` is the Twilio error code of the answer (Twilio's generic one for the status by
        default).
        """
        with self._faults_lock:
            queue = self._failures.setdefault((method, route), deque())
            wait = retry_after if status in (429, 503) else None
            queue.extend([Failure(status, wait, code)] * count)

    def take_failure(self, method: str, route: str) -> Failure | None:
        with self._faults_lock:
            queue = self._failures.get((method, route))
            return queue.popleft() if queue else None

    def hang_next(
        self, method: str, route: str, *, count: int = 1, after_processing: bool = True
    ) -> None:
        """The next ``count`` calls to ``method route`` get no answer until ``release_hung``.

        With ``after_processing`` (the default, and the worst case for a client) the call
        takes effect first, as when Twilio did the work and the answer was lost; otherwise it
        is never processed. Either way the connection is closed without an answer once
        released, so a client whose timeout is shorter than ``HANG_LIMIT`` gives up first.
        """
        with self._faults_lock:
            self._released.clear()
            queue = self._hangs.setdefault((method, route), deque())
            queue.extend([after_processing] * count)

    def take_hang(self, method: str, route: str) -> bool | None:
        """None: answer normally; True/False: hang after/before processing the call."""
        with self._faults_lock:
            queue = self._hangs.get((method, route))
            return queue.popleft() if queue else None

    def wait_for_release(self) -> None:
        self._released.wait(self.HANG_LIMIT)

    def release_hung(self) -> None:
        """Let every hung call finish (its client has given up: nobody reads the answer)."""
        self._released.set()

    def gate(self, method: str, route: str, *, parties: int = 2, timeout: float = 10.0) -> None:
        """Hold calls to ``method route`` until ``parties`` of them have arrived, then let all
        of them through at once; a gate still short of callers after ``timeout`` opens anyway.
        """
        with self._faults_lock:
            self._gates[(method, route)] = threading.Barrier(parties, timeout=timeout)

    def pass_gate(self, method: str, route: str) -> None:
        with self._faults_lock:
            barrier = self._gates.get((method, route))
        if barrier is None:
            return
        try:
            if barrier.wait() == 0:  # every party is through: the gate is used up
                with self._faults_lock:
                    if self._gates.get((method, route)) is barrier:
                        del self._gates[(method, route)]
        except threading.BrokenBarrierError:
            with self._faults_lock:
                if self._gates.get((method, route)) is barrier:
                    del self._gates[(method, route)]

    def after_call(self, method: str, route: str, action: Callable[[], None]) -> None:
        """Run ``action`` once, when the next call to ``method route`` has been processed and
        before it is answered: a test arms a fault for the call that comes next in a flow."""
        with self._faults_lock:
            self._after.setdefault((method, route), deque()).append(action)

    def run_after_call(self, method: str, route: str) -> None:
        with self._faults_lock:
            queue = self._after.get((method, route))
            action = queue.popleft() if queue else None
        if action is not None:
            action()

    def refuse_connections_after(self, method: str, route: str) -> None:
        """Once the next call to ``method route`` has been answered, refuse connections."""
        with self._faults_lock:
            self._refuse_after.add((method, route))

    def take_refuse_after(self, method: str, route: str) -> bool:
        with self._faults_lock:
            if (method, route) in self._refuse_after:
                self._refuse_after.discard((method, route))
                return True
            return False

    def clear_queued_faults(self) -> None:
        """Undo every fault queued here: failures, hangs (released), gates (opened), actions."""
        with self._faults_lock:
            self._failures.clear()
            self._hangs.clear()
            self._refuse_after.clear()
            self._after.clear()
            gates = list(self._gates.values())
            self._gates.clear()
        for barrier in gates:
            barrier.abort()
        self.release_hung()
