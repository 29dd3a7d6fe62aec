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

    async def invalidate_tokens(self, user: User, now: datetime) -> None:
        """Refuse every access token of this user issued before `now`."""
        user.tokens_valid_after = now
        await self.flush()
