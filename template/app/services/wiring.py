"""The services of one unit of work, built the same way by the app's dependencies, the CLI,
the worker and the tests: a new service or repository is wired here once."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.jobs.outbox import Outbox
from app.repositories.account_token import AccountTokenRepository
from app.repositories.refresh_token import RefreshTokenRepository
from app.repositories.user import UserRepository
from app.services.accounts import AccountService
from app.services.auth import AuthService
from app.services.users import UserService


def auth_service(session: AsyncSession, settings: Settings) -> AuthService:
    return AuthService(UserRepository(session), RefreshTokenRepository(session), settings)


def user_service(session: AsyncSession, settings: Settings) -> UserService:
    return UserService(
        UserRepository(session),
        RefreshTokenRepository(session),
        AccountTokenRepository(session),
        Outbox(session),
        settings,
    )


def account_service(session: AsyncSession, settings: Settings) -> AccountService:
    return AccountService(
        UserRepository(session),
        RefreshTokenRepository(session),
        AccountTokenRepository(session),
        Outbox(session),
        settings,
    )
