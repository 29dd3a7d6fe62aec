"""What the image does, here: the locked runtime install imports the app, and two start
scripts at once against one database both serve while the migrations run once."""

import ast
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.commands import run
from tests.support.databases import database_url
from tests.support.environment import InstalledProject
from tests.support.service_processes import (
    Service,
    random_secret_key,
    start_production,
    stop,
    wait_for_text,
    wait_until_live,
)


@pytest.mark.deep
@pytest.mark.parametrize("variant", ["default", "everything"])
def test_locked_runtime_install_serves_the_app(
    variant: str,
    installed_project: Callable[[str], InstalledProject],
    tmp_path: Path,
) -> None:
    # What the image's builder does: only the locked runtime dependencies, in a new venv.
    project = installed_project(variant)
    runtime = tmp_path / "runtime-venv"
    project.run("uv", "sync", "--locked", "--no-dev", UV_PROJECT_ENVIRONMENT=str(runtime))
    imports = "import app.main, app.db.migrate; app.main.create_app"
    run([str(runtime / "bin/python"), "-c", imports], cwd=project.path, env=project.env())


def constant(module: Path, name: str) -> Any:
    """The literal value a module assigns to `name`, read without importing it."""
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{module} assigns no {name}")


def healthcheck_command(project: Path) -> list[str]:
    """The exec-form command of the Dockerfile's HEALTHCHECK."""
    match = re.search(r"^\s*CMD (\[.*\])$", (project / "Dockerfile").read_text(), re.MULTILINE)
    assert match, "no exec-form HEALTHCHECK CMD"
    command: list[str] = json.loads(match.group(1))
    return command


@pytest.fixture
def migration_lock(
    fresh_database: str, installed_project: Callable[[str], InstalledProject]
) -> Iterator[subprocess.Popen[str]]:
    """A psql session holding the start script's advisory lock until its stdin is closed."""
    key = constant(installed_project("default").path / "app/db/migrate.py", "MIGRATION_LOCK_KEY")
    # The with-block closes the pipes; kill() ends psql if the test left the lock held.
    with subprocess.Popen(
        ["psql", database_url(fresh_database), "-qAt", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdin and holder.stdout
            holder.stdin.write(f"SELECT pg_advisory_lock({key});\n\\echo locked\n")
            holder.stdin.flush()
            while holder.stdout.readline().strip() != "locked":
                assert holder.poll() is None, "psql could not take the lock"
            yield holder
        finally:
            holder.kill()


@pytest.mark.deep
def test_replicas_starting_together_migrate_once(
    installed_project: Callable[[str], InstalledProject],
    fresh_database: str,
    migration_lock: subprocess.Popen[str],
    tmp_path: Path,
) -> None:
    project = installed_project("default")
    secret = random_secret_key()
    replicas: list[Service] = []
    try:
        for number in (1, 2):
            log = tmp_path / f"replica-{number}.log"
            replicas.append(start_production(project, log, fresh_database, secret))
        # Both wait behind the lock (held here, as by a replica already migrating) ...
        for replica in replicas:
            wait_for_text(replica, "Another instance is migrating")
        assert migration_lock.stdin
        migration_lock.stdin.close()  # psql ends its session: the lock is free
        # ... then both serve, and the revisions were applied exactly once between them.
        for replica in replicas:
            wait_until_live(replica)
            assert httpx.get(f"{replica.url}/health", timeout=10).status_code == 200
            port = replica.url.rsplit(":", 1)[1]
            run(healthcheck_command(project.path), cwd=project.path, env=project.env(PORT=port))
        upgrades = sum(replica.log.read_text().count("Running upgrade") for replica in replicas)
        revisions = list((project.path / "migrations/versions").glob("rev_*.py"))
        assert upgrades == len(revisions), "\n".join(r.log.read_text() for r in replicas)
    finally:
        for replica in replicas:
            stop(replica.process)
