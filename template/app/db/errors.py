"""Which database errors mean "unreachable right now", as opposed to a bug."""

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes and codes of a server that is out of reach, going away, starting up,
# full, or a standby after a failover: connection exception (08), insufficient resources
# (53, "too many connections"), operator intervention (57: shutdown, "cannot connect
# now", a cancelled statement) and read-only transaction (25006).
READ_ONLY_SQLSTATE = "25006"
UNAVAILABLE_SQLSTATES = ("08", "53", "57", READ_ONLY_SQLSTATE)


def is_read_only_refusal(error: BaseException) -> bool:
    """Whether PostgreSQL refused a write because the transaction is read-only: a standby
    after a failover, or a write in a GET request's READ ONLY unit of work, a bug."""
    return isinstance(error, DBAPIError) and (
        getattr(error.orig, "sqlstate", None) == READ_ONLY_SQLSTATE
    )


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database is unreachable, rather than that a query is wrong.

    A request meets these while PostgreSQL is down, restarting or out of reach: a
    connect refused or timed out (the operating system's errors, not wrapped), a
    connection that died in use (SQLAlchemy marks it invalidated), a pool whose every
    connection stayed busy past DB_CONNECT_TIMEOUT, or the server's own refusal.
    """
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None) or ""
        return (
            error.connection_invalidated
            or isinstance(error, OperationalError | InterfaceError)
            or sqlstate.startswith(UNAVAILABLE_SQLSTATES)
        )
    return isinstance(error, OSError | TimeoutError | PoolTimeout)
