"""Install rendered variants and run their type check, contract test and migrations."""

import re
from collections.abc import Callable

import pytest

from tests.support.databases import ADMIN_DATABASE_URL, REDIS_URL, database_url
from tests.support.environment import InstalledProject
from tests.support.service_processes import random_secret_key
from tests.support.variants import DEEP_VARIANTS

pytestmark = pytest.mark.deep
# The suites run elsewhere, each once, where a reader or a CI job runs them: the default
# variant's on PostgreSQL in deep/test_getting_started.py and on SQLite in
# deep/test_first_resource.py, as their pages show them; the other variant's on
# PostgreSQL in deep/test_ci_jobs.py, as its rendered CI job runs it. The Redis store's
# tests on SQLite (development with Redis) run in deep/test_updated_projects.py, whose
# project switches to it.

Install = Callable[[str], InstalledProject]


# The default variant's mypy runs in its `make check` (deep/test_first_resource.py) and
# `make lint` (deep/test_updated_projects.py).
@pytest.mark.parametrize("variant", ["everything"])
def test_mypy(variant: str, installed_project: Install) -> None:
    installed_project(variant).run("uv", "run", "mypy")


# Fixed in CI, so that a failure there can be replayed; `make contract` draws a new one.
CONTRACT_SEED = "20261203"


OPENAPI = "import json; from app.main import create_app; print(json.dumps(create_app().openapi()))"


def test_every_variant_serves_the_same_openapi_document(installed_project: Install) -> None:
    """The answers choose stores and instrumentation, never a route or a schema: so one
    variant's contract run (below) holds for every variant's API."""
    documents = {
        variant: installed_project(variant).run("uv", "run", "python", "-c", OPENAPI).stdout
        for variant in DEEP_VARIANTS
    }
    assert len(set(documents.values())) == 1, "the variants' OpenAPI documents differ"


# The everything variant's: Redis, tracing and the rest on, against the one API document.
@pytest.mark.parametrize("variant", ["everything"])
def test_contract_with_schemathesis(variant: str, installed_project: Install) -> None:
    """The rendered opt-in contract test, on PostgreSQL: every check, every phase, as an
    ordinary user and as a superuser, with zero failures."""
    result = installed_project(variant).run(
        "uv",
        "run",
        "pytest",
        "-m",
        "contract",
        "-s",
        TEST_DATABASE_URL=ADMIN_DATABASE_URL,
        TEST_REDIS_URL=REDIS_URL,
        CONTRACT_SEED=CONTRACT_SEED,
    )
    cases = re.findall(r"^\s*(\d+) generated, \d+ passed", result.stdout, re.MULTILINE)
    assert len(cases) == 2, result.stdout
    print(f"{variant}: schemathesis cases, user and superuser runs: {', '.join(cases)}")


# The everything variant's round trip is its rendered CI's migrations job, run in
# deep/test_ci_jobs.py with the same commands.
@pytest.mark.parametrize("variant", ["default"])
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
