"""The twilio REST client the ``twilio`` provider (and the CLI) use.

It authenticates with an API key (``API_KEY_SID``/``API_KEY_SECRET``) on behalf of
``ACCOUNT_SID``, gives up after ``UPSTREAM_TIMEOUT`` seconds (well inside the Lambda timeout),
and, when ``TWILIO_API_BASE_URL`` is set, sends every request to that base instead of
``https://<domain>.twilio.com`` (``https://video.twilio.com/v1/Rooms`` becomes
``<base>/video/v1/Rooms``): that is how the tests and the dev server reach the local emulator
with the real client over real HTTP.

The twilio package is imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from livescreen.config import ConfigError, Settings

if TYPE_CHECKING:
    from twilio.http import HttpClient
    from twilio.rest import Client

#: How long one HTTP call to Twilio may take, by default, in seconds.
DEFAULT_TIMEOUT = 4


def rewrite_url(url: str, base_url: str) -> str:
    """``https://video.twilio.com/v1/Rooms?x=1`` -> ``<base_url>/video/v1/Rooms?x=1``.

    URLs outside ``twilio.com`` are returned unchanged.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host.endswith(".twilio.com"):
        return url
    domain = host.split(".", 1)[0]
    query = f"?{parts.query}" if parts.query else ""
    return f"{base_url.rstrip('/')}/{domain}{parts.path}{query}"


def _http_client(timeout: float, base_url: str | None) -> HttpClient:
    from requests.adapters import HTTPAdapter
    from twilio.http.http_client import TwilioHttpClient

    if not base_url:
        return TwilioHttpClient(timeout=timeout)
    base: str = base_url

    class RedirectingHttpClient(TwilioHttpClient):
        """Sends every Twilio request to ``base`` instead of ``https://*.twilio.com``."""

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            return super().request(method, rewrite_url(url, base), *args, **kwargs)

    client = RedirectingHttpClient(timeout=timeout)
    if client.session is not None:
        # Many viewers may share one process (dev server, benchmarks): keep connections pooled.
        client.session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=64))
    return client


def make_twilio_client(settings: Settings) -> Client:
    """A ``twilio.rest.Client`` for ``settings`` (see the module docstring)."""
    from twilio.rest import Client

    raw_timeout = settings.get("UPSTREAM_TIMEOUT") or str(DEFAULT_TIMEOUT)
    try:
        timeout = float(raw_timeout)
    except ValueError:
        timeout = 0
    if not 0 < timeout <= 60:
        raise ConfigError(
            f"Setting UPSTREAM_TIMEOUT must be a number of seconds between 0 and 60, "
            f"got {raw_timeout!r}"
        )
    return Client(
        username=settings.require("API_KEY_SID"),
        password=settings.require("API_KEY_SECRET"),
        account_sid=settings.require("ACCOUNT_SID"),
        http_client=_http_client(timeout, settings.get("TWILIO_API_BASE_URL") or None),
    )
