"""The emulator's fault switches do exactly what the fault tests rely on.

Raw ``http.client`` requests show what a client sees: no answer before its timeout, a refused
connection, a gate that lets two callers through together, an action run between two calls.
"""

from __future__ import annotations

import base64
import http.client
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

import pytest
from twilio_credentials import API_KEY_SECRET, API_KEY_SID

from twilio_emulator import EmulatorServer

AUTH = "Basic " + base64.b64encode(f"{API_KEY_SID}:{API_KEY_SECRET}".encode()).decode()
ROOMS = ("POST", "/video/v1/Rooms")
WAIT = 10.0


def connect(emulator: EmulatorServer, timeout: float = WAIT) -> http.client.HTTPConnection:
    parts = urlsplit(emulator.base_url)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)


def create_room(emulator: EmulatorServer, name: str, timeout: float = WAIT) -> int:
    connection = connect(emulator, timeout)
    try:
        connection.request(
            "POST",
            "/video/v1/Rooms",
            body=urlencode({"UniqueName": name}),
            headers={"Authorization": AUTH, "Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.parametrize("after_processing", [True, False])
def test_a_hung_call_is_not_answered_in_time_and_may_have_been_done(
    emulator: EmulatorServer, after_processing: bool
) -> None:
    emulator.hang_next(*ROOMS, after_processing=after_processing)
    with pytest.raises(TimeoutError):
        create_room(emulator, "hung", timeout=0.3)
    emulator.release_hung()
    # THEN the room exists only when the call was processed before hanging
    assert [r.unique_name for r in emulator.state.rooms.values()] == (
        ["hung"] if after_processing else []
    )
    # AND the next call is answered as usual
    assert create_room(emulator, "next") == 201


def test_refused_connections_until_accepted_again_on_the_same_port(
    emulator: EmulatorServer,
) -> None:
    base_url = emulator.base_url
    emulator.refuse_connections()
    assert not emulator.listening
    with pytest.raises(ConnectionRefusedError):
        create_room(emulator, "refused")
    emulator.accept_connections()
    assert emulator.base_url == base_url
    assert create_room(emulator, "accepted") == 201


def test_refusing_after_a_call_answers_that_call_and_closes_its_connection(
    emulator: EmulatorServer,
) -> None:
    emulator.refuse_connections_after(*ROOMS)
    connection = connect(emulator)
    connection.request(
        "POST",
        "/video/v1/Rooms",
        body="UniqueName=last",
        headers={"Authorization": AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = connection.getresponse()
    assert response.status == 201 and response.getheader("Connection") == "close"
    response.read()
    connection.close()
    with pytest.raises(ConnectionRefusedError):
        create_room(emulator, "after")


def test_refusing_closes_idle_kept_alive_connections(emulator: EmulatorServer) -> None:
    connection = connect(emulator)
    connection.request("GET", "/video/v1/Rooms", headers={"Authorization": AUTH})
    connection.getresponse().read()
    emulator.refuse_connections()
    sock = connection.sock
    assert isinstance(sock, socket.socket)
    sock.settimeout(WAIT)
    assert sock.recv(1) == b""  # the server closed it
    connection.close()


def test_a_gate_lets_callers_through_together(emulator: EmulatorServer) -> None:
    emulator.gate(*ROOMS, parties=2)
    through = threading.Event()

    def first() -> int:
        status = create_room(emulator, "first")
        through.set()
        return status

    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(first)
        # The first caller is held until a second one arrives
        assert not through.wait(0.2)
        assert create_room(emulator, "second") == 201
        assert waiting.result(timeout=WAIT) == 201
    # AND the gate is used up: a third call goes straight through
    assert create_room(emulator, "third") == 201


def test_after_call_runs_once_between_two_calls(emulator: EmulatorServer) -> None:
    emulator.after_call(*ROOMS, lambda: emulator.fail_next(*ROOMS, status=500))
    assert create_room(emulator, "one") == 201
    assert create_room(emulator, "two") == 500
    assert create_room(emulator, "three") == 201


def test_clear_faults_undoes_everything(emulator: EmulatorServer) -> None:
    emulator.fail_next(*ROOMS, count=5, status=500)
    emulator.hang_next(*ROOMS, count=5)
    emulator.after_call(*ROOMS, emulator.refuse_connections)
    emulator.refuse_connections()
    emulator.clear_faults()
    assert emulator.listening
    assert [create_room(emulator, f"room-{n}") for n in range(3)] == [201, 201, 201]
