"""Status callbacks the way Twilio sends them: form-encoded, signed, best effort.

Each callback carries ``X-Twilio-Signature``, computed with the account's auth token over the
URL and the form parameters (for GET, over the URL with the parameters in its query string).
One background thread delivers them in order with a short timeout; a failed delivery is
recorded and not retried. ``wait_idle`` lets a test wait until everything queued was sent.
"""

from __future__ import annotations

import queue
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode

#: Seconds one delivery may take before it is given up.
DEFAULT_TIMEOUT = 2.0


@dataclass(frozen=True)
class Delivery:
    """One callback sent: where, what, and the answer's status (None when there was none)."""

    url: str
    method: str
    params: dict[str, str]
    status: int | None
    body: bytes = b""


class CallbackSender:
    """Queues callbacks and delivers them from one daemon thread."""

    def __init__(self, auth_token: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._auth_token = auth_token
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[tuple[str, str, dict[str, str]] | None] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread: threading.Thread | None = None

    def send(self, url: str, method: str, params: dict[str, str]) -> None:
        """Queue one callback; returns at once."""
        with self._idle:
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="twilio-emulator-callbacks", daemon=True
                )
                self._thread.start()
        self._queue.put((url, method, params))

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queued callback was delivered or given up; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        with self._idle:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=self.timeout + 1)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            url, method, params = item
            delivery = self._deliver(url, method, params)
            with self._idle:
                self.deliveries.append(delivery)
                self._pending -= 1
                self._idle.notify_all()

    def _deliver(self, url: str, method: str, params: dict[str, str]) -> Delivery:
        from twilio.request_validator import RequestValidator

        validator = RequestValidator(self._auth_token)
        data: bytes | None = None
        target = url
        headers = {"User-Agent": "TwilioProxy/1.1"}
        if method in ("GET", "HEAD", "DELETE"):
            target = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
            signature = validator.compute_signature(target, {})
        else:
            data = urlencode(params).encode("utf-8")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            signature = validator.compute_signature(url, params)
        headers["X-Twilio-Signature"] = signature
        # The state accepted only http(s) StatusCallback URLs.
        request = urllib.request.Request(target, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return Delivery(url, method, params, answer.status, answer.read())
        except urllib.error.HTTPError as error:
            return Delivery(url, method, params, error.code, error.read())
        except (OSError, ValueError):
            return Delivery(url, method, params, None)
