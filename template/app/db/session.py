"""Engine and session factory, built when the app starts (never at import)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from app.core.config import Settings


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
    return create_async_engine(
        settings.database_url,
        hide_parameters=True,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_timeout=settings.db_connect_timeout,
        connect_args={"timeout": settings.db_connect_timeout},
    )


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


@dataclass(frozen=True)
class Database:
    """What the app needs from the database: the engine (health, shutdown) and sessions."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        engine = create_engine(settings)
        return cls(engine=engine, sessions=create_session_factory(engine))
