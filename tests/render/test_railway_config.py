"""railway.json (deploy_platform=railway): Dockerfile build, health check, pre-deploy commands."""

import json
import shlex

import pytest

from tests.support.variants import Render

# Restart policies Railway documents (docs.railway.com/config-as-code/reference);
# check-jsonschema has no builtin Railway schema and this machine cannot fetch one.
RAILWAY_RESTART_POLICIES = {"ON_FAILURE", "ALWAYS", "NEVER"}


@pytest.mark.parametrize("target", ["railway", "none"])
def test_railway_config(target: str, render: Render) -> None:
    project = render(deploy_platform=target)
    if target == "none":
        assert not (project / "railway.json").exists()
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
