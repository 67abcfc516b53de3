"""The dev server's bounds that need no server: its log's repeat filter and its connection cap."""

from __future__ import annotations

import logging

import pytest

from livescreen.devserver.connection_limits import connection_cap
from livescreen.devserver.log_limit import RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logged() -> list[str]:
    return []


@pytest.fixture
def log(logged: list[str]) -> tuple[logging.Logger, Clock, RepeatFilter]:
    clock = Clock()
    repeats = RepeatFilter(window=60, clock=clock)

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    handler = Collect()
    handler.addFilter(repeats)
    logger = logging.getLogger("test.devserver.repeats")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, clock, repeats


def test_a_condition_is_logged_once_a_minute_with_a_count_of_the_rest(
    log: tuple[logging.Logger, Clock, RepeatFilter], logged: list[str]
) -> None:
    logger, clock, _ = log
    # WHEN the same condition is logged 500 times within a minute
    for n in range(500):
        logger.warning("a request for host %r refused", f"evil-{n}.example")
    # THEN one line is written
    assert logged == ["a request for host 'evil-0.example' refused"]
    # AND the next one after the minute says how many were left out
    clock.now += 60
    logger.warning("a request for host %r refused", "again.example")
    assert logged[1] == (
        "a request for host 'again.example' refused (499 more like this in the 60 s before, "
        "not logged)"
    )


def test_other_conditions_are_not_held_back(
    log: tuple[logging.Logger, Clock, RepeatFilter], logged: list[str]
) -> None:
    logger, _, _ = log
    logger.error("socket.accept() out of system resource")
    logger.error("socket.accept() out of system resource")
    logger.warning("a request head over %d KB: answered 431", 32)
    logger.info("GET %s -> %s", "/a", 404)
    logger.info("GET %s -> %s", "/b", 404)
    logger.info("GET %s -> %s", "/b", 404)

    assert logged == [
        "socket.accept() out of system resource",
        "a request head over 32 KB: answered 431",
        "GET /a -> 404",
        "GET /b -> 404",
    ]


def test_exceptions_of_another_type_are_another_condition(
    log: tuple[logging.Logger, Clock, RepeatFilter], logged: list[str]
) -> None:
    logger, _, _ = log
    for error in (OSError(24, "Too many open files"), OSError(), ValueError("x")):
        try:
            raise error
        except Exception:
            logger.exception("GET / failed")

    assert logged == ["GET / failed", "GET / failed"]


def test_flush_says_what_was_left_out(
    log: tuple[logging.Logger, Clock, RepeatFilter], logged: list[str]
) -> None:
    logger, _, repeats = log
    for _ in range(3):
        logger.error("socket.accept() out of system resource")
        logger.warning("refused %s", "x")

    repeats.flush(logger)

    assert logged[2:] == [
        "test.devserver.repeats: 2 more like this in the 60 s before, not logged: "
        "'socket.accept() out of system resource'",
        "test.devserver.repeats: 2 more like this in the 60 s before, not logged: 'refused %s'",
    ]


@pytest.mark.parametrize(
    ("limit", "cap"), [(256, 160), (1024, 896), (4096, 3584), (65536, 57344), (64, 16)]
)
def test_the_connection_cap_keeps_a_reserve_of_descriptors(limit: int, cap: int) -> None:
    assert connection_cap(limit) == cap
