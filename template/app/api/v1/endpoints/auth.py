from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from app.api.dependencies import AuthServiceDep
from app.api.problems import (
    OAUTH_PROBLEM_SCHEMA,
    VALIDATION_DETAIL,
    declared_problem,
    declared_problems,
    problem_example,
    validation_errors,
)
from app.api.rate_limits import LOGIN_LIMIT, LOGOUT_LIMIT, REFRESH_LIMIT, AccountLoginsDep
from app.core.exceptions import OAuthError
from app.schemas.token import LoginForm, RefreshRequest, TokenPair

UNSUPPORTED_GRANT = "Only grant_type=password is supported."
# Token responses must never be stored by a browser or proxy (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthTokenRoute(APIRoute):
    """The OAuth2 token endpoint, whose invalid requests are a 400 that OAuth2 clients read
    (RFC 6749 section 5.2), not the 422 of every other route."""

    validation_error_status = 400

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_oauth(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as exc:
                errors = validation_errors(exc)
                if any(error["loc"][-1] == "grant_type" for error in errors):
                    raise OAuthError("unsupported_grant_type", UNSUPPORTED_GRANT, errors) from None
                raise OAuthError("invalid_request", VALIDATION_DETAIL, errors) from None

        return handle_oauth


router = APIRouter(prefix="/auth", tags=["auth"])
token_router = APIRouter(prefix="/auth", tags=["auth"], route_class=OAuthTokenRoute)

INVALID_GRANT_EXAMPLE = problem_example(400, "Incorrect e-mail or password.") | {
    "error": "invalid_grant",
    "error_description": "Incorrect e-mail or password.",
}


@token_router.post(
    "/token",
    response_model=TokenPair,
    dependencies=[LOGIN_LIMIT],
    responses={
        400: declared_problem(400, schema=OAUTH_PROBLEM_SCHEMA, example=INVALID_GRANT_EXAMPLE)
    },
    summary="Log in with e-mail and password (OAuth2 password grant)",
)
async def login(
    form: Annotated[LoginForm, Form()],
    auth: AuthServiceDep,
    account_logins: AccountLoginsDep,
    response: Response,
) -> TokenPair:
    response.headers.update(NO_STORE)
    async with account_logins.attempt(form.username):
        return await auth.login(form.username, form.password)


@router.post(
    "/refresh",
    response_model=TokenPair,
    dependencies=[REFRESH_LIMIT],
    responses=declared_problems(401),
    summary="Exchange a refresh token for a new pair (the old one is consumed)",
)
async def refresh(body: RefreshRequest, auth: AuthServiceDep, response: Response) -> TokenPair:
    response.headers.update(NO_STORE)
    return await auth.refresh(body.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[LOGOUT_LIMIT],
    summary="Revoke a refresh token and every token rotated from the same login",
)
async def logout(body: RefreshRequest, auth: AuthServiceDep) -> None:
    await auth.logout(body.refresh_token)
