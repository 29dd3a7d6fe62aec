"""Typed dependencies: HTTP translated into the unit of work, the services and the current user.

The rules behind them live elsewhere: the commit rule in `Database.unit_of_work`, the
rules of a valid session in app/services/auth.py. Every dependency is `async def`, also
those that do no I/O: FastAPI runs a plain `def` dependency in a worker thread, a hop
that costs more than the dependency itself.
"""

from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.problems import declares
from app.core.config import Settings
from app.core.context import user_id_var
from app.db.session import Database
from app.jobs import in_process
from app.models import User
from app.repositories.account import Account, read_account
from app.services import wiring
from app.services.accounts import AccountService
from app.services.auth import AuthService, authenticate_bearer, require_superuser
from app.services.users import UserService

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]


# Methods whose requests only read: their units of work refuse writes, and on PostgreSQL
# autocommit, saving BEGIN and COMMIT. A route that writes is a POST, PUT, PATCH or DELETE.
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


@declares(503)
async def get_session(request: Request, database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work (Database.unit_of_work)."""
    read_only = request.method in READ_ONLY_METHODS
    async with database.unit_of_work(read_only=read_only) as session:
        yield session
    if jobs := in_process.take(session):  # SQLite only: its jobs run now, after the commit
        await in_process.run(jobs, request.app.state.handlers.run)


# scope="function": the commit runs when the route returns, before the response
# is sent, so a request whose commit fails can never have answered 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_auth_service(session: SessionDep, settings: SettingsDep) -> AuthService:
    return wiring.auth_service(session, settings)


async def get_user_service(session: SessionDep, settings: SettingsDep) -> UserService:
    return wiring.user_service(session, settings)


async def get_account_service(session: SessionDep, settings: SettingsDep) -> AccountService:
    return wiring.account_service(session, settings)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]
AccountServiceDep = Annotated[AccountService, Depends(get_account_service)]


def _name_in_logs(user_id: object) -> None:
    user_id_var.set(str(user_id))  # the request's later log lines name the user


@declares(401, 503)
async def get_current_account(request: Request, token: BearerToken) -> Account:
    """The user the bearer token names, as a frozen `Account` read on a connection of its
    own: no unit of work is opened for it. A route that changes the user reads it again,
    under its lock; the template's own routes all authenticate this way.

    It reads the settings and database off the app itself rather than through
    SettingsDep and DatabaseDep: nearly every request passes here, and each dependency
    FastAPI resolves costs more than the attribute it returns."""
    state = request.app.state
    account = await authenticate_bearer(
        token, state.settings, partial(read_account, state.database)
    )
    _name_in_logs(account.id)
    return account


@declares(401)
async def get_current_user(auth: AuthServiceDep, token: BearerToken) -> User:
    """The same user as a `User` of the request's unit of work: what a route that changes
    it, or follows its relationships, needs. Its query runs in the request's transaction."""
    user = await auth.current_user(token)
    _name_in_logs(user.id)
    return user


@declares(403)
async def get_superuser_account(
    account: Annotated[Account, Depends(get_current_account)],
) -> Account:
    return require_superuser(account)


@declares(403)
async def get_superuser(user: Annotated[User, Depends(get_current_user)]) -> User:
    return require_superuser(user)


CurrentAccount = Annotated[Account, Depends(get_current_account)]
SuperuserAccount = Annotated[Account, Depends(get_superuser_account)]
CurrentUser = Annotated[User, Depends(get_current_user)]
SuperUser = Annotated[User, Depends(get_superuser)]
