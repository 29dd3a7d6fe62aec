import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.dependencies import CurrentUser, SuperUser, UserServiceDep
from app.api.rate_limit import SIGNUP_LIMIT
from app.api.responses import problem_responses
from app.models import User
from app.schemas.user import PageParams, UserCreate, UserPage, UserRead, UserUpdate, UserUpdateMe

router = APIRouter(prefix="/users", tags=["users"])

AUTHENTICATED = problem_responses(401, 422)
ADMIN = problem_responses(401, 403, 404, 422)


@router.post(
    "",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    dependencies=[SIGNUP_LIMIT],
    responses=problem_responses(409, 422, 429, 503),
    summary="Sign up",
)
async def create_user(body: UserCreate, users: UserServiceDep) -> User:
    return await users.register(body)


# /me is declared before /{user_id}, whose UUID type would otherwise refuse "me".
@router.get("/me", response_model=UserRead, responses=AUTHENTICATED, summary="Your profile")
async def read_me(user: CurrentUser) -> User:
    return user


@router.patch(
    "/me",
    response_model=UserRead,
    responses=problem_responses(401, 403, 409, 422),
    summary="Change your name, e-mail or password (the last two need current_password)",
)
async def update_me(body: UserUpdateMe, user: CurrentUser, users: UserServiceDep) -> User:
    return await users.update_me(user, body)


@router.get("", response_model=UserPage, responses=problem_responses(401, 403, 422))
async def list_users(
    _admin: SuperUser, users: UserServiceDep, page: Annotated[PageParams, Query()]
) -> UserPage:
    items, total = await users.list_page(limit=page.limit, offset=page.offset)
    return UserPage(
        items=[UserRead.model_validate(user) for user in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{user_id}", response_model=UserRead, responses=ADMIN)
async def read_user(user_id: uuid.UUID, _admin: SuperUser, users: UserServiceDep) -> User:
    return await users.get(user_id)


@router.patch(
    "/{user_id}", response_model=UserRead, responses=problem_responses(401, 403, 404, 409, 422)
)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, _admin: SuperUser, users: UserServiceDep
) -> User:
    return await users.update(user_id, body)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_user(user_id: uuid.UUID, _admin: SuperUser, users: UserServiceDep) -> None:
    await users.delete(user_id)
