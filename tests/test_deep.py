"""Install rendered variants and run their type check, test suites and migrations."""

from collections.abc import Callable

import pytest

from tests.helpers import (
    ADMIN_DATABASE_URL,
    DEEP_VARIANTS,
    REDIS_URL,
    InstalledProject,
    database_url,
    random_secret_key,
)

pytestmark = [pytest.mark.deep, pytest.mark.parametrize("variant", DEEP_VARIANTS)]

Install = Callable[[str], InstalledProject]


def test_mypy(variant: str, installed_project: Install) -> None:
    installed_project(variant).run("uv", "run", "mypy")


def test_suite_on_sqlite(variant: str, installed_project: Install) -> None:
    installed_project(variant).run("uv", "run", "pytest")


def test_suite_on_postgresql(variant: str, installed_project: Install) -> None:
    # The rendered suite creates and drops its own database through this admin URL.
    installed_project(variant).run(
        "uv", "run", "pytest", TEST_DATABASE_URL=ADMIN_DATABASE_URL, TEST_REDIS_URL=REDIS_URL
    )


def test_migrations_round_trip(
    variant: str, installed_project: Install, fresh_database: str
) -> None:
    project = installed_project(variant)
    env = {
        "DATABASE_URL": database_url(fresh_database, scheme="postgresql+asyncpg"),
        "SECRET_KEY": random_secret_key(),
    }
    # Down and up again proves the downgrades; `check` proves the models match the migrations.
    for step in (["upgrade", "head"], ["downgrade", "base"], ["upgrade", "head"], ["check"]):
        project.run("uv", "run", "alembic", *step, **env)
