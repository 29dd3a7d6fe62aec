"""purge-tokens: dead refresh tokens go, in batches; live and replay-detecting ones stay."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import utc_now
from app.core.config import Settings
from app.core.security import hash_password
from app.db.session import Database, create_session_factory
from app.models import RefreshToken, User
from app.services.purge import purge_tokens
from tests.processes import run_cli

EMAIL = "purge@example.com"


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[Database]:
    """A Database whose sessions commit for real; the user and its tokens go afterwards."""
    yield Database(engine=engine, sessions=create_session_factory(engine))
    async with engine.begin() as connection:
        await connection.execute(delete(User).where(User.email == EMAIL))  # tokens cascade


async def add_tokens(database: Database, **tokens: dict[str, datetime | None]) -> dict[str, str]:
    """A user with one token per name, each with the given times; the names' digests."""
    now = utc_now()
    digests = {name: uuid.uuid4().hex * 2 for name in tokens}
    async with database.sessions() as session:
        user = User(email=EMAIL, hashed_password=await hash_password("irrelevant", 4))
        session.add(user)
        await session.flush()
        for name, times in tokens.items():
            values: dict[str, datetime | None] = {
                "expires_at": now + timedelta(days=1),
                "family_created_at": now,
                "family_expires_at": now + timedelta(days=30),
                "used_at": None,
                "revoked_at": None,
            } | times
            session.add(
                RefreshToken(
                    user_id=user.id, family_id=uuid.uuid4(), token_digest=digests[name], **values
                )
            )
        await session.commit()
    return digests


async def remaining(database: Database) -> set[str]:
    async with database.sessions() as session:
        return set((await session.scalars(select(RefreshToken.token_digest))).all())


def dead_and_alive() -> dict[str, dict[str, datetime | None]]:
    past = utc_now() - timedelta(seconds=1)
    return {
        "live": {},
        "used": {"used_at": past},  # kept: its replay must still revoke the family
        "expired": {"expires_at": past},
        "family-expired": {"family_expires_at": past},
        "revoked": {"revoked_at": past},
    }


async def test_dead_tokens_are_deleted_in_batches(committed: Database) -> None:
    digests = await add_tokens(committed, **dead_and_alive())
    assert await purge_tokens(committed, batch_size=2) == 3
    assert await remaining(committed) == {digests["live"], digests["used"]}
    assert await purge_tokens(committed, batch_size=2) == 0


async def test_a_purge_skips_rows_a_rotation_holds(
    committed: Database, engine: AsyncEngine, settings: Settings
) -> None:
    """Rows locked by another transaction are left for the next run, never waited for."""
    if settings.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite has no row locks, its writers take turns")
    past = utc_now() - timedelta(seconds=1)
    digests = await add_tokens(committed, held={"revoked_at": past}, free={"revoked_at": past})
    async with engine.connect() as holder:
        held = select(RefreshToken.id).where(RefreshToken.token_digest == digests["held"])
        await holder.execute(held.with_for_update())
        deleted = await asyncio.wait_for(purge_tokens(committed, batch_size=10), timeout=10)
        await holder.rollback()
    assert deleted == 1
    assert await remaining(committed) == {digests["held"]}


async def test_the_command_reports_what_it_deleted(committed: Database, settings: Settings) -> None:
    past = utc_now() - timedelta(seconds=1)
    await add_tokens(committed, expired={"expires_at": past}, live={})
    purged = await asyncio.to_thread(run_cli, settings, "purge-tokens", password=None)
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.strip() == "Deleted 1 expired or revoked refresh tokens."
    refused = await asyncio.to_thread(
        run_cli, settings, "purge-tokens", "--batch-size", "0", password=None
    )
    assert refused.returncode == 2
