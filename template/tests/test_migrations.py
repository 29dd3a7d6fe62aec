"""The migrations build the schema the models describe.

A model changed without its migration fails here, in `make test`, before CI's
`alembic check` or a deployment finds it.
"""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import app.models  # noqa: F401 - every model registers its table
from app.db.base import Base


def schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    # The session's database was built by running every migration.
    async with engine.connect() as connection:
        differences = await connection.run_sync(schema_differences)
    assert differences == []
