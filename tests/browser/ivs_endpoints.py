"""The app's four endpoints answered inside the browser as the ``ivs`` provider answers them, for
the IVS page tests (the stage itself is a double, or the real SDK with its wire faked)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

STAGE_ARN = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEfGh1234"
ROOM = "livestream-0123456789abcdef"
NAMES = ("host_token", "stream_start", "stream_stop", "audience_token")


class IvsEndpoints:
    """``/host_token``, ``/stream_start``, ``/stream_stop`` and ``/audience_token`` with the
    tokens the callables make; ``live`` says whether the audience gets a token (stream_start and
    stream_stop set it), ``calls`` lists the endpoints asked, in order. With ``audience_room``
    False the audience's answer names no room, so the page tells streams apart by their tokens."""

    def __init__(
        self,
        *,
        host_token: Callable[[], str],
        viewer_token: Callable[[], str],
        live: bool = False,
        audience_room: bool = True,
    ) -> None:
        self.host_token_for = host_token
        self.viewer_token_for = viewer_token
        self.live = live
        self.audience_room = audience_room
        self.calls: list[str] = []

    def install(self, page: Any) -> None:
        for name in NAMES:
            page.route(f"**/{name}", self._route(name))

    def answer(self, name: str) -> dict[str, Any]:
        if name == "host_token":
            return {
                "provider": "ivs",
                "room": ROOM,
                "token": self.host_token_for(),
                "session": "host-session",
                "sessionExpiresAt": int(time.time()) + 3600,
                "stageArn": STAGE_ARN,
            }
        if name == "stream_start":
            self.live = True
            return {"provider": "ivs", "room": ROOM, "live": True, "startedNow": True}
        if name == "stream_stop":
            self.live = False
            return {"provider": "ivs", "room": ROOM, "live": False}
        token = self.viewer_token_for() if self.live else None
        return {"provider": "ivs", "token": token, **({"room": ROOM} if self.audience_room else {})}

    def _route(self, name: str) -> Callable[[Any], None]:
        def handle(route: Any) -> None:
            self.calls.append(name)
            body = json.dumps(self.answer(name))
            route.fulfill(status=200, content_type="application/json", body=body)

        return handle
