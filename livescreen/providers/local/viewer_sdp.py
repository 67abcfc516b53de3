"""What the ``local`` provider accepts as a viewer's SDP offer, before the host sees it.

A viewer only receives: the page adds one receive-only video and one receive-only audio
transceiver (``assets/js/providers/local.js``). The viewer token is public, so an offer from
anyone else is checked here and refused (400) unless it is shaped like that:

* every line is an SDP line, ``<letter>=<text>``, with no control characters;
* it starts with ``v=0`` and has at least one media section (``m=``);
* every media section says ``a=recvonly`` and none says it sends (``sendrecv``, ``sendonly``,
  ``inactive``), nor does the session part before the first media section;
* every ``a=candidate:`` line is a well-formed ICE candidate (RFC 8839, section 5.1).
"""

from __future__ import annotations

import re

#: ``<letter>=<text>``: any printable text, spaces included (RFC 8866, section 5).
_LINE = re.compile(r"[a-z]=[^\x00-\x1f\x7f]*")
#: ``candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>``,
#: then name/value pairs (raddr, rport, tcptype, generation, ufrag, network-id, ...).
_CANDIDATE = re.compile(
    r"a=candidate:[A-Za-z0-9+/]{1,32} [0-9]{1,5} [A-Za-z]{1,16} [0-9]{1,10}"
    r" [A-Za-z0-9.:%\-]{1,255} [0-9]{1,5} typ (?:host|srflx|prflx|relay)"
    r"(?: [A-Za-z0-9\-]{1,32} [A-Za-z0-9.:%+/\-]{1,255})*"
)
_SENDING = frozenset({"a=sendrecv", "a=sendonly", "a=inactive"})


class ViewerSdpError(ValueError):
    """The offer is not one a viewer's page sends; the message says why."""


def check_viewer_offer(sdp: str) -> None:
    """Raise ``ViewerSdpError`` unless ``sdp`` is a receive-only offer made of SDP lines."""
    lines = sdp.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the line break that ends the last line
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if not lines or lines[0] != "v=0":
        raise ViewerSdpError("The offer must be an SDP offer (starting with v=0)")
    sections: list[list[str]] = [[]]  # the session part, then one list per media section
    for number, line in enumerate(lines, start=1):
        if not _LINE.fullmatch(line):
            raise ViewerSdpError(f"Line {number} of the offer is not an SDP line (<letter>=...)")
        if line.startswith("a=candidate:") and not _CANDIDATE.fullmatch(line):
            raise ViewerSdpError(f"Line {number} of the offer is not a well-formed ICE candidate")
        if line.startswith("m="):
            sections.append([])
        sections[-1].append(line)
    session, media = sections[0], sections[1:]
    if not media:
        raise ViewerSdpError("The offer has no media section")
    if _SENDING.intersection(session) or any(
        "a=recvonly" not in section or _SENDING.intersection(section) for section in media
    ):
        raise ViewerSdpError("A viewer's offer may only receive: every media section a=recvonly")
