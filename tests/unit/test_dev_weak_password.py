"""`livescreen dev` refuses to start with a host password that is quick to guess.

The check runs before the server is created: nothing listens, and the message says where the
password came from and how to change it. The password the first run generates passes it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from livescreen.cli import main as cli
from livescreen.config import DEFAULTS
from livescreen.security.password_guard import MIN_PASSWORD_LENGTH, weak_password_reason

SESSION_SECRET = "weak-password-session-secret-0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in DEFAULTS:
        monkeypatch.delenv(key, raising=False)


def start(env_file: Path) -> int:
    return cli.main(["dev", "--env-file", str(env_file), "--port", "0"])


@pytest.mark.parametrize("password", ["a", "short-pw", "x" * (MIN_PASSWORD_LENGTH - 1)])
def test_a_short_password_in_the_settings_file_is_refused_with_where_to_change_it(
    tmp_path: Path, password: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"HOST_PASSWORD={password}\nHOST_SESSION_SECRET={SESSION_SECRET}\n")

    code = start(env_file)

    out = capsys.readouterr()
    assert code == 2
    assert "Press Ctrl+C" not in out.out
    assert f"at least {MIN_PASSWORD_LENGTH}" in out.err
    assert f"Change the HOST_PASSWORD= line in {env_file}" in out.err
    assert "delete that line to have a strong one generated" in out.err


def test_a_short_password_in_the_environment_is_refused_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"HOST_PASSWORD=a-long-enough-password\nHOST_SESSION_SECRET={SESSION_SECRET}\n"
    )
    monkeypatch.setenv("HOST_PASSWORD", "hunter2")

    code = start(env_file)

    err = capsys.readouterr().err
    assert code == 2
    assert "Change the HOST_PASSWORD environment variable" in err
    assert "hunter2" not in err


def test_the_password_a_first_run_generates_is_long_enough(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"

    assert cli.ensure_local_secrets(env_file) == ["HOST_PASSWORD", "HOST_SESSION_SECRET"]

    generated = env_file.read_text().split("HOST_PASSWORD=", 1)[1].splitlines()[0]
    assert weak_password_reason(generated) is None
