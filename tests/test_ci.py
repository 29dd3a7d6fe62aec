"""The CI and deployment files: rendered per answer, valid, audited, and their jobs green here."""

import json
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.helpers import (
    DEEP_VARIANTS,
    REDIS_URL,
    TEMPLATE_ROOT,
    InstalledProject,
    Render,
    database_url,
    production_settings,
    random_secret_key,
    run,
)

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
# Variables this machine provides otherwise: its only Python is the installed project's, and
# one shared uv cache serves every project of the run, hard-linked (GitLab's cache folder
# needs copies; how files reach .venv changes nothing the job checks).
PROVIDED_HERE = ("UV_PYTHON", "UV_CACHE_DIR", "UV_LINK_MODE")
# The port each service image listens on, for GitLab services reached by their alias.
IMAGE_PORTS = {"postgres": 5432, "redis": 6379}

# Restart policies Railway documents (docs.railway.com/config-as-code/reference);
# check-jsonschema has no builtin Railway schema and this machine cannot fetch one.
RAILWAY_RESTART_POLICIES = {"ON_FAILURE", "ALWAYS", "NEVER"}


def tool(name: str) -> str:
    """A command-line tool installed in this repository's environment."""
    return str(Path(sys.executable).parent / name)


def check_schema(schema: str, *paths: Path) -> None:
    __tracebackhide__ = True
    run([tool("check-jsonschema"), "--builtin-schema", schema, *map(str, paths)], cwd=TEMPLATE_ROOT)


def audit_workflows(folder: Path) -> None:
    """zizmor without network access; any finding fails, with zizmor's report."""
    __tracebackhide__ = True
    run([tool("zizmor"), "--offline", "--no-progress", str(folder)], cwd=TEMPLATE_ROOT)


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


@dataclass(frozen=True)
class CiJob:
    """What a CI job runs, with which variables, against which service addresses."""

    commands: list[str]
    variables: dict[str, str]
    services: set[tuple[str, int]]


def github_job(path: Path, name: str) -> CiJob:
    """The `run` steps of a GitHub Actions job; `uses` steps only provision the runner."""
    workflow = yaml.safe_load(path.read_text())
    job = workflow["jobs"][name]
    # Service containers publish their ports on the runner, where steps reach them.
    services = {
        (host, int(str(mapping).split(":")[0]))
        for service in job.get("services", {}).values()
        for mapping in service.get("ports", [])
        for host in ("127.0.0.1", "localhost")
    }
    return CiJob(
        commands=[step["run"] for step in job["steps"] if "run" in step],
        variables={**workflow.get("env", {}), **job.get("env", {})},
        services=services,
    )


def gitlab_job(path: Path, name: str) -> CiJob:
    """The `script` of a GitLab job, `extends` resolved; `before_script` only provisions."""
    config = yaml.safe_load(path.read_text())
    job = resolve_extends(config, name)
    services = set()
    for service in job.get("services", []):
        image = service if isinstance(service, str) else service["name"]
        repository = image.rsplit(":", 1)[0]
        alias = service.get("alias", repository) if isinstance(service, dict) else repository
        services.add((alias, IMAGE_PORTS[repository]))
    return CiJob(
        commands=list(job["script"]),
        variables={**config.get("variables", {}), **job.get("variables", {})},
        services=services,
    )


def resolve_extends(config: dict[str, Any], name: str) -> dict[str, Any]:
    """A job with its `extends` merged as GitLab does: mappings deeply, the rest replaced."""
    job = dict(config[name])
    parents = job.pop("extends", [])
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged = deep_merge(merged, resolve_extends(config, parent))
    return deep_merge(merged, job)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


CI_JOB_READERS: dict[str, Callable[[Path, str], CiJob]] = {
    "github": github_job,
    "gitlab": gitlab_job,
}
CI_FILE_OF = {"github": ".github/workflows/ci.yml", "gitlab": ".gitlab-ci.yml"}


def local_variables(job: CiJob, database: str) -> dict[str, str]:
    """The job's variables with its service URLs pointed at this machine's services."""
    variables = {}
    for name, value in job.variables.items():
        if name in PROVIDED_HERE:
            continue
        value = str(value)
        url = urlsplit(value)
        if url.scheme.startswith("postgresql") or url.scheme == "redis":
            # A URL the job cannot reach would fail there even if it passes here.
            assert (url.hostname, url.port) in job.services, f"{name}={value}: no such service"
            value = (
                REDIS_URL if url.scheme == "redis" else database_url(database, scheme=url.scheme)
            )
        variables[name] = value
    return variables


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
