"""The Lambda handler every HTTP function of the stack names.

``Handler: livescreen.runtime.lambda_entry.handler`` with the environment variable
``LIVESCREEN_FUNCTION=<name>`` runs ``functions/<name>.py`` under the Twilio Functions contract.
Logs are structured JSON (Powertools Logger) with the API Gateway request id as correlation id.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from livescreen import config
from livescreen.runtime.api_gateway import handle_event
from livescreen.runtime.loader import FunctionRegistry
from livescreen.security import log_redaction

CODE_ROOT = Path(__file__).resolve().parents[2]
SERVICE_NAME = "live-screen-sharing"

_registry = FunctionRegistry(CODE_ROOT / "functions")
_logger: Any = None


def _structured_logger() -> Any:
    """Powertools Logger for this service; the library's own loggers share its JSON format."""
    global _logger
    if _logger is None:
        from aws_lambda_powertools import Logger
        from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

        _logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE_NAME))
        copy_config_to_registered_loggers(source_logger=_logger, include={"livescreen"})
        log_redaction.install(_logger._logger)
        log_redaction.install(logging.getLogger("livescreen"))
    return _logger


def _settings() -> config.Settings:
    settings = config.load()
    log_redaction.secret_filter.remember(settings)
    # A missing secret is reported by name (and where it was looked for) on every request,
    # not only by the first function that happens to need it.
    settings.check()
    return settings


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    function_name = os.environ.get("LIVESCREEN_FUNCTION", "")
    logger = _structured_logger()
    request_id = (event.get("requestContext") or {}).get("requestId")
    logger.set_correlation_id(request_id)
    logger.append_keys(function=function_name)
    response = handle_event(event, _registry, function_name, _settings)
    logger.info(
        "request handled",
        extra={"path": event.get("rawPath") or event.get("path"), "status": response["statusCode"]},
    )
    return response
