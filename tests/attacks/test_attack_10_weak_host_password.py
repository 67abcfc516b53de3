"""Attack 10 (the host password): a one-letter password falls to the first few guesses.

``livescreen dev`` refuses to start with a HOST_PASSWORD under 12 characters, saying where to
change it; nothing listens. The password a first run generates is long enough.
"""

from __future__ import annotations

from pathlib import Path

from dev_process import DevProcess, failed_start

from livescreen.security.password_guard import MIN_PASSWORD_LENGTH


def test_livescreen_dev_refuses_a_one_letter_host_password(tmp_path: Path) -> None:
    status, output = failed_start(tmp_path / "app", HOST_PASSWORD="a")

    assert status == 2
    assert "Press Ctrl+C to stop." not in output
    assert f"HOST_PASSWORD is only 1 character long: use at least {MIN_PASSWORD_LENGTH}" in output
    assert "Change the HOST_PASSWORD= line in .env" in output


def test_livescreen_dev_starts_with_the_password_it_generates(tmp_path: Path) -> None:
    # GIVEN no HOST_PASSWORD at all: the first run generates one
    dev = DevProcess.start(tmp_path / "app", HOST_PASSWORD="")
    try:
        shown = dev.output().split("Host password: ", 1)[1].split()[0]
        assert len(shown) >= MIN_PASSWORD_LENGTH
        dev.password = shown
        assert dev.host_sign_in().status == 200
    finally:
        dev.stop()
