"""Railway's pre-deploy commands, read from railway.json, migrate a fresh database here."""

import json
import os
from collections.abc import Callable

import pytest

from tests.support.commands import run
from tests.support.environment import InstalledProject
from tests.support.service_processes import production_settings, random_secret_key


@pytest.mark.deep
def test_railway_pre_deploy_migrates_here(
    installed_project: Callable[[str], InstalledProject], fresh_database: str
) -> None:
    project = installed_project("default")  # deploy_platform=railway is the default
    deploy = json.loads((project.path / "railway.json").read_text())["deploy"]
    settings = production_settings(fresh_database, random_secret_key())
    # The image puts the project's virtual environment first on PATH; so does this run.
    path = f"{project.path / '.venv/bin'}{os.pathsep}{project.env()['PATH']}"
    for command in deploy["preDeployCommand"]:
        run(["sh", "-ec", command], cwd=project.path, env=project.env(**settings, PATH=path))
    # Migrated to the head: the models and the database agree.
    project.run("uv", "run", "alembic", "check", **settings)
