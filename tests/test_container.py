"""The container and its start: Dockerfile, build context, compose file, lock file, migrations."""

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
from tests.support.environment import TOOLS, InstalledProject, project_env
from tests.support.service_processes import (
    Service,
    random_secret_key,
    start_production,
    stop,
    wait_for_text,
    wait_until_live,
)
from tests.support.variants import Render, compose_services

PYTHON_VERSIONS = ["3.14", "3.13", "3.12", "3.11"]
STORES = ["memory", "redis"]


@pytest.mark.parametrize("python_version", PYTHON_VERSIONS)
def test_dockerfile_is_lint_clean(python_version: str, render: Render) -> None:
    project = render(python_version=python_version)
    dockerfile = (project / "Dockerfile").read_text()
    assert f"FROM python:{python_version}-slim AS runtime" in dockerfile
    run([str(TOOLS / "hadolint"), "Dockerfile"], cwd=project, timeout=60)


def test_build_context_leaves_out_secrets_and_local_state(render: Render) -> None:
    patterns = [
        line.strip()
        for line in (render() / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {".env", ".venv", ".git"} <= set(patterns)
    # A later "!" pattern would bring a secret back into the context.
    assert not [pattern for pattern in patterns if pattern.startswith("!.env")]


@pytest.mark.parametrize("store", STORES)
def test_compose_file_is_valid_and_waits_for_healthy_services(store: str, render: Render) -> None:
    project = render(rate_limit_store=store)
    services = compose_services(project)
    dependencies = {"db", "redis"} if store == "redis" else {"db"}
    assert set(services) == {"app"} | dependencies
    app = services["app"]
    assert app["build"] == "." and app["env_file"] == ".env"
    assert app["depends_on"] == {name: {"condition": "service_healthy"} for name in dependencies}
    assert all("healthcheck" in services[name] for name in dependencies)
    assert services["db"]["image"] == "postgres:17"
    assert "@db:5432/" in app["environment"]["DATABASE_URL"]
    assert ("REDIS_URL" in app["environment"]) == (store == "redis")


@pytest.mark.parametrize("store", STORES)
def test_fresh_render_has_a_current_lock(store: str, render: Render, uv_cache_dir: Path) -> None:
    project = render(rate_limit_store=store)
    assert (project / "uv.lock").is_file(), "the copier task did not run `uv lock`"
    # Fails when pyproject.toml and uv.lock disagree, as `uv sync --locked` would.
    run(["uv", "lock", "--check"], cwd=project, env=project_env(uv_cache_dir), timeout=120)


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
