"""Sign-up, self-service profile changes and user administration."""

import uuid
from collections.abc import Sequence

from app.core.config import Settings
from app.core.exceptions import Conflict, Forbidden, NotFound
from app.core.security import hash_password, verify_password
from app.db.types import utc_now
from app.models import User
from app.repositories.base import ConstraintViolation
from app.repositories.refresh_token import RefreshTokenRepository
from app.repositories.user import UserRepository
from app.schemas.user import UserCreate, UserUpdate, UserUpdateMe

EMAIL_TAKEN = "A user with this e-mail address already exists."


class UserService:
    def __init__(
        self, users: UserRepository, tokens: RefreshTokenRepository, settings: Settings
    ) -> None:
        self.users = users
        self.tokens = tokens
        self.settings = settings

    async def register(self, data: UserCreate, *, is_superuser: bool = False) -> User:
        if await self.users.get_by_email(data.email) is not None:
            raise Conflict(EMAIL_TAKEN)
        user = User(
            email=data.email,
            full_name=data.full_name,
            hashed_password=await hash_password(data.password, self.settings.bcrypt_rounds),
            is_superuser=is_superuser,
        )
        try:
            async with self.users.savepoint():
                await self.users.add(user)
        except ConstraintViolation:
            # Another request took the address between the check and the insert.
            raise Conflict(EMAIL_TAKEN) from None
        return user

    async def get(self, user_id: uuid.UUID) -> User:
        user = await self.users.get(user_id)
        if user is None:
            raise NotFound("No user with this id.")
        return user

    async def list_page(self, *, limit: int, offset: int) -> tuple[Sequence[User], int]:
        return await self.users.list_page(limit=limit, offset=offset), await self.users.count()

    async def update_me(self, user: User, data: UserUpdateMe) -> User:
        if data.current_password is not None and not await verify_password(
            data.current_password, user.hashed_password
        ):
            raise Forbidden("The current password is incorrect.")
        return await self._apply(user, data.email, data.full_name, data.password)

    async def update(self, user_id: uuid.UUID, data: UserUpdate) -> User:
        user = await self.get(user_id)
        removes_admin = data.is_superuser is False or data.is_active is False
        if removes_admin:
            await self._keep_one_superuser(user)
        if data.is_superuser is not None:
            user.is_superuser = data.is_superuser
        if data.is_active is not None:
            user.is_active = data.is_active
        await self._apply(user, data.email, data.full_name, data.password)
        if data.is_active is False:
            await self._end_sessions(user)
        return user

    async def delete(self, user_id: uuid.UUID) -> None:
        user = await self.get(user_id)
        await self._keep_one_superuser(user)
        async with self.users.savepoint():
            await self.users.delete(user)

    async def _apply(
        self, user: User, email: str | None, full_name: str | None, password: str | None
    ) -> User:
        if email is not None and email != user.email:
            if await self.users.get_by_email(email) is not None:
                raise Conflict(EMAIL_TAKEN)
            user.email = email
        if full_name is not None:
            user.full_name = full_name
        if password is not None:
            user.hashed_password = await hash_password(password, self.settings.bcrypt_rounds)
        try:
            async with self.users.savepoint():
                await self.users.flush()
        except ConstraintViolation:
            raise Conflict(EMAIL_TAKEN) from None
        if password is not None:
            await self._end_sessions(user)
        return user

    async def _end_sessions(self, user: User) -> None:
        """Revoke every refresh token and every access token issued so far."""
        now = utc_now()
        async with self.users.savepoint():
            await self.tokens.revoke_all_for_user(user.id, now)
            await self.users.invalidate_tokens(user, now)

    async def _keep_one_superuser(self, user: User) -> None:
        if user.is_superuser and user.is_active and await self.users.count_active_superusers() <= 1:
            raise Conflict("The last active superuser cannot be removed, demoted or deactivated.")
