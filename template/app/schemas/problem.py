from typing import Any

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
