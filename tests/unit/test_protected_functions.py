"""Protected functions (``<name>.protected.py``) run only for requests Twilio signed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from livescreen.config import Settings
from livescreen.devserver.invoke import InvokeResult, invoke

AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
HOST = "hooks.example.test"
SETTINGS = Settings({"AUTH_TOKEN": AUTH_TOKEN}, "test")
FORM = {"RoomSid": "RM123", "StatusCallbackEvent": "room-ended"}


@pytest.fixture
def ran_marker(tmp_path: Path, write_function: Callable[[str, str], Path]) -> Path:
    """A protected function that leaves a marker file when (and only when) it runs."""
    marker = tmp_path / "ran.txt"
    write_function(
        "room_events.protected.py",
        "from pathlib import Path\n"
        "METHODS = ('POST',)\n"
        "def handler(context, event, callback):\n"
        f"    Path({str(marker)!r}).write_text(event.get('RoomSid', 'json'))\n"
        "    callback(None, {'seen': event.get('StatusCallbackEvent')})\n",
    )
    return marker


def signature_for(url: str, params: dict[str, str]) -> str:
    return str(RequestValidator(AUTH_TOKEN).compute_signature(url, params))


def post_form(
    functions_dir: Path,
    form: dict[str, str],
    *,
    signature: str | None,
    raw_query: str = "",
    settings: Settings = SETTINGS,
) -> InvokeResult:
    headers = {"content-type": "application/x-www-form-urlencoded", "host": HOST}
    if signature is not None:
        headers["x-twilio-signature"] = signature
    return invoke(
        "room_events",
        urlencode(form),
        settings=settings,
        headers=headers,
        raw_query=raw_query,
        functions_dir=functions_dir,
    )


def test_a_correctly_signed_webhook_runs(functions_dir: Path, ran_marker: Path) -> None:
    # GIVEN a form POST signed with the account's auth token, the way Twilio signs webhooks
    signature = signature_for(f"https://{HOST}/room_events", FORM)

    # WHEN it reaches the protected function
    result = post_form(functions_dir, FORM, signature=signature)

    # THEN the function runs and answers
    assert result.status == 200, result.text
    assert result.json() == {"seen": "room-ended"}
    assert ran_marker.read_text() == "RM123"


def test_the_query_string_is_part_of_the_signed_url(functions_dir: Path, ran_marker: Path) -> None:
    signature = signature_for(f"https://{HOST}/room_events?env=prod", FORM)

    result = post_form(functions_dir, FORM, signature=signature, raw_query="env=prod")

    assert result.status == 200, result.text


def test_a_signed_json_webhook_with_body_sha256_runs(functions_dir: Path, ran_marker: Path) -> None:
    body = json.dumps({"StatusCallbackEvent": "room-ended"})
    digest = hashlib.sha256(body.encode()).hexdigest()
    url = f"https://{HOST}/room_events?bodySHA256={digest}"

    result = invoke(
        "room_events",
        body,
        settings=SETTINGS,
        headers={
            "content-type": "application/json",
            "host": HOST,
            "x-twilio-signature": signature_for(url, {}),
        },
        raw_query=f"bodySHA256={digest}",
        functions_dir=functions_dir,
    )

    assert result.status == 200, result.text
    assert ran_marker.exists()


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "bm90IGEgc2lnbmF0dXJl",
        # signed for a different host: a request replayed at another deployment
        RequestValidator(AUTH_TOKEN).compute_signature("https://evil.test/room_events", FORM),
        # signed with another account's token
        RequestValidator("f" * 32).compute_signature(f"https://{HOST}/room_events", FORM),
    ],
    ids=["missing", "empty", "garbage", "other-url", "other-token"],
)
def test_an_unsigned_or_wrongly_signed_request_is_401_and_never_runs(
    functions_dir: Path, ran_marker: Path, signature: str | None
) -> None:
    result = post_form(functions_dir, FORM, signature=signature)

    assert result.status == 401
    assert result.json() == {"error": "Missing or invalid X-Twilio-Signature"}
    assert not ran_marker.exists()


def test_a_tampered_body_is_401(functions_dir: Path, ran_marker: Path) -> None:
    signature = signature_for(f"https://{HOST}/room_events", FORM)
    tampered = {**FORM, "RoomSid": "RM999"}

    result = post_form(functions_dir, tampered, signature=signature)

    assert result.status == 401
    assert not ran_marker.exists()


def test_without_an_auth_token_configured_protected_functions_refuse(
    functions_dir: Path, ran_marker: Path
) -> None:
    signature = signature_for(f"https://{HOST}/room_events", FORM)

    result = post_form(functions_dir, FORM, signature=signature, settings=Settings({}, "test"))

    assert result.status == 401
    assert not ran_marker.exists()
