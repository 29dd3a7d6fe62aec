import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update

from app.models import AccountToken
from app.repositories.repository import Repository


@dataclass(frozen=True)
class ClaimedAccountToken:
    user_id: uuid.UUID
    address: str


class AccountTokenRepository(Repository[AccountToken]):
    model = AccountToken

    async def store(
        self,
        *,
        user_id: uuid.UUID,
        purpose: str,
        digest: str,
        address: str,
        expires_at: datetime,
    ) -> None:
        await self.add(
            AccountToken(
                user_id=user_id,
                purpose=purpose,
                token_digest=digest,
                address=address,
                expires_at=expires_at,
            )
        )

    async def owner(self, digest: str) -> uuid.UUID | None:
        """The user a token was made for, whatever its state."""
        return await self.session.scalar(
            select(AccountToken.user_id).where(AccountToken.token_digest == digest)
        )

    async def claim(self, digest: str, purpose: str, now: datetime) -> ClaimedAccountToken | None:
        """Mark an unused, unexpired token of this purpose used, in one statement: of two
        requests racing with one token, one wins. None for any other token."""
        row = (
            await self.session.execute(
                update(AccountToken)
                .where(
                    AccountToken.token_digest == digest,
                    AccountToken.purpose == purpose,
                    AccountToken.used_at.is_(None),
                    AccountToken.expires_at > now,
                )
                .values(used_at=now)
                .returning(AccountToken.user_id, AccountToken.address)
                .execution_options(synchronize_session=False)
            )
        ).one_or_none()
        return None if row is None else ClaimedAccountToken(row.user_id, row.address)

    async def void(self, user_id: uuid.UUID, purposes: tuple[str, ...], now: datetime) -> None:
        """Make every unused token of the user for these purposes unusable."""
        await self.session.execute(
            update(AccountToken)
            .where(
                AccountToken.user_id == user_id,
                AccountToken.purpose.in_(purposes),
                AccountToken.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )

    async def delete_dead(self, now: datetime, limit: int) -> int:
        """Delete up to `limit` used or expired tokens; return how many. Rows another
        transaction holds are skipped, as the refresh tokens' purge does."""
        dead = (
            select(AccountToken.id)
            .where(or_(AccountToken.expires_at <= now, AccountToken.used_at.is_not(None)))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(
            delete(AccountToken)
            .where(AccountToken.id.in_(dead.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))
