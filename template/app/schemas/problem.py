from typing import Any, Literal

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """An RFC 9457 problem detail: the one body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Validation errors, each with loc, msg and type"
    )


OAuthErrorCode = Literal["invalid_request", "invalid_grant", "unsupported_grant_type"]


class OAuthProblem(Problem):
    """A problem that OAuth2 clients can read too: the token endpoint's errors (RFC 6749 5.2)."""

    error: OAuthErrorCode
    error_description: str
