"""Typed dependencies: the request's unit of work, services and the current user.

Every dependency is `async def`, also those that do no I/O: FastAPI runs a plain `def`
dependency in a worker thread, a hop that costs more than the dependency itself.
"""

from collections.abc import AsyncIterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.responses import declares
from app.core.config import Settings
from app.core.context import user_id_var
from app.core.exceptions import AppError, DatabaseUnavailable, Forbidden, Unauthorized
from app.core.security import AccessClaims, decode_access_token
from app.db.errors import is_unavailable
from app.db.session import Database
from app.db.types import utc_now
from app.models import User
from app.repositories.account import Account, AccountReader
from app.repositories.refresh_token import RefreshTokenRepository
from app.repositories.user import UserRepository
from app.services.auth import AuthService
from app.services.users import UserService

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]


@declares(503)
async def get_session(request: Request, database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: commit on success, roll back on error.

    A database that cannot be reached, at any step of the request or at the commit,
    answers a 503 problem with Retry-After, never a 500.
    """
    async with database.session_for(request.method) as session:
        try:
            try:
                yield session
            except AppError as exc:
                if exc.keep_changes:
                    await session.commit()
                else:
                    await session.rollback()
                raise
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()
        except Exception as exc:
            if is_unavailable(exc):
                raise DatabaseUnavailable from exc
            raise


# scope="function": the commit runs when the route returns, before the response
# is sent, so a request whose commit fails can never have answered 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_auth_service(session: SessionDep, settings: SettingsDep) -> AuthService:
    return AuthService(UserRepository(session), RefreshTokenRepository(session), settings)


async def get_user_service(session: SessionDep, settings: SettingsDep) -> UserService:
    return UserService(UserRepository(session), RefreshTokenRepository(session), settings)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]


Someone = TypeVar("Someone", Account, User)


def _claims(token: str | None, settings: Settings) -> AccessClaims:
    if token is None:
        raise Unauthorized("Not authenticated.")
    claims = decode_access_token(token, settings, utc_now())
    if claims is None:
        raise Unauthorized("The access token is invalid or expired.")
    return claims


def _admit(user: Someone | None, claims: AccessClaims) -> Someone:
    # A deleted or deactivated user, or a token from before a password change, is refused.
    if user is None or not user.is_active or claims.issued_at < user.tokens_valid_after.timestamp():
        raise Unauthorized("The access token is no longer valid.")
    user_id_var.set(str(user.id))  # the request's later log lines name the user
    return user


@declares(401, 503)
async def get_current_account(
    database: DatabaseDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Account:
    """The user the bearer token names, as a frozen `Account` read on a connection of its
    own: no unit of work is opened for it. A route that changes the user reads it again,
    under its lock; the template's own routes all authenticate this way."""
    claims = _claims(token, settings)
    try:
        account = await database.read(
            lambda connection: AccountReader(connection).get(claims.subject)
        )
    except Exception as exc:
        if is_unavailable(exc):
            raise DatabaseUnavailable from exc
        raise
    return _admit(account, claims)


@declares(401)
async def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    """The same user as a `User` of the request's unit of work: what a route that changes
    it, or follows its relationships, needs. Its query runs in the request's transaction."""
    claims = _claims(token, settings)
    user = await UserRepository(session).get(claims.subject)
    return _admit(user, claims)


@declares(403)
async def get_superuser_account(
    account: Annotated[Account, Depends(get_current_account)],
) -> Account:
    if not account.is_superuser:
        raise Forbidden("Only superusers may do this.")
    return account


@declares(403)
async def get_superuser(user: Annotated[User, Depends(get_current_user)]) -> User:
    if not user.is_superuser:
        raise Forbidden("Only superusers may do this.")
    return user


CurrentAccount = Annotated[Account, Depends(get_current_account)]
SuperuserAccount = Annotated[Account, Depends(get_superuser_account)]
CurrentUser = Annotated[User, Depends(get_current_user)]
SuperUser = Annotated[User, Depends(get_superuser)]
