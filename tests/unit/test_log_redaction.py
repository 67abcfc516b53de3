"""Secrets never reach a log line, even when an error message happens to contain one."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from livescreen import config
from livescreen.config import Settings
from livescreen.devserver.http_api_event import build_http_api_v2_event
from livescreen.runtime import lambda_entry
from livescreen.runtime.loader import FunctionRegistry
from livescreen.security import log_redaction
from livescreen.security.log_redaction import MASK, SecretRedactingFilter

PASSWORD = "hunter2-but-longer"
SECRET = "session-secret-0123456789abcdef-0123456789"
AUTH_TOKEN = "auth-token-fedcba9876543210"
SETTINGS = Settings(
    {
        "STREAM_PROVIDER": "local",
        "HOST_PASSWORD": PASSWORD,
        "HOST_SESSION_SECRET": SECRET,
        "AUTH_TOKEN": AUTH_TOKEN,
        "ACCOUNT_SID": "AC-not-a-secret-000",
    },
    "test",
)


def record(msg: str, *args: Any, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("livescreen.test", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_a_secret_in_a_message_or_its_arguments_is_masked() -> None:
    redactor = SecretRedactingFilter()
    redactor.remember(SETTINGS)
    item = record("upstream refused %s with token %s", "AC-not-a-secret-000", AUTH_TOKEN)

    assert redactor.filter(item) is True
    assert item.getMessage() == f"upstream refused AC-not-a-secret-000 with token {MASK}"


def test_a_secret_in_an_exception_is_masked() -> None:
    redactor = SecretRedactingFilter()
    redactor.remember(SETTINGS)
    try:
        raise RuntimeError(f"401 from upstream for password {PASSWORD}")
    except RuntimeError as exc:
        item = record("call failed", exc=exc)

    redactor.filter(item)
    rendered = logging.Formatter().format(item)

    assert PASSWORD not in rendered
    assert f"401 from upstream for password {MASK}" in rendered


def test_short_values_and_an_unconfigured_filter_leave_messages_alone() -> None:
    redactor = SecretRedactingFilter()
    untouched = record("password is %s", "pw")
    assert redactor.filter(untouched) and untouched.getMessage() == "password is pw"

    redactor.remember(Settings({"HOST_PASSWORD": "pw"}, "test"))
    assert redactor.filter(untouched) and untouched.getMessage() == "password is pw"


LEAKY_FUNCTION = """
import logging

def handler(context, event, callback):
    logging.getLogger("livescreen.functions").info("event received: %s", event)
    raise RuntimeError("upstream said: bad credentials " + context.AUTH_TOKEN)
"""


@pytest.fixture
def lambda_logging(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[None]:
    """Run the Lambda entry with a fresh structured logger; put the logging tree back after."""
    package_logger = logging.getLogger("livescreen")
    saved = (
        list(package_logger.handlers),
        list(package_logger.filters),
        package_logger.propagate,
        package_logger.level,
    )
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", f"redaction-test-{request.node.name}")
    monkeypatch.setattr(lambda_entry, "_logger", None)
    monkeypatch.setattr(log_redaction.secret_filter, "_secrets", ())
    monkeypatch.setattr(config, "load", lambda: SETTINGS)
    yield
    package_logger.handlers, package_logger.filters = saved[0], saved[1]
    package_logger.propagate = saved[2]
    package_logger.setLevel(saved[3])


def lambda_call(name: str, body: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LIVESCREEN_FUNCTION", name)
    event = build_http_api_v2_event(
        method="POST",
        path=f"/{name}",
        headers={"content-type": "application/json", "x-forwarded-for": "203.0.113.4"},
        body=json.dumps(body).encode(),
    )
    return lambda_entry.handler(event, None)


def test_a_full_host_token_call_logs_neither_the_password_nor_the_session(
    lambda_logging: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN the deployed entry point, WHEN the host signs in with the right password
    response = lambda_call("host_token", {"password": PASSWORD}, monkeypatch)
    session = json.loads(response["body"])["session"]

    # THEN the request is logged, without any secret or the session it handed out
    assert response["statusCode"] == 200
    out, err = capsys.readouterr()
    logged = out + err + caplog.text
    assert "request handled" in logged
    for secret in (PASSWORD, SECRET, session):
        assert secret not in logged


def test_a_function_that_logs_its_event_and_fails_with_a_secret_is_masked(
    lambda_logging: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    write_function: Callable[[str, str], Path],
    functions_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a careless function that logs the whole event and echoes a credential in an error
    write_function("leaky.py", LEAKY_FUNCTION)
    monkeypatch.setattr(lambda_entry, "_registry", FunctionRegistry(functions_dir))

    # WHEN it is called with the host password in the body
    response = lambda_call("leaky", {"password": PASSWORD}, monkeypatch)

    # THEN the client sees a generic 500 and the structured logs carry no secret
    assert response["statusCode"] == 500
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    messages = " ".join(str(line.get("message")) for line in lines)
    assert "event received" in messages
    assert "leaky: unhandled error" in messages
    assert PASSWORD not in out + err
    assert AUTH_TOKEN not in out + err
    assert MASK in out


def test_a_missing_secret_on_lambda_is_a_generic_500_and_a_log_line_naming_it(
    lambda_logging: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a stack whose SSM path lacks the session secret
    incomplete = Settings(
        {"STREAM_PROVIDER": "local", "HOST_PASSWORD": PASSWORD}, "SSM Parameter Store under /x"
    )
    monkeypatch.setattr(config, "load", lambda: incomplete)

    # WHEN any endpoint is called (even one that does not need that secret)
    response = lambda_call("audience_token", {}, monkeypatch)

    # THEN the caller gets a generic error and the operator a line naming the key and the place
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"error": "Internal server error"}
    out, err = capsys.readouterr()
    logged = out + err + caplog.text
    assert "HOST_SESSION_SECRET" in logged
    assert "SSM Parameter Store under /x" in logged
    assert PASSWORD not in logged
