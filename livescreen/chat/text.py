"""What a chat message and a display name may contain, checked on the server for every provider.

Text is stored and relayed exactly as checked, and the pages always render it as text, never as
HTML: markup in a message is shown, not run. Lengths count code points, as Amazon IVS Chat's
``maximumMessageLength`` does.

A display name also may not hide anything or pass for the host's:

* No invisible characters: nothing of Unicode's general category Cf (zero-width spaces, word
  joiners, byte order marks, direction marks and controls, tag characters, soft hyphens...), no
  variation selectors, Hangul fillers or other default-ignorable code points, no blank braille
  cell. Three exceptions keep real names and emoji working: a zero-width joiner inside an emoji
  sequence (a symbol, then the joiner, then a symbol) or after a virama (Indic conjuncts); a
  zero-width non-joiner after a virama or between two Arabic-script letters (Persian); and a
  text/emoji variation selector right after a symbol (``❤️``) or a keycap's digit.
* A viewer's name may not look like the host's: it is refused when the confusable skeleton
  (Unicode Technical Standard #39, from the ``confusables.txt`` data the
  ``confusable-homoglyphs`` package ships) of its NFKC form, case-folded, with spaces
  removed, is that of ``HOST_DISPLAY_NAME``. So "Host", "host", "HOST", "H0st", "Ho st", a
  fullwidth or mathematical bold "Host", or one whose "H" is a Greek capital eta or a Cyrillic
  capital en, are refused; "Hosts", "Host 2", "The host" and "Hôst" are not. The host's own
  token keeps its name. The data is read from the installed package the first time a name is
  checked (about 40 ms, once per process), never fetched.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from importlib import resources

#: Amazon IVS Chat's own default and maximum for ``maximumMessageLength`` (code points).
MAX_MESSAGE_LENGTH = 500
MIN_NAME_LENGTH = 1
MAX_NAME_LENGTH = 32

#: Line and paragraph separators break a line like a newline does.
_LINE_BREAKS = frozenset({"Zl", "Zp"})
#: Bidirectional embeddings, overrides and isolates: they reorder the text shown after them
#: (a name could be made to read as somebody else's).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

#: The name the host's chat token gets by default; viewers' names may not look like it.
HOST_DISPLAY_NAME = "Host"
LOOKS_LIKE_HOST = "That name looks like the host's: pick another"
INVISIBLE = (
    "A display name cannot contain invisible characters (zero-width spaces or joiners, "
    "direction marks, variation selectors, tags or fillers)"
)

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


def check_display_name(name: object, *, host: bool = False) -> str:
    """The display name to show (surrounding spaces removed), or ``ChatTextError``: 1 to 32
    characters, nothing invisible, and (unless ``host``) nothing that looks like the host's."""
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
    if any(_is_invisible(name, index) for index in range(len(name))):
        raise ChatTextError(INVISIBLE)
    if not host and looks_like_host(name):
        raise ChatTextError(LOOKS_LIKE_HOST)
    return name


def looks_like_host(name: str) -> bool:
    """Whether ``name`` reads as the host's name: the same confusable skeleton, case-folded,
    spaces removed."""
    return _likeness(name) == _host_likeness()


@functools.cache
def _host_likeness() -> str:
    return _likeness(HOST_DISPLAY_NAME)


def skeleton(text: str) -> str:
    """The confusable skeleton of Unicode TR39: NFD, default-ignorable code points removed,
    each character replaced by its prototype, NFD again. ``skeleton(a) == skeleton(b)`` when
    ``a`` and ``b`` are confusable."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    mapped = "".join(prototypes.get(c, c) for c in decomposed if not _ignorable(c))
    return unicodedata.normalize("NFD", mapped)


def _likeness(text: str) -> str:
    """What two names that look the same have in common whatever their case: the skeleton of
    the NFKC form (fullwidth and mathematical letters become plain ones), case-folded, then the
    skeleton again (a capital's look-alike may fold to another letter), without spaces."""
    compatible = unicodedata.normalize("NFKC", text)
    folded = skeleton(skeleton(compatible).casefold()).casefold()
    return "".join(c for c in folded if not c.isspace())


@functools.cache
def _prototypes() -> dict[str, str]:
    """Each confusable character's prototype, from the package's ``confusables.json``.

    The package lists each pair of ``confusables.txt`` (source → prototype) both ways, so the
    direction is read back: a prototype is never a source itself, a source has exactly one
    entry (its prototype), and a prototype of several sources has several. A character that
    names only one other, which names only it, is half of a pair whose direction the file does
    not keep; both map to the smaller, which is confusable-equivalent.
    """
    raw = (resources.files("confusable_homoglyphs") / "confusables.json").read_text("utf-8")

    def clean(text: str) -> str:
        # right-to-left characters are stored between left-to-right marks, for display
        return text.replace("\u200e", "")

    table = {
        clean(key): [clean(entry["c"]) for entry in entries]
        for key, entries in json.loads(raw).items()
    }
    prototypes: dict[str, str] = {}
    for key, others in table.items():
        if len(key) != 1 or len(others) != 1:
            continue  # a prototype (of a sequence, or of several characters): itself
        other = others[0]
        if len(other) > 1 or len(table.get(other, ())) > 1:
            prototypes[key] = other
        else:
            prototypes[key] = min(key, other)
    return prototypes


def _in(character: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(character)
    return any(low <= code <= high for low, high in ranges)


def _ignorable(character: str) -> bool:
    return unicodedata.category(character) == "Cf" or _in(character, _INVISIBLE_RANGES)


def _is_symbol(character: str) -> bool:
    return unicodedata.category(character) == "So" or ord(character) in _EMOJI_MODIFIERS


def _after_virama(text: str, index: int) -> bool:
    return index > 0 and unicodedata.combining(text[index - 1]) == 9


def _is_invisible(text: str, index: int) -> bool:
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
    return _ignorable(character)
