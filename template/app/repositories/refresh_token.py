import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Exists,
    SQLColumnExpression,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)

from app.models import RefreshToken
from app.repositories.repository import Repository


def session_is_live(
    session_id: SQLColumnExpression[uuid.UUID] | uuid.UUID,
    user_id: SQLColumnExpression[uuid.UUID] | uuid.UUID,
) -> Exists:
    """Whether the user's session (one login's family of refresh tokens) still lives.

    Every way a session ends (logout, reuse detection, a password change, deactivation)
    revokes all of its tokens at once, so one token left unrevoked means it lives. No clock
    is read: a revocation counts on every replica however their clocks differ. The family
    index finds the family's rows; the first one decides for a live session.
    """
    return exists().where(
        RefreshToken.family_id == session_id,
        RefreshToken.user_id == user_id,
        RefreshToken.revoked_at.is_(None),
    )


# The statements of a refresh, the hottest writer, built once against the table: built per
# call against the mapped class, the ORM's DML path and the statements' cache keys took
# more of a refresh than the round trips did (py-spy). The values are bound at execution.
TOKENS = cast(Table, RefreshToken.__table__)
CLAIM = (
    update(TOKENS)
    .where(
        TOKENS.c.token_digest == bindparam("digest"),
        TOKENS.c.used_at.is_(None),
        TOKENS.c.revoked_at.is_(None),
        TOKENS.c.expires_at > bindparam("now"),
        TOKENS.c.family_expires_at > bindparam("now"),
    )
    .values(used_at=bindparam("now"))
    .returning(
        TOKENS.c.user_id,
        TOKENS.c.family_id,
        TOKENS.c.family_created_at,
        TOKENS.c.family_expires_at,
    )
)
# The id comes from the column's default (new_id).
ISSUE = insert(TOKENS)


# A live session's newest token: unrevoked, unused (the one a refresh would take), and
# unexpired. Rotation keeps exactly one such token per family.
LIVE_SESSIONS = (
    select(
        TOKENS.c.family_id,
        TOKENS.c.family_created_at,
        TOKENS.c.created_at,
        TOKENS.c.client_address,
        TOKENS.c.user_agent,
    )
    .where(
        TOKENS.c.user_id == bindparam("user_id"),
        TOKENS.c.revoked_at.is_(None),
        TOKENS.c.used_at.is_(None),
        TOKENS.c.expires_at > bindparam("now"),
        TOKENS.c.family_expires_at > bindparam("now"),
    )
    .order_by(TOKENS.c.created_at.desc(), TOKENS.c.family_id)
)


@dataclass(frozen=True)
class ClaimedToken:
    user_id: uuid.UUID
    family_id: uuid.UUID
    family_created_at: datetime
    family_expires_at: datetime


@dataclass(frozen=True)
class Client:
    """Who asked for a token: shown in the list of sessions, never used to decide."""

    address: str | None
    user_agent: str | None


@dataclass(frozen=True)
class LiveSession:
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    client_address: str | None
    user_agent: str | None


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken

    async def claim(self, digest: str, now: datetime) -> ClaimedToken | None:
        """Mark a live token used, in one statement: of two racing requests, one wins."""
        row = (await self.session.execute(CLAIM, {"digest": digest, "now": now})).one_or_none()
        if row is None:
            return None
        return ClaimedToken(
            user_id=row.user_id,
            family_id=row.family_id,
            family_created_at=row.family_created_at,
            family_expires_at=row.family_expires_at,
        )

    async def session_lives(self, session_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        return bool(await self.session.scalar(select(session_is_live(session_id, user_id))))

    async def issue(
        self,
        *,
        user_id: uuid.UUID,
        family_id: uuid.UUID,
        digest: str,
        created_at: datetime,
        expires_at: datetime,
        family_created_at: datetime,
        family_expires_at: datetime,
        client: Client,
    ) -> None:
        """Store a new token: one INSERT, sent at once. No ORM object is built for it (the
        unit of work's flush of one costs more than the statement), and nothing reads it
        back in this request."""
        await self.session.execute(
            ISSUE,
            {
                "user_id": user_id,
                "family_id": family_id,
                "token_digest": digest,
                "created_at": created_at,
                "expires_at": expires_at,
                "family_created_at": family_created_at,
                "family_expires_at": family_expires_at,
                "client_address": client.address,
                "user_agent": client.user_agent,
            },
        )

    async def live_sessions(self, user_id: uuid.UUID, now: datetime) -> list[LiveSession]:
        """The user's sessions that a refresh could still continue, newest use first."""
        rows = await self.session.execute(LIVE_SESSIONS, {"user_id": user_id, "now": now})
        return [
            LiveSession(
                id=row.family_id,
                created_at=row.family_created_at,
                last_used_at=row.created_at,
                client_address=row.client_address,
                user_agent=row.user_agent,
            )
            for row in rows
        ]

    async def get_by_digest(self, digest: str) -> RefreshToken | None:
        return await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_digest == digest)
        )

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        await self._revoke(RefreshToken.family_id == family_id, now)

    async def revoke_session(self, user_id: uuid.UUID, family_id: uuid.UUID, now: datetime) -> bool:
        """End one of the user's sessions; False if it has none live of that id."""
        ended = await self._revoke(
            and_(RefreshToken.user_id == user_id, RefreshToken.family_id == family_id), now
        )
        return ended > 0

    async def revoke_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        await self._revoke(RefreshToken.user_id == user_id, now)

    async def _revoke(self, condition: ColumnElement[bool], now: datetime) -> int:
        result = await self.session.execute(
            update(RefreshToken)
            .where(condition, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    async def delete_dead(self, now: datetime, limit: int) -> int:
        """Delete up to `limit` tokens that can never be used again; return how many.

        Expired and revoked tokens only: a used token stays until it expires, since its
        replay must still be recognised (and its family revoked). Rows another
        transaction holds (a rotation in progress) are skipped, not waited for, so logins
        and refreshes never queue behind a purge.
        """
        dead = (
            select(RefreshToken.id)
            .where(
                or_(
                    RefreshToken.expires_at <= now,
                    RefreshToken.family_expires_at <= now,
                    RefreshToken.revoked_at.is_not(None),
                )
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(
            delete(RefreshToken)
            .where(RefreshToken.id.in_(dead.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))
