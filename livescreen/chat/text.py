"""What a chat message and a display name may contain, checked on the server for every provider.

Text is stored and relayed exactly as checked, and the pages always render it as text, never as
HTML: markup in a message is shown, not run.
"""

from __future__ import annotations

import unicodedata

#: Amazon IVS Chat's own default and maximum for ``maximumMessageLength`` (code points).
MAX_MESSAGE_LENGTH = 500
MAX_NAME_LENGTH = 32


class ChatTextError(ValueError):
    """The text cannot be accepted; the message says why, in words a person can act on."""


def _refuse_controls(text: str, what: str) -> None:
    for character in text:
        category = unicodedata.category(character)
        if category == "Cc":
            raise ChatTextError(f"{what} cannot contain control characters (such as line breaks)")
        if category == "Cs":
            raise ChatTextError(f"{what} is not valid text (it contains a lone surrogate)")


def check_message(text: object, max_length: int = MAX_MESSAGE_LENGTH) -> str:
    """The message to relay (surrounding spaces removed), or ``ChatTextError``."""
    if not isinstance(text, str):
        raise ChatTextError("The message must be text")
    text = text.strip()
    if not text:
        raise ChatTextError("The message is empty")
    if len(text) > max_length:
        raise ChatTextError(f"The message is longer than {max_length} characters")
    _refuse_controls(text, "A message")
    return text


def check_display_name(name: object) -> str:
    """The display name to show (surrounding spaces removed), or ``ChatTextError``."""
    if not isinstance(name, str):
        raise ChatTextError("The display name must be text")
    name = name.strip()
    if not name:
        raise ChatTextError("Choose a display name (1 to 32 characters)")
    if len(name) > MAX_NAME_LENGTH:
        raise ChatTextError(f"The display name is longer than {MAX_NAME_LENGTH} characters")
    _refuse_controls(name, "A display name")
    return name
