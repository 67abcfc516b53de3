"""Twilio REST error responses: ``{"code", "message", "more_info", "status"}``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ApiError(Exception):
    """An error answer, rendered exactly the way Twilio renders REST errors."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


def not_found(path: str) -> ApiError:
    return ApiError(404, 20404, f"The requested resource {path} was not found")


def missing(param: str) -> ApiError:
    return ApiError(400, 20001, f"Missing required parameter {param} in the post body")


def invalid(param: str, value: str, allowed: Iterable[str] | None = None) -> ApiError:
    hint = f": must be one of {', '.join(allowed)}" if allowed is not None else ""
    return ApiError(400, 20001, f"Invalid {param} {value!r}{hint}")


def out_of_range(param: str, value: str, low: int, high: int, code: int = 20001) -> ApiError:
    return ApiError(
        400, code, f"{param} must be an integer between {low} and {high}, got {value!r}"
    )
