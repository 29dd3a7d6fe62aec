"""The rendered service as a process: started as deployed, waited for, stopped with its group."""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.databases import create_database, database_url, drop_database
from tests.support.environment import InstalledProject

# Seconds for scripts/start.sh to migrate and answer /health/live.
STARTUP_TIMEOUT = 30.0
# The bearer token of /metrics, which production requires.
METRICS_TOKEN = "metrics-token-of-the-template-tests"


def random_secret_key() -> str:
    """48 random URL-safe characters, as a production SECRET_KEY would be."""
    return secrets.token_urlsafe(36)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A rendered project serving over HTTP from its own process group."""

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


def start(
    project: InstalledProject,
    log: Path,
    command: Sequence[str] = ("scripts/start.sh",),
    **settings: str,
) -> subprocess.Popen[bytes]:
    """Run a command as the image does (scripts/start.sh unless told): .venv first on PATH."""
    venv = project.path / ".venv"
    env = project.env(VIRTUAL_ENV=str(venv), **settings)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    with log.open("wb") as output:
        return subprocess.Popen(
            list(command),
            cwd=project.path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            # Its own process group, so teardown reaches uvicorn even if start.sh does not exec.
            start_new_session=True,
        )


def production_settings(database: str, secret_key: str, **overrides: str) -> dict[str, str]:
    """The variables of a deployment: ENV=production, the database named, a strong secret,
    the metrics token and https origins production requires; `overrides` change or add
    any of them."""
    return {
        "ENV": "production",
        "SECRET_KEY": secret_key,
        # Plain postgresql:// on purpose, as platforms hand it out: the service converts it.
        "DATABASE_URL": database_url(database),
        "METRICS_TOKEN": METRICS_TOKEN,
        # Production refuses the default answer's http://localhost origin.
        "CORS_ORIGINS": "https://app.example.com",
        # Production's default EMAIL_BACKEND=smtp needs a host and a sender: a relay on
        # loopback (where SMTP_TLS=none is allowed) that nothing answers on port 1, since
        # these services send no e-mail unless a test gives them a server of its own.
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "1",
        "SMTP_TLS": "none",
        "MAIL_FROM": "service@example.com",
        "FRONTEND_URL": "https://app.example.com",
        # Sign-up's 201 with the account, which the loads and faults build on; the
        # rendered suite's own tests prove the verification flow with its worker.
        "EMAIL_VERIFICATION": "optional",
        **overrides,
    }


def start_production(
    project: InstalledProject, log: Path, database: str, secret_key: str, **overrides: str
) -> Service:
    """The service as deployed, on a free port against `database`, with `overrides`."""
    port = free_port()
    settings = production_settings(database, secret_key, **overrides)
    process = start(project, log, HOST="127.0.0.1", PORT=str(port), **settings)
    return Service(f"http://127.0.0.1:{port}", process, log)


@contextlib.contextmanager
def serving(
    project: InstalledProject, log: Path, database: str, **overrides: str
) -> Iterator[Service]:
    """The service as deployed against `database`, live until the block ends, then stopped."""
    service = start_production(project, log, database, random_secret_key(), **overrides)
    try:
        wait_until_live(service)
        yield service
    finally:
        stop(service.process)


@contextlib.contextmanager
def serving_a_fresh_database(
    project: InstalledProject, log: Path, **overrides: str
) -> Iterator[Service]:
    """`serving`, against a database of its own, dropped once the service has stopped."""
    database = create_database()
    try:
        with serving(project, log, database, **overrides) as service:
            yield service
    finally:
        drop_database(database)


def wait_until_live(service: Service) -> None:
    wait_until_answering(service.process, f"{service.url}/health/live", service.log)


def wait_until_answering(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Until `url` answers 200; fails with the log if the process exits or time runs out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} not ready after {STARTUP_TIMEOUT} s:\n{log.read_text()}")


def wait_for_text(service: Service, text: str, timeout: float = STARTUP_TIMEOUT) -> None:
    """Until `text` is in the service's log; fails if the service exits first."""
    deadline = time.monotonic() + timeout
    while text not in service.log.read_text():
        if service.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"no {text!r} in the log:\n{service.log.read_text()}")
        time.sleep(0.1)


def check_worker_probe(process: subprocess.Popen[bytes], url: str, health: str, log: Path) -> None:
    """The worker's probe port at `url`: `health` answers 200 and, once the worker has read
    the queue, says so; /metrics answers only the metrics token."""
    wait_until_answering(process, f"{url}{health}", log)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while (body := httpx.get(f"{url}{health}", timeout=5).json())["queue"] != "reachable":
        if time.monotonic() > deadline:
            pytest.fail(f"the worker never read the queue ({body}):\n{log.read_text()}")
        time.sleep(0.2)
    assert body == {"status": "ok", "queue": "reachable"}
    assert httpx.get(f"{url}/metrics", timeout=5).status_code == 401  # no token, no metrics
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    metrics = httpx.get(f"{url}/metrics", headers=bearer, timeout=5)
    assert metrics.status_code == 200, metrics.text
    assert "worker_queue_depth" in metrics.text


def stop_as_a_platform_does(
    process: subprocess.Popen[bytes], log: Path, timeout: float = 15.0
) -> None:
    """SIGTERM to the process alone, as a platform sends it to a container's first process;
    it must exit 0 within `timeout` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {timeout} s after SIGTERM:\n{log.read_text()}")
    assert status == 0, f"exited {status} on SIGTERM:\n{log.read_text()}"


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
