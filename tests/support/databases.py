"""The PostgreSQL and Redis the deep tests use, and databases of their own on that PostgreSQL."""

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

from tests.support.commands import run
from tests.support.environment import TEMPLATE_ROOT

# CI exports the same values; a developer may point elsewhere.
ADMIN_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def database_url(name: str, scheme: str = "postgresql") -> str:
    """The admin URL pointed at another database, optionally with a driver scheme."""
    parts = urlsplit(ADMIN_DATABASE_URL)
    return urlunsplit((scheme, parts.netloc, f"/{name}", "", ""))


def psql(sql: str, database: str | None = None) -> str:
    """Run one statement as the PostgreSQL admin, in `database` or the admin's own; its output.

    psql, so that no driver is needed here."""
    url = database_url(database) if database else ADMIN_DATABASE_URL
    result = run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], cwd=TEMPLATE_ROOT, timeout=60
    )
    return result.stdout


def create_database() -> str:
    """Create an empty database with a random name and return the name."""
    name = f"template_test_{secrets.token_hex(4)}"
    psql(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    # FORCE ends sessions a failed test may have left open, so teardown never hangs.
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
