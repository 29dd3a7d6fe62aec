"""The test database and the app wired to it.

TEST_DATABASE_URL names a PostgreSQL server (for example
postgresql://postgres@127.0.0.1:5432/postgres): the run creates its own database
there, builds it with the Alembic migrations and drops it at the end. Without it,
a temporary SQLite file is used. Each test runs inside a transaction that is
rolled back, so tests never see each other's data.
"""

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.core.config import Settings, normalize_database_url
from app.db.migrate import upgrade
from app.db.session import Database, create_engine, create_session_factory
from app.jobs.handlers import Handlers
from app.jobs.queue import JOB_QUEUE_TABLES
from app.mail.delivery import SmtpMailer
from app.main import create_app
from tests.factories import UserFactory
from tests.log_lines import pytest_runtest_teardown  # noqa: F401 - a hook of this run
from tests.mailbox import Mailbox, mail_settings
from tests.smtp_sink import Sink, smtp_sink

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-production-rules"
SERVER_URL = os.environ.get("TEST_DATABASE_URL")
# Used when the rendered service keeps its rate-limit counters in Redis.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
GENEROUS_LIMIT = "10000/minute"
# What an app needs to pass the rules of ENV=staging or production: the tests' apps get
# their Database from the fixtures, so this URL only has to name PostgreSQL.
PRODUCTION_READY = {
    "database_url": "postgresql+asyncpg://unused@127.0.0.1:1/unused",
    "metrics_token": "metrics-token-of-the-tests-long-enough",
    "bcrypt_rounds": 10,
    "cors_origins": ("https://app.example.com",),
    "smtp_host": "smtp.example.com",
    "mail_from": "service@example.com",
    "frontend_url": "https://app.example.com",
}


def pytest_report_header() -> str:
    if SERVER_URL:
        url = make_url(normalize_database_url(SERVER_URL))
        return f"database: PostgreSQL at {url.host}:{url.port or 5432} (a fresh database per run)"
    return "database: SQLite (a temporary file; set TEST_DATABASE_URL for PostgreSQL)"


async def _admin_execute(statement: str) -> None:
    assert SERVER_URL is not None
    url = make_url(SERVER_URL)
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if SERVER_URL:
        name = f"test_{uuid.uuid4().hex[:16]}"
        await _admin_execute(f'CREATE DATABASE "{name}"')
        url = make_url(normalize_database_url(SERVER_URL)).set(database=name)
        try:
            rendered = url.render_as_string(hide_password=False)
            # Alembic's env runs its own event loop: give it a thread of its own.
            await asyncio.to_thread(upgrade, rendered)
            yield rendered
        finally:
            await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("database") / "test.db"
        url_string = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(upgrade, url_string)
        yield url_string


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # the tests' settings ignore the developer's .env
        env="dev",
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        bcrypt_rounds=4,  # the minimum: hashing stays real but fast
        # Sign-up's 201 with the account, which most tests build on; the tests of
        # verification (tests/test_verification.py) set required, the default.
        email_verification="optional",
        # Limits no ordinary test reaches; the rate-limit tests set their own.
        rate_limit_login=GENEROUS_LIMIT,
        rate_limit_login_account=GENEROUS_LIMIT,
        rate_limit_logout=GENEROUS_LIMIT,
        rate_limit_refresh=GENEROUS_LIMIT,
        rate_limit_signup=GENEROUS_LIMIT,
        redis_url=TEST_REDIS_URL,
        # Counters of this run never meet another run's in a shared Redis.
        rate_limit_key_prefix=f"test-{uuid.uuid4().hex[:12]}",
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def database(engine: AsyncEngine, connection: AsyncConnection) -> Database:
    # Sessions commit to a SAVEPOINT of the test's transaction, never for real, and reads
    # outside a session use the test's connection too: they see what the test wrote.
    sessions = create_session_factory(connection, join_transaction_mode="create_savepoint")

    @asynccontextmanager
    async def borrowed() -> AsyncIterator[AsyncConnection]:
        yield connection

    return Database(engine=engine, sessions=sessions, read_connections=borrowed)


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[FastAPI]:
    app = create_app(settings, database)
    async with app.router.lifespan_context(app):
        yield app
        await app.state.rate_limiter.reset()  # no test sees another's requests


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.fixture
def users(database: Database, settings: Settings, client: AsyncClient) -> UserFactory:
    return UserFactory(database, settings, client)


AppClient = Callable[..., AbstractAsyncContextManager[AsyncClient]]


# A test whose requests must land in one window of a per-minute limit starts at least this
# many seconds before the minute ends.
WINDOW_MARGIN_SECONDS = 5.0


@pytest.fixture
def one_minute_window() -> None:
    """Wait out the end of the current minute when it is near.

    The limits count in a sliding window: requests on both sides of a minute's end are
    weighed, the older ones at a little less than their number, so a burst that
    straddles the end may be let through one request further than the limit. A test that
    counts to a per-minute limit starts early enough in a minute to finish inside it.
    """
    into_minute = time.time() % 60
    if into_minute > 60 - WINDOW_MARGIN_SECONDS:
        time.sleep(60 - into_minute + 0.05)


@pytest.fixture
def app_client(settings: Settings, database: Database) -> AppClient:
    """Clients of apps with their own settings, seen from a given peer address.

    Apps made with the same settings share their rate-limit counters when the
    store is Redis, as two processes of one deployment do.
    """

    @asynccontextmanager
    async def make(peer: str = "203.0.113.7", **overrides: Any) -> AsyncIterator[AsyncClient]:
        # Validated afresh, as the environment's values would be (model_copy does not).
        app = create_app(Settings(_env_file=None, **(settings.model_dump() | overrides)), database)
        transport = ASGITransport(app=app, client=(peer, 40000))
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            try:
                yield client
            finally:
                await app.state.rate_limiter.reset()

    return make


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as server:
        yield server


@pytest.fixture
def mailbox(sink: Sink, settings: Settings, database: Database) -> Mailbox:
    mailing = Settings(_env_file=None, **(settings.model_dump() | mail_settings(sink)))
    return Mailbox(sink, database, Handlers(mailing, database, SmtpMailer(mailing)))


@pytest.fixture
def mail_client(app_client: AppClient, sink: Sink) -> AppClient:
    """Clients of apps whose e-mails go to the test's SMTP server (tests/mailbox.py)."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[AsyncClient]:
        async with app_client(**(mail_settings(sink) | overrides)) as client:
            yield client

    return make


async def empty_queue(database: Database) -> None:
    async with database.engine.begin() as connection:
        for table in sorted(JOB_QUEUE_TABLES):
            await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - pgqueuer's names


@pytest.fixture
async def committed(settings: Settings) -> AsyncIterator[Database]:
    """A database whose units of work commit for real (for the worker, a process of its
    own), its queue empty before and after: other tests that commit for real, sign-ups
    among them, leave jobs."""
    if settings.is_sqlite:
        pytest.skip("PostgreSQL only: the job queue lives there")
    database = Database.from_settings(settings)
    await empty_queue(database)
    try:
        yield database
    finally:
        await empty_queue(database)
        await database.engine.dispose()
