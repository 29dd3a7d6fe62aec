"""What a rendered CI file's job runs, read from GitHub Actions or GitLab CI, and pointed here."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.support.databases import REDIS_URL, database_url

# Variables this machine provides otherwise: its only Python is the installed project's, and
# one shared uv cache serves every project of the run, hard-linked (GitLab's cache folder
# needs copies; how files reach .venv changes nothing the job checks).
PROVIDED_HERE = ("UV_PYTHON", "UV_CACHE_DIR", "UV_LINK_MODE")
# The port each service image listens on, for GitLab services reached by their alias.
IMAGE_PORTS = {"postgres": 5432, "redis": 6379}


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
