"""Boot the rendered service with its real start command and walk the auth flow over HTTP."""

import contextlib
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import (
    InstalledProject,
    create_database,
    database_url,
    drop_database,
    free_port,
    random_secret_key,
)

pytestmark = pytest.mark.deep

STARTUP_TIMEOUT = 30.0
PASSWORD = "Boot-test-passphrase-42!"


@dataclass
class Service:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @contextlib.contextmanager
    def client(self) -> Iterator[httpx.Client]:
        """An HTTP client; a failure while it is open also shows the service's log."""
        with httpx.Client(base_url=self.url, timeout=10) as client:
            try:
                yield client
            except Exception as error:
                error.add_note(f"service log ({self.log}):\n{self.log.read_text()}")
                raise


@pytest.fixture(scope="module")
def service(
    installed_project: Callable[[str], InstalledProject],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Service]:
    """The default variant serving on a free port against its own fresh database."""
    project = installed_project("default")
    database = create_database()
    try:
        port = free_port()
        log = tmp_path_factory.mktemp("boot") / "service.log"
        process = start(
            project,
            log,
            HOST="127.0.0.1",
            PORT=str(port),
            ENV="production",
            SECRET_KEY=random_secret_key(),
            # Plain postgresql:// on purpose, as platforms hand it out: the service converts it.
            DATABASE_URL=database_url(database),
        )
        try:
            running = Service(f"http://127.0.0.1:{port}", process, log)
            wait_until_live(running)
            yield running
        finally:
            stop(process)
    finally:
        drop_database(database)


def start(project: InstalledProject, log: Path, **settings: str) -> subprocess.Popen[bytes]:
    """Run scripts/start.sh as the image does: the project's .venv first on PATH."""
    venv = project.path / ".venv"
    env = project.env(VIRTUAL_ENV=str(venv), **settings)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    with log.open("wb") as output:
        return subprocess.Popen(
            ["scripts/start.sh"],
            cwd=project.path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            # Its own process group, so teardown reaches uvicorn even if start.sh does not exec.
            start_new_session=True,
        )


def wait_until_live(service: Service) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            pytest.fail(f"start.sh exited {service.process.returncode}:\n{service.log.read_text()}")
        try:
            if httpx.get(f"{service.url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"/health/live not ready after {STARTUP_TIMEOUT} s:\n{service.log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole group, give it time to shut down gracefully, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and group_alive(process):
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def group_alive(process: subprocess.Popen[bytes]) -> bool:
    process.poll()  # reaps start.sh itself once it exits
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def assert_token_pair(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"] and body["refresh_token"]
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    return body


def log_in(client: httpx.Client, email: str) -> dict[str, Any]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    return assert_token_pair(response)


def refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def test_health_reports_database(service: Service) -> None:
    with service.client() as client:
        response = client.get("/health")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["database"]) == ("ok", "ok"), body


def test_auth_flow(service: Service) -> None:
    email = f"boot-{secrets.token_hex(4)}@example.com"
    with service.client() as client:
        created = client.post(
            "/api/v1/users", json={"email": email, "password": PASSWORD, "full_name": "Boot Test"}
        )
        assert created.status_code == 201, created.text

        first = log_in(client, email)
        bearer = {"Authorization": f"Bearer {first['access_token']}"}
        me = client.get("/api/v1/users/me", headers=bearer)
        assert me.status_code == 200, me.text
        assert me.json()["email"] == email

        second = assert_token_pair(refresh(client, first["refresh_token"]))
        assert second["refresh_token"] != first["refresh_token"]
        # Replaying a rotated token means it leaked: the whole family is revoked.
        assert refresh(client, first["refresh_token"]).status_code == 401
        assert refresh(client, second["refresh_token"]).status_code == 401

        third = log_in(client, email)
        logged_out = client.post(
            "/api/v1/auth/logout",
            json={"refresh_token": third["refresh_token"]},
            headers={"Authorization": f"Bearer {third['access_token']}"},
        )
        assert logged_out.status_code == 204, logged_out.text
        assert refresh(client, third["refresh_token"]).status_code == 401
