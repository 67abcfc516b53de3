"""The dev server lets the sites in ``EMBED_ORIGINS`` frame ``/embed.html``, and only that page:
its CSP ``frame-ancestors`` lists them (``'none'`` without any) and it sends no
``X-Frame-Options``; every other page keeps ``frame-ancestors 'none'`` and ``DENY``."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest
from devserver_support import fresh_state

from livescreen.config import ConfigError, Settings
from livescreen.devserver import DevServer

__all__ = ["fresh_state"]  # an autouse fixture, used by name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALLOWED = "https://blog.example.com, http://127.0.0.1:8080"
SETTINGS = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": "embed-headers-test-password",
        "HOST_SESSION_SECRET": "embed-headers-test-session-secret-0123456789abcdef",
    },
    "test",
)
PAGES = ("/index.html", "/host.html", "/recordings.html", "/")


@pytest.fixture(scope="module")
def app_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("app")
    (root / "functions").mkdir()
    (root / "assets").mkdir()
    for name in ("index.html", "host.html", "recordings.html", "embed.html"):
        (root / "assets" / name).write_text(f"<!doctype html><title>{name}</title>")
    return root


def serve(app_root: Path, settings: Settings) -> DevServer:
    dev = DevServer(settings, port=0, root=app_root)
    dev.start_background()
    return dev


@pytest.fixture
def allowing(app_root: Path) -> Iterator[DevServer]:
    dev = serve(app_root, SETTINGS.with_values(EMBED_ORIGINS=ALLOWED))
    yield dev
    dev.shutdown()


@pytest.fixture
def default(app_root: Path) -> Iterator[DevServer]:
    dev = serve(app_root, SETTINGS)
    yield dev
    dev.shutdown()


def get(server: DevServer, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("GET", path, headers={"Host": f"localhost:{server.port}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def frame_ancestors(response: http.client.HTTPResponse) -> str:
    csp = response.getheader("content-security-policy") or ""
    directives = [part.strip() for part in csp.split(";")]
    (found,) = [d for d in directives if d.startswith("frame-ancestors ")]
    return found.removeprefix("frame-ancestors ")


def test_the_sites_in_embed_origins_may_frame_the_embed_page(allowing: DevServer) -> None:
    # WHEN a browser asks for embed.html from a server whose EMBED_ORIGINS lists two sites
    page = get(allowing, "/embed.html")

    # THEN those two may frame it, and nothing says DENY
    assert page.status == 200
    assert frame_ancestors(page) == "https://blog.example.com http://127.0.0.1:8080"
    assert page.getheader("x-frame-options") is None
    assert len(page.headers.get_all("content-security-policy") or []) == 1
    # the rest of the policy is the audience page's (the same players run)
    audience = get(allowing, "/index.html").getheader("content-security-policy") or ""
    embed = page.getheader("content-security-policy") or ""
    assert embed.rpartition("frame-ancestors")[0] == audience.rpartition("frame-ancestors")[0]


@pytest.mark.parametrize("path", PAGES)
def test_every_other_page_stays_unframeable(allowing: DevServer, path: str) -> None:
    page = get(allowing, path)

    assert page.status == 200
    assert frame_ancestors(page) == "'none'"
    assert page.getheader("x-frame-options") == "DENY"


def test_without_embed_origins_no_site_may_frame_the_embed_page(default: DevServer) -> None:
    page = get(default, "/embed.html")

    assert page.status == 200
    assert frame_ancestors(page) == "'none'"
    assert page.getheader("x-frame-options") is None


def test_a_bad_value_stops_the_dev_server_before_it_listens(app_root: Path) -> None:
    with pytest.raises(ConfigError, match="EMBED_ORIGINS"):
        DevServer(SETTINGS.with_values(EMBED_ORIGINS="https://*"), port=0, root=app_root)
