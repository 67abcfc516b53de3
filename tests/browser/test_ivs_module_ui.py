"""UI tests of the ``ivs`` browser module on the real pages, against a double of the IVS SDK.

IVS cannot be reached from here, so these are UI tests, not end-to-end tests: the pages come
from the real dev server, the API replies are routed in the browser (the audience token is a
real self-signed SUBSCRIBE token from ``livescreen.providers.ivs.tokens``), and
``/vendor/amazon-ivs-web-broadcast.js`` is the double in ``ivs_doubles.py``.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from browser_pages import PASSWORD, VIDEO, HostPage, ViewerPage, screenshot
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from ivs_doubles import SDK
from ivs_endpoints import STAGE_ARN, IvsEndpoints

from livescreen.providers.ivs.keys import generate_key_pair
from livescreen.providers.ivs.stages import LiveStage
from livescreen.providers.ivs.tokens import SubscribeTokenSigner

KEY_ARN = "arn:aws:ivs:us-east-1:123456789012:public-key/Pk0123456789"
STAGE = LiveStage(
    STAGE_ARN,
    events_url="wss://global.events.live-video.net",
    whip_url="https://f99084460c35.global-bm.whip.live-video.net",
)


class IvsBackend(IvsEndpoints):
    """The four endpoints as the ivs provider answers them, routed inside the browser, and the
    SDK double in place of the vendored SDK."""

    def __init__(self) -> None:
        private_pem, _ = generate_key_pair()
        self.signer = SubscribeTokenSigner.from_pem(private_pem, KEY_ARN)
        key = load_pem_private_key(private_pem.encode(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        now = int(time.time())
        # what CreateStage hands the host (IVS-issued; the double only reads its capabilities)
        self.host_token = jwt.encode(
            {
                "exp": now + 3600,
                "iat": now,
                "jti": "Hp0123456789",
                "resource": STAGE_ARN,
                "topic": "AbCdEfGh1234",
                "user_id": "host",
                "version": "1.0",
                "capabilities": {"allow_publish": True, "allow_subscribe": True},
            },
            key,
            algorithm="ES384",
        )
        super().__init__(
            host_token=lambda: self.host_token,
            viewer_token=lambda: self.signer.subscribe_token(
                STAGE, now=time.time(), ttl_seconds=3600
            ),
            audience_room=False,
        )

    def install(self, page: Any) -> None:
        page.route(
            "**/vendor/amazon-ivs-web-broadcast.js",
            lambda route: route.fulfill(body=SDK, content_type="application/javascript"),
        )
        super().install(page)


@pytest.fixture
def backend() -> IvsBackend:
    return IvsBackend()


def live_host(open_page: Any, server: Any, backend: IvsBackend) -> HostPage:
    host = HostPage(open_page(), server.url)
    backend.install(host.page)
    host.open()
    host.go_live(PASSWORD)
    return host


HOST_STAGE = """() => {
  const stage = window.__ivs.stages[0];
  return {
    token: stage.token, left: stage.left, leftReason: stage.leftReason,
    publishError: stage.publishError,
    published: stage.published.map((s) => ({
      kind: s.mediaStreamTrack.kind, muted: s.isMuted, config: s.config,
      live: s.mediaStreamTrack.readyState === 'live',
      ...s.mediaStreamTrack.getSettings(),
    })),
    subscribesTo: stage.strategy.shouldSubscribeToParticipant({ id: 'v', isLocal: false }),
  };
}"""


def test_the_host_publishes_screen_and_microphone_to_its_stage(
    server: Any, open_page: Any, backend: IvsBackend
) -> None:
    # WHEN the host goes live with the ivs provider
    host = live_host(open_page, server, backend)

    # THEN the page joined the stage with the host's token and publishes the 720p screen and the
    # microphone, watching no one
    stage = host.page.evaluate(HOST_STAGE)
    assert stage["token"] == backend.host_token
    assert stage["publishError"] is None
    kinds = sorted(s["kind"] for s in stage["published"])
    assert kinds == ["audio", "video"]
    video = next(s for s in stage["published"] if s["kind"] == "video")
    assert video["width"] <= 1280 and video["height"] <= 720
    assert video["config"] == {"maxVideoBitrateKbps": 2500, "maxFramerate": 30}
    assert stage["subscribesTo"] == "none"
    assert backend.calls[:2] == ["host_token", "stream_start"]

    # WHEN the stage reports three subscribers
    host.page.evaluate("() => window.__ivs.subscriberCount(3)")

    # THEN the host sees the count
    host.page.locator("#viewerCount").filter(has_text="3 viewers").wait_for()
    screenshot(host.page, "ivs-host-live")


def test_the_host_mutes_the_microphone_on_the_stage(
    server: Any, open_page: Any, backend: IvsBackend
) -> None:
    host = live_host(open_page, server, backend)

    host.page.click("#micButton")
    muted = host.page.evaluate(HOST_STAGE)["published"]
    host.page.click("#micButton")
    unmuted = host.page.evaluate(HOST_STAGE)["published"]

    assert next(s for s in muted if s["kind"] == "audio")["muted"] is True
    assert next(s for s in unmuted if s["kind"] == "audio")["muted"] is False


def test_switching_off_leaves_the_stage_and_stops_the_stream(
    server: Any, open_page: Any, backend: IvsBackend
) -> None:
    host = live_host(open_page, server, backend)

    with host.page.expect_response("**/stream_stop"):
        host.page.click("#liveSwitch")

    host.wait_until("offline")
    stage = host.page.evaluate(HOST_STAGE)
    assert (stage["left"], stage["leftReason"]) == (True, "user-initiated")
    assert host.page.locator("#notice").is_hidden()  # a stop the host asked for is no error


def test_a_deleted_stage_ends_the_hosts_stream_and_says_why(
    server: Any, open_page: Any, backend: IvsBackend
) -> None:
    host = live_host(open_page, server, backend)

    # WHEN the stage is deleted (by the cleanup, or the stage-event handler)
    with host.page.expect_response("**/stream_stop"):
        host.page.evaluate("() => window.__ivs.deleteStage()")

    # THEN the switch goes back to offline and the host is told
    host.wait_until("offline")
    notice = host.page.locator("#notice")
    notice.wait_for(state="visible")
    assert notice.inner_text() == "The stream has ended: The stage was deleted."


def test_a_viewer_watches_the_host_subscribe_only_until_the_host_leaves(
    server: Any, open_page: Any, backend: IvsBackend
) -> None:
    # GIVEN a viewer waiting while nothing is live
    viewer = ViewerPage(open_page(), server.url)
    backend.install(viewer.page)
    viewer.open()
    viewer.wait_for_status("Not currently streaming.")

    # WHEN the host goes live and publishes on the stage
    backend.live = True
    viewer.page.wait_for_function("() => window.__ivs && window.__ivs.stages.length === 1")
    viewer.page.wait_for_function("() => window.__ivs.stages[0].joined")
    viewer.page.evaluate("() => window.__ivs.remotePublishes('host-participant')")

    # THEN the viewer joined with a subscribe-only token, publishes nothing, and plays the
    # host's 1280x720 picture with its audio, muted until clicked
    stage = viewer.page.evaluate(
        """() => {
          const s = window.__ivs.stages[0];
          return { claims: s.claims, published: s.published.length, publishError: s.publishError };
        }"""
    )
    assert stage["claims"]["capabilities"] == {"allow_publish": False, "allow_subscribe": True}
    assert stage["claims"]["resource"] == STAGE_ARN
    assert (stage["published"], stage["publishError"]) == (0, None)
    playing = viewer.wait_for_video((1280, 720))
    assert (playing["width"], playing["height"]) == (1280, 720)
    assert playing["audioTracks"] == 1
    assert playing["muted"] is True
    screenshot(viewer.page, "ivs-audience-playing")

    viewer.page.click(VIDEO)
    assert viewer.video()["muted"] is False

    # WHEN the host leaves the stage
    backend.live = False
    viewer.page.evaluate("() => window.__ivs.remoteLeaves('host-participant')")

    # THEN the viewer says so at once and has left the stage
    viewer.wait_for_status("The stream has ended.", timeout=3_000)
    assert viewer.page.evaluate("() => window.__ivs.stages[0].left") is True
    assert viewer.page.locator(VIDEO).count() == 0


def test_a_viewer_is_told_when_the_stage_is_deleted(
    server: Any, open_page: Any, backend: IvsBackend
) -> None:
    backend.live = True
    viewer = ViewerPage(open_page(), server.url)
    backend.install(viewer.page)
    viewer.open()
    viewer.page.wait_for_function("() => window.__ivs && window.__ivs.stages[0]?.joined")
    viewer.page.evaluate("() => window.__ivs.remotePublishes('host-participant')")
    viewer.wait_for_video()

    backend.live = False
    viewer.page.evaluate("() => window.__ivs.deleteStage()")

    viewer.wait_for_status("The stream has ended.", timeout=3_000)
