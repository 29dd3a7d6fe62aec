"""Reads: authentication's outside any transaction, GET requests' in a READ ONLY one, and
no writes through either."""

import asyncio
import threading
from collections.abc import AsyncIterator

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, make_url, select, text, update
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.api.dependencies import READ_ONLY_METHODS, SessionDep
from app.core.config import Settings
from app.db.session import Database
from app.main import create_app
from app.models import User
from tests.assertions import assert_problem
from tests.observability import captured_logs


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
    """GET and HEAD run in a READ ONLY transaction of PostgreSQL's; the connection is
    read-write again for the next unit of work that takes it from the pool."""
    assert (method in READ_ONLY_METHODS) is reads
    for read_only in (reads, False):
        async with deployed.session(read_only=read_only) as session:
            mode = await session.scalar(text("SHOW transaction_read_only"))
        assert mode == ("on" if read_only else "off")


async def test_a_raw_write_in_a_get_route_fails_in_postgresql(
    deployed: Database, settings: Settings
) -> None:
    """The ORM's guards cannot see a raw statement; PostgreSQL refuses it all the same, in a
    GET request's READ ONLY transaction. The same statement in a POST runs."""
    app = create_app(settings, deployed)
    # WHERE false: nothing would change, but PostgreSQL refuses the statement itself.
    statement = text("UPDATE user_account SET full_name = 'written by a GET' WHERE false")

    async def write(session: SessionDep) -> None:
        await session.execute(statement)

    app.add_api_route("/write", write, methods=["GET", "POST"])
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        with captured_logs() as logs:
            by_get = await client.get("/write")
        by_post = await client.post("/write")
        await app.state.rate_limiter.reset()
    assert_problem(by_get, 500)
    assert "read-only transaction" in logs.text
    assert by_post.status_code == 200, by_post.text


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
