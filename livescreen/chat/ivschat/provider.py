"""The ``ivschat`` chat provider: Amazon IVS Chat, one room per stack, in the user's account.

Every chatter gets a token from ``CreateChatToken`` (a control-plane call per chatter; AWS allows
200 a second per account and region, so a throttled call is retried with jittered backoff,
then answered 503 with ``Retry-After``). The page opens the WebSocket to
``wss://edge.ivschat.<region>.amazonaws.com`` with it at once (the token itself expires at
``tokenExpirationTime``, passed on as ``tokenExpiresAt``: the page's SDK opens a new
connection, with a renewed token for the same identity, before it); the session then lasts
``CHAT_SESSION_MINUTES``. The client is made
for the room's own region, read from ``IVS_CHAT_ROOM_ARN``. The display name and the role
travel as the token's attributes, which IVS Chat attaches to every message the chatter sends.
Viewers may only send; the host may also delete messages and disconnect chatters. IVS Chat
keeps no history: a chatter sees only what is sent while connected.
"""

from __future__ import annotations

import logging
import random
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from livescreen.chat import HOST, HOST_CAPABILITIES, VIEWER_CAPABILITIES, ChatGrant
from livescreen.config import ConfigError, Settings
from livescreen.errors import ProviderError, ProviderUnavailableError

logger = logging.getLogger(__name__)

#: CreateChatToken answers "too many requests" beyond 200 a second per account: a crowd
#: arriving at once is retried this many times, with jittered exponential backoff.
THROTTLE_ATTEMPTS = 4
THROTTLE_BASE_DELAY = 0.1
_THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException"})
#: What ``CreateChatToken`` accepts as ``roomIdentifier`` (botocore's ivschat model), with the
#: region captured.
ROOM_ARN = re.compile(r"arn:aws:ivschat:([a-z0-9-]+):[0-9]+:room/[a-zA-Z0-9-]+")


def pause(seconds: float) -> None:
    """Wait between throttled attempts (tests replace it)."""
    time.sleep(seconds)


def room_region(room_arn: str) -> str:
    """The region of an IVS Chat room ARN, or ``ConfigError`` naming the setting."""
    match = ROOM_ARN.fullmatch(room_arn.strip())
    if match is None or len(room_arn) > 128:
        raise ConfigError(
            "Setting IVS_CHAT_ROOM_ARN must be an IVS Chat room ARN "
            "(arn:aws:ivschat:<region>:<account>:room/<id>; the stack's ChatRoomArn output)"
        )
    return match.group(1)


def make_client(settings: Settings, region: str) -> Any:
    """An ``ivschat`` client for ``region`` with short timeouts and no retries of its own:
    throttling is retried here, where the waits can be bounded and tested."""
    import boto3
    from botocore.config import Config

    timeout = settings.get_int("UPSTREAM_TIMEOUT", minimum=1, maximum=60)
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"mode": "standard", "max_attempts": 1},
    )
    return boto3.client("ivschat", region_name=region, config=config)


class IvsChat:
    name = "ivschat"
    #: A renewing page presents its identity ticket and keeps its ``userId`` (identity_ticket).
    keeps_identity = True

    def __init__(
        self,
        client: Any,
        room_arn: str,
        *,
        session_minutes: int = 60,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.client = client
        self.room_arn = room_arn.strip()
        self.session_minutes = session_minutes
        self._sleep = sleep or pause
        self.endpoint = f"wss://edge.ivschat.{room_region(self.room_arn)}.amazonaws.com"

    def grant(
        self, *, name: str, role: str, address: str | None = None, identity: str | None = None
    ) -> ChatGrant:
        # ``address`` is not used: behind CloudFront it is the edge's, shared by every viewer
        # that edge serves, so a limit on it would turn away whole regions. IVS Chat sees each
        # chatter's own address; the message reviewer limits on that (``ivschat_review``).
        # ``identity``: one this provider issued before, vouched for by a verified ticket
        identity = identity or f"{role}-{secrets.token_hex(8)}"
        capabilities = HOST_CAPABILITIES if role == HOST else VIEWER_CAPABILITIES
        answer = self._create_token(
            roomIdentifier=self.room_arn,
            userId=identity,
            capabilities=list(capabilities),
            sessionDurationInMinutes=self.session_minutes,
            attributes={"displayName": name, "role": role},
        )
        expires: datetime = answer["sessionExpirationTime"]
        token_expires: datetime | None = answer.get("tokenExpirationTime")
        return ChatGrant(
            provider=self.name,
            token=answer["token"],
            identity=identity,
            name=name,
            role=role,
            expires_at=expires.timestamp(),
            endpoint=self.endpoint,
            capabilities=capabilities,
            token_expires_at=token_expires.timestamp() if token_expires else None,
        )

    def _create_token(self, **request: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        for attempt in range(THROTTLE_ATTEMPTS):
            try:
                answer: dict[str, Any] = self.client.create_chat_token(**request)
                return answer
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                throttled = code in _THROTTLED or status == 429
                if throttled and attempt < THROTTLE_ATTEMPTS - 1:
                    delay = THROTTLE_BASE_DELAY * 2**attempt
                    self._sleep(delay + random.uniform(0, delay))
                    continue
                raise _chat_error(code, throttled, status) from None
            except NoCredentialsError:
                logger.warning("CreateChatToken failed: no AWS credentials")
                raise ProviderUnavailableError(
                    "The chat cannot reach Amazon IVS Chat: no AWS credentials are configured"
                ) from None
            except BotoCoreError as exc:
                logger.warning("CreateChatToken failed: %s", type(exc).__name__)
                raise ProviderUnavailableError(
                    "Could not reach Amazon IVS Chat: the chat is unavailable, try again shortly",
                    retry_after=5,
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover


def _chat_error(code: str, throttled: bool, status: int) -> ProviderError:
    logger.warning("CreateChatToken failed: %s (HTTP %s)", code or "unknown error", status)
    if throttled:
        return ProviderUnavailableError(
            "The chat is busy (too many people joining at once): try again in a few seconds",
            retry_after=2,
        )
    if code == "AccessDeniedException":
        return ProviderUnavailableError(
            "Amazon IVS Chat denied the token: the function's role needs ivschat:CreateChatToken "
            "on the chat room (see docs/ivs.md)"
        )
    if code == "ResourceNotFoundException":
        return ProviderUnavailableError(
            "The chat room does not exist: check IVS_CHAT_ROOM_ARN (the stack's ChatRoomArn)"
        )
    if code == "PendingVerification":
        return ProviderUnavailableError(
            "Amazon IVS Chat refused the token: the AWS account is still pending verification"
        )
    if status >= 500:
        return ProviderError(
            f"Amazon IVS Chat failed ({code or f'HTTP {status}'}): try again in a few seconds"
        )
    return ProviderError(f"Amazon IVS Chat refused the token ({code or f'HTTP {status}'})")


def create_chat(settings: Settings) -> IvsChat:
    room_arn = settings.require("IVS_CHAT_ROOM_ARN")
    return IvsChat(
        make_client(settings, room_region(room_arn)),
        room_arn,
        session_minutes=settings.get_int("CHAT_SESSION_MINUTES", minimum=1, maximum=180),
    )
