"""What the IVS real-time service answers on the wire, faked in the browser for the real SDK.

The pages load the real vendored ``amazon-ivs-web-broadcast`` 1.41.0. A participant token (a JWT)
names two endpoints in its claims, and the SDK talks to nothing else about the stage:

- ``events_url``: a WebSocket (the "event plane"). The SDK opens
  ``<events_url>/?error_over_ws=1&topic=<topic>/publishers&traceid=...`` with the raw token as
  its subprotocol, counts itself connected on the first ``aws:ivs:STAGE_STATE`` message
  (``{sequenceNumber, participants: [{id, userId, isPublishing, audioMuted, videoStopped,
  attributes}], serverFeatures}``), sends ``{"type": "PING"}`` every 15 s and expects
  ``{"type": "PONG"}``. A socket that closes after that is an unexpected close: the SDK reports
  the stage ``errored``, then ``connecting``, and opens a new socket by itself.
- ``whip_url``: without the ``sdpExchange`` server feature the SDK posts its SDP offer over
  HTTP, to ``<whip_url>/publish/<participant id>`` to send and
  ``<whip_url>/subscribe/<participant id>`` to receive. An HTTP error there is a publish or
  subscribe failure: the SDK raises a ``StageError`` (``PUBLISH_ERROR`` / ``SUBSCRIBE_ERROR``).

The SDK also reports analytics to ``broadcast.stats.live-video.net`` and fetches its remote
configuration from ``prod.ivs-device-config.live-video.net``: both are answered with nothing.
:class:`StageWire` plays the service for one page and also answers the four API endpoints the
pages call (``/host_token``, ``/stream_start``, ``/stream_stop``, ``/audience_token``) as the
``ivs`` provider would, with tokens carrying these claims.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from ivs_endpoints import STAGE_ARN, IvsEndpoints

TOPIC = "AbCdEfGh1234"
EVENTS_URL = "wss://global.events.live-video.net"
WHIP_URL = "https://f99084460c35.global-bm.whip.live-video.net"
#: the host as viewers see it on the stage
HOST_PARTICIPANT = {
    "id": "host0123456789abcdef0123456789ab",
    "userId": "host",
    "isPublishing": True,
    "audioMuted": False,
    "videoStopped": False,
    "attributes": {},
}


def participant_token(*, publish: bool, user_id: str) -> str:
    """A participant token with the claims the SDK reads (the signature is IVS's business)."""
    now = int(time.time())
    claims = {
        "exp": now + 3600,
        "iat": now,
        "jti": secrets.token_hex(16),
        "resource": STAGE_ARN,
        "topic": TOPIC,
        "events_url": EVENTS_URL,
        "whip_url": WHIP_URL,
        "user_id": user_id,
        "capabilities": {"allow_publish": publish, "allow_subscribe": True},
        "version": "1.0",
    }
    key = ec.generate_private_key(ec.SECP384R1())
    return jwt.encode(claims, key, algorithm="ES384", headers={"typ": "JWT"})


@dataclass
class StageWire:
    """The IVS side of one page: the event-plane sockets and the WHIP endpoint, plus the API.

    ``whip_status`` is what every SDP offer gets back (an HTTP error status: media cannot be
    faked here, so no offer succeeds; None: no answer at all). With ``host_publishing`` False,
    viewers find the host on the stage but not publishing, so they ask for no media. Set
    ``accept_sockets`` to False to refuse new event-plane sockets (the network is down), and
    call :meth:`drop` to close the open ones.
    """

    whip_status: int | None = 500
    host_publishing: bool = True
    accept_sockets: bool = True
    sockets: list[Any] = field(default_factory=list)
    socket_opens: int = 0
    closed_by_page: int = 0
    offers: list[str] = field(default_factory=list)
    api: IvsEndpoints = field(
        default_factory=lambda: IvsEndpoints(
            host_token=lambda: participant_token(publish=True, user_id="host"),
            viewer_token=lambda: participant_token(publish=False, user_id="viewer"),
            live=True,
        )
    )

    @property
    def calls(self) -> list[str]:
        """The app's endpoints the page asked, in order."""
        return self.api.calls

    def install(self, page: Any) -> None:
        # the SDK's analytics and remote configuration: nothing to say
        page.route("https://**.live-video.net/**", lambda route: route.fulfill(status=204))
        page.route(f"{WHIP_URL}/**", self._whip)
        page.route_web_socket(f"{EVENTS_URL}/**", self._event_plane)
        self.api.install(page)

    def drop(self) -> None:
        """Closes every open event-plane socket, as a network drop would."""
        sockets, self.sockets = self.sockets, []
        for ws in sockets:
            ws.close(code=1006, reason="network drop")

    def _event_plane(self, ws: Any) -> None:
        if not self.accept_sockets:
            ws.close(code=1006, reason="unreachable")
            return
        self.socket_opens += 1
        self.sockets.append(ws)
        ws.on_message(lambda message: self._on_message(ws, message))
        ws.on_close(lambda code, reason: self._on_page_close(ws))
        host = {**HOST_PARTICIPANT, "isPublishing": self.host_publishing}
        participants = [] if self._is_host_socket(ws) else [host]
        ws.send(
            json.dumps(
                {
                    "type": "aws:ivs:STAGE_STATE",
                    "payload": {
                        "sequenceNumber": 1,
                        "participants": participants,
                        "disconnected": [],
                        "serverFeatures": [],
                    },
                }
            )
        )

    @staticmethod
    def _is_host_socket(ws: Any) -> bool:
        # the token rides as the subprotocol; only the host's may publish
        protocols = list(ws.protocols or [])
        token = protocols[0] if protocols else ""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        return bool(claims.get("capabilities", {}).get("allow_publish"))

    def _on_page_close(self, ws: Any) -> None:
        if ws in self.sockets:
            self.sockets.remove(ws)
            self.closed_by_page += 1

    def _on_message(self, ws: Any, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            return
        if data.get("type") == "PING":
            ws.send(json.dumps({"type": "PONG"}))

    def _whip(self, route: Any) -> None:
        request = route.request
        if request.method != "POST":
            route.fulfill(status=204)
            return
        kind = "publish" if "/publish/" in request.url else "subscribe"
        self.offers.append(kind)
        if self.whip_status is None:
            return  # the request hangs: the SDK's own timeout has to notice
        route.fulfill(
            status=self.whip_status,
            content_type="application/json",
            body=json.dumps({"code": 2001, "message": "faked failure"}),
        )
