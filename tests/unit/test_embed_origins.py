"""``EMBED_ORIGINS``: which sites may frame the player, read and checked before anything starts.

A value that is not a list of origins is refused at start-up, naming the setting and where it
came from, so a typo never lets every site in nor quietly keeps the intended one out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from livescreen.cli import main as cli
from livescreen.config import DEFAULTS, ConfigError, Settings
from livescreen.security.embed_origins import embed_origins, frame_ancestors, parse_origins

SESSION_SECRET = "embed-origins-session-secret-0123456789abcdef"


def settings(value: str | None) -> Settings:
    raw = {} if value is None else {"EMBED_ORIGINS": value}
    return Settings(raw, "the test's .env")


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("https://blog.example.com", ("https://blog.example.com",)),
        (
            "https://blog.example.com,http://127.0.0.1:8080",
            ("https://blog.example.com", "http://127.0.0.1:8080"),
        ),
        (" https://a.example  https://b.example , ", ("https://a.example", "https://b.example")),
        ("HTTPS://Blog.Example.COM:8443", ("https://blog.example.com:8443",)),
        ("http://[::1]:3000 http://localhost", ("http://[::1]:3000", "http://localhost")),
        ("https://a.example https://A.example", ("https://a.example",)),
    ],
)
def test_origins_separated_by_spaces_or_commas_are_read_in_order(
    value: str, origins: tuple[str, ...]
) -> None:
    assert parse_origins(value) == origins
    assert embed_origins(settings(value)) == origins
    assert frame_ancestors(origins) == " ".join(origins)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_value_lets_no_site_frame_the_player(value: str | None) -> None:
    origins = embed_origins(settings(value))

    assert origins == ()
    assert frame_ancestors(origins) == "'none'"


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("https://blog.example.com/", "'https://blog.example.com/'"),
        ("https://blog.example.com/embed", "'https://blog.example.com/embed'"),
        ("blog.example.com", "'blog.example.com'"),
        ("*", "'*'"),
        ("https://*.example.com", "'https://*.example.com'"),
        ("'self'", "\"'self'\""),
        ("ftp://files.example.com", "'ftp://files.example.com'"),
        ("https://ok.example, javascript:alert(1)", "'javascript:alert(1)'"),
        ("https://ok.example;script-src", "'https://ok.example;script-src'"),
        ("http://127.0.0.1:70000", "'http://127.0.0.1:70000'"),
        ("http://127.0.0.1:0", "'http://127.0.0.1:0'"),
        (",", "','"),
    ],
)
def test_anything_but_origins_is_a_config_error_naming_the_setting_and_the_item(
    value: str, named: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        embed_origins(settings(value))

    message = str(refused.value)
    assert message.startswith("Setting EMBED_ORIGINS must list origins")
    assert named in message
    assert "the test's .env" in message


def test_livescreen_dev_refuses_to_start_with_a_bad_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a settings file whose EMBED_ORIGINS holds a page's address, not an origin
    for key in DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(
        "HOST_PASSWORD=a-long-enough-password-for-this\n"
        f"HOST_SESSION_SECRET={SESSION_SECRET}\n"
        "EMBED_ORIGINS=https://blog.example.com/live\n"
    )

    # WHEN the dev server is started
    code = cli.main(["dev", "--env-file", str(env_file), "--port", "0"])

    # THEN it does not start, and says which setting to fix and where
    out = capsys.readouterr()
    assert code == 2
    assert "Press Ctrl+C" not in out.out
    assert "error: Setting EMBED_ORIGINS" in out.err
    assert "'https://blog.example.com/live'" in out.err
    assert str(env_file) in out.err
