"""HTTP errors a function (or the runtime) raises to answer with a clear 4xx JSON message.

The status lives on the class, so ``raise BadRequestError("password must be a string")`` is all
an endpoint writes; the adapter renders ``{"error": message}`` with that status.
"""

from __future__ import annotations


class HttpError(Exception):
    status_code = 500

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequestError(HttpError):
    status_code = 400


class UnauthorizedError(HttpError):
    status_code = 401


class ForbiddenError(HttpError):
    status_code = 403


class NotFoundError(HttpError):
    status_code = 404


class MethodNotAllowedError(HttpError):
    status_code = 405


class PayloadTooLargeError(HttpError):
    status_code = 413


class UnsupportedMediaTypeError(HttpError):
    status_code = 415


class TooManyRequestsError(HttpError):
    status_code = 429
