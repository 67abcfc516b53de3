"""SDP for the tests: what Chromium's viewer page offers, and a host's answer.

``CHROMIUM_VIEWER_OFFER`` is a complete offer from Chromium with the two receive-only
transceivers the viewer in ``assets/js/providers/local.js`` adds (video, then audio), on one
bundled transport (``max-bundle``: the candidates are in the first section only), after ICE
gathering (host candidates with mDNS names), exactly as the page sends it, CRLF line ends
included (kept in ``chromium_viewer_offer.sdp``).
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM_VIEWER_OFFER = (
    (Path(__file__).parent / "chromium_viewer_offer.sdp").read_bytes().decode("ascii")
)

#: The smallest offer a viewer could send that is accepted: one receive-only media section.
VIEWER_OFFER = (
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
)
#: A host's answer to it (the server relays answers without looking inside).
HOST_ANSWER = (
    "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
)
