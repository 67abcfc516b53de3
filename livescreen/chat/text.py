"""What a chat message and a display name may contain, checked on the server for every provider.

Text is stored and relayed exactly as checked, and the pages always render it as text, never as
HTML: markup in a message is shown, not run. Lengths count code points, as Amazon IVS Chat's
``maximumMessageLength`` does.
"""

from __future__ import annotations

import unicodedata

#: Amazon IVS Chat's own default and maximum for ``maximumMessageLength`` (code points).
MAX_MESSAGE_LENGTH = 500
MIN_NAME_LENGTH = 1
MAX_NAME_LENGTH = 32

#: Line and paragraph separators break a line like a newline does.
_LINE_BREAKS = frozenset({"Zl", "Zp"})
#: Bidirectional embeddings, overrides and isolates: they reorder the text shown after them
#: (a name could be made to read as somebody else's).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class ChatTextError(ValueError):
    """The text cannot be accepted; the message says why, in words a person can act on."""


def _refuse_controls(text: str, what: str) -> None:
    for character in text:
        category = unicodedata.category(character)
        if category == "Cs":
            raise ChatTextError(f"{what} is not valid text (it contains a lone surrogate)")
        if category == "Cc" or category in _LINE_BREAKS or character in _BIDI_CONTROLS:
            raise ChatTextError(
                f"{what} cannot contain control characters (line breaks, tabs, direction overrides)"
            )


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
        raise ChatTextError(
            f"Choose a display name ({MIN_NAME_LENGTH} to {MAX_NAME_LENGTH} characters)"
        )
    name = name.strip()
    if len(name) < MIN_NAME_LENGTH:
        raise ChatTextError(
            f"Choose a display name ({MIN_NAME_LENGTH} to {MAX_NAME_LENGTH} characters)"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ChatTextError(f"The display name is longer than {MAX_NAME_LENGTH} characters")
    _refuse_controls(name, "A display name")
    return name
