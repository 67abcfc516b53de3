"""``/stream_details``: anyone reads the next stream's title, description and planned start; only
the host sets them (host session, or the host password in a JSON body), and a bad value changes
nothing. Called through the same adapter Lambda runs, with a real SQLite store in a temp folder.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from livescreen.chat import clear_chat_cache
from livescreen.config import Settings
from livescreen.devserver import DevServer
from livescreen.devserver.invoke import InvokeResult, invoke
from livescreen.providers import clear_provider_cache
from livescreen.providers.local.hub import HUB
from livescreen.security import password_guard
from livescreen.store import clear_store_cache
from livescreen.store.counting import clear_counter

PASSWORD = "stream details test password"
SECRET = "stream-details-test-session-secret-0123456789"
#: An offset that is not a whole hour, far from the test run's own zone.
KATHMANDU = timezone(timedelta(hours=5, minutes=45))


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A new dev server: no cached provider, store or counter, no throttle, no live room."""
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)

    def forget() -> None:
        clear_provider_cache()
        clear_chat_cache()
        clear_counter()
        clear_store_cache()
        password_guard.throttle.reset()
        HUB.reset()

    forget()
    yield
    forget()


def settings_for(tmp_path: Path, **extra: str) -> Settings:
    return Settings(
        {
            "STREAM_PROVIDER": "local",
            "HOST_PASSWORD": PASSWORD,
            "HOST_SESSION_SECRET": SECRET,
            "STREAMS_DB": str(tmp_path / "streams.db"),
            **extra,
        },
        "the test settings",
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path)


def read(settings: Settings) -> InvokeResult:
    return invoke("stream_details", settings=settings, method="GET")


def save(
    settings: Settings, body: dict[str, Any], headers: dict[str, str] | None = None
) -> InvokeResult:
    return invoke("stream_details", body, settings=settings, headers=headers)


def details_now(settings: Settings) -> Any:
    answer = read(settings)
    assert answer.status == 200, answer.text
    return answer.json()["details"]


def sign_in(settings: Settings) -> dict[str, Any]:
    answer = invoke("host_token", {"password": PASSWORD}, settings=settings)
    assert answer.status == 200, answer.text
    return dict(answer.json())


def in_two_days() -> datetime:
    """A planned start two days ahead, in a zone that is neither UTC nor the test run's."""
    return (datetime.now(UTC) + timedelta(days=2)).astimezone(KATHMANDU).replace(microsecond=0)


def test_nothing_is_set_until_the_host_sets_it_and_the_answer_is_never_cached(
    settings: Settings,
) -> None:
    # WHEN anyone reads the details before the host has set any
    answer = read(settings)

    # THEN there are none, the store is on, and no cache keeps the answer
    assert answer.status == 200
    assert answer.json() == {"store": True, "details": None}
    assert answer.headers["cache-control"] == "no-store"


def test_the_host_sets_details_with_the_password_and_anyone_reads_them(
    settings: Settings,
) -> None:
    planned = in_two_days()

    # WHEN the host saves a title, a description on two lines and a planned start, with the
    # password in a JSON body (before going live: no session yet)
    answer = save(
        settings,
        {
            "password": PASSWORD,
            "title": "  Friday build  ",
            "description": "Fixing the player\r\nand answering questions",
            "plannedStart": planned.isoformat(),
        },
    )

    # THEN the answer is what was kept: trimmed, line ends made plain, the start in UTC
    assert answer.status == 200, answer.text
    saved = answer.json()
    assert saved["store"] is True
    details = saved["details"]
    assert details["title"] == "Friday build"
    assert details["description"] == "Fixing the player\nand answering questions"
    assert datetime.fromisoformat(details["plannedStart"]) == planned
    assert datetime.fromisoformat(details["plannedStart"]).utcoffset() == timedelta(0)
    # AND anyone reading them (no credentials) sees the same
    assert read(settings).json() == saved


def test_the_host_session_in_the_header_or_the_body_may_set_them(settings: Settings) -> None:
    host = sign_in(settings)

    # WHEN the host saves with the session in the X-Host-Session header
    by_header = save(settings, {"title": "By header"}, headers={"X-Host-Session": host["session"]})
    # THEN it is kept, with no planned start and an empty description
    assert by_header.status == 200, by_header.text
    assert details_now(settings)["title"] == "By header"
    assert details_now(settings)["plannedStart"] is None
    assert details_now(settings)["description"] == ""

    # WHEN it saves with the session in the body, clearing nothing it did not send
    by_field = save(settings, {"session": host["session"], "title": "By field"})
    assert by_field.status == 200, by_field.text
    assert details_now(settings)["title"] == "By field"


def test_without_credentials_nothing_changes(settings: Settings) -> None:
    # GIVEN details the host set
    assert save(settings, {"password": PASSWORD, "title": "Kept"}).status == 200

    # WHEN someone without the password or a session tries to change them
    anonymous = save(settings, {"title": "Defaced"})
    wrong = save(settings, {"password": "not the password", "title": "Defaced"})
    forged = save(settings, {"title": "Defaced"}, headers={"X-Host-Session": "forged.session"})

    # THEN each is refused with a 401 that says why, and the details stay
    assert anonymous.status == 401
    assert "host password" in anonymous.json()["error"]
    assert wrong.status == 401
    assert wrong.json() == {"error": "Invalid password"}
    assert forged.status == 401
    assert details_now(settings)["title"] == "Kept"


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param("password", id="password"),
        pytest.param("session", id="session"),
    ],
)
def test_a_request_from_another_site_is_refused_before_anything_is_checked(
    settings: Settings, credentials: str
) -> None:
    # GIVEN details the host set, and a valid session
    assert save(settings, {"password": PASSWORD, "title": "Kept"}).status == 200
    body: dict[str, Any] = {"title": "From elsewhere"}
    if credentials == "password":
        body["password"] = PASSWORD
    else:
        body["session"] = sign_in(settings)["session"]

    # WHEN a page on another site sends the right password or session through the host's browser
    cross = save(settings, body, headers={"Sec-Fetch-Site": "cross-site"})
    foreign = save(
        settings, body, headers={"Origin": "https://elsewhere.example", "Host": "localhost:3000"}
    )

    # THEN both are 403 and the details stay
    assert cross.status == 403, cross.text
    assert foreign.status == 403, foreign.text
    assert "another site" in cross.json()["error"]
    assert details_now(settings)["title"] == "Kept"


def test_the_password_in_the_address_is_refused_and_changes_nothing(settings: Settings) -> None:
    assert save(settings, {"password": PASSWORD, "title": "Kept"}).status == 200

    # WHEN the password (or a session) is sent in the query string
    in_query = invoke(
        "stream_details",
        {"title": "Via the address"},
        settings=settings,
        raw_query=f"password={PASSWORD.replace(' ', '+')}",
    )
    session_in_query = invoke(
        "stream_details",
        {"title": "Via the address"},
        settings=settings,
        raw_query="session=abc",
    )

    # THEN it is a 400 that never echoes it, and nothing changes
    assert in_query.status == 400
    assert session_in_query.status == 400
    assert PASSWORD not in in_query.text
    assert details_now(settings)["title"] == "Kept"


def test_the_password_outside_a_json_body_is_415(settings: Settings) -> None:
    answer = invoke(
        "stream_details",
        f"password={PASSWORD.replace(' ', '+')}&title=Form",
        settings=settings,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert answer.status == 415
    assert details_now(settings) is None


@pytest.mark.parametrize(
    ("change", "says"),
    [
        pytest.param({"title": ""}, "title", id="empty-title"),
        pytest.param({"title": "   "}, "title", id="blank-title"),
        pytest.param({"title": None}, "title", id="null-title"),
        pytest.param({"title": 42}, "title", id="title-not-text"),
        pytest.param({"title": "x" * 101}, "100", id="title-too-long"),
        pytest.param({"title": "Bell\x07"}, "title", id="control-character"),
        pytest.param({"title": "Zero\u200bwidth"}, "invisible", id="zero-width-space"),
        pytest.param({"title": "Line\nbreak"}, "title", id="line-break-in-title"),
        pytest.param({"description": "y" * 501}, "500", id="description-too-long"),
        pytest.param({"description": "Right\u202eto left"}, "description", id="bidi-override"),
        pytest.param({"plannedStart": "2030-01-01T10:00:00"}, "time zone", id="no-offset"),
        pytest.param({"plannedStart": "next friday"}, "planned start", id="not-a-time"),
        pytest.param({"plannedStart": "2001-01-01T10:00:00Z"}, "past", id="in-the-past"),
        pytest.param({"plannedStart": 1893456000}, "planned start", id="number-not-text"),
    ],
)
def test_bad_input_is_a_400_that_says_what_is_wrong_and_changes_nothing(
    settings: Settings, change: dict[str, Any], says: str
) -> None:
    # GIVEN details the host set
    planned = in_two_days()
    kept = save(
        settings,
        {"password": PASSWORD, "title": "Kept", "plannedStart": planned.isoformat()},
    ).json()["details"]

    # WHEN the host sends one bad field
    answer = save(settings, {"password": PASSWORD, "title": "Changed", **change})

    # THEN it is a 400 with a message a person can act on, and nothing changed
    assert answer.status == 400, answer.text
    message = answer.json()["error"]
    assert says.lower() in message.lower()
    assert "Traceback" not in message
    assert details_now(settings) == kept


def test_a_planned_start_more_than_a_year_ahead_is_refused(settings: Settings) -> None:
    too_far = (datetime.now(UTC) + timedelta(days=400)).isoformat()

    answer = save(settings, {"password": PASSWORD, "title": "Far", "plannedStart": too_far})

    assert answer.status == 400
    assert details_now(settings) is None


def test_with_the_store_off_nothing_is_kept_and_saving_says_so(tmp_path: Path) -> None:
    # GIVEN a dev server with STREAM_STORE=off
    off = settings_for(tmp_path, STREAM_STORE="off")

    # WHEN the audience reads the details, and the host tries to save some
    read_answer = read(off)
    save_answer = save(off, {"password": PASSWORD, "title": "Nowhere to keep it"})

    # THEN the page learns nothing is kept, and saving is a 503 that names the setting
    assert read_answer.status == 200
    assert read_answer.json() == {"store": False, "details": None}
    assert save_answer.status == 503
    assert save_answer.json() == {"error": "Stream details are not kept (STREAM_STORE=off)"}
    # AND no store file was made
    assert not (tmp_path / "streams.db").exists()


def test_with_the_store_off_a_stranger_still_gets_401_not_503(tmp_path: Path) -> None:
    off = settings_for(tmp_path, STREAM_STORE="off")

    assert save(off, {"title": "x"}).status == 401


def test_a_change_while_live_renames_the_live_stream(settings: Settings) -> None:
    # GIVEN the host set a title and a planned start, then went live
    assert (
        save(
            settings,
            {
                "password": PASSWORD,
                "title": "Morning show",
                "plannedStart": in_two_days().isoformat(),
            },
        ).status
        == 200
    )
    host = sign_in(settings)
    started = invoke("stream_start", {"session": host["session"]}, settings=settings)
    assert started.status == 200, started.text
    # THEN the stream took the title, and the plan came true (no planned start any more)
    assert started.json()["details"] == {"title": "Morning show", "description": ""}
    assert details_now(settings)["plannedStart"] is None

    # WHEN the host changes the title and description while live, with its session
    changed = save(
        settings,
        {"session": host["session"], "title": "Morning show: Q&A", "description": "Ask away"},
    )
    assert changed.status == 200, changed.text

    # THEN the live stream's numbers carry the new title at once
    stats = invoke("stream_stats", {"session": host["session"]}, settings=settings).json()
    assert stats["stream"]["title"] == "Morning show: Q&A"
    assert stats["stream"]["description"] == "Ask away"
    assert stats["stream"]["live"] is True

    # AND once it has ended, a later change is for the next stream only
    stopped = invoke("stream_stop", {"session": host["session"]}, settings=settings).json()
    assert stopped["summary"]["title"] == "Morning show: Q&A"
    assert save(settings, {"password": PASSWORD, "title": "Next week"}).status == 200
    after = invoke("stream_stats", {"session": host["session"]}, settings=settings).json()
    assert after["stream"]["title"] == "Morning show: Q&A"
    assert details_now(settings)["title"] == "Next week"


def test_a_change_with_the_password_while_live_renames_the_live_stream(
    settings: Settings,
) -> None:
    # GIVEN a live stream
    host = sign_in(settings)
    assert invoke("stream_start", {"session": host["session"]}, settings=settings).status == 200

    # WHEN the host (signed in again elsewhere) saves with the password
    assert save(settings, {"password": PASSWORD, "title": "Renamed"}).status == 200

    # THEN the live stream has the new title
    stats = invoke("stream_stats", {"session": host["session"]}, settings=settings).json()
    assert stats["stream"]["title"] == "Renamed"


def test_get_is_the_only_other_method(settings: Settings) -> None:
    answer = invoke("stream_details", settings=settings, method="PUT")

    assert answer.status == 405
    assert answer.headers["allow"] == "GET, POST, OPTIONS"


def test_the_dev_server_serves_it_over_http(settings: Settings) -> None:
    # GIVEN `livescreen dev` running, and details the host set
    assert save(settings, {"password": PASSWORD, "title": "Over HTTP"}).status == 200
    server = DevServer(settings, port=0)
    server.start_background()
    try:
        # WHEN the audience page asks for them
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/stream_details")
        reply = connection.getresponse()
        body = json.loads(reply.read())
        connection.close()
    finally:
        server.shutdown()

    # THEN they come back, never to be cached
    assert reply.status == 200
    assert reply.headers["Cache-Control"] == "no-store"
    assert body["details"]["title"] == "Over HTTP"
