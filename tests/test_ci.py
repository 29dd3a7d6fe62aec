"""The CI and deployment files: rendered per answer, valid, audited, and their jobs green here."""

import json
import os
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.ci_jobs import CI_FILE_OF, CI_JOB_READERS, local_variables
from tests.support.commands import run
from tests.support.environment import TEMPLATE_ROOT, TOOLS, InstalledProject
from tests.support.service_processes import production_settings, random_secret_key
from tests.support.variants import DEEP_VARIANTS, Render

# The files each provider renders, with the builtin check-jsonschema schema of each.
CI_FILES: dict[str, dict[str, str]] = {
    "github": {
        ".github/workflows/ci.yml": "vendor.github-workflows",
        ".github/dependabot.yml": "vendor.dependabot",
    },
    "gitlab": {".gitlab-ci.yml": "vendor.gitlab-ci"},
    "none": {},
}
# What any provider may add at the top of the project; the others must leave no trace.
CI_ROOTS = (".github", ".gitlab-ci.yml")
STORES = ("memory", "redis")

# The jobs that need the database (and Redis): their commands run here against the real services.
SERVICE_JOBS = ("test", "migrations")
# A variant with Redis, so that the Redis service and its URL are exercised too.
SERVICE_VARIANT = "everything"

# Restart policies Railway documents (docs.railway.com/config-as-code/reference);
# check-jsonschema has no builtin Railway schema and this machine cannot fetch one.
RAILWAY_RESTART_POLICIES = {"ON_FAILURE", "ALWAYS", "NEVER"}


def check_schema(schema: str, *paths: Path) -> None:
    __tracebackhide__ = True
    command = [str(TOOLS / "check-jsonschema"), "--builtin-schema", schema, *map(str, paths)]
    run(command, cwd=TEMPLATE_ROOT)


def audit_workflows(folder: Path) -> None:
    """zizmor without network access; any finding fails, with zizmor's report."""
    __tracebackhide__ = True
    run([str(TOOLS / "zizmor"), "--offline", "--no-progress", str(folder)], cwd=TEMPLATE_ROOT)


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("provider", CI_FILES)
def test_ci_files_follow_provider(provider: str, store: str, render: Render) -> None:
    project = render(ci_provider=provider, rate_limit_store=store)
    assert ci_files(project) == set(CI_FILES[provider])


def ci_files(project: Path) -> set[str]:
    """Every file under the CI roots of a project, relative to it."""
    found = set()
    for root in map(project.joinpath, CI_ROOTS):
        paths = [root] if root.is_file() else root.rglob("*")
        found |= {str(path.relative_to(project)) for path in paths if path.is_file()}
    return found


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("provider", [provider for provider in CI_FILES if CI_FILES[provider]])
def test_ci_files_match_their_schemas(provider: str, store: str, render: Render) -> None:
    project = render(ci_provider=provider, rate_limit_store=store)
    for path, schema in CI_FILES[provider].items():
        check_schema(schema, project / path)


@pytest.mark.parametrize("store", STORES)
def test_rendered_workflows_have_no_audit_findings(store: str, render: Render) -> None:
    audit_workflows(render(ci_provider="github", rate_limit_store=store) / ".github")


def test_template_workflows_are_valid_and_audited() -> None:
    workflows = sorted((TEMPLATE_ROOT / ".github/workflows").glob("*.yml"))
    assert workflows, "the template's own CI is missing"
    check_schema("vendor.github-workflows", *workflows)
    audit_workflows(TEMPLATE_ROOT / ".github")


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
    # Each pre-deploy command runs a module of the project (the deep test below runs it).
    for command in deploy["preDeployCommand"]:
        words = shlex.split(command)
        assert words[:2] == ["python", "-m"], command
        module = project / (words[2].replace(".", "/") + ".py")
        assert module.is_file(), f"{command}: no {module.relative_to(project)}"


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


# --- The jobs that need services, run here ---------------------------------------------------


# The jobs already run green here in this session: (commands, variables with the database
# name left out). Both providers' test jobs are often the very same commands; those run once.
_GREEN_JOBS: set[tuple[tuple[str, ...], frozenset[tuple[str, str]]]] = set()


@pytest.mark.deep
@pytest.mark.parametrize("job_name", SERVICE_JOBS)
@pytest.mark.parametrize("provider", CI_JOB_READERS)
def test_ci_job_runs_green_here(
    provider: str,
    job_name: str,
    render: Render,
    installed_project: Callable[[str], InstalledProject],
    fresh_database: str,
) -> None:
    # The CI file of the installed variant's answers; ci_provider changes no other file, so the
    # installed project (synced once per session) runs the commands.
    ci_file = render(**DEEP_VARIANTS[SERVICE_VARIANT], ci_provider=provider) / CI_FILE_OF[provider]
    job = CI_JOB_READERS[provider](ci_file, job_name)
    assert job.commands, f"{provider} job {job_name} runs nothing"
    project = installed_project(SERVICE_VARIANT)
    variables = local_variables(job, fresh_database)
    work = (
        tuple(job.commands),
        frozenset((name, value.replace(fresh_database, "")) for name, value in variables.items()),
    )
    if work in _GREEN_JOBS:
        return  # the same commands with the same settings passed for the other provider
    for command in job.commands:
        # Both providers run each command in a shell that stops at the first failure.
        run(
            ["bash", "-eo", "pipefail", "-c", command],
            cwd=project.path,
            env=project.env(**variables),
        )
    _GREEN_JOBS.add(work)
