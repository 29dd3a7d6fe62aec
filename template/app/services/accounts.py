"""The account lifecycle by e-mail: password reset, address verification and e-mail change.

A request that needs an e-mail puts a job on the queue in its own transaction
(app/jobs/outbox.py); the worker makes the link's token and sends it (`issue_link`).
Tokens are 256 random bits, stored as digests, bound to one purpose and one address,
single use and short-lived; every way a token can be wrong gets the same answer.
"""

import logging
import uuid
from datetime import timedelta

from app.core.clock import utc_now
from app.core.config import Settings
from app.core.exceptions import InvalidToken
from app.core.security import account_token_digest, hash_password, new_account_token
from app.jobs.outbox import Outbox
from app.jobs.queue import (
    EVERY_PURPOSE,
    SEND_ACCOUNT_EMAIL,
    SEND_EMAIL,
    AccountEmail,
    EmailJob,
    Purpose,
)
from app.models import User
from app.repositories.account_token import AccountTokenRepository
from app.repositories.refresh_token import RefreshTokenRepository
from app.repositories.user import UserRepository
from app.services.users import store_with_email

logger = logging.getLogger(__name__)

BAD_TOKEN = "The link is invalid, expired or already used; ask for a new one."  # noqa: S105
# The front end's page that each link opens (FRONTEND_URL/<page>#token=...).
LINK_PAGES: dict[Purpose, str] = {
    "password-reset": "reset-password",
    "verify-email": "verify-email",
    "email-change": "confirm-email-change",
}


def lifetime(purpose: Purpose, settings: Settings) -> timedelta:
    if purpose == "password-reset":
        return timedelta(minutes=settings.password_reset_token_expire_minutes)
    if purpose == "verify-email":
        return timedelta(hours=settings.email_verification_token_expire_hours)
    return timedelta(hours=settings.email_change_token_expire_hours)


class AccountService:
    def __init__(
        self,
        users: UserRepository,
        refresh_tokens: RefreshTokenRepository,
        account_tokens: AccountTokenRepository,
        outbox: Outbox,
        settings: Settings,
    ) -> None:
        self.users = users
        self.refresh_tokens = refresh_tokens
        self.account_tokens = account_tokens
        self.outbox = outbox
        self.settings = settings

    async def request_password_reset(self, email: str) -> None:
        """Queue a reset e-mail for the address. Nothing here looks the address up: the
        request does the same work, in the same time, for a known, an unknown and an
        inactive address; the worker sends only to a known, active account."""
        await self.outbox.add(
            SEND_ACCOUNT_EMAIL, AccountEmail(purpose="password-reset", address=email)
        )

    async def resend_verification(self, email: str) -> None:
        """Queue a new verification link; sent only if the address has an unverified,
        active account (the same for every address, as a reset is)."""
        await self.outbox.add(
            SEND_ACCOUNT_EMAIL, AccountEmail(purpose="verify-email", address=email)
        )

    async def reset_password(self, raw_token: str, new_password: str) -> None:
        """Set a new password with a reset link: every session of the user ends, every
        other reset link dies, and the account's address gets a notice."""
        # Hashed before any query: no connection waits on bcrypt.
        new_hash = await hash_password(new_password, self.settings.bcrypt_rounds)
        user, _ = await self._redeem(raw_token, "password-reset")
        now = utc_now()
        user.hashed_password = new_hash
        # The link reached the address: it is verified too.
        user.email_verified_at = user.email_verified_at or now
        await self.users.flush()
        await self.account_tokens.void(user.id, ("password-reset",), now)
        await self.refresh_tokens.revoke_all_for_user(user.id, now)
        await self.outbox.add(SEND_EMAIL, EmailJob(kind="password-changed", to=user.email))
        logger.info("password reset", extra={"user_id": str(user.id)})

    async def verify_email(self, raw_token: str) -> None:
        user, _ = await self._redeem(raw_token, "verify-email")
        user.email_verified_at = user.email_verified_at or utc_now()
        await self.users.flush()
        logger.info("e-mail address verified", extra={"user_id": str(user.id)})

    async def confirm_email_change(self, raw_token: str) -> None:
        """Move the account to the address the link was sent to (409 if another account
        took it since). The links sent to the old address die with it."""
        user, address = await self._redeem(raw_token, "email-change")
        now = utc_now()

        async def assign() -> None:
            user.email = address
            user.email_verified_at = now
            await self.users.flush()

        await store_with_email(self.users, address, assign)
        await self.account_tokens.void(user.id, EVERY_PURPOSE, now)
        logger.info("e-mail address changed", extra={"user_id": str(user.id)})

    async def issue_link(self, email: AccountEmail) -> str | None:
        """The worker's part: store a new token for the e-mail and return it, or None when
        the account does not qualify (unknown, inactive, already verified, moved to
        another address since)."""
        user = await self._recipient(email)
        if user is None or not user.is_active:
            return None
        if email.purpose != "email-change" and user.email != email.address:
            return None
        if email.purpose == "verify-email" and user.email_verified_at is not None:
            return None
        now = utc_now()
        if email.purpose == "password-reset":
            # Only the newest reset link works.
            await self.account_tokens.void(user.id, ("password-reset",), now)
        token = new_account_token()
        await self.account_tokens.store(
            user_id=user.id,
            purpose=email.purpose,
            digest=account_token_digest(token),
            address=email.address,
            expires_at=now + lifetime(email.purpose, self.settings),
        )
        return token

    async def _recipient(self, email: AccountEmail) -> User | None:
        user_id: uuid.UUID | None = email.user_id
        if user_id is None:
            found = await self.users.get_by_email(email.address)
            if found is None:
                return None
            user_id = found.id
        # Held, as by every change to the user's tokens: a password change racing with
        # this cannot leave a reset link alive after it.
        return await self.users.lock(user_id)

    async def _redeem(self, raw_token: str, purpose: Purpose) -> tuple[User, str]:
        """The active user a token of this purpose names, its row held, and the address
        the token was sent to; the token is used up. Anything else is InvalidToken."""
        digest = account_token_digest(raw_token)
        owner = await self.account_tokens.owner(digest)
        if owner is None:
            raise InvalidToken(BAD_TOKEN)
        # The user's row first, then the token's, in the order the worker takes them.
        user = await self.users.lock(owner)
        claimed = await self.account_tokens.claim(digest, purpose, utc_now())
        if claimed is None or user is None or not user.is_active:
            raise InvalidToken(BAD_TOKEN)
        if purpose != "email-change" and user.email != claimed.address:
            raise InvalidToken(BAD_TOKEN)  # sent to an address the account left since
        return user, claimed.address
