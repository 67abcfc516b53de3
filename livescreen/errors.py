"""The errors an upstream service causes, which every layer may raise and the runtime answers.

A provider, a chat or a recording store raises ``ProviderError`` when the service behind it
fails or refuses; the function runtime turns it into an answer with its ``status`` (and
``Retry-After``). It lives below every layer so that the runtime can catch it without
importing the providers.
"""

from __future__ import annotations


class ProviderError(Exception):
    """An upstream service failed or refused; ``status`` is the HTTP status to answer with.

    ``retry_after`` (whole seconds), when set, is sent to the caller as ``Retry-After``.
    """

    status = 502

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        if status is not None:
            self.status = status


class ProviderUnavailableError(ProviderError):
    """The provider cannot work here at all (retired service, wrong environment, no credentials)."""

    status = 503
