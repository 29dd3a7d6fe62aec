"""The create-superuser command, run as a real process against the test database."""

from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.models import User
from tests.processes import run_cli


@pytest.fixture
async def admin_email(engine: AsyncEngine) -> AsyncIterator[str]:
    """The command commits for real: remove its user once the test's transaction is gone.

    Requested first by the test, so it is torn down after the test's connection.
    """
    email = "first-admin@example.com"
    yield email
    async with engine.begin() as connection:
        await connection.execute(delete(User).where(User.email == email))


async def test_create_superuser_reads_the_password_from_the_environment(
    admin_email: str, settings: Settings, client: AsyncClient
) -> None:
    created = run_cli(settings, "create-superuser", "--email", admin_email, password="admin pass 1")
    assert created.returncode == 0, created.stderr
    assert "admin pass 1" not in created.stdout + created.stderr
    again = run_cli(settings, "create-superuser", "--email", admin_email, password="another 1")
    assert again.returncode == 1
    assert "already exists" in again.stderr

    # The test's own requests come last: on SQLite they lock the file until the test ends.

    login = await client.post(
        "/api/v1/auth/token", data={"username": admin_email, "password": "admin pass 1"}
    )
    assert login.status_code == 200
    token = login.json()["access_token"]
    listing = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert listing.status_code == 200  # a superuser-only route


def test_create_superuser_never_takes_the_password_from_argv(settings: Settings) -> None:
    result = run_cli(
        settings, "create-superuser", "--email", "x@example.com", "--password", "pw", password=None
    )
    assert result.returncode == 2  # argparse: unknown argument
    assert "unrecognized arguments" in result.stderr


def test_create_superuser_without_a_terminal_asks_for_the_variable(settings: Settings) -> None:
    result = run_cli(settings, "create-superuser", "--email", "x@example.com", password=None)
    assert result.returncode == 1
    assert "SUPERUSER_PASSWORD" in result.stderr
