"""The rules of a valid session: login, bearer (access) tokens, refresh-token rotation
and logout. The HTTP layer only hands tokens over and passes the answers on."""

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn, TypeVar

from app.core.clock import utc_now
from app.core.config import Settings
from app.core.exceptions import (
    EmailNotVerified,
    Forbidden,
    InvalidGrant,
    NotFound,
    RefreshTokenReused,
    Unauthorized,
)
from app.core.security import (
    AccessClaims,
    burn_password_check,
    create_access_token,
    decode_access_token,
    hash_password,
    needs_rehash,
    new_refresh_token,
    refresh_token_digest,
    verify_password,
)
from app.models import User
from app.repositories.account import Account
from app.repositories.refresh_token import Client, LiveSession, RefreshTokenRepository
from app.repositories.user import UserRepository
from app.schemas.token import TokenPair

logger = logging.getLogger(__name__)

BAD_CREDENTIALS = "Incorrect e-mail or password."
BAD_REFRESH_TOKEN = "The refresh token is invalid, expired or revoked."  # noqa: S105
NO_TOKEN = "Not authenticated."  # noqa: S105 - messages, not secrets
BAD_ACCESS_TOKEN = "The access token is invalid or expired."  # noqa: S105
STALE_ACCESS_TOKEN = "The access token is no longer valid."  # noqa: S105
NO_SUCH_SESSION = "You have no live session with this id."
UNVERIFIED = (
    "Verify your e-mail address first: follow the link we sent to it, or ask for a new one "
    "(POST /api/v1/auth/verify-email/resend)."
)

# The authenticated user, as a frozen Account (read outside any unit of work) or as a
# User of the request's unit of work.
Someone = TypeVar("Someone", Account, User)


def _refuse_login(reason: str, user: User | None = None) -> NoReturn:
    # The client is told the same whatever went wrong; the log says what. Not the e-mail:
    # people type their password into that field.
    user_id = str(user.id) if user else None
    logger.warning("login failed", extra={"reason": reason, "user_id": user_id})
    raise InvalidGrant(BAD_CREDENTIALS)


def access_claims(token: str | None, settings: Settings) -> AccessClaims:
    """The claims of a bearer token that is present, signed by us and unexpired."""
    if token is None:
        raise Unauthorized(NO_TOKEN)
    claims = decode_access_token(token, settings, utc_now())
    if claims is None:
        raise Unauthorized(BAD_ACCESS_TOKEN)
    return claims


def admit(someone: Someone | None) -> Someone:
    """The user a valid token names, read only if the token's session lives, if that user
    may still use it: a deleted or deactivated user, or an ended session, is refused."""
    if someone is None or not someone.is_active:
        raise Unauthorized(STALE_ACCESS_TOKEN)
    return someone


def readmit(current: User | None, session_lives: bool) -> User:
    """The user an `Account` named at authentication, read again under its row lock, if
    its session still lives: a logout, a deactivation or a password change that committed
    since authentication ends it here too."""
    if current is None or not current.is_active or not session_lives:
        raise Unauthorized(STALE_ACCESS_TOKEN)
    return current


async def lock_current(
    users: UserRepository, tokens: RefreshTokenRepository, account: Account
) -> User:
    """The authenticated user's row, read again and held for the rest of the request, if
    its session is still valid (a password change or a deactivation since authentication
    ended it)."""
    current = await users.lock(account.id)
    # Read after the lock: whatever ends a session takes the lock first.
    return readmit(current, await tokens.session_lives(account.session_id, account.id))


def require_superuser(someone: Someone) -> Someone:
    if not someone.is_superuser:
        raise Forbidden("Only superusers may do this.")
    return someone


async def authenticate_bearer(
    token: str | None,
    settings: Settings,
    find: Callable[[uuid.UUID, uuid.UUID], Awaitable[Someone | None]],
) -> Someone:
    """The user a bearer token names, read by `find` (user id, session id) if the session
    lives, if the token and the user are valid: an `Account` read outside any unit of work
    (most authenticated requests need nothing else from the database), or a `User` of the
    request's unit of work."""
    claims = access_claims(token, settings)
    return admit(await find(claims.subject, claims.session_id))


@dataclass(frozen=True)
class Family:
    """One login's refresh tokens: the session they keep alive."""

    id: uuid.UUID
    created_at: datetime
    expires_at: datetime


class AuthService:
    def __init__(
        self, users: UserRepository, tokens: RefreshTokenRepository, settings: Settings
    ) -> None:
        self.users = users
        self.tokens = tokens
        self.settings = settings

    async def current_user(self, token: str | None) -> User:
        """The user a bearer token names, as a User of this unit of work."""
        return await authenticate_bearer(token, self.settings, self.users.get_in_session)

    async def authenticate(self, email: str, password: str) -> User:
        """The active user with these credentials, its row held for the rest of the request.

        Every failure looks and costs the same. The password is checked with no database
        connection held, then the user is read again under its lock: a password changed
        (or an account deactivated) during the check wins, and no session outlives it.
        """
        user = await self.users.get_by_email(email)
        await self.users.release_connection()
        if user is None:
            await burn_password_check(password, self.settings.bcrypt_rounds)
            _refuse_login("unknown_email")
        checked_hash = user.hashed_password
        if not await verify_password(password, checked_hash):
            _refuse_login("bad_password", user)
        # Hashed again, still with no connection held, when the stored hash is of an older
        # format or cost: once per account, on its first login after the change.
        upgraded = None
        if needs_rehash(checked_hash, self.settings.bcrypt_rounds):
            upgraded = await hash_password(password, self.settings.bcrypt_rounds)
        current = await self.users.lock(user.id)
        if current is None or current.hashed_password != checked_hash:
            _refuse_login("changed_during_login", user)
        if not current.is_active:
            _refuse_login("inactive", current)
        if self.settings.email_verification == "required" and current.email_verified_at is None:
            # Said only to whoever knows the password: it tells them what to do next.
            logger.info("login of an unverified account", extra={"user_id": str(current.id)})
            raise EmailNotVerified(UNVERIFIED)
        if upgraded is not None:
            current.hashed_password = upgraded
            await self.users.flush()
            logger.info("password hash upgraded", extra={"user_id": str(current.id)})
        return current

    async def login(self, email: str, password: str, client: Client) -> TokenPair:
        user = await self.authenticate(email, password)
        logger.info("login succeeded", extra={"user_id": str(user.id)})
        # Taken under the user's lock: a password change that follows is later still.
        now = utc_now()
        family = Family(
            id=uuid.uuid4(),
            created_at=now,
            expires_at=now + timedelta(days=self.settings.refresh_token_family_max_days),
        )
        return await self._issue(user.id, family, client, now)

    async def refresh(self, raw_token: str, client: Client) -> TokenPair:
        now = utc_now()
        digest = refresh_token_digest(raw_token)
        # The owner's row is held first, as by every change to its tokens.
        owner = await self.users.lock_owner_of_token(digest)
        if owner is None:
            raise Unauthorized(BAD_REFRESH_TOKEN)
        # One UPDATE claims the token: of two racing requests, exactly one wins.
        claimed = await self.tokens.claim(digest, now)
        if claimed is None:
            await self._refuse_unclaimable(digest, now)  # always raises
        if not owner.is_active:
            raise Unauthorized(BAD_REFRESH_TOKEN)
        family = Family(claimed.family_id, claimed.family_created_at, claimed.family_expires_at)
        return await self._issue(owner.id, family, client, now)

    async def logout(self, raw_token: str) -> None:
        """Revoke the token's family. Unknown tokens are ignored: logout is idempotent."""
        token = await self.tokens.get_by_digest(refresh_token_digest(raw_token))
        if token is not None:
            await self.users.lock(token.user_id)
            await self.tokens.revoke_family(token.family_id, utc_now())

    async def sessions(self, account: Account) -> list[LiveSession]:
        """The account's sessions that a refresh could still continue."""
        return await self.tokens.live_sessions(account.id, utc_now())

    async def end_session(self, account: Account, session_id: uuid.UUID) -> None:
        """End one of the account's sessions: its refresh tokens, and at once its access
        tokens (session_is_live). The current one may end too: that is a logout."""
        await lock_current(self.users, self.tokens, account)
        if not await self.tokens.revoke_session(account.id, session_id, utc_now()):
            raise NotFound(NO_SUCH_SESSION)
        logger.info("session ended", extra={"session_id": str(session_id)})

    async def end_all_sessions(self, account: Account) -> None:
        """Log out everywhere, this session included."""
        await lock_current(self.users, self.tokens, account)
        await self.tokens.revoke_all_for_user(account.id, utc_now())
        logger.info("every session ended")

    async def _refuse_unclaimable(self, digest: str, now: datetime) -> NoReturn:
        token = await self.tokens.get_by_digest(digest)
        if token is not None and token.used_at is not None:
            # A used token came back: someone holds a copy. Revoke the whole family,
            # so the newer token the copy-holder may have obtained dies too (RFC 9700 4.14.2).
            # RefreshTokenReused keeps the revocation though the request answers 401.
            await self.tokens.revoke_family(token.family_id, now)
            logger.warning(
                "refresh token reuse detected; family revoked",
                extra={"user_id": str(token.user_id), "family_id": str(token.family_id)},
            )
            raise RefreshTokenReused(BAD_REFRESH_TOKEN)
        raise Unauthorized(BAD_REFRESH_TOKEN)

    async def _issue(
        self, user_id: uuid.UUID, family: "Family", client: Client, now: datetime
    ) -> TokenPair:
        raw_token = new_refresh_token()
        expires_at = min(
            now + timedelta(days=self.settings.refresh_token_expire_days), family.expires_at
        )
        await self.tokens.issue(
            user_id=user_id,
            family_id=family.id,
            digest=refresh_token_digest(raw_token),
            created_at=now,
            expires_at=expires_at,
            family_created_at=family.created_at,
            family_expires_at=family.expires_at,
            client=client,
        )
        return TokenPair(
            access_token=create_access_token(user_id, family.id, self.settings, now),
            refresh_token=raw_token,
            expires_in=self.settings.access_token_expire_minutes * 60,
        )
