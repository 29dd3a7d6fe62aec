"""The migrations build the schema the models describe.

A model changed without its migration fails here, in `make test`, before CI's
`alembic check` or a deployment finds it.
"""

import json
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import app.models  # noqa: F401 - every model registers its table
from app.core.config import Settings
from app.db.base import Base
from app.db.migrate import include_name
from app.db.revision import MAX_ID_LENGTH, next_id
from tests.processes import run_module


def schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": include_name}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    # The session's database was built by running every migration.
    async with engine.connect() as connection:
        differences = await connection.run_sync(schema_differences)
    assert differences == []


def is_json(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_the_deploy_s_migration_logs_in_the_service_s_format(settings: Settings) -> None:
    """scripts/start.sh runs `python -m app.db.migrate` before the server: its lines are
    the service's own, JSON outside development, so a pipeline reading JSON logs gets no
    plain line first."""
    result = run_module(settings, "app.db.migrate", LOG_FORMAT="json")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert [line for line in lines if not is_json(line)] == []
    loggers = {json.loads(line)["logger"] for line in lines}
    assert "alembic.runtime.migration" in loggers


def test_migrations_run_on_the_migration_database_url_when_set(settings: Settings) -> None:
    """MIGRATION_DATABASE_URL names the role that owns the schema: the migration connects
    there, not to DATABASE_URL, which here points at a port where nothing listens."""
    nowhere = "postgresql+asyncpg://nobody@127.0.0.1:1/nothing"
    owner = settings.database_url
    result = run_module(
        settings, "app.db.migrate", DATABASE_URL=nowhere, MIGRATION_DATABASE_URL=owner
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Unset, the migration uses DATABASE_URL, and so fails here.
    unset = run_module(settings, "app.db.migrate", DATABASE_URL=nowhere, MIGRATION_DATABASE_URL="")
    assert unset.returncode != 0


def test_a_new_revision_is_numbered_after_every_file_and_named(tmp_path: Path) -> None:
    """`make migration`'s id: the next number after the template's revisions and the
    project's (older random ids not counted), then the message's words."""
    for name in (
        "rev_0001_initial.py",
        "rev_0004_account_lifecycle.py",
        "rev_0005_add_orders.py",
        "rev_0006.py",
        "rev_5f1c2e9a7b3d_notes.py",
        "rev_123456789abc_old.py",
    ):
        (tmp_path / name).touch()
    assert next_id("Add invoices, v2!", tmp_path) == "0007_add_invoices_v2"
    assert len(next_id("a long message " * 10, tmp_path)) == MAX_ID_LENGTH
