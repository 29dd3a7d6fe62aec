from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from app.api.dependencies import AccountServiceDep, AuthServiceDep
from app.api.problems import (
    OAUTH_PROBLEM_SCHEMA,
    VALIDATION_DETAIL,
    declared_problem,
    declared_problems,
    problem_example,
    validation_errors,
)
from app.api.rate_limits import (
    EMAIL_REQUEST_LIMIT,
    LOGIN_LIMIT,
    LOGOUT_LIMIT,
    REFRESH_LIMIT,
    TOKEN_LIMIT,
    AccountLoginsDep,
    RecipientsDep,
    client_address,
)
from app.core.exceptions import OAuthError
from app.repositories.refresh_token import Client
from app.schemas.account import Accepted, EmailRequest, PasswordReset, TokenRedeem
from app.schemas.token import LoginForm, RefreshRequest, TokenPair

UNSUPPORTED_GRANT = "Only grant_type=password is supported."
# Token responses must never be stored by a browser or proxy (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# One answer for every address: it tells no one which addresses have an account.
RESET_ACCEPTED = Accepted(
    detail="If the address belongs to an active account, a link to reset its password is "
    "on its way."
)
RESEND_ACCEPTED = Accepted(
    detail="If the address belongs to an account that is not verified yet, a new link to "
    "verify it is on its way."
)
# The longest User-Agent kept with a session (the column's width).
MAX_USER_AGENT = 256


def client_of(request: Request) -> Client:
    """Who asks for tokens, as the list of sessions shows it."""
    user_agent = request.headers.get("user-agent")
    return Client(client_address(request), user_agent[:MAX_USER_AGENT] if user_agent else None)


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
    request: Request,
    response: Response,
) -> TokenPair:
    response.headers.update(NO_STORE)
    async with account_logins.attempt(form.username):
        return await auth.login(form.username, form.password, client_of(request))


@router.post(
    "/refresh",
    response_model=TokenPair,
    dependencies=[REFRESH_LIMIT],
    responses=declared_problems(401),
    summary="Exchange a refresh token for a new pair (the old one is consumed)",
)
async def refresh(
    body: RefreshRequest, auth: AuthServiceDep, request: Request, response: Response
) -> TokenPair:
    response.headers.update(NO_STORE)
    return await auth.refresh(body.refresh_token, client_of(request))


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[LOGOUT_LIMIT],
    summary="Revoke a refresh token and every token rotated from the same login",
)
async def logout(body: RefreshRequest, auth: AuthServiceDep) -> None:
    await auth.logout(body.refresh_token)


@router.post(
    "/password-reset",
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[EMAIL_REQUEST_LIMIT],
    summary="Ask for a link to reset a forgotten password",
    description="The same answer, in about the same time, for every address: only an active "
    "account's address gets an e-mail.",
)
async def request_password_reset(
    body: EmailRequest, accounts: AccountServiceDep, recipients: RecipientsDep
) -> Accepted:
    await recipients.count(body.email)
    await accounts.request_password_reset(body.email)
    return RESET_ACCEPTED


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[TOKEN_LIMIT],
    responses=declared_problems(400),
    summary="Set a new password with the link's token; every session of the account ends",
)
async def reset_password(body: PasswordReset, accounts: AccountServiceDep) -> None:
    await accounts.reset_password(body.token, body.password)


@router.post(
    "/verify-email",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[TOKEN_LIMIT],
    responses=declared_problems(400),
    summary="Verify an address with the link's token",
)
async def verify_email(body: TokenRedeem, accounts: AccountServiceDep) -> None:
    await accounts.verify_email(body.token)


@router.post(
    "/verify-email/resend",
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[EMAIL_REQUEST_LIMIT],
    summary="Ask for a new link to verify an address",
)
async def resend_verification(
    body: EmailRequest, accounts: AccountServiceDep, recipients: RecipientsDep
) -> Accepted:
    await recipients.count(body.email)
    await accounts.resend_verification(body.email)
    return RESEND_ACCEPTED


@router.post(
    "/email-change/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[TOKEN_LIMIT],
    responses=declared_problems(400, 409),
    summary="Move an account to its new address with the link's token",
)
async def confirm_email_change(body: TokenRedeem, accounts: AccountServiceDep) -> None:
    await accounts.confirm_email_change(body.token)
