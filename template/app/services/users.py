"""Sign-up, self-service profile changes and user administration."""

import uuid
from collections.abc import Awaitable, Callable, Sequence

from app.core.clock import utc_now
from app.core.config import Settings
from app.core.exceptions import Conflict, Forbidden, NotFound
from app.core.security import hash_password, verify_password
from app.jobs.outbox import Outbox
from app.jobs.queue import EVERY_PURPOSE, SEND_ACCOUNT_EMAIL, SEND_EMAIL, AccountEmail, EmailJob
from app.models import User
from app.repositories.account import Account
from app.repositories.account_token import AccountTokenRepository
from app.repositories.refresh_token import RefreshTokenRepository
from app.repositories.repository import ConstraintViolation
from app.repositories.user import UserRepository
from app.schemas.user import EmailChange, PasswordChange, UserCreate, UserUpdate, UserUpdateMe
from app.services.auth import lock_current

EMAIL_TAKEN = "A user with this e-mail address already exists."
WRONG_PASSWORD = "The current password is incorrect."  # noqa: S105 - a message
NO_SUCH_USER = "No user with this id."
LAST_SUPERUSER = "The last active superuser cannot be removed, demoted or deactivated."


class UserService:
    """The rules about users. Every bcrypt hash or check runs with no database connection
    held (see UserRepository.release_connection): it takes a quarter of a second."""

    def __init__(
        self,
        users: UserRepository,
        tokens: RefreshTokenRepository,
        account_tokens: AccountTokenRepository,
        outbox: Outbox,
        settings: Settings,
    ) -> None:
        self.users = users
        self.tokens = tokens
        self.account_tokens = account_tokens
        self.outbox = outbox
        self.settings = settings

    async def sign_up(self, data: UserCreate) -> User | None:
        """Register a new account and queue its verification e-mail.

        A taken address is a Conflict with EMAIL_VERIFICATION=optional. With required, it
        is None, as the answer to the client says nothing of who has an account: the
        address's owner gets a notice instead, and the client the same answer as for a
        new account (which cannot log in before following its link either).
        """
        try:
            user = await self.register(data)
        except Conflict:
            if self.settings.email_verification == "optional":
                raise
            await self.outbox.add(SEND_EMAIL, EmailJob(kind="address-taken", to=data.email))
            return None
        await self.outbox.add(
            SEND_ACCOUNT_EMAIL, AccountEmail(purpose="verify-email", address=user.email)
        )
        return user

    async def register(
        self, data: UserCreate, *, is_superuser: bool = False, verified: bool = False
    ) -> User:
        """Store a new account, its address verified if `verified` (the word of whoever
        creates it: a superuser at the command line, a test)."""
        # Hashed before the e-mail is looked up: no connection waits on bcrypt, and a
        # taken address costs as much time as a free one.
        hashed_password = await hash_password(data.password, self.settings.bcrypt_rounds)
        user = User(
            email=data.email,
            full_name=data.full_name,
            hashed_password=hashed_password,
            is_superuser=is_superuser,
            email_verified_at=utc_now() if verified else None,
        )
        await store_with_email(self.users, data.email, lambda: self.users.add(user))
        return user

    async def get(self, user_id: uuid.UUID) -> User:
        user = await self.users.get(user_id)
        if user is None:
            raise NotFound(NO_SUCH_USER)
        return user

    async def list_page(
        self, after: uuid.UUID | None, limit: int
    ) -> tuple[Sequence[User], uuid.UUID | None]:
        """A page of users, and the `after` of the next page (None after the last one)."""
        found = await self.users.list_after(after, limit + 1)  # one more tells if a page follows
        page = found[:limit]
        return page, page[-1].id if len(found) > limit else None

    async def update_me(self, account: Account, data: UserUpdateMe) -> User:
        user = await self._lock(account)
        if data.full_name is not None:
            user.full_name = data.full_name
            await self.users.flush()
        return user

    async def change_password(self, account: Account, data: PasswordChange) -> None:
        """Set a new password; every refresh and access token issued so far dies.

        The current password is checked against the hash read at authentication; a
        password changed since then also ended the session, which `_lock` refuses.
        """
        await self.users.release_connection()
        if not await verify_password(data.current_password, account.hashed_password):
            raise Forbidden(WRONG_PASSWORD)
        new_hash = await hash_password(data.new_password, self.settings.bcrypt_rounds)
        current = await self._lock(account)
        current.hashed_password = new_hash
        await self.users.flush()
        await self._end_sessions(current)
        await self.outbox.add(SEND_EMAIL, EmailJob(kind="password-changed", to=current.email))

    async def change_email(self, account: Account, data: EmailChange) -> None:
        """Ask to move the account to a new address: a link goes to the new address, and
        the change applies when it is followed (AccountService.confirm_email_change). The
        old address is told at once. A taken new address gets a notice instead of a link,
        and the client the same answer: it learns nothing of who has an account."""
        await self.users.release_connection()
        if not await verify_password(data.current_password, account.hashed_password):
            raise Forbidden(WRONG_PASSWORD)
        current = await self._lock(account)
        if data.email == current.email:
            return
        if await self.users.get_by_email(data.email) is not None:
            await self.outbox.add(SEND_EMAIL, EmailJob(kind="address-taken", to=data.email))
        else:
            await self.outbox.add(
                SEND_ACCOUNT_EMAIL,
                AccountEmail(purpose="email-change", address=data.email, user_id=current.id),
            )
        await self.outbox.add(
            SEND_EMAIL,
            EmailJob(
                kind="email-change-requested", to=current.email, values={"new_address": data.email}
            ),
        )

    async def update(self, user_id: uuid.UUID, data: UserUpdate) -> User:
        new_hash = None
        if data.password is not None:
            await self.users.release_connection()
            new_hash = await hash_password(data.password, self.settings.bcrypt_rounds)
        if data.is_superuser is False or data.is_active is False:
            await self._keep_one_superuser(user_id)
        user = await self.users.lock(user_id)
        if user is None:
            raise NotFound(NO_SUCH_USER)
        if data.is_superuser is not None:
            user.is_superuser = data.is_superuser
        if data.is_active is not None:
            user.is_active = data.is_active
        if data.full_name is not None:
            user.full_name = data.full_name
        if new_hash is not None:
            user.hashed_password = new_hash
        await self.users.flush()
        if data.email is not None:
            await self._set_email(user, data.email)
        if new_hash is not None or data.is_active is False:
            await self._end_sessions(user)
        return user

    async def delete(self, user_id: uuid.UUID) -> None:
        await self._keep_one_superuser(user_id)
        user = await self.get(user_id)
        await self.users.delete(user)

    async def _lock(self, account: Account) -> User:
        return await lock_current(self.users, self.tokens, account)

    async def _set_email(self, user: User, email: str) -> None:
        """A superuser's change of address: it applies at once, as verified (the
        superuser's word), and the links sent to the old address die."""
        if email == user.email:
            return

        async def assign() -> None:
            user.email = email
            user.email_verified_at = utc_now()
            await self.users.flush()

        await store_with_email(self.users, email, assign)
        await self.account_tokens.void(user.id, EVERY_PURPOSE, utc_now())

    async def _end_sessions(self, user: User) -> None:
        """End every session of the user: its refresh tokens are revoked, and so its
        access tokens refused (see session_is_live); and the reset links sent so far die
        with the old password. Called with the user's row held, so no login, refresh or
        new reset link of this user slips in between."""
        now = utc_now()
        await self.tokens.revoke_all_for_user(user.id, now)
        await self.account_tokens.void(user.id, ("password-reset",), now)

    async def _keep_one_superuser(self, user_id: uuid.UUID) -> None:
        """Refuse to remove the last active superuser, even when two removals race."""
        superusers = await self.users.lock_active_superusers()
        if user_id in superusers and len(superusers) <= 1:
            raise Conflict(LAST_SUPERUSER)


async def store_with_email(
    users: UserRepository, email: str, write: Callable[[], Awaitable[object]]
) -> None:
    """Run `write`, which stores `email`, unless another user has that address.

    Checked first, for the usual case; then by the unique index, for an address another
    request took between the check and the write. The write runs in a SAVEPOINT, so that
    the violation is caught and the request's transaction stays usable.
    """
    if await users.get_by_email(email) is not None:
        raise Conflict(EMAIL_TAKEN)
    try:
        async with users.savepoint():
            await write()
    except ConstraintViolation:
        raise Conflict(EMAIL_TAKEN) from None
