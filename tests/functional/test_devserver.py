"""``livescreen dev`` over real HTTP: pages, functions through the Lambda adapter, reloads, CLI."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from devserver_support import free_port, fresh_state, run_dev_until_ready, stop

from livescreen.config import Settings
from livescreen.devserver import DevServer

__all__ = ["fresh_state"]  # an autouse fixture, used by name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "dev-server-test-password"
SETTINGS = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": PASSWORD,
        "HOST_SESSION_SECRET": "dev-server-test-session-secret-0123456789",
    },
    "test",
)
WASM = b"\x00asm\x01\x00\x00\x00"
AUDIENCE_PAGE = "<!doctype html><title>Watch the stream</title>"


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    server: DevServer,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request with http.client, which sends ``path`` exactly as given (no normalising)."""
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json"} if data is not None else {}
    all_headers.update(headers or {})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        return Reply(response.status, response.msg, response.read())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def app_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's functions with a small assets folder, and a secret beside it."""
    root = tmp_path_factory.mktemp("app")
    shutil.copytree(PROJECT_ROOT / "functions", root / "functions")
    (root / "assets" / "player").mkdir(parents=True)
    (root / "assets" / "index.html").write_text(AUDIENCE_PAGE)
    (root / "assets" / "host.html").write_text("<!doctype html><title>Host</title>")
    (root / "assets" / "player" / "x.wasm").write_bytes(WASM)
    (root / ".env").write_text(f"HOST_PASSWORD={PASSWORD}\n")
    return root


@pytest.fixture(scope="module")
def server(app_root: Path) -> Iterator[DevServer]:
    dev = DevServer(SETTINGS, port=0, root=app_root)
    dev.start_background()
    yield dev
    dev.shutdown()


@pytest.fixture(scope="module")
def project_server() -> Iterator[DevServer]:
    dev = DevServer(SETTINGS, port=0)
    dev.start_background()
    yield dev
    dev.shutdown()


@pytest.mark.skipif(
    not (PROJECT_ROOT / "assets" / "index.html").is_file(), reason="assets/index.html not built"
)
def test_the_project_audience_page_is_served_at_the_root(project_server: DevServer) -> None:
    reply = request(project_server, "GET", "/")

    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.body == (PROJECT_ROOT / "assets" / "index.html").read_bytes()


def test_root_serves_index_html(server: DevServer) -> None:
    reply = request(server, "GET", "/")

    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.body.decode() == AUDIENCE_PAGE


def test_wasm_is_served_as_application_wasm(server: DevServer) -> None:
    reply = request(server, "GET", "/player/x.wasm")

    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/wasm"
    assert reply.body == WASM


def test_the_host_page_may_capture_the_screen_and_microphone(server: DevServer) -> None:
    reply = request(server, "GET", "/host.html")

    policy = reply.headers["Permissions-Policy"]
    assert "display-capture=(self)" in policy
    assert "microphone=(self)" in policy


def test_a_wrong_password_over_http_is_401(server: DevServer) -> None:
    reply = request(server, "POST", "/host_token", {"password": "nope"})

    assert reply.status == 401
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"error": "Invalid password"}


def test_the_host_flow_over_http(server: DevServer) -> None:
    host = request(server, "POST", "/host_token", {"password": PASSWORD}).json()

    started = request(server, "POST", "/stream_start", {"session": host["session"]})
    audience = request(server, "POST", "/audience_token", {})
    stopped = request(server, "POST", "/stream_stop", {"session": host["session"]})

    assert started.status == 200 and started.json()["live"] is True
    assert audience.json()["token"]
    assert stopped.status == 200
    assert request(server, "POST", "/audience_token", {}).json()["token"] is None


def test_an_edited_function_is_reloaded_on_the_next_request(
    server: DevServer, app_root: Path
) -> None:
    # GIVEN a function file that the server has already run
    path = app_root / "functions" / "hello.py"
    path.write_text("def handler(context, event, callback):\n    callback(None, 'one')\n")
    assert request(server, "GET", "/hello").body == b"one"

    # WHEN it is edited on disk
    before = path.stat().st_mtime_ns
    path.write_text("def handler(context, event, callback):\n    callback(None, 'two')\n")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))

    # THEN the next request runs the new code, without a restart
    assert request(server, "GET", "/hello").body == b"two"


def test_a_function_saved_with_a_syntax_error_answers_500_until_fixed(
    server: DevServer, app_root: Path
) -> None:
    # GIVEN a function that works
    path = app_root / "functions" / "editing.py"
    path.write_text("def handler(context, event, callback):\n    callback(None, 'ok')\n")
    assert request(server, "GET", "/editing").status == 200

    # WHEN it is saved half-edited, THEN the browser gets a JSON 500, not a dropped connection
    before = path.stat().st_mtime_ns
    path.write_text("def handler(context, event, callback)\n")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))
    broken = request(server, "GET", "/editing")
    assert broken.status == 500
    assert broken.json() == {"error": "Internal server error"}

    # WHEN the edit is finished, THEN it works again without a restart
    path.write_text("def handler(context, event, callback):\n    callback(None, 'fixed')\n")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))
    assert request(server, "GET", "/editing").body == b"fixed"


@pytest.mark.parametrize(
    "path", ["/../.env", "/%2e%2e/.env", "/player/../../.env", "/..%2f.env", "//etc/passwd"]
)
def test_paths_outside_the_assets_folder_are_404(server: DevServer, path: str) -> None:
    reply = request(server, "GET", path)

    assert reply.status == 404
    assert PASSWORD.encode() not in reply.body


def test_the_project_file_beside_the_assets_is_not_reachable(project_server: DevServer) -> None:
    assert request(project_server, "GET", "/../pyproject.toml").status == 404


def test_assets_are_read_only(server: DevServer) -> None:
    reply = request(server, "POST", "/index.html", {})

    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, HEAD"


def raw_get(server: DevServer, path: str, header_lines: list[str]) -> bytes:
    """The status line and headers of a GET sent with exactly ``header_lines``."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", *header_lines]
        connection.sendall(("\r\n".join([*lines, "Connection: close", "", ""])).encode())
        received = b""
        while b"\r\n\r\n" not in received and (chunk := connection.recv(4096)):
            received += chunk
    return received


def test_a_file_the_browser_already_holds_is_answered_304_without_a_body(
    server: DevServer,
) -> None:
    # GIVEN a page the browser has loaded once, with its version (ETag)
    first = request(server, "GET", "/index.html")
    etag = first.headers["ETag"]
    assert first.status == 200
    assert first.body == AUDIENCE_PAGE.encode()
    assert etag.startswith('"') and etag.endswith('"')

    # WHEN it asks again, naming that version in any of the forms browsers use
    for named in [etag, f"W/{etag}", f'"older", {etag}', "*"]:
        again = request(server, "GET", "/index.html", headers={"If-None-Match": named})

        # THEN it is told to keep its copy: 304, no body, the same version
        assert again.status == 304, named
        assert again.body == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "no-cache, must-revalidate"
        assert "Content-Type" not in again.headers
    assert request(server, "HEAD", "/index.html", headers={"If-None-Match": etag}).status == 304
    # (a list sent on two lines is one list)
    two_lines = raw_get(server, "/index.html", ['If-None-Match: "older"', f"If-None-Match: {etag}"])
    assert two_lines.startswith(b"HTTP/1.1 304 ")

    # AND a browser holding another version gets the file
    other = request(server, "GET", "/index.html", headers={"If-None-Match": '"older"'})
    assert (other.status, other.body) == (200, AUDIENCE_PAGE.encode())


def test_a_file_written_again_is_sent_again(server: DevServer, app_root: Path) -> None:
    # GIVEN a script the browser holds
    script = app_root / "assets" / "player" / "changing.js"
    script.write_text("export const version = 1;\n")
    try:
        held = request(server, "GET", "/player/changing.js").headers["ETag"]

        # WHEN it is edited to the same size and its time is put back (as a copy that keeps
        # times would leave it)
        times = script.stat()
        script.write_text("export const version = 2;\n")
        os.utime(script, ns=(times.st_atime_ns, times.st_mtime_ns))

        # THEN the browser's copy is out of date: it gets the new one and its new version
        reply = request(server, "GET", "/player/changing.js", headers={"If-None-Match": held})
        assert reply.status == 200
        assert reply.body == b"export const version = 2;\n"
        assert reply.headers["ETag"] != held
    finally:
        script.unlink()


def test_files_are_cached_as_the_stack_serves_them(server: DevServer, app_root: Path) -> None:
    # (the pages bucket's Cache-Control, set by the asset publisher: tests/functional/
    # test_asset_publisher.py)
    versioned = app_root / "assets" / "vendor" / "player-1.7.0.min.js"
    versioned.parent.mkdir(exist_ok=True)
    versioned.write_text("// a vendored file with its version in its name\n")
    try:
        cache = {
            path: request(server, "GET", path).headers["Cache-Control"]
            for path in ["/index.html", "/player/x.wasm", "/vendor/player-1.7.0.min.js"]
        }
    finally:
        versioned.unlink()

    assert cache == {
        "/index.html": "no-cache, must-revalidate",  # a deploy shows up at once
        "/player/x.wasm": "no-cache",  # revalidated: a 304 when unchanged
        "/vendor/player-1.7.0.min.js": "public, max-age=31536000, immutable",
    }


def test_twenty_concurrent_requests_are_all_answered(server: DevServer) -> None:
    def one(n: int) -> int:
        if n % 2:
            return request(server, "POST", "/audience_token", {}).status
        return request(server, "GET", "/player/x.wasm").status

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(one, range(20)))

    assert statuses == [200] * 20


# -- the CLI ---------------------------------------------------------------------------------


def test_livescreen_dev_prints_urls_and_a_password_once(tmp_path: Path) -> None:
    # GIVEN an empty folder, WHEN `livescreen dev` runs there for the first time
    port = free_port()
    first_output, process = run_dev_until_ready(tmp_path, port)
    try:
        env_file = tmp_path / ".env"
        generated = dict(
            line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line
        )
        password = generated["HOST_PASSWORD"]

        # THEN it lists the functions and both pages, and shows the generated password
        for name in ("host_token", "stream_start", "stream_stop", "audience_token"):
            assert f"http://localhost:{port}/{name}" in first_output
        assert f"Host page:     http://localhost:{port}/host.html" in first_output
        assert f"Audience page: http://localhost:{port}/index.html" in first_output
        # and where recordings go: the recordings folder under where it runs, by default
        recordings_line = f"Recordings:    http://localhost:{port}/recordings.html"
        assert f"{recordings_line} (each stream is recorded to {tmp_path / 'recordings'})" in (
            first_output
        )
        assert f"Host password: {password}" in first_output
        assert "HOST_SESSION_SECRET" in generated
        assert generated["HOST_SESSION_SECRET"] not in first_output
        # and the saved secrets are readable by their owner only
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        # and the password it printed is the one the server accepts
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "POST",
            "/host_token",
            json.dumps({"password": password}),
            {"Content-Type": "application/json"},
        )
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        stop(process)

    # WHEN it runs a second time, THEN the password is not shown again
    second_output, process = run_dev_until_ready(tmp_path, free_port())
    stop(process)
    assert password not in second_output
    assert "Host password: the HOST_PASSWORD setting in" in second_output
    assert env_file.read_text().count("HOST_PASSWORD=") == 1


def test_a_negative_content_length_is_a_400_not_an_endless_read(server: DevServer) -> None:
    # GIVEN a request that claims a negative body length and then keeps the socket open
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /host_token HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{"
        )
        # WHEN the server answers THEN it is a 400 at once, without waiting for the client
        status_line = sock.makefile("rb").readline()
    assert status_line.startswith(b"HTTP/1.1 400")


@pytest.mark.parametrize("path", ["/a%00b.html", "/" + "x" * 300 + ".html"])
def test_a_path_the_file_system_refuses_is_a_404(server: DevServer, path: str) -> None:
    assert request(server, "GET", path).status == 404
