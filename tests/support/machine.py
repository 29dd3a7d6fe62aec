"""What the deep tests need on the machine, made ready before they start.

PostgreSQL and Redis are started where they are installed but not running (on their
usual local addresses, as .ci/run once did); a missing one, or a missing chromium or wrk,
stops the run at once with one line: what is missing, and how to get it.
"""

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.browser import CHROMIUM
from tests.support.databases import ADMIN_DATABASE_URL, REDIS_URL

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
START_PATIENCE_SECONDS = 30
POSTGRESQL_CONFIGS = Path("/etc/postgresql")
# Redis as these machines run it: loopback only, nothing kept on disk.
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


def _answers(command: list[str]) -> bool:
    found = shutil.which(command[0])
    if found is None:
        return False
    result = subprocess.run([found, *command[1:]], capture_output=True, check=False, timeout=10)
    return result.returncode == 0


def _wait(command: list[str]) -> bool:
    deadline = time.monotonic() + START_PATIENCE_SECONDS
    while not _answers(command):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def _is_local(url: str, port: int) -> bool:
    parts = urlsplit(url)
    return parts.hostname in LOCAL_HOSTS and (parts.port or port) == port


def _started(check: list[str], start: Callable[[], None] | None) -> bool:
    """Whether `check` passes, at once or after `start` (None: not startable here)."""
    if _answers(check):
        return True
    if start is None:
        return False
    start()
    return _wait(check)


def _start_postgresql() -> None:
    for version in sorted(path.name for path in POSTGRESQL_CONFIGS.glob("*") if path.is_dir()):
        start = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]
        subprocess.run(start, capture_output=True, check=False, timeout=60)


def _start_redis() -> None:
    for folder in ("/var/lib/redis", "/var/log/redis"):
        Path(folder).mkdir(parents=True, exist_ok=True)
    subprocess.run(REDIS_START, capture_output=True, check=False, timeout=30)


def postgresql_problem() -> str | None:
    startable = shutil.which("pg_ctlcluster") and _is_local(ADMIN_DATABASE_URL, 5432)
    if _started(["pg_isready", "-d", ADMIN_DATABASE_URL], _start_postgresql if startable else None):
        return None
    return (
        f"PostgreSQL does not answer at {ADMIN_DATABASE_URL}: install and start it "
        "(apt-get install postgresql), or set TEST_DATABASE_URL to a superuser's URL"
    )


def redis_problem() -> str | None:
    startable = shutil.which("redis-server") and _is_local(REDIS_URL, 6379)
    if _started(["redis-cli", "-u", REDIS_URL, "ping"], _start_redis if startable else None):
        return None
    return (
        f"Redis does not answer at {REDIS_URL}: install and start it "
        "(apt-get install redis-server), or set TEST_REDIS_URL"
    )


def tool_problems() -> list[str]:
    problems = []
    if not Path(CHROMIUM).exists():
        problems.append("chromium is missing (the browser tests): apt-get install chromium")
    if shutil.which("wrk") is None:
        problems.append("wrk is missing (the bench's smoke test): apt-get install wrk")
    return problems


def missing_for_deep_tests() -> list[str]:
    """What the deep tests lack after starting what can be started; empty when ready."""
    return [
        problem for problem in (postgresql_problem(), redis_problem()) if problem
    ] + tool_problems()
