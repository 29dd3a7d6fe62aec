"""railway.json and railway.worker.json (deploy_platform=railway), one file per Railway
service: the service's Dockerfile build, health check and pre-deploy commands; the worker's
build from the same Dockerfile, with its own start command."""

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.support.variants import Render, compose_services

# Restart policies Railway documents (docs.railway.com/config-as-code/reference);
# check-jsonschema has no builtin Railway schema and this machine cannot fetch one.
RAILWAY_RESTART_POLICIES = {"ON_FAILURE", "ALWAYS", "NEVER"}


@pytest.mark.parametrize("target", ["railway", "none"])
def test_railway_config(target: str, render: Render) -> None:
    project = render(deploy_platform=target)
    if target == "none":
        assert not (project / "railway.json").exists()
        assert not (project / "railway.worker.json").exists()
        return
    config = json.loads((project / "railway.json").read_text())
    build, deploy = config["build"], config["deploy"]
    assert build["builder"] == "DOCKERFILE"
    assert (project / build["dockerfilePath"]).is_file(), "railway.json names a missing Dockerfile"
    assert deploy["healthcheckPath"] == "/health"
    assert deploy["restartPolicyType"] in RAILWAY_RESTART_POLICIES
    assert isinstance(deploy["healthcheckTimeout"], int)
    assert isinstance(deploy["restartPolicyMaxRetries"], int)
    # Each pre-deploy command runs a module of the project (test_railway_pre_deploy runs them).
    for command in deploy["preDeployCommand"]:
        words = shlex.split(command)
        assert words[:2] == ["python", "-m"], command
        module = project / (words[2].replace(".", "/") + ".py")
        assert module.is_file(), f"{command}: no {module.relative_to(project)}"
    # The migrations run before the deploy, as MIGRATION_DATABASE_URL's role when it is set
    # (the schema's owner; app/db/migrate.py), and the server starts as DATABASE_URL's.
    assert "python -m app.db.migrate" in deploy["preDeployCommand"]
    assert "migration_database_url" in (project / "app/db/migrate.py").read_text()


def project_module(project: Path, command: str) -> Path:
    """The module a `python -m` command runs: a module file, or a package's __main__.py."""
    words = shlex.split(command)
    assert words[:2] == ["python", "-m"], command
    module = project / words[2].replace(".", "/")
    return module / "__main__.py" if module.is_dir() else module.with_suffix(".py")


def test_railway_worker_config(render: Render) -> None:
    project = render(deploy_platform="railway")
    service = json.loads((project / "railway.json").read_text())
    config = json.loads((project / "railway.worker.json").read_text())
    assert config["$schema"] == service["$schema"]
    # The same image as the service, built from the same Dockerfile.
    assert config["build"] == service["build"]
    deploy = config["deploy"]
    # Railway runs a Dockerfile service's start command in exec form, without a shell:
    # words, no variables (test_railway_pre_deploy runs it so).
    command = deploy["startCommand"]
    assert shlex.split(command) == compose_services(project)["worker"]["command"]
    assert not re.search(r"[$`|;&<>]", command), command
    assert project_module(project, command).is_file(), command
    # The service migrates before its deploys; the worker serves no HTTP on Railway's
    # PORT, where Railway's health check would ask (docs/deploying.md says why).
    assert "preDeployCommand" not in deploy
    assert "healthcheckPath" not in deploy and "healthcheckTimeout" not in deploy
    assert deploy["restartPolicyType"] == "ON_FAILURE"
    assert isinstance(deploy["restartPolicyMaxRetries"], int)
    # SIGTERM lets the jobs in hand finish: Railway waits this long before SIGKILL, at
    # least as long as compose does. A number: Railway refuses a string here.
    grace = compose_services(project)["worker"]["stop_grace_period"]
    assert isinstance(deploy["drainingSeconds"], int)
    assert deploy["drainingSeconds"] >= int(grace.removesuffix("s"))
    # The deployment steps tell Railway where this file is.
    assert "`/railway.worker.json`" in (project / "docs/deploying.md").read_text()
