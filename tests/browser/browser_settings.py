"""The settings the browser tests' dev servers run with (a module of its own: test files import
it, and a ``conftest`` module name is shared by every test folder)."""

from __future__ import annotations

from browser_pages import PASSWORD

from livescreen.config import Settings


def settings_for(provider: str = "local", **extra: str) -> Settings:
    return Settings(
        {
            "STREAM_PROVIDER": provider,
            "HOST_PASSWORD": PASSWORD,
            "HOST_SESSION_SECRET": "browser-tests-session-secret-0123456789abcdef",
            **extra,
        },
        "the browser tests",
    )
