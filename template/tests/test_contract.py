"""The OpenAPI document tells the truth: schemathesis against the running service.

Opt-in, as it takes a minute or two: `make contract` (or `pytest -m contract`). It serves
the app with uvicorn on a free port, on the test database, with rate limits raised so
that they do not starve the run, and runs `schemathesis run --checks all`, every phase
(examples, coverage, fuzzing, stateful), once as an ordinary user and once as a
superuser. CONTRACT_MAX_EXAMPLES (default 50) and CONTRACT_SEED tune the run.
"""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from app.core.clock import utc_now
from app.core.config import Settings
from app.db.session import Database
from app.models import User
from tests.conftest import GENEROUS_LIMIT, PROJECT_ROOT

pytestmark = pytest.mark.contract

PASSWORD = "contract test passphrase"  # the test accounts' password
TOOLS = Path(sys.executable).parent
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_environment(settings: Settings) -> dict[str, str]:
    """The test run's settings, as variables for the service's own process."""
    return {
        **os.environ,
        "ENV": "dev",  # the test database may be SQLite
        "DOCS_ENABLED": "true",
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "BCRYPT_ROUNDS": "4",
        "REDIS_URL": settings.redis_url,
        "RATE_LIMIT_KEY_PREFIX": settings.rate_limit_key_prefix,
        "RATE_LIMIT_LOGIN": GENEROUS_LIMIT,
        "RATE_LIMIT_LOGIN_ACCOUNT": GENEROUS_LIMIT,
        "RATE_LIMIT_LOGOUT": GENEROUS_LIMIT,
        "RATE_LIMIT_REFRESH": GENEROUS_LIMIT,
        "RATE_LIMIT_SIGNUP": GENEROUS_LIMIT,
        "RATE_LIMIT_PASSWORD_CHECK": GENEROUS_LIMIT,
        "RATE_LIMIT_EMAIL_REQUEST": GENEROUS_LIMIT,
        "RATE_LIMIT_EMAIL_PER_ACCOUNT": GENEROUS_LIMIT,
        "RATE_LIMIT_TOKEN": GENEROUS_LIMIT,
        "RATE_LIMIT_SESSIONS": GENEROUS_LIMIT,
    }


@pytest.fixture(scope="module")
def service(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("contract") / "service.log"
    command = [
        str(TOOLS / "uvicorn"),
        "app.main:create_app",
        "--factory",
        "--http",
        "app.server:HttpProtocol",
        "--port",
        str(port),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line
            command,
            cwd=PROJECT_ROOT,
            env=service_environment(settings),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def mark_verified(settings: Settings, email: str) -> None:
    database = Database.from_settings(settings)
    try:
        async with database.unit_of_work() as session:
            await session.execute(
                update(User).where(User.email == email).values(email_verified_at=utc_now())
            )
    finally:
        await database.engine.dispose()


def account(service: str, settings: Settings, email: str, *, superuser: bool) -> str:
    """A new account's access token; a superuser is made by the CLI, as in production."""
    if superuser:
        created = subprocess.run(  # noqa: S603 - a fixed command line
            [sys.executable, "-m", "app.cli", "create-superuser", "--email", email],
            cwd=PROJECT_ROOT,
            env=service_environment(settings) | {"SUPERUSER_PASSWORD": PASSWORD},
            capture_output=True,
            text=True,
            check=False,
        )
        assert created.returncode == 0, created.stderr
    else:
        # EMAIL_VERIFICATION=required, the default: the link's work is done here directly
        # (tests/test_verification.py follows the link itself).
        signup = httpx.post(f"{service}/api/v1/users", json={"email": email, "password": PASSWORD})
        assert signup.status_code == 202, signup.text
        asyncio.run(mark_verified(settings, email))
    login = httpx.post(
        f"{service}/api/v1/auth/token", data={"username": email, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    token: str = login.json()["access_token"]
    return token


@pytest.mark.parametrize("superuser", [False, True], ids=["user", "superuser"])
def test_the_service_keeps_its_openapi_contract(
    service: str, settings: Settings, superuser: bool
) -> None:
    role = "superuser" if superuser else "user"
    token = account(service, settings, f"contract-{role}@example.com", superuser=superuser)
    command = [
        str(TOOLS / "schemathesis"),
        "--config-file",
        str(PROJECT_ROOT / "tests/schemathesis.toml"),
        "run",
        f"{service}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        os.environ.get("CONTRACT_MAX_EXAMPLES", "50"),
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--no-color",
        # Logging out everywhere would end the run's own session at its first call, and
        # every later case would answer 401: tests/test_sessions.py proves that operation.
        "--exclude-operation-id",
        "end_all_sessions_api_v1_users_me_sessions_delete",
    ]
    if seed := os.environ.get("CONTRACT_SEED"):
        command += ["--seed", seed]
    # Hooks that keep common passwords out of the drawn bodies (tests/contract_hooks.py).
    hooks = {"SCHEMATHESIS_HOOKS": "tests.contract_hooks", "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(  # noqa: S603 - a fixed command line
        command,
        cwd=PROJECT_ROOT,
        env=os.environ | hooks,
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout)  # the summary: operations, phases, cases (shown with pytest -s)
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr
