"""What plain text typed by a person may not contain, whatever it is for (a chat message, a
display name, a stream's title).

Two checks, shared by the chat and the stream details:

* ``control_problem``: no control characters (tabs, line breaks, direction overrides and
  isolates, lone surrogates); a caller may allow the newline ``\\n`` (a description's lines).
* ``is_invisible``: a character that shows nothing of its own where it stands: Unicode's
  general category Cf (zero-width spaces, word joiners, byte order marks, direction marks,
  tag characters, soft hyphens...), variation selectors, Hangul fillers and the other
  default-ignorable code points, the blank braille cell. Three exceptions keep real names and
  emoji working: a zero-width joiner inside an emoji sequence (a symbol, then the joiner, then
  a symbol) or after a virama (Indic conjuncts); a zero-width non-joiner after a virama or
  between two Arabic-script letters (Persian); and a text/emoji variation selector right after
  a symbol (``❤️``) or a keycap's digit.
"""

from __future__ import annotations

import unicodedata

#: Line and paragraph separators break a line like a newline does.
_LINE_BREAKS = frozenset({"Zl", "Zp"})
#: Bidirectional embeddings, overrides and isolates: they reorder the text shown after them
#: (a name could be made to read as somebody else's).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_ZWNJ = "\u200c"
_ZWJ = "\u200d"
_TEXT_OR_EMOJI_PRESENTATION = frozenset("\ufe0e\ufe0f")
_KEYCAP = "\u20e3"
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)
#: Invisible characters outside category Cf: the default-ignorable code points that are letters
#: or marks (Unicode's DerivedCoreProperties.txt) and the blank braille cell.
_INVISIBLE_RANGES = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors (and the vowel separator, Cf)
    (0x2065, 0x2065),  # reserved, default-ignorable
    (0x2800, 0x2800),  # braille pattern blank
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),  # reserved, default-ignorable
    (0xE0000, 0xE0FFF),  # tag characters, variation selectors supplement, reserved
)
#: Arabic-script letters, between which a zero-width non-joiner is part of the spelling.
_ARABIC_RANGES = (
    (0x0600, 0x06FF),
    (0x0750, 0x077F),
    (0x08A0, 0x08FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
)


def control_problem(text: str, what: str, *, newlines: bool = False) -> str | None:
    """Why ``text`` cannot be accepted for its control characters (``what`` names it: "A
    message"), or None. With ``newlines``, the newline ``\\n`` is allowed."""
    for character in text:
        if newlines and character == "\n":
            continue
        category = unicodedata.category(character)
        if category == "Cs":
            return f"{what} is not valid text (it contains a lone surrogate)"
        if category == "Cc" or category in _LINE_BREAKS or character in _BIDI_CONTROLS:
            if newlines:
                return f"{what} cannot contain control characters (tabs, direction overrides)"
            return (
                f"{what} cannot contain control characters (line breaks, tabs, direction overrides)"
            )
    return None


def has_invisible(text: str) -> bool:
    """Whether any character of ``text`` is invisible where it stands."""
    return any(is_invisible(text, index) for index in range(len(text)))


def ignorable(character: str) -> bool:
    """A default-ignorable code point (or the blank braille cell): shows nothing anywhere."""
    return unicodedata.category(character) == "Cf" or _in(character, _INVISIBLE_RANGES)


def _in(character: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(character)
    return any(low <= code <= high for low, high in ranges)


def _is_symbol(character: str) -> bool:
    return unicodedata.category(character) == "So" or ord(character) in _EMOJI_MODIFIERS


def _after_virama(text: str, index: int) -> bool:
    return index > 0 and unicodedata.combining(text[index - 1]) == 9


def is_invisible(text: str, index: int) -> bool:
    """Whether ``text[index]`` shows nothing of its own where it stands."""
    character = text[index]
    before = text[index - 1] if index > 0 else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if character in _TEXT_OR_EMOJI_PRESENTATION:
        keycap = before in "0123456789#*" and before != "" and after == _KEYCAP
        return not (keycap or (before and _is_symbol(before)))
    if character == _ZWJ:
        if _after_virama(text, index):
            return False
        back = index - 1
        while back >= 0 and text[back] in _TEXT_OR_EMOJI_PRESENTATION:
            back -= 1
        return not (back >= 0 and _is_symbol(text[back]) and after and _is_symbol(after))
    if character == _ZWNJ:
        if _after_virama(text, index):
            return False
        return not (before and after and _in(before, _ARABIC_RANGES) and _in(after, _ARABIC_RANGES))
    return ignorable(character)
