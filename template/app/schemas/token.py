from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.security import MAX_REFRESH_TOKEN_LENGTH
from app.schemas.fields import no_nul


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the access token expires")


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, Field(min_length=1, max_length=MAX_REFRESH_TOKEN_LENGTH), no_nul]
