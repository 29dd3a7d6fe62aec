"""Domain errors. Each carries its HTTP status; one handler turns them into problems."""

from http import HTTPStatus
from typing import Any, ClassVar


class AppError(Exception):
    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    default_headers: ClassVar[dict[str, str]] = {}
    # Whether the request's changes are committed though it fails: true for an error that
    # records a security decision (a revoked token family). Database.unit_of_work obeys it.
    keep_changes: ClassVar[bool] = False

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = {**self.default_headers, **(headers or {})}

    def members(self) -> dict[str, Any]:
        """Members of the problem body beyond the standard ones."""
        return {}


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


class OAuthError(AppError):
    """A failure of the OAuth2 token endpoint: a 400 whose body also has the RFC 6749 members.

    OAuth2 clients, the docs' Authorize dialog among them, read `error` and
    `error_description` (RFC 6749 section 5.2); the problem members stay for everyone else.
    """

    status = HTTPStatus.BAD_REQUEST
    # Like the token responses themselves (RFC 6749 section 5.1).
    default_headers: ClassVar[dict[str, str]] = {"Cache-Control": "no-store", "Pragma": "no-cache"}

    def __init__(self, error: str, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.error = error
        self.errors = errors

    def members(self) -> dict[str, Any]:
        members: dict[str, Any] = {"error": self.error, "error_description": self.detail}
        if self.errors is not None:
            members["errors"] = self.errors
        return members


class InvalidGrant(OAuthError):
    """Wrong e-mail or password, or an inactive user: all look the same to the client."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid_grant", detail)


class EmailNotVerified(OAuthError):
    """The right password, of an account whose address is not verified yet
    (EMAIL_VERIFICATION=required): not a failed login, so not counted as one."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid_grant", detail)


class InvalidToken(AppError):
    """A token from an e-mail that is malformed, unknown, expired, used or of another
    purpose: one answer for all, so that it tells a guesser nothing."""

    status = HTTPStatus.BAD_REQUEST


class Forbidden(AppError):
    status = HTTPStatus.FORBIDDEN


class TooManyRequests(AppError):
    status = HTTPStatus.TOO_MANY_REQUESTS


class ServiceUnavailable(AppError):
    """A dependency (the database, the rate-limit store) is unreachable: retry shortly."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    # Seconds a client should wait; outages worth retrying after usually end in that time.
    default_headers: ClassVar[dict[str, str]] = {"Retry-After": "5"}


class DatabaseUnavailable(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__("The database is unreachable right now; try again shortly.")
