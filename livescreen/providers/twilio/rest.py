"""Calls to Twilio's REST API through the client's generic ``request`` method.

One place decides what is retried: 429 always (nothing was done), 5xx and connection errors only
for idempotent calls (reads, and updates to a final status), with exponential backoff that honours
``Retry-After`` and stays inside a fixed time budget. Errors come out as ``TwilioApiError``, a
``ProviderError`` whose message a user can act on and that carries no secret.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from livescreen.errors import ProviderError

if TYPE_CHECKING:
    from twilio.rest import Client

log = logging.getLogger(__name__)


class TwilioApiError(ProviderError):
    """Twilio answered with an error (``http_status``, Twilio error ``code``) or not at all.

    The caller gets a 503 when trying again later is the cure (rate limited, no answer in time,
    Twilio unreachable) and a 502 when Twilio answered with an error of its own.
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        status = 503 if http_status in (None, 429) else 502
        super().__init__(message, status=status, retry_after=retry_after)
        self.http_status = http_status
        self.code = code

    @property
    def not_found(self) -> bool:
        return self.http_status == 404 or self.code == 20404

    @property
    def maybe_done(self) -> bool:
        """Whether Twilio may have done what was asked although the call failed.

        True when no answer came (a timeout, a dropped connection) or Twilio failed with a 5xx:
        a create may have created something, which the caller must then find and end.
        """
        return self.http_status is None or self.http_status >= 500


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``attempts`` tries; waits double from ``base_delay``; all waits fit ``budget``."""

    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 2.0
    budget: float = 4.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        backoff = min(self.max_delay, self.base_delay * 2**attempt)
        return backoff * (0.5 + random.random() / 2)  # jitter: spread synchronized retries


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _describe(method: str, url: str) -> str:
    return f"{method} {urlsplit(url).path}"


class TwilioRest:
    """JSON in, JSON out, over ``client.request``."""

    def __init__(self, client: Client, retry: RetryPolicy | None = None) -> None:
        self.client = client
        self.retry = retry or RetryPolicy()

    def call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, object] | None = None,
        idempotent: bool,
    ) -> dict[str, Any]:
        import requests

        waited = 0.0
        for attempt in range(self.retry.attempts):
            last = attempt == self.retry.attempts - 1
            retry_after: float | None = None
            try:
                response = self.client.request(
                    method,
                    url,
                    params=dict(params) if params else None,
                    data=dict(data) if data else None,
                )
            except requests.Timeout:
                log.warning("Twilio %s did not answer in time", _describe(method, url))
                raise TwilioApiError(
                    f"Twilio did not answer in time ({_describe(method, url)}); "
                    "try again in a few seconds"
                ) from None
            except requests.RequestException as exc:
                if not idempotent or last:
                    raise _unreachable(method, url, exc) from None
                status = 0
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return json.loads(response.text) if response.text else {}
                retryable = status == 429 or (status >= 500 and idempotent)
                retry_after = _retry_after(response.headers)
                if not retryable or last:
                    raise self._error(method, url, status, response.text, retry_after)
            pause = self.retry.delay(attempt, retry_after)
            if waited + pause > self.retry.budget:
                if status:
                    raise self._error(method, url, status, response.text, retry_after)
                raise _unreachable(method, url, None)
            log.warning(
                "Twilio %s answered %s; retrying in %.2f s",
                _describe(method, url),
                status or "no connection",
                pause,
            )
            self.retry.sleep(pause)
            waited += pause
        raise AssertionError("unreachable: the last attempt returns or raises")

    def redirect_target(self, url: str, params: Mapping[str, object]) -> str:
        """Where a ``GET`` that Twilio answers with a redirect points; the redirect is not
        followed (the target may be a large media file). One attempt: the caller is a browser
        that can try again."""
        import requests

        try:
            response = self.client.request("GET", url, params=dict(params), allow_redirects=False)
        except requests.Timeout:
            raise TwilioApiError(
                f"Twilio did not answer in time ({_describe('GET', url)}); "
                "try again in a few seconds"
            ) from None
        except requests.RequestException as exc:
            raise _unreachable("GET", url, exc) from None
        status = response.status_code
        headers = response.headers or {}
        location = headers.get("Location") or headers.get("location")
        if 300 <= status < 400 and location:
            return str(location)
        if 200 <= status < 300:
            try:
                target = json.loads(response.text).get("redirect_to")
            except (ValueError, AttributeError):
                target = None
            if isinstance(target, str) and target:
                return target
            raise TwilioApiError(
                f"Twilio answered {_describe('GET', url)} without a redirect", http_status=502
            )
        raise self._error("GET", url, status, response.text, _retry_after(headers))

    def pages(
        self, url: str, key: str, params: Mapping[str, object], *, max_pages: int = 20
    ) -> Iterator[dict[str, Any]]:
        """Every item of a Twilio list, following ``meta.next_page_url``."""
        next_url: str | None = url
        query: Mapping[str, object] | None = params
        for _ in range(max_pages):
            if not next_url:
                return
            page = self.call("GET", next_url, params=query, idempotent=True)
            yield from page.get(key) or []
            next_url = (page.get("meta") or {}).get("next_page_url")
            query = None  # the next page URL carries the filters

    @staticmethod
    def _error(
        method: str, url: str, status: int, text: str, retry_after: float | None = None
    ) -> TwilioApiError:
        code: int | None = None
        detail = ""
        try:
            payload = json.loads(text)
            code = payload.get("code")
            detail = str(payload.get("message") or "")
        except (ValueError, AttributeError):
            pass
        log.warning("Twilio %s failed: HTTP %s, error %s", _describe(method, url), status, code)
        wait = math.ceil(retry_after) if retry_after is not None and retry_after > 0 else None
        if status == 429:
            when = f"in {wait} second{'s' if wait > 1 else ''}" if wait else "in a few seconds"
            message = f"Twilio is rate limiting this account; try again {when}"
            return TwilioApiError(message, http_status=status, code=code, retry_after=wait)
        verb = "failed" if status >= 500 else "refused"
        message = f"Twilio {verb} {_describe(method, url)}: HTTP {status}"
        if code:
            message += f", error {code}"
        if detail:
            message += f" ({detail})"
        if status >= 500:
            message += "; Twilio may be having trouble, try again shortly"
        return TwilioApiError(message, http_status=status, code=code, retry_after=wait)


def _unreachable(method: str, url: str, exc: Exception | None) -> TwilioApiError:
    kind = f": {type(exc).__name__}" if exc is not None else ""
    log.warning("Could not reach Twilio (%s)%s", _describe(method, url), kind)
    return TwilioApiError(
        f"Could not reach Twilio ({_describe(method, url)}){kind}; check this server's network "
        "connection, then try again"
    )
