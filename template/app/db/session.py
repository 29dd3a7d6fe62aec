"""Engine and session factory, built when the app starts (never at import)."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, InvalidRequestError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.exceptions import AppError, DatabaseUnavailable
from app.db.errors import is_read_only_refusal, is_unavailable
from app.db.pool import FairQueuePool

DB_POOL_RECYCLE_SECONDS = 1800


def create_engine(settings: Settings) -> AsyncEngine:
    # A failed statement's error names its SQL but not its values: they may be a
    # password hash, a token digest or an e-mail, and errors end up in logs.
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            poolclass=NullPool,
            hide_parameters=True,
            connect_args={"timeout": settings.db_connect_timeout},
        )
        _enable_sqlite_transactions(engine)
        return engine
    engine = create_async_engine(
        settings.database_url,
        hide_parameters=True,
        # As many connections as the worker serves requests at once, and no overflow: a
        # pool that closes its overflow connections as they come back opens hundreds of
        # new PostgreSQL sessions a second under load, each costing the server a fork.
        pool_size=settings.db_pool_size,
        max_overflow=0,
        poolclass=FairQueuePool,  # waiting requests get connections in the order they came
        pool_timeout=settings.db_connect_timeout,
        # No pre-ping, which costs three round trips per checkout (BEGIN, SELECT 1,
        # ROLLBACK): a connection the server closed is seen at checkout for free (below),
        # and one silently gone is replaced after this many seconds at the latest.
        pool_recycle=DB_POOL_RECYCLE_SECONDS,
        connect_args={"timeout": settings.db_connect_timeout},
    )
    _replace_closed_connections(engine)
    return engine


def _replace_closed_connections(engine: AsyncEngine) -> None:
    """Check out only connections the server has not closed (a restart, a failover,
    `pg_terminate_backend`): asyncpg notices the closed socket itself, with no round trip.

    It notices only once the event loop has read the socket's end; a connection closed a
    moment before may still pass, and `Database.read` runs a read that meets one again.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.driver_connection.is_closed():
            # The pool discards this connection and checks out another (or opens one).
            raise DisconnectionError("the server closed this connection")


SQLITE_BEGIN_OPTION = "sqlite_begin"


def _enable_sqlite_transactions(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, open transactions.

    The driver otherwise delays BEGIN and breaks SAVEPOINTs, which the services
    use; foreign keys are off in SQLite unless asked for on every connection.
    The execution option `sqlite_begin` picks the BEGIN mode: sessions ask for
    IMMEDIATE (see create_session_factory); plain connections, such as the
    readiness check's, stay DEFERRED and never wait for a writer.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def create_session_factory(bind: Any, **options: Any) -> async_sessionmaker[AsyncSession]:
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "sqlite":
        # A unit of work takes SQLite's write lock up front: one that read first and
        # wrote second would fail with "database is locked" under concurrent requests
        # instead of waiting its turn.
        bind = bind.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    # Objects stay readable after commit: responses are serialized after the unit of work ends.
    return async_sessionmaker(bind=bind, expire_on_commit=False, autoflush=False, **options)


class ReadOnlySession(Session):
    """The session of a GET request: it may not write through the ORM, on any database, so
    that a route that writes fails in the tests (SQLite, or PostgreSQL inside the test's
    transaction) as it fails in production, where PostgreSQL refuses every write of the
    session's READ ONLY transaction, raw SQL included."""


READ_ONLY = "a read-only unit of work must not write"


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_changes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise InvalidRequestError(READ_ONLY)


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_statements_that_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise InvalidRequestError(READ_ONLY)


def _raise_unavailable(error: Exception) -> None:
    """A database out of reach is DatabaseUnavailable (a 503 with Retry-After), whatever the
    driver raised; any other error goes on as it is."""
    if is_unavailable(error):
        raise DatabaseUnavailable from error


ConnectionSource = Callable[[], AbstractAsyncContextManager[AsyncConnection]]
T = TypeVar("T")


@dataclass(frozen=True)
class Database:
    """What the app needs from the database: the engine (health, shutdown) and sessions.

    On PostgreSQL, `reads` (the sessions of requests that only read) run in READ ONLY
    transactions, BEGIN READ ONLY in one round trip: the server itself refuses any write,
    a raw `text("UPDATE ...")` included. `read_connections` (authentication's one query)
    autocommit, with no BEGIN and COMMIT around the statement, two round trips of three
    for a one-row read. The tests leave `reads` out, and hand over `read_connections` of
    their own: every read then joins the test's own transaction (where only the ORM's
    guards of ReadOnlySession refuse writes: PostgreSQL ignores READ ONLY in a savepoint).
    """

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    reads: async_sessionmaker[AsyncSession] | None = None
    read_connections: ConnectionSource | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        engine = create_engine(settings)
        if settings.is_sqlite:  # a local file: no round trips to save
            return cls(engine=engine, sessions=create_session_factory(engine))
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        # The same pool: the read-only mode is set as the transaction begins, and undone
        # when the connection goes back to the pool.
        read_only = engine.execution_options(postgresql_readonly=True)
        return cls(
            engine=engine,
            sessions=create_session_factory(engine),
            reads=create_session_factory(read_only, sync_session_class=ReadOnlySession),
            read_connections=autocommit.connect,
        )

    def session(self, *, read_only: bool = False) -> AsyncSession:
        """A new session; a read-only one refuses writes, in a READ ONLY transaction where
        the database has one (`reads`), else in an ordinary transaction."""
        if not read_only:
            return self.sessions()
        if self.reads is not None:
            return self.reads()
        return self.sessions(sync_session_class=ReadOnlySession)

    def reading(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for a read outside any unit of work."""
        return (self.read_connections or self.engine.connect)()

    @asynccontextmanager
    async def unit_of_work(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """A session whose changes are committed once, when the work ends, or rolled back.

        This is where the rule lives: commit when the work succeeds, and when it fails
        with an error that records a decision (`AppError.keep_changes`: a revoked token
        family must stay revoked though the request answers 401); roll back otherwise.
        A database that cannot be reached, at any step or at the commit, raises
        DatabaseUnavailable (a 503 with Retry-After), never a bare driver error.
        """
        try:
            async with self.session(read_only=read_only) as session:
                try:
                    yield session
                except BaseException as exc:
                    if isinstance(exc, AppError) and exc.keep_changes:
                        await session.commit()
                    else:
                        await session.rollback()
                    raise
                await session.commit()
        except Exception as exc:
            # A write refused in a READ ONLY unit of work is the route's bug (a 500, logged
            # with its traceback), not a database out of reach.
            if not (read_only and is_read_only_refusal(exc)):
                _raise_unavailable(exc)
            raise

    async def read(self, query: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`query` on a connection of its own, outside any unit of work.

        A connection the server closed a moment ago (a restart, a failover) may still be
        in the pool: the read then fails, the pool drops it and every connection as old,
        and the read runs once more on a new one. It only reads, so running it twice is
        harmless. A database out of reach raises DatabaseUnavailable.
        """
        try:
            try:
                async with self.reading() as connection:
                    return await query(connection)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
            async with self.reading() as connection:
                return await query(connection)
        except Exception as exc:
            _raise_unavailable(exc)
            raise

    async def answers(self, within_seconds: float) -> bool:
        """Whether the database answers a query in time: readiness."""
        try:
            async with asyncio.timeout(within_seconds):
                async with self.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception:  # any failure to answer in time means "not ready"
            return False
        return True
