import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.dependencies import CurrentAccount, SuperuserAccount, UserServiceDep
from app.api.problems import declared_problems
from app.api.rate_limits import PASSWORD_CHECK_LIMITS, SIGNUP_LIMIT
from app.models import User
from app.repositories.account import Account
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


@router.post(
    "",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    dependencies=[SIGNUP_LIMIT],
    responses=declared_problems(409),
    summary="Sign up",
)
async def create_user(body: UserCreate, users: UserServiceDep) -> User:
    return await users.register(body)


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
    response_model=UserRead,
    dependencies=PASSWORD_CHECK_LIMITS,
    responses=declared_problems(403, 409),
    summary="Change your e-mail address",
)
async def change_email(body: EmailChange, account: CurrentAccount, users: UserServiceDep) -> User:
    return await users.change_email(account, body)


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
