"""The ``local`` chat provider: tokens for the dev server's own chat room (``/chat``), each
valid ``CHAT_SESSION_MINUTES`` like an IVS Chat session, issued to the client's address (the
room's per-address limits and bans key on it). The room's address bans are lifted when a live
stream of the ``local`` provider ends (``providers.local.hub.HUB``). Its messages are counted
toward the live stream by the process's background ``store.counting.Counter``."""

from __future__ import annotations

from livescreen.chat import HOST, HOST_CAPABILITIES, VIEWER_CAPABILITIES, ChatGrant
from livescreen.chat.local.limits import ChatRefusedError
from livescreen.chat.local.room import CHAT_ROOM, ChatRoom
from livescreen.config import Settings
from livescreen.errors import ProviderError
from livescreen.providers.local.hub import HUB
from livescreen.runtime.errors import ForbiddenError, TooManyRequestsError
from livescreen.store.counting import counter_for


class LocalChat:
    name = "local"

    def __init__(self, room: ChatRoom = CHAT_ROOM, *, session_minutes: int = 60) -> None:
        self.room = room
        self.session_minutes = session_minutes

    def grant(self, *, name: str, role: str, address: str | None = None) -> ChatGrant:
        try:
            chatter, expires_at = self.room.join(
                name, role, token_seconds=self.session_minutes * 60, address=address
            )
        except ChatRefusedError as exc:
            raise _refusal(exc) from None
        return ChatGrant(
            provider=self.name,
            token=chatter.token,
            identity=chatter.identity,
            name=chatter.name,
            role=role,
            expires_at=expires_at,
            endpoint="/chat",
            capabilities=HOST_CAPABILITIES if role == HOST else VIEWER_CAPABILITIES,
        )


def _refusal(exc: ChatRefusedError) -> Exception:
    """The room's refusal as the endpoint answers it: a banned address or too many tokens is the
    caller's doing (an HTTP error, not logged as an upstream failure)."""
    headers = {"retry-after": str(exc.retry_after)} if exc.retry_after is not None else None
    if exc.status == 403:
        return ForbiddenError(exc.message, headers=headers)
    if exc.status == 429:
        return TooManyRequestsError(exc.message, headers=headers)
    return ProviderError(exc.message, status=exc.status, retry_after=exc.retry_after)


def create_chat(settings: Settings) -> LocalChat:
    CHAT_ROOM.lift_bans_when_streams_end(HUB)
    CHAT_ROOM.count_messages_with(counter_for(settings))
    return LocalChat(
        session_minutes=settings.get_int("CHAT_SESSION_MINUTES", minimum=1, maximum=180)
    )
