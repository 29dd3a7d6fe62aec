"""Reads outside a unit of work: no transaction around them, and no writes through them."""

import asyncio
import threading
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import delete, make_url, select, text, update
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.api.dependencies import READ_ONLY_METHODS
from app.core.config import Settings
from app.db.session import Database
from app.models import User


@pytest.fixture
async def deployed(settings: Settings) -> AsyncIterator[Database]:
    """The Database a deployment builds from its settings (its own pool and connections)."""
    if settings.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite reads cost no round trip, so they are not split off")
    database = Database.from_settings(settings)
    yield database
    await database.engine.dispose()


async def test_authentication_reads_without_begin_or_commit(deployed: Database) -> None:
    """One statement, one round trip: the connection autocommits, no transaction is open."""
    async with deployed.reading() as connection:
        await connection.execute(select(User.id).limit(1))
        raw = await connection.get_raw_connection()
        assert raw.driver_connection is not None
        assert not raw.driver_connection.is_in_transaction()


@pytest.mark.parametrize(("method", "reads"), [("GET", True), ("HEAD", True), ("POST", False)])
async def test_only_get_requests_get_a_read_only_session(
    deployed: Database, method: str, reads: bool
) -> None:
    assert (method in READ_ONLY_METHODS) is reads
    async with deployed.session(read_only=reads) as session:
        await session.execute(select(User.id).limit(1))
        raw = (await session.connection()).sync_connection
        assert raw is not None
        assert raw.connection.driver_connection.is_in_transaction() is not reads  # type: ignore[union-attr]


async def add_a_user(session: AsyncSession) -> None:
    session.add(User(email="never@example.com", hashed_password="x"))
    await session.flush()


async def rename_every_user(session: AsyncSession) -> None:
    await session.execute(update(User).values(full_name="changed"))


async def delete_every_user(session: AsyncSession) -> None:
    await session.execute(delete(User))


# What a GET route might do by mistake.
WRITES = {"add": add_a_user, "update": rename_every_user, "delete": delete_every_user}


async def try_to_write(database: Database, write: str) -> None:
    async with database.session(read_only=True) as session:
        with pytest.raises(InvalidRequestError, match="must not write"):
            await WRITES[write](session)


@pytest.mark.parametrize("write", WRITES)
async def test_a_get_request_cannot_write_here(database: Database, write: str) -> None:
    """In this suite's own database, SQLite or PostgreSQL: a GET route that writes fails its
    tests, instead of passing them and failing in production."""
    await try_to_write(database, write)


@pytest.mark.parametrize("write", WRITES)
async def test_a_get_request_cannot_write_as_deployed(deployed: Database, write: str) -> None:
    await try_to_write(deployed, write)


def _terminate_blocking(settings: Settings, pid: int) -> None:
    """End server session `pid` while this event loop stands still: the service's socket
    has been closed by the server, and nothing has read that yet."""
    url = make_url(settings.database_url).set(drivername="postgresql")

    async def terminate() -> None:
        admin = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()

    worker = threading.Thread(target=asyncio.run, args=(terminate(),))
    worker.start()
    worker.join()


async def test_a_read_on_a_connection_the_server_just_closed_runs_again(
    deployed: Database, settings: Settings
) -> None:
    """A restart or failover closes every pooled connection; the first read to meet one
    is not lost: it runs once more, on a new connection."""

    async def backend_pid(connection: AsyncConnection) -> int:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0)

    before = await deployed.read(backend_pid)
    _terminate_blocking(settings, before)

    after = await deployed.read(backend_pid)

    assert after != before
