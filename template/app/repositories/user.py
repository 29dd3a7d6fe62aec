import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select

from app.models import RefreshToken, User
from app.repositories.refresh_token import session_is_live
from app.repositories.repository import Repository

USERS = cast(Table, User.__table__)
TOKENS = cast(Table, RefreshToken.__table__)
# Built once, against the tables, as the other statements of a refresh are
# (app/repositories/refresh_token.py).
OWNER_OF_TOKEN = (
    select(USERS.c.id, USERS.c.is_active)
    .join(TOKENS, TOKENS.c.user_id == USERS.c.id)
    .where(TOKENS.c.token_digest == bindparam("digest"))
    .with_for_update(of=USERS, key_share=True)
)


@dataclass(frozen=True)
class TokenOwner:
    id: uuid.UUID
    is_active: bool


class UserRepository(Repository[User]):
    model = User

    async def get_in_session(self, user_id: uuid.UUID, session_id: uuid.UUID) -> User | None:
        """The user, if the session still lives (see session_is_live)."""
        return await self.session.scalar(
            select(User).where(User.id == user_id, session_is_live(session_id, User.id))
        )

    async def get_by_email(self, email: str) -> User | None:
        """The user with this address, as normalized by the schemas (normalize_email)."""
        return await self.session.scalar(select(User).where(User.email == email))

    async def list_after(self, after: uuid.UUID | None, limit: int) -> Sequence[User]:
        """Up to `limit` users in id order, from the first id above `after`.

        Keyset paging: the primary-key index finds the page's start directly, so the last
        page of a million users costs what the first does (an OFFSET reads and drops
        every row before its page).
        """
        query = select(User).order_by(User.id).limit(limit)
        if after is not None:
            query = query.where(User.id > after)
        return (await self.session.scalars(query)).all()

    async def lock(self, user_id: uuid.UUID) -> User | None:
        """Hold the user's row until the end of the transaction, and read it afresh.

        Every change to a user's credentials or refresh tokens takes this lock first, so
        logins, rotations, replays, password changes and revocations of one user queue up
        in a single order: no deadlock, no rotation slips past a revocation, and no login
        issues tokens for a password that changed while it was checked. NO KEY UPDATE
        leaves the foreign-key checks of concurrent inserts unblocked. SQLite serializes
        writers anyway.
        """
        statement = (
            select(User)
            .where(User.id == user_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(statement)

    async def lock_owner_of_token(self, digest: str) -> TokenOwner | None:
        """Hold the row of the user a refresh token belongs to, as `lock` does, and say
        whether that user is active; None for a digest of no stored token. One statement:
        a refresh, the hottest writer here, sends no query it can do without."""
        row = (await self.session.execute(OWNER_OF_TOKEN, {"digest": digest})).one_or_none()
        return None if row is None else TokenOwner(id=row.id, is_active=row.is_active)

    async def lock_active_superusers(self) -> Sequence[uuid.UUID]:
        """Hold the rows of every active superuser, in one order, and return their ids.

        Two superusers demoting each other at once both count two superusers unless the
        second waits for the first: with the rows held, it counts again after the wait.
        """
        statement = (
            select(User.id)
            .where(User.is_superuser.is_(True), User.is_active.is_(True))
            .order_by(User.id)
            .with_for_update(key_share=True)
        )
        return (await self.session.scalars(statement)).all()
