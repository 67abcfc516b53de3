"""The ``local`` chat provider: tokens for the dev server's own chat room (``/chat``), each
valid ``CHAT_SESSION_MINUTES`` like an IVS Chat session."""

from __future__ import annotations

from livescreen.chat import HOST, HOST_CAPABILITIES, VIEWER_CAPABILITIES, ChatGrant
from livescreen.chat.local_room import CHAT_ROOM, ChatRefusedError, ChatRoom
from livescreen.config import Settings
from livescreen.providers.base import ProviderError


class LocalChat:
    name = "local"

    def __init__(self, room: ChatRoom = CHAT_ROOM, *, session_minutes: int = 60) -> None:
        self.room = room
        self.session_minutes = session_minutes

    def grant(self, *, name: str, role: str) -> ChatGrant:
        try:
            chatter, expires_at = self.room.join(
                name, role, token_seconds=self.session_minutes * 60
            )
        except ChatRefusedError as exc:
            raise ProviderError(exc.message, status=exc.status) from None
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


def create_chat(settings: Settings) -> LocalChat:
    return LocalChat(
        session_minutes=settings.get_int("CHAT_SESSION_MINUTES", minimum=1, maximum=180)
    )
