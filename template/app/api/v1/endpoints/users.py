import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from app.api.dependencies import AuthServiceDep, CurrentAccount, SuperuserAccount, UserServiceDep
from app.api.problems import declared_problems
from app.api.rate_limits import PASSWORD_CHECK_LIMITS, SESSION_LIMITS, SIGNUP_LIMIT, RecipientsDep
from app.models import User
from app.repositories.account import Account
from app.schemas.account import Accepted, SessionRead
from app.schemas.user import (
    EmailChange,
    PageParams,
    PasswordChange,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
    UserUpdateMe,
)

router = APIRouter(prefix="/users", tags=["users"])


# With EMAIL_VERIFICATION=required, sign-up answers this for a new address and a taken one.
SIGNUP_ACCEPTED = Accepted(
    detail="Follow the link sent to the address to verify it; then log in. If the address "
    "already has an account, it got a notice instead."
)
EMAIL_CHANGE_ACCEPTED = Accepted(
    detail="Follow the link sent to the new address to confirm the change; the current "
    "address got a notice."
)


@router.post(
    "",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    dependencies=[SIGNUP_LIMIT],
    responses={
        202: {
            "model": Accepted,
            "description": "EMAIL_VERIFICATION=required: the account, if the address was "
            "free, exists and must verify its address before it logs in.",
        },
        **declared_problems(409),
    },
    summary="Sign up",
    description="With EMAIL_VERIFICATION=optional: 201 with the account, or 409 for a taken "
    "address. With required: 202, the same body whether or not the address was taken.",
)
async def create_user(
    body: UserCreate, users: UserServiceDep, recipients: RecipientsDep
) -> User | JSONResponse:
    await recipients.count(body.email)
    user = await users.sign_up(body)
    if user is None or users.settings.email_verification == "required":
        return JSONResponse(SIGNUP_ACCEPTED.model_dump(), status_code=status.HTTP_202_ACCEPTED)
    return user


# The ids are matched as UUIDs ({user_id:uuid}): "/users/me" is never taken for an id, so
# its unsupported methods are a 405, and a malformed id is a 404, like any unknown user.
@router.get("/me", response_model=UserRead, summary="Your profile")
async def read_me(account: CurrentAccount) -> Account:
    return account


@router.patch("/me", response_model=UserRead, summary="Change your name")
async def update_me(body: UserUpdateMe, account: CurrentAccount, users: UserServiceDep) -> User:
    return await users.update_me(account, body)


@router.put(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=PASSWORD_CHECK_LIMITS,
    responses=declared_problems(403),
    summary="Change your password; every session ends, this one included",
)
async def change_password(
    body: PasswordChange, account: CurrentAccount, users: UserServiceDep
) -> None:
    await users.change_password(account, body)


@router.put(
    "/me/email",
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=PASSWORD_CHECK_LIMITS,
    responses=declared_problems(403),
    summary="Change your e-mail address: it changes once the link sent there is followed",
)
async def change_email(
    body: EmailChange, account: CurrentAccount, users: UserServiceDep, recipients: RecipientsDep
) -> Accepted:
    await recipients.count(body.email)
    await users.change_email(account, body)
    return EMAIL_CHANGE_ACCEPTED


@router.get(
    "/me/sessions",
    response_model=list[SessionRead],
    dependencies=SESSION_LIMITS,
    summary="Your live sessions (logins a refresh can still continue), last used first",
)
async def list_sessions(account: CurrentAccount, auth: AuthServiceDep) -> list[SessionRead]:
    return [
        SessionRead(
            id=session.id,
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            client_address=session.client_address,
            user_agent=session.user_agent,
            current=session.id == account.session_id,
        )
        for session in await auth.sessions(account)
    ]


@router.delete(
    "/me/sessions/{session_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=SESSION_LIMITS,
    responses=declared_problems(404),
    summary="End one of your sessions: its refresh and access tokens stop working at once",
)
async def end_session(session_id: uuid.UUID, account: CurrentAccount, auth: AuthServiceDep) -> None:
    await auth.end_session(account, session_id)


@router.delete(
    "/me/sessions",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=SESSION_LIMITS,
    summary="Log out everywhere: every session ends, this one included",
)
async def end_all_sessions(account: CurrentAccount, auth: AuthServiceDep) -> None:
    await auth.end_all_sessions(account)


@router.get("", response_model=UserPage, summary="List users in id order (superusers)")
async def list_users(
    _admin: SuperuserAccount, users: UserServiceDep, page: Annotated[PageParams, Query()]
) -> UserPage:
    items, next_after = await users.list_page(page.after, page.limit)
    return UserPage(
        items=[UserRead.model_validate(user) for user in items], limit=page.limit, next=next_after
    )


@router.get(
    "/{user_id:uuid}",
    response_model=UserRead,
    responses=declared_problems(404),
    summary="Read a user (superusers)",
)
async def read_user(user_id: uuid.UUID, _admin: SuperuserAccount, users: UserServiceDep) -> User:
    return await users.get(user_id)


@router.patch(
    "/{user_id:uuid}",
    response_model=UserRead,
    responses=declared_problems(404, 409),
    summary="Change a user, privileges included (superusers)",
)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, _admin: SuperuserAccount, users: UserServiceDep
) -> User:
    return await users.update(user_id, body)


@router.delete(
    "/{user_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=declared_problems(404, 409),
    summary="Delete a user (superusers)",
)
async def delete_user(user_id: uuid.UUID, _admin: SuperuserAccount, users: UserServiceDep) -> None:
    await users.delete(user_id)
