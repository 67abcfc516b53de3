"""Settings: ``.env`` and the environment locally; loud errors that name the key and its source."""

from __future__ import annotations

from pathlib import Path

import pytest

from livescreen.config import DEFAULTS, ConfigError, Settings, load_local, parse_dotenv


def test_dotenv_understands_comments_export_quotes_and_blank_lines() -> None:
    text = "\n".join(
        [
            "# a comment",
            "",
            "HOST_PASSWORD=plain value",
            "export ACCOUNT_SID=ACxyz",
            "API_KEY_SID = 'SK single'  ",
            'IVS_PRIVATE_KEY="-----BEGIN-----\\nABC\\n-----END-----"',
            "AUTH_TOKEN='keeps \\n literally'",
            "EMPTY=",
            "HAS_EQUALS=a=b=c",
            "not a setting line",
        ]
    )

    values = parse_dotenv(text)

    assert values == {
        "HOST_PASSWORD": "plain value",
        "ACCOUNT_SID": "ACxyz",
        "API_KEY_SID": "SK single",
        "IVS_PRIVATE_KEY": "-----BEGIN-----\nABC\n-----END-----",
        "AUTH_TOKEN": "keeps \\n literally",
        "EMPTY": "",
        "HAS_EQUALS": "a=b=c",
    }


def test_defaults_fill_in_and_empty_values_count_as_unset() -> None:
    settings = Settings({"ROOM_TYPE": "", "MAX_DURATION": "600"}, "test")

    assert settings["STREAM_PROVIDER"] == "local"
    assert settings["ROOM_TYPE"] == "group"
    assert settings["MAX_DURATION"] == "600"
    assert "HOST_PASSWORD" not in settings
    assert settings.get("HOST_PASSWORD") is None
    assert set(settings) == {k for k, v in DEFAULTS.items() if v is not None}


def test_require_names_the_key_and_where_it_was_looked_for() -> None:
    settings = Settings({}, ".env or the environment")

    with pytest.raises(ConfigError) as info:
        settings.require("AUTH_TOKEN")

    assert "AUTH_TOKEN" in str(info.value)
    assert ".env or the environment" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "must be a whole number, got 'abc'"),
        ("10", "must be at least 60, got 10"),
        ("90001", "must be at most 90000, got 90001"),
    ],
)
def test_get_int_enforces_bounds_and_names_the_key(raw: str, message: str) -> None:
    settings = Settings({"MAX_DURATION": raw}, "test")

    with pytest.raises(ConfigError, match=f"MAX_DURATION {message}"):
        settings.get_int("MAX_DURATION", minimum=60, maximum=90000)


def test_get_int_accepts_values_inside_the_bounds() -> None:
    settings = Settings({"MAX_DURATION": "60"}, "test")

    assert settings.get_int("MAX_DURATION", minimum=60, maximum=90000) == 60
    assert settings.get_int("PLAYBACK_GRANT_TTL", maximum=60) == 60


def test_provider_is_normalised_and_an_unknown_one_is_refused() -> None:
    assert Settings({"STREAM_PROVIDER": " IVS "}, "test").provider == "ivs"

    with pytest.raises(ConfigError, match="STREAM_PROVIDER must be one of local, twilio, ivs"):
        Settings({"STREAM_PROVIDER": "kinesis"}, "test").provider  # noqa: B018


def test_check_names_every_missing_key_for_the_chosen_provider() -> None:
    settings = Settings({"STREAM_PROVIDER": "twilio", "ACCOUNT_SID": "AC1"}, "my .env")

    with pytest.raises(ConfigError) as info:
        settings.check()

    message = str(info.value)
    for key in (
        "HOST_PASSWORD",
        "HOST_SESSION_SECRET",
        "AUTH_TOKEN",
        "API_KEY_SID",
        "API_KEY_SECRET",
    ):
        assert key in message
    assert "ACCOUNT_SID" not in message
    assert "'twilio'" in message
    assert "my .env" in message


def test_check_passes_when_the_local_provider_has_its_two_secrets() -> None:
    Settings({"HOST_PASSWORD": "pw", "HOST_SESSION_SECRET": "s" * 32}, "test").check()


def test_a_short_session_secret_is_refused_at_start_up() -> None:
    # GIVEN a hand-set session secret too short to resist offline guessing
    settings = Settings({"HOST_PASSWORD": "pw", "HOST_SESSION_SECRET": "short"}, ".env")

    # WHEN the settings are checked THEN the message names the key, the minimum and the place
    with pytest.raises(ConfigError, match=r"HOST_SESSION_SECRET must be at least 32.*\.env"):
        settings.check()


def test_with_values_overrides_without_changing_the_original() -> None:
    original = Settings({"STREAM_PROVIDER": "local"}, "test")

    changed = original.with_values(STREAM_PROVIDER="ivs")

    assert changed.provider == "ivs"
    assert original.provider == "local"
    assert changed.source == "test"


def test_load_local_reads_dotenv_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a .env and an environment that disagree on one key
    env_file = tmp_path / ".env"
    env_file.write_text("HOST_PASSWORD=from-file\nROOM_TYPE=group-small\nUNKNOWN_KEY=x\n")
    monkeypatch.setenv("HOST_PASSWORD", "from-env")
    monkeypatch.setenv("PATH_LIKE_UNRELATED", "ignored")
    monkeypatch.delenv("ROOM_TYPE", raising=False)

    # WHEN settings are loaded
    settings = load_local(env_file)

    # THEN the environment wins, the file fills the rest, and the source names both
    assert settings["HOST_PASSWORD"] == "from-env"
    assert settings["ROOM_TYPE"] == "group-small"
    assert "PATH_LIKE_UNRELATED" not in settings
    assert settings.source == f"{env_file} or the environment"


def test_load_local_without_a_file_uses_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST_SESSION_SECRET", "s3cret-from-env")

    settings = load_local(tmp_path / "absent.env")

    assert settings["HOST_SESSION_SECRET"] == "s3cret-from-env"
    assert settings.source == "the environment"
