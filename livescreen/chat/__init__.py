"""Chat beside the stream, chosen by ``CHAT_PROVIDER`` independently of the media provider.

``local`` relays messages through the dev server (``chat.local``, ``devserver.relays.chat``);
``ivschat`` is Amazon IVS Chat in the user's AWS account (``chat.ivschat``); ``off`` has no
chat.
Either way the ``chat_token`` function hands the page a token for its provider's browser module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from livescreen.config import ConfigError, Settings
from livescreen.errors import ProviderUnavailableError
from livescreen.per_settings import PerSettings

CHAT_PROVIDERS = ("local", "ivschat", "off")
HOST = "host"
VIEWER = "viewer"

#: What a chat token allows, named as Amazon IVS Chat names its capabilities.
VIEWER_CAPABILITIES = ("SEND_MESSAGE",)
HOST_CAPABILITIES = ("SEND_MESSAGE", "DELETE_MESSAGE", "DISCONNECT_USER")


@dataclass(frozen=True)
class ChatGrant:
    """A chat token for one person, and where their page connects with it.

    ``expires_at`` is when the session ends (the connection is closed then);
    ``token_expires_at``, when the provider says it, is when the token can no longer open one:
    the page renews before the earlier of the two. ``ticket`` lets the page keep ``identity``
    when it renews (``identity_ticket``)."""

    provider: str
    token: str
    identity: str
    name: str
    role: str
    expires_at: float
    endpoint: str
    capabilities: tuple[str, ...]
    token_expires_at: float | None = None
    ticket: str | None = None

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "chat": self.provider,
            "token": self.token,
            "identity": self.identity,
            "name": self.name,
            "role": self.role,
            "expiresAt": round(self.expires_at),
            "endpoint": self.endpoint,
            "capabilities": list(self.capabilities),
        }
        if self.token_expires_at is not None:
            answer["tokenExpiresAt"] = round(self.token_expires_at)
        if self.ticket is not None:
            answer["ticket"] = self.ticket
        return answer


class ChatProvider(Protocol):
    name: str

    def grant(self, *, name: str, role: str, address: str | None = None) -> ChatGrant:
        """A token for a new chatter called ``name``, as ``HOST`` or ``VIEWER``, for the client
        at ``address`` (``endpoints.client_address``: the per-address limits key on it)."""
        ...


_FACTORIES = {
    "local": "livescreen.chat.local.provider:create_chat",
    "ivschat": "livescreen.chat.ivschat.provider:create_chat",
}
_chats: PerSettings[ChatProvider] = PerSettings(
    _FACTORIES,
    "chat provider",
    dev_server_only={
        "local": lambda: ProviderUnavailableError(
            "CHAT_PROVIDER=local works only in the dev server: use ivschat (or off) on AWS"
        )
    },
)


def chat_provider_name(settings: Settings) -> str:
    """``local``, ``ivschat`` or ``off`` (``CHAT_PROVIDER``); anything else is a ConfigError."""
    name = (settings.get("CHAT_PROVIDER") or "off").strip().lower()
    if name not in CHAT_PROVIDERS:
        raise ConfigError(
            f"CHAT_PROVIDER must be one of {', '.join(CHAT_PROVIDERS)} (got {name!r}) "
            f"in {settings.source}"
        )
    return name


def get_chat(settings: Settings) -> ChatProvider | None:
    """The chat provider named by ``settings`` (None for ``off``), built once per process."""
    name = chat_provider_name(settings)
    if name == "off":
        return None
    return _chats.get(name, settings)


def clear_chat_cache() -> None:
    _chats.clear()
