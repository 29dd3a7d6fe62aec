from typing import Annotated

from fastapi import APIRouter, Form, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.dependencies import AuthServiceDep
from app.api.rate_limit import LOGIN_LIMIT, REFRESH_LIMIT
from app.api.responses import problem_responses
from app.schemas.fields import no_nul
from app.schemas.token import RefreshRequest, TokenPair

router = APIRouter(prefix="/auth", tags=["auth"])

# Token responses must never be stored by a browser or proxy (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class LoginForm(BaseModel):
    """The OAuth2 password form, as the Swagger UI "Authorize" button sends it."""

    model_config = ConfigDict(extra="ignore")

    username: Annotated[str, Field(min_length=1, max_length=254), no_nul]
    # Long enough for any real password; bcrypt's 72-byte limit is a 401, not a 422, here.
    password: Annotated[str, Field(min_length=1, max_length=1024), no_nul]
    grant_type: Annotated[str | None, Field(pattern="^password$")] = None


@router.post(
    "/token",
    response_model=TokenPair,
    dependencies=[LOGIN_LIMIT],
    responses=problem_responses(401, 422, 429, 503),
    summary="Log in with e-mail and password",
)
async def login(
    form: Annotated[LoginForm, Form()], auth: AuthServiceDep, response: Response
) -> TokenPair:
    response.headers.update(NO_STORE)
    return await auth.login(form.username.lower(), form.password)


@router.post(
    "/refresh",
    response_model=TokenPair,
    dependencies=[REFRESH_LIMIT],
    responses=problem_responses(401, 422, 429, 503),
    summary="Exchange a refresh token for a new pair (the old one is consumed)",
)
async def refresh(body: RefreshRequest, auth: AuthServiceDep, response: Response) -> TokenPair:
    response.headers.update(NO_STORE)
    return await auth.refresh(body.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(422),
    summary="Revoke a refresh token and every token rotated from the same login",
)
async def logout(body: RefreshRequest, auth: AuthServiceDep) -> None:
    await auth.logout(body.refresh_token)
