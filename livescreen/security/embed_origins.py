"""Which sites may show ``embed.html`` in an ``<iframe>``: the ``EMBED_ORIGINS`` setting.

The value lists origins (``https://example.com``, ``http://127.0.0.1:8080``) separated by
spaces or commas; empty means no site may. Each becomes a source of the embed page's CSP
``frame-ancestors`` (``'none'`` when there are none), on the dev server and, through the stack's
``EmbedOrigins`` parameter, on CloudFront: the template's ``AllowedPattern`` is
``PARAMETER_PATTERN``, so both accept the same forms (only this module checks that a port is
at most 65535). Anything that is not an origin (a path, a wildcard, a keyword such as
``'self'``, another scheme) is refused, naming the setting, so a typo never silently lets every
site in, nor quietly keeps every site out.
"""

from __future__ import annotations

import re

from livescreen.config import ConfigError, Settings

SETTING = "EMBED_ORIGINS"
#: ``frame-ancestors`` when no origin is allowed.
NONE = "'none'"

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])"
_PORT = r"(?::[0-9]{1,5})?"
#: One origin: scheme, host (a DNS name, an IPv4 address or a bracketed IPv6 one), port.
ORIGIN_PATTERN = rf"https?://{_HOST}{_PORT}"
_ORIGIN = re.compile(ORIGIN_PATTERN, re.IGNORECASE | re.ASCII)
_SEPARATORS = re.compile(r"[ ,]+")
# a host never holds a colon outside brackets, and a bracketed one ends with "]"
_PORT_NUMBER = re.compile(r":([0-9]+)$")
#: The whole value (what the stack's ``EmbedOrigins`` parameter allows): empty, or origins
#: separated by spaces or commas (``parse_origins`` also takes a value of blanks as empty).
#: Written so Java's regular expressions (CloudFormation's) read it as Python's do with
#: ``re.ASCII``.
PARAMETER_PATTERN = rf"^$|^[ ,]*(?i:{ORIGIN_PATTERN})(?:[ ,]+(?i:{ORIGIN_PATTERN}))*[ ,]*$"


def parse_origins(value: str) -> tuple[str, ...]:
    """The origins ``value`` lists, in its order, lower case, each once; ValueError naming the
    first item that is not an origin. Blank means none."""
    if not value.strip():
        return ()
    origins: list[str] = []
    for item in _SEPARATORS.split(value.strip(" ,")):
        if not item:
            continue
        if not _ORIGIN.fullmatch(item):
            raise ValueError(f"{item!r} is not an origin (scheme://host[:port], no path)")
        port = _PORT_NUMBER.search(item)
        if port and not 1 <= int(port.group(1)) <= 65535:
            raise ValueError(f"{item!r} has a port outside 1-65535")
        origin = item.lower()
        if origin not in origins:
            origins.append(origin)
    if not origins:
        raise ValueError(f"{value!r} lists no origin")
    return tuple(origins)


def embed_origins(settings: Settings) -> tuple[str, ...]:
    """The origins ``EMBED_ORIGINS`` allows; ConfigError naming the setting when it is bad."""
    try:
        return parse_origins(settings.get(SETTING) or "")
    except ValueError as exc:
        raise ConfigError(
            f"Setting {SETTING} must list origins such as https://example.com, separated by "
            f"spaces or commas (or be empty: no site may embed the player): {exc}; fix it in "
            f"{settings.source}"
        ) from exc


def frame_ancestors(origins: tuple[str, ...]) -> str:
    """The ``frame-ancestors`` sources for ``origins``: ``'none'`` when there are none."""
    return " ".join(origins) if origins else NONE
