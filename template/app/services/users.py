"""Sign-up, self-service profile changes and user administration."""

import uuid
from collections.abc import Awaitable, Callable, Sequence

from app.core.clock import utc_now
from app.core.config import Settings
from app.core.exceptions import Conflict, Forbidden, NotFound
from app.core.security import hash_password, verify_password
from app.models import User
from app.repositories.account import Account
from app.repositories.refresh_token import RefreshTokenRepository
from app.repositories.repository import ConstraintViolation
from app.repositories.user import UserRepository
from app.schemas.user import EmailChange, PasswordChange, UserCreate, UserUpdate, UserUpdateMe
from app.services.auth import readmit

EMAIL_TAKEN = "A user with this e-mail address already exists."
WRONG_PASSWORD = "The current password is incorrect."  # noqa: S105 - a message
NO_SUCH_USER = "No user with this id."
LAST_SUPERUSER = "The last active superuser cannot be removed, demoted or deactivated."


class UserService:
    """The rules about users. Every bcrypt hash or check runs with no database connection
    held (see UserRepository.release_connection): it takes a quarter of a second."""

    def __init__(
        self, users: UserRepository, tokens: RefreshTokenRepository, settings: Settings
    ) -> None:
        self.users = users
        self.tokens = tokens
        self.settings = settings

    async def register(self, data: UserCreate, *, is_superuser: bool = False) -> User:
        # Hashed before the e-mail is looked up: no connection waits on bcrypt, and a
        # taken address costs as much time as a free one.
        hashed_password = await hash_password(data.password, self.settings.bcrypt_rounds)
        user = User(
            email=data.email,
            full_name=data.full_name,
            hashed_password=hashed_password,
            is_superuser=is_superuser,
        )
        await self._store_with_email(data.email, lambda: self.users.add(user))
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

    async def change_email(self, account: Account, data: EmailChange) -> User:
        await self.users.release_connection()
        if not await verify_password(data.current_password, account.hashed_password):
            raise Forbidden(WRONG_PASSWORD)
        current = await self._lock(account)
        await self._set_email(current, data.email)
        return current

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
        """The authenticated user's row, read again and held for the rest of the request,
        if its session is still valid (a password change or a deactivation since
        authentication ended it)."""
        current = await self.users.lock(account.id)
        # Read after the lock: whatever ends a session takes the lock first.
        return readmit(current, await self.tokens.session_lives(account.session_id, account.id))

    async def _set_email(self, user: User, email: str) -> None:
        if email == user.email:
            return

        async def assign() -> None:
            user.email = email
            await self.users.flush()

        await self._store_with_email(email, assign)

    async def _store_with_email(self, email: str, write: Callable[[], Awaitable[object]]) -> None:
        """Run `write`, which stores `email`, unless another user has that address.

        Checked first, for the usual case; then by the unique index, for an address another
        request took between the check and the write. The write runs in a SAVEPOINT, so
        that the violation is caught and the request's transaction stays usable.
        """
        if await self.users.get_by_email(email) is not None:
            raise Conflict(EMAIL_TAKEN)
        try:
            async with self.users.savepoint():
                await write()
        except ConstraintViolation:
            raise Conflict(EMAIL_TAKEN) from None

    async def _end_sessions(self, user: User) -> None:
        """End every session of the user: its refresh tokens are revoked, and so its
        access tokens refused (see session_is_live). Called with the user's row held, so
        no login or refresh of this user slips in between."""
        await self.tokens.revoke_all_for_user(user.id, utc_now())

    async def _keep_one_superuser(self, user_id: uuid.UUID) -> None:
        """Refuse to remove the last active superuser, even when two removals race."""
        superusers = await self.users.lock_active_superusers()
        if user_id in superusers and len(superusers) <= 1:
            raise Conflict(LAST_SUPERUSER)
