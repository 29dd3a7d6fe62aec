"""Requests and answers of the account lifecycle: links by e-mail and sessions."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.fields import Email, Password

# Any string a link could carry: a token that is malformed is refused as any wrong token
# is (one 400), not by the schema, so the answer never says which.
Token = Annotated[
    str,
    Field(min_length=1, max_length=512, examples=["p3Jc0kq9mYb2V7rX4tLh8wZ1sN6dF5gA0eUiOyTxQvE"]),
]


class EmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email


class TokenRedeem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Token


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Token
    password: Password


class Accepted(BaseModel):
    """The request is taken; what follows happens by e-mail."""

    detail: str


class SessionRead(BaseModel):
    """One login and the refreshes that continued it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime = Field(description="When the login was.")
    last_used_at: datetime = Field(description="The last login or refresh of this session.")
    client_address: str | None = Field(description="The client address of that last use.")
    user_agent: str | None = Field(description="The User-Agent of that last use.")
    current: bool = Field(description="Whether this request's access token is of this session.")
