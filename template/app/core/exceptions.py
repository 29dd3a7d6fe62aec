"""Domain errors. Each carries its HTTP status; one handler turns them into problems."""

from http import HTTPStatus
from typing import ClassVar


class AppError(Exception):
    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    default_headers: ClassVar[dict[str, str]] = {}
    # The unit of work normally rolls back on an error. An error that records a
    # security decision (a revoked token family) must keep that change.
    keep_changes: ClassVar[bool] = False

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = {**self.default_headers, **(headers or {})}


class NotFound(AppError):
    status = HTTPStatus.NOT_FOUND


class Conflict(AppError):
    status = HTTPStatus.CONFLICT


class Unauthorized(AppError):
    status = HTTPStatus.UNAUTHORIZED
    default_headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": "Bearer"}


class RefreshTokenReused(Unauthorized):
    """A refresh token came back after it was used: its family has been revoked."""

    keep_changes = True


class Forbidden(AppError):
    status = HTTPStatus.FORBIDDEN


class TooManyRequests(AppError):
    status = HTTPStatus.TOO_MANY_REQUESTS


class ServiceUnavailable(AppError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
