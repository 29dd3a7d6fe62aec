from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.security import MAX_REFRESH_TOKEN_LENGTH
from app.schemas.fields import NO_NUL, CurrentPassword, LoginName


class LoginForm(BaseModel):
    """The OAuth2 password grant (RFC 6749 4.3), as the docs' Authorize dialog sends it.

    The dialog also sends client_id and client_secret when filled in; this service has
    no clients to authenticate, so they, and any other field, are ignored.
    """

    model_config = ConfigDict(extra="ignore")

    username: LoginName
    # Any password a user could have set, or had set before passwords were pre-hashed.
    password: CurrentPassword
    grant_type: Literal["password"] | None = None


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the access token expires")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIzZjJi...",
                    "refresh_token": "Qm9vdHN0cmFwLXJlZnJlc2gtdG9rZW4tZXhhbXBsZS0xMjM0NTY",
                    "token_type": "bearer",
                    "expires_in": 1800,
                }
            ]
        }
    )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_REFRESH_TOKEN_LENGTH,
            pattern=NO_NUL,
            examples=["Qm9vdHN0cmFwLXJlZnJlc2gtdG9rZW4tZXhhbXBsZS0xMjM0NTY"],
        ),
    ]
