"""Apply the migrations once per deploy: `python -m app.db.migrate` (scripts/start.sh runs it).

Every replica of a deploy runs this as it starts. On PostgreSQL, a session-level advisory
lock lets exactly one of them upgrade while the others wait, then find nothing left to do.
It connects as MIGRATION_DATABASE_URL's role when that is set (the schema's owner), else as
DATABASE_URL's.
"""

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.db.session import create_engine
from app.jobs.queue import JOB_QUEUE_TABLES

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"
# Advisory locks are per database and only this runner takes this key: any fixed number works.
MIGRATION_LOCK_KEY = 7_316_425_801_139_112_021

logger = logging.getLogger(__name__)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """What autogenerate compares (migrations/env.py, tests/test_migrations.py): not the
    job queue's tables, which are pgqueuer's (revision 0003), not the models'."""
    return not (type_ == "table" and name in JOB_QUEUE_TABLES)


def upgrade(database_url: str | None = None) -> None:
    """`alembic upgrade heads`, on `database_url` when given, else on the settings' database.

    Every head, not one: after a template update, the template's chain of revisions and the
    project's own may be two branches from a common revision until `make migration` merges
    them (the README's "Your revisions and the template's"). Upgrading `heads` applies
    both either way.

    Alembic's env.py runs its own event loop: call this from a thread in async code.
    """
    config = Config(str(ALEMBIC_INI))
    # The caller's logging stays as it is: alembic.ini's is for `alembic` run by hand.
    config.attributes["configure_logger"] = False
    if database_url is not None:
        config.attributes["database_url"] = database_url
    command.upgrade(config, "heads")


def migration_settings(settings: Settings) -> Settings:
    """The settings with DATABASE_URL replaced by MIGRATION_DATABASE_URL, when that is set."""
    if settings.migration_database_url is None:
        return settings
    return settings.model_copy(update={"database_url": settings.migration_database_url})


async def upgrade_holding_lock() -> None:
    settings = migration_settings(get_settings())
    if settings.is_sqlite:  # a local file: one process at a time anyway
        await asyncio.to_thread(upgrade, settings.database_url)
        return
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            # Autocommit: no transaction stays open while the lock is held, so a server's
            # idle-in-transaction timeout cannot end this session and release the lock early.
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            lock = {"key": MIGRATION_LOCK_KEY}
            if not await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), lock):
                logger.info("Another instance is migrating; waiting for it to finish.")
                await connection.execute(text("SELECT pg_advisory_lock(:key)"), lock)
            await asyncio.to_thread(upgrade, settings.database_url)
            # Closing the connection releases the lock, also when the upgrade failed.
    finally:
        await engine.dispose()


if __name__ == "__main__":
    # The service's own log format (JSON outside development) from the first line a deploy
    # writes, so that a log pipeline reading JSON gets no plain text before the server's.
    configure_logging(get_settings())
    asyncio.run(upgrade_holding_lock())
