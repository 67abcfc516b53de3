"""What the local provider accepts as a viewer's offer: what Chromium's viewer page sends, and
nothing that sends media to the host or is not SDP."""

from __future__ import annotations

import pytest
from viewer_offers import CHROMIUM_VIEWER_OFFER, VIEWER_OFFER

from livescreen.providers.local.viewer_sdp import ViewerSdpError, check_viewer_offer

CANDIDATE = (
    "a=candidate:3327332818 1 udp 2113937151 2ffea8d9-79b0-49b3-9d3b-b75a5af8ec2f.local 41508 "
    "typ host generation 0 network-cost 999"
)


def with_lines_replaced(sdp: str, old: str, new: str, count: int = -1) -> str:
    assert f"\r\n{old}\r\n" in sdp
    return sdp.replace(f"\r\n{old}\r\n", f"\r\n{new}\r\n", count)


@pytest.mark.parametrize(
    "offer",
    [
        CHROMIUM_VIEWER_OFFER,
        VIEWER_OFFER,
        CHROMIUM_VIEWER_OFFER.replace("\r\n", "\n"),  # bare line feeds are read the same
        with_lines_replaced(
            CHROMIUM_VIEWER_OFFER,
            CANDIDATE,
            "a=candidate:1 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active generation 0",
        ),
        with_lines_replaced(
            CHROMIUM_VIEWER_OFFER,
            CANDIDATE,
            "a=candidate:3 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 0.0.0.0 rport 0 "
            "generation 0 ufrag uGrs network-cost 999",
        ),
        with_lines_replaced(
            CHROMIUM_VIEWER_OFFER,
            CANDIDATE,
            "a=candidate:4 1 udp 2122262783 2001:db8::1 54321 typ host generation 0",
        ),
    ],
    ids=["chromium", "minimal", "line-feeds", "tcp", "srflx", "ipv6"],
)
def test_what_a_viewer_page_offers_is_accepted(offer: str) -> None:
    check_viewer_offer(offer)


@pytest.mark.parametrize(
    ("offer", "error"),
    [
        (
            with_lines_replaced(CHROMIUM_VIEWER_OFFER, "a=recvonly", "a=sendrecv", 1),
            "may only receive",
        ),
        (
            with_lines_replaced(CHROMIUM_VIEWER_OFFER, "a=recvonly", "a=sendonly"),
            "may only receive",
        ),
        (
            with_lines_replaced(CHROMIUM_VIEWER_OFFER, "a=recvonly", "a=inactive", 1),
            "may only receive",
        ),
        (CHROMIUM_VIEWER_OFFER.replace("\r\na=recvonly\r\n", "\r\n", 1), "may only receive"),
        (  # receive-only media, but the session says it sends
            with_lines_replaced(CHROMIUM_VIEWER_OFFER, "a=extmap-allow-mixed", "a=sendrecv"),
            "may only receive",
        ),
        (  # a data channel: no direction at all
            VIEWER_OFFER + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n",
            "may only receive",
        ),
        ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", "no media section"),
        (VIEWER_OFFER.replace("v=0", "v=1"), "starting with v=0"),
        ("", "starting with v=0"),
        (VIEWER_OFFER + "x-padding\r\n", "Line 10 of the offer is not an SDP line"),
        (VIEWER_OFFER + "A=recvonly\r\n", "not an SDP line"),
        (VIEWER_OFFER + "a=fmtp:96 \x00\r\n", "not an SDP line"),
        (VIEWER_OFFER.replace("\r\ns=-", "\r\n\r\ns=-"), "Line 3 of the offer is not an SDP"),
        (VIEWER_OFFER.replace("\r\n", "\r"), "starting with v=0"),  # one long line
        (
            with_lines_replaced(CHROMIUM_VIEWER_OFFER, CANDIDATE, "a=candidate:garbage", 1),
            "Line 11 of the offer is not a well-formed ICE candidate",
        ),
        (
            with_lines_replaced(
                CHROMIUM_VIEWER_OFFER, CANDIDATE, CANDIDATE.replace("typ host", "typ evil"), 1
            ),
            "not a well-formed ICE candidate",
        ),
        (
            with_lines_replaced(
                CHROMIUM_VIEWER_OFFER, CANDIDATE, CANDIDATE.replace(" 41508 ", " port "), 1
            ),
            "not a well-formed ICE candidate",
        ),
        (
            with_lines_replaced(CHROMIUM_VIEWER_OFFER, CANDIDATE, CANDIDATE + " dangling", 1),
            "not a well-formed ICE candidate",
        ),
    ],
    ids=[
        "sendrecv",
        "sendonly",
        "inactive",
        "no-direction",
        "session-sends",
        "data-channel",
        "no-media",
        "version",
        "empty",
        "not-a-line",
        "upper-case",
        "control-character",
        "empty-line",
        "carriage-returns-only",
        "candidate-garbage",
        "candidate-type",
        "candidate-port",
        "candidate-dangling",
    ],
)
def test_anything_else_is_refused_before_the_host_sees_it(offer: str, error: str) -> None:
    with pytest.raises(ViewerSdpError, match=error):
        check_viewer_offer(offer)
