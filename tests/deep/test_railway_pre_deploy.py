"""Railway's commands, read from railway.json and railway.worker.json, run here as Railway
runs them: the service's pre-deploy commands migrate a fresh database, and the worker's
start command starts, answers its probe and stops on SIGTERM."""

import json
import os
import shlex
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.commands import run
from tests.support.environment import InstalledProject
from tests.support.service_processes import (
    check_worker_probe,
    free_port,
    production_settings,
    random_secret_key,
    start,
    stop,
    stop_as_a_platform_does,
)


def pre_deploy(project: InstalledProject, settings: dict[str, str]) -> None:
    """railway.json's pre-deploy commands, with `settings` as the service's variables."""
    deploy = json.loads((project.path / "railway.json").read_text())["deploy"]
    # The image puts the project's virtual environment first on PATH; so does this run.
    path = f"{project.path / '.venv/bin'}{os.pathsep}{project.env()['PATH']}"
    for command in deploy["preDeployCommand"]:
        run(["sh", "-ec", command], cwd=project.path, env=project.env(**settings, PATH=path))


@pytest.mark.deep
def test_railway_pre_deploy_migrates_here(
    installed_project: Callable[[str], InstalledProject], fresh_database: str
) -> None:
    project = installed_project("default")  # deploy_platform=railway is the default
    settings = production_settings(fresh_database, random_secret_key())
    pre_deploy(project, settings)
    # Migrated to the head: the models and the database agree.
    project.run("uv", "run", "alembic", "check", **settings)


@pytest.mark.deep
def test_railway_worker_starts_answers_and_stops_on_sigterm(
    installed_project: Callable[[str], InstalledProject], fresh_database: str, tmp_path: Path
) -> None:
    project = installed_project("default")
    deploy = json.loads((project.path / "railway.worker.json").read_text())["deploy"]
    # The variables of docs/deploying.md's step 3, which the worker's service references
    # (the memory store's SINGLE_REPLICA among them), and those Railway adds to each
    # replica: its id, and a PORT the worker leaves alone.
    variables = production_settings(fresh_database, random_secret_key(), SINGLE_REPLICA="true")
    railway = {"RAILWAY_REPLICA_ID": str(uuid.uuid4()), "PORT": str(free_port())}
    pre_deploy(project, variables)  # the service's deploy migrates first
    # Only the address differs from Railway's: loopback and a free port rather than every
    # address and WORKER_PORT's default, which something here may hold.
    port = free_port()
    address = {"WORKER_HOST": "127.0.0.1", "WORKER_PORT": str(port)}
    log = tmp_path / "worker.log"
    # A Dockerfile service's start command runs in exec form: its words, no shell.
    process = start(
        project, log, shlex.split(deploy["startCommand"]), **variables, **railway, **address
    )
    try:
        check_worker_probe(process, f"http://127.0.0.1:{port}", "/health", log)
        # A new deploy's SIGTERM: with no job in hand it stops at once, cleanly, well
        # within the draining time Railway gives it before SIGKILL.
        assert deploy["drainingSeconds"] > 15
        stop_as_a_platform_does(process, log, timeout=15)
        assert "worker stopped" in log.read_text()
    finally:
        stop(process)
