"""The attack suite's server is the real command, reachable on loopback only."""

from __future__ import annotations

from dev_process import ATTACKER_ADDRESS, DevProcess

from livescreen.security.password_guard import MAX_FAILURES


def test_the_server_under_attack_is_a_real_livescreen_dev_on_loopback(dev: DevProcess) -> None:
    answer = dev.request("GET", "/index.html")
    assert answer.status == 200
    assert dev.host == "127.0.0.1"
    assert dev.host_sign_in().status == 200


def test_each_loopback_address_is_a_different_client(dev: DevProcess) -> None:
    # WHEN one loopback address uses up its wrong passwords
    for _ in range(MAX_FAILURES):
        wrong = dev.post_json("/host_token", {"password": "wrong"}, source=ATTACKER_ADDRESS)
        assert wrong.status == 401
    assert dev.host_sign_in_from(ATTACKER_ADDRESS).status == 429

    # THEN another address is another client to the server: the host signs in from there
    assert dev.host_sign_in().status == 200
