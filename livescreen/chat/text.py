"""What a chat message and a display name may contain, checked on the server for every provider.

Text is stored and relayed exactly as checked, and the pages always render it as text, never as
HTML: markup in a message is shown, not run. Lengths count code points, as Amazon IVS Chat's
``maximumMessageLength`` does.

A display name also may not hide anything or pass for the host's:

* No invisible characters (``livescreen.plain_text.is_invisible``: zero-width spaces and
  joiners, direction marks, variation selectors, tags, fillers...), with the exceptions that
  keep real names and emoji working (a joiner inside an emoji sequence, after a virama...).
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

from livescreen.plain_text import control_problem, has_invisible, ignorable

#: Amazon IVS Chat's own default and maximum for ``maximumMessageLength`` (code points).
MAX_MESSAGE_LENGTH = 500
MIN_NAME_LENGTH = 1
MAX_NAME_LENGTH = 32

#: The name the host's chat token gets by default; viewers' names may not look like it.
HOST_DISPLAY_NAME = "Host"
LOOKS_LIKE_HOST = "That name looks like the host's: pick another"
INVISIBLE = (
    "A display name cannot contain invisible characters (zero-width spaces or joiners, "
    "direction marks, variation selectors, tags or fillers)"
)


class ChatTextError(ValueError):
    """The text cannot be accepted; the message says why, in words a person can act on."""


def _refuse_controls(text: str, what: str) -> None:
    problem = control_problem(text, what)
    if problem is not None:
        raise ChatTextError(problem)


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
    if has_invisible(name):
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
    mapped = "".join(prototypes.get(c, c) for c in decomposed if not ignorable(c))
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
