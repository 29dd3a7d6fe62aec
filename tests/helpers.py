"""Plain helpers shared by the test modules: subprocesses, environments, databases, services."""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import yaml

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
# The template's own environment: the command-line tools the tests run (hadolint,
# check-jsonschema, kubernetes-validate) are installed there.
TOOLS = Path(sys.executable).parent
# What copier reads from this repository: a release of the template is these paths.
TEMPLATE_FILES = ("copier.yml", "extensions", "upgrades", "template")

# The `render` fixture: answers in, the rendered project's folder out.
Render = Callable[..., Path]

# The services the deep tests use; CI exports the same values, a developer may point elsewhere.
ADMIN_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# Seconds for scripts/start.sh to migrate and answer /health/live.
STARTUP_TIMEOUT = 30.0
# The bearer token of /metrics, which production requires.
METRICS_TOKEN = "metrics-token-of-the-template-tests"

# The variants the deep tests install, by test id: the defaults (no Redis, no tracing, Railway),
# and one that turns every option the other way: Redis, OpenTelemetry, Kubernetes, and CORS
# origins replaced (the rendered suite sends a real preflight for each origin). Two installs
# cover every option's both sides.
DEEP_VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "everything": {
        "rate_limit_store": "redis",
        "tracing": "opentelemetry",
        "deploy_platform": "kubernetes",
        "cors_origins": ["https://app.example.com", "http://localhost:5173"],
    },
}

# Variables that would make a rendered project use this repository's environment, or that
# the rendered service and its tests read: each subprocess gets them only when a test says so.
_LEAKING_VARIABLES = (
    "VIRTUAL_ENV",
    "PYTHONHOME",
    "PYTHONPATH",
    "UV_PROJECT_ENVIRONMENT",
    "UV_RUN_RECURSION_DEPTH",
    "PYTEST_ADDOPTS",
    "PYTEST_CURRENT_TEST",
    "TEST_DATABASE_URL",
    "TEST_REDIS_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "ENV",
    "PORT",
)


def project_env(uv_cache_dir: Path, **extra: str) -> dict[str, str]:
    """An environment for commands run inside a rendered project, isolated from this one."""
    env = {key: value for key, value in os.environ.items() if key not in _LEAKING_VARIABLES}
    own_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(
        entry for entry in env.get("PATH", "").split(os.pathsep) if entry and entry != own_bin
    )
    env["UV_CACHE_DIR"] = str(uv_cache_dir)
    # Only PyPI is reachable: fail at once instead of trying to download an interpreter.
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.update(extra)
    return env


@dataclass(frozen=True)
class InstalledProject:
    """A rendered project with its own .venv, and how to run commands inside it."""

    path: Path
    uv_cache_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        # Its own TMPDIR keeps the project's pytest runs from rotating this run's basetemps.
        tmp = self.path.parent / "tmp"
        tmp.mkdir(exist_ok=True)
        # Its own pre-commit home too, for the hooks' cache and logs.
        pre_commit_home = str(self.path.parent / "pre-commit")
        return project_env(
            self.uv_cache_dir, TMPDIR=str(tmp), PRE_COMMIT_HOME=pre_commit_home, **extra
        )

    def run(self, *command: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        __tracebackhide__ = True
        return run(command, cwd=self.path, env=self.env(**extra_env))


def run(
    command: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise with the command and its combined output."""
    __tracebackhide__ = True  # the report shows the command's output, not this helper
    result = subprocess.run(
        list(command),
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(command)}` in {cwd} exited {result.returncode}:\n{result.stdout}"
        )
    return result


def answers(project: Path) -> dict[str, Any]:
    """The answers a rendered project was made with (its .copier-answers.yml)."""
    recorded: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return recorded


def compose_services(project: Path) -> dict[str, Any]:
    """The services of the project's docker-compose.yml, once it validates against the
    Compose specification's schema (check-jsonschema ships it: this works offline)."""
    schema = ["--builtin-schema", "vendor.compose-spec"]
    run([str(TOOLS / "check-jsonschema"), *schema, "docker-compose.yml"], cwd=project, timeout=60)
    services: dict[str, Any] = yaml.safe_load((project / "docker-compose.yml").read_text())[
        "services"
    ]
    return services


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
    the metrics token production requires; `overrides` change or add any of them."""
    return {
        "ENV": "production",
        "SECRET_KEY": secret_key,
        # Plain postgresql:// on purpose, as platforms hand it out: the service converts it.
        "DATABASE_URL": database_url(database),
        "METRICS_TOKEN": METRICS_TOKEN,
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


def wait_for_text(service: Service, text: str, timeout: float = STARTUP_TIMEOUT) -> None:
    """Until `text` is in the service's log; fails if the service exits first."""
    deadline = time.monotonic() + timeout
    while text not in service.log.read_text():
        if service.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"no {text!r} in the log:\n{service.log.read_text()}")
        time.sleep(0.1)


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
