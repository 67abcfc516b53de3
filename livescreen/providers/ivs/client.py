"""The ``ivs-realtime`` client, and what its failures mean to the person who caused the call.

Every IVS module (the provider, the stage-events handler, the reaper, the sweeper) makes its
client here and turns a botocore failure into a ``ProviderError`` whose message says what to do.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from livescreen.config import Settings
from livescreen.providers.base import ProviderError, ProviderUnavailableError

#: What a botocore call raises when IVS refuses or cannot be reached.
AWS_ERRORS = (ClientError, BotoCoreError)


def make_client(settings: Settings) -> Any:
    """An ``ivs-realtime`` client with short timeouts and one retry."""
    import boto3
    from botocore.config import Config

    timeout = settings.get_int("UPSTREAM_TIMEOUT", minimum=1, maximum=60)
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        # two attempts: a call then takes at most 2 x UPSTREAM_TIMEOUT, inside the function timeouts
        retries={"mode": "standard", "max_attempts": 2},
    )
    region = settings.get("IVS_REGION") or None
    return boto3.client("ivs-realtime", region_name=region, config=config)


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore failure (empty when there is none)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def upstream_error(action: str, exc: Exception) -> ProviderError:
    """Turn a botocore failure into a ProviderError whose message says what to do next."""
    code = error_code(exc)
    if code in {"AccessDeniedException", "UnrecognizedClientException"}:
        return ProviderUnavailableError(
            f"IVS denied {action}: the function's role (or your AWS credentials) needs the "
            "ivs:* permissions listed in docs/ivs.md"
        )
    if code == "ServiceQuotaExceededException":
        return ProviderUnavailableError(
            f"IVS refused {action}: a stage quota is reached; run `livescreen cleanup` to delete "
            "stages left behind, or ask AWS for a higher quota"
        )
    if code in {"ThrottlingException", "TooManyRequestsException"}:
        return ProviderUnavailableError(f"IVS is throttling {action}: try again in a few seconds")
    if code == "PendingVerification":
        return ProviderUnavailableError(
            f"IVS refused {action}: the AWS account is still pending verification"
        )
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
        return ProviderUnavailableError(
            f"IVS did not answer in time while {action}: try again in a few seconds"
        )
    if isinstance(exc, (EndpointConnectionError, ConnectionClosedError)):
        return ProviderUnavailableError(
            f"Could not reach IVS while {action}: check the network and IVS_REGION, then try again"
        )
    detail = f" ({code})" if code else f" ({type(exc).__name__})"
    if _http_status(exc) >= 500:
        return ProviderError(f"IVS failed {action}{detail}: try again shortly")
    return ProviderError(f"IVS failed {action}{detail}")


def _http_status(exc: Exception) -> int:
    response = getattr(exc, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else 0


def maybe_done(exc: Exception) -> bool:
    """Whether IVS may have done what a failed call asked (no answer came, or a 5xx)."""
    return isinstance(exc, BotoCoreError) or _http_status(exc) >= 500
