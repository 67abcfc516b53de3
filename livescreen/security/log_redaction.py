"""A logging filter that replaces the values of secret settings with ``***``.

Defence in depth: no code logs a secret on purpose, and this filter makes sure an exception
message that happens to contain one (an upstream error echoing a credential) is masked too.
"""

from __future__ import annotations

import logging

from livescreen.config import SECRET_KEYS, Settings

MASK = "***"
#: Values shorter than this are not masked (they would mask ordinary words).
MIN_SECRET_LENGTH = 6


class SecretRedactingFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()

    def remember(self, settings: Settings) -> None:
        values = {settings.get(key, "") for key in SECRET_KEYS}
        self._secrets = tuple(
            # longest first, so a secret inside another is masked after it; then by text, so
            # the order never depends on the set's
            sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=lambda v: (-len(v), v))
        )

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            if self.redact(formatted) != formatted:
                record.exc_info = None
                record.exc_text = self.redact(formatted)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


secret_filter = SecretRedactingFilter()


def install(logger: logging.Logger) -> None:
    """Attach the shared filter to ``logger``'s handlers (and the logger itself)."""
    if secret_filter not in logger.filters:
        logger.addFilter(secret_filter)
    for handler in logger.handlers:
        if secret_filter not in handler.filters:
            handler.addFilter(secret_filter)
