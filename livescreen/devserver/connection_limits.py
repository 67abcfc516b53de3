"""The bounds of the dev server's connections: a request head's size and deadline, and how many
connections may be open at once.

Every open connection (WebSockets too) holds a file descriptor, and the process may hold
``RLIMIT_NOFILE`` of them. ``connection_cap()`` keeps a reserve below that limit for files, the
listening socket and the log, so the server never runs out of descriptors (the event loop would
stop accepting for a second each time, and log it). The loop accepts ``ACCEPT_BATCH``
connections at a time, so that a crowd arriving at once cannot overshoot the cap by more.
``http_protocol`` enforces these bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from livescreen.devserver import guards

try:
    import resource
except ImportError:  # pragma: no cover - Windows has no RLIMIT_NOFILE
    resource = None  # type: ignore[assignment]

MAX_HEAD_BYTES = 32 * 1024
#: How long a client may take to send a request head.
HEAD_TIMEOUT_SECONDS = 10.0
#: Descriptors kept free below RLIMIT_NOFILE: at least this many, or an eighth of the limit.
FD_RESERVE = 96
#: The cap never goes below this, however low the limit.
MIN_CONNECTIONS = 16
#: The cap when the platform has no RLIMIT_NOFILE.
DEFAULT_CONNECTIONS = 512
#: Connections refused at the cap that may be drained at once; more are closed at once.
MAX_REFUSING = 16
#: Connections the event loop accepts at a time, before any of them reaches the cap (the
#: server's ``backlog`` for asyncio; the kernel's own queue stays deep). The reserve covers
#: the process's own files, the connections being refused, a few batches and the worker
#: threads' open files.
ACCEPT_BATCH = 16


def connection_cap(limit: int | None = None) -> int:
    """The most connections open at once under an open-file limit of ``limit`` (the process's
    own soft RLIMIT_NOFILE by default)."""
    if limit is None:
        if resource is None:
            return DEFAULT_CONNECTIONS
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if limit == resource.RLIM_INFINITY:
            limit = 1 << 20
    return max(MIN_CONNECTIONS, limit - max(FD_RESERVE, limit // 8))


@dataclass
class Limits:
    """One server's bounds, shared by its connections."""

    max_connections: int = field(default_factory=connection_cap)
    head_timeout: float = HEAD_TIMEOUT_SECONDS
    #: The security headers of an answer the connection writes itself (not the app).
    security_headers: Callable[[], list[tuple[bytes, bytes]]] = lambda: guards.security_headers("/")
    #: Connections refused at the cap, still being drained.
    refusing: int = 0
