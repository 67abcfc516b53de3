"""Keeps the dev server's log from flooding: one line per condition per minute.

A client can make the server log on every request (a refused Host, a malformed request, a
connection over the cap) and a shortage (no file descriptors left) makes the event loop log on
every connection it fails to accept. ``RepeatFilter`` lets the first line of each condition
through and counts the repeats for ``WINDOW_SECONDS``; the next line of that condition after the
window says how many were left out (and ``flush`` says it for all of them when the server stops).

A condition is a logger, a level and a message: for warnings and errors the message's template
(``"refused a request for host %r"``, whatever the host) and the exception's type, for
information the formatted line itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
#: Conditions remembered at most; the oldest windows are forgotten first.
MAX_CONDITIONS = 1000

Key = tuple[str, int, str, str]


@dataclass
class _Window:
    started: float
    suppressed: int = 0


class RepeatFilter(logging.Filter):
    """A handler filter passing one record per condition per ``window`` seconds."""

    def __init__(
        self, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[Key, _Window] = {}

    @staticmethod
    def _key(record: logging.LogRecord) -> Key:
        text = str(record.msg) if record.levelno >= logging.WARNING else record.getMessage()
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        return record.name, record.levelno, text, error

    def filter(self, record: logging.LogRecord) -> bool:
        key = self._key(record)
        now = self._clock()
        with self._lock:
            window = self._windows.get(key)
            if window is not None and now - window.started < self.window:
                window.suppressed += 1
                return False
            self._windows.pop(key, None)
            self._windows[key] = _Window(now)
            if len(self._windows) > MAX_CONDITIONS:
                del self._windows[next(iter(self._windows))]
        if window is not None and window.suppressed:
            record.msg = f"{record.getMessage()} ({self._more(window.suppressed)})"
            record.args = None
        return True

    def _more(self, count: int) -> str:
        return f"{count} more like this in the {self.window:g} s before, not logged"

    def flush(self, logger: logging.Logger) -> None:
        """Log how many lines each condition left out in its current window."""
        with self._lock:
            pending = [(k, w.suppressed) for k, w in self._windows.items() if w.suppressed]
            for key, _ in pending:
                self._windows[key].suppressed = 0
        for (name, _level, text, _error), count in pending:
            # one distinct line per condition (a template would make them one condition)
            logger.warning(f"{name}: {self._more(count)}: {text!r}")


def install(handlers: list[logging.Handler], repeat_filter: RepeatFilter) -> None:
    for handler in handlers:
        if repeat_filter not in handler.filters:
            handler.addFilter(repeat_filter)


def uninstall(handlers: list[logging.Handler], repeat_filter: RepeatFilter) -> None:
    for handler in handlers:
        handler.removeFilter(repeat_filter)
