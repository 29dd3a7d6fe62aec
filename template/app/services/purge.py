"""Deleting tokens that can never be used again (refresh tokens, and the tokens sent by
e-mail): daily, as a scheduled job of the worker (app/jobs), or by hand
(`python -m app.cli purge-tokens`)."""

from app.core.clock import utc_now
from app.db.session import Database
from app.repositories.account_token import AccountTokenRepository
from app.repositories.refresh_token import RefreshTokenRepository

# Rows deleted per transaction: each batch holds its rows' locks for milliseconds only.
PURGE_BATCH_SIZE = 1000


async def purge_tokens(database: Database, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Delete dead tokens in batches, each its own transaction; return how many."""
    total = 0
    for repository in (RefreshTokenRepository, AccountTokenRepository):
        while True:
            async with database.unit_of_work() as session:
                deleted = await repository(session).delete_dead(utc_now(), batch_size)
            total += deleted
            if deleted < batch_size:
                break
    return total
