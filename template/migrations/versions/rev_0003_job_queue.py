"""The job queue's tables: pgqueuer's own schema, as the installed pgqueuer writes it.

The queue (app/jobs) keeps its jobs, their log, statistics and schedules in tables that
pgqueuer defines and reads; the models do not map them, and migrations/env.py leaves them
out of `alembic check`. A later pgqueuer release that changes them comes with a revision
that runs its upgrade. On SQLite (development only) it creates nothing: the queue and its
worker need PostgreSQL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment
from sqlalchemy.engine.interfaces import AdaptedConnection

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _run_script(script: str) -> None:
    """Run a script of several statements (a function body among them) in the migration's
    transaction. SQLAlchemy's asyncpg dialect prepares each statement, and a prepared
    statement holds one command: the script goes to the asyncpg connection itself, whose
    execute() without arguments takes several."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # A statement through SQLAlchemy first, so that its transaction has begun on the
    # connection and the script runs inside it.
    op.execute("SELECT 1")
    driver = bind.connection.dbapi_connection
    if not isinstance(driver, AdaptedConnection):
        raise TypeError(f"expected the asyncpg driver, not {type(driver).__name__}")
    driver.run_async(lambda connection: connection.execute(script))


def upgrade() -> None:
    _run_script(QueryBuilderEnvironment().build_install_query())


def downgrade() -> None:
    _run_script(QueryBuilderEnvironment().build_uninstall_query())
