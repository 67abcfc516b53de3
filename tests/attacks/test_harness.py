"""The attack suite's server is the real command, reachable on loopback only."""

from __future__ import annotations

from dev_process import DevProcess


def test_the_server_under_attack_is_a_real_livescreen_dev_on_loopback(dev: DevProcess) -> None:
    answer = dev.request("GET", "/index.html")
    assert answer.status == 200
    assert dev.host == "127.0.0.1"
    assert dev.host_sign_in().status == 200
