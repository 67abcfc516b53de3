"""The Twilio Functions contract (``handler(context, event, callback)``) on API Gateway events."""

from livescreen.runtime.errors import (
    BadRequestError,
    ForbiddenError,
    HttpError,
    MethodNotAllowedError,
    NotFoundError,
    TooManyRequestsError,
    UnauthorizedError,
)
from livescreen.runtime.response import Response

__all__ = [
    "BadRequestError",
    "ForbiddenError",
    "HttpError",
    "MethodNotAllowedError",
    "NotFoundError",
    "Response",
    "TooManyRequestsError",
    "UnauthorizedError",
]
