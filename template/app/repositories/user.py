import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from app.models import User
from app.repositories.base import Repository


class UserRepository(Repository[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def list_page(self, *, limit: int, offset: int) -> Sequence[User]:
        query = select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
        return (await self.session.scalars(query)).all()

    async def count(self) -> int:
        return await self.session.scalar(select(func.count()).select_from(User)) or 0

    async def count_active_superusers(self) -> int:
        query = (
            select(func.count())
            .select_from(User)
            .where(User.is_superuser.is_(True), User.is_active.is_(True))
        )
        return await self.session.scalar(query) or 0

    async def lock(self, user_id: uuid.UUID) -> None:
        """Hold the user's row until the end of the transaction.

        Every change to a user's refresh tokens takes this lock first, so rotations,
        replays and revocations of one user queue up in a single order: no deadlock,
        and no rotation slips past a revocation. NO KEY UPDATE leaves the foreign-key
        checks of concurrent logins unblocked. SQLite serializes writers anyway.
        """
        await self.session.execute(
            select(User.id).where(User.id == user_id).with_for_update(key_share=True)
        )

    async def invalidate_tokens(self, user: User, now: datetime) -> None:
        """Refuse every access token of this user issued before `now`."""
        user.tokens_valid_after = now
        await self.flush()
