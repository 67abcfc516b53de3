"""Frame rates in the `local` provider's pages: what the host's browser asks each of its
encoders for, and how many frames a viewer's player really gets."""

from __future__ import annotations

from typing import Any

from browser_pages import VIDEO

#: An init script: keeps every RTCPeerConnection the page makes (window.__peerConnections), so
#: that a test can read how it sends. The page itself is not changed.
KEEP_PEER_CONNECTIONS = """
(() => {
  const Original = window.RTCPeerConnection;
  window.__peerConnections = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) {
      super(...args);
      window.__peerConnections.push(this);
    }
  };
})();
"""


#: The highest frame rate the page's open connections may send video at, one per video sender
#: (null where no limit is set).
_ASKED = """() => window.__peerConnections
             .filter((pc) => pc.signalingState !== 'closed')
             .flatMap((pc) => pc.getSenders())
             .filter((sender) => sender.track && sender.track.kind === 'video')
             .map((sender) => {
               const [encoding] = sender.getParameters().encodings;
               const rate = encoding && encoding.maxFramerate;
               return rate === undefined ? null : rate;
             })"""


def wait_for_asked_frame_rates(page: Any, rates: list[float], timeout: float = 10_000) -> None:
    """Waits until the page's connections are asked ``rates`` (in any order): a change of the
    frame budget reaches the senders a moment after the viewer count changes."""
    page.wait_for_function(
        f"""(wanted) => {{
          const asked = ({_ASKED})();
          return JSON.stringify(asked.sort()) === JSON.stringify([...wanted].sort());
        }}""",
        arg=rates,
        timeout=timeout,
    )


def played_frame_rate(page: Any, window_ms: int = 3000) -> float:
    """Frames per second the page's player decoded over ``window_ms`` of its own clock."""
    rate: float = page.evaluate(
        f"""async (windowMs) => {{
          const video = document.querySelector('{VIDEO}');
          const frames = () => video.getVideoPlaybackQuality().totalVideoFrames;
          const [start, startedAt] = [frames(), performance.now()];
          await new Promise((resolve) => setTimeout(resolve, windowMs));
          return (frames() - start) * 1000 / (performance.now() - startedAt);
        }}""",
        window_ms,
    )
    return rate
