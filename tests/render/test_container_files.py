"""The container's files: Dockerfile, build context, compose file, lock file."""

import re
from pathlib import Path

import pytest

from tests.support.commands import run
from tests.support.environment import TOOLS, project_env
from tests.support.questions import QUESTIONS
from tests.support.variants import Render, compose_services

PYTHON_VERSIONS = QUESTIONS["python_version"].values
STORES = QUESTIONS["rate_limit_store"].values


@pytest.mark.parametrize("python_version", PYTHON_VERSIONS)
def test_dockerfile_is_lint_clean(python_version: str, render: Render) -> None:
    project = render(python_version=python_version)
    dockerfile = (project / "Dockerfile").read_text()
    assert f"FROM python:{python_version}-slim AS runtime" in dockerfile
    run([str(TOOLS / "hadolint"), "Dockerfile"], cwd=project, timeout=60)


def test_dockerfile_installs_uv_only_by_hash(render: Render) -> None:
    dockerfile = (render() / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert installs, "the Dockerfile no longer installs uv with pip: review this test"
    # pip installs only the files of the listed digests, so a replaced wheel fails the build.
    assert all("--require-hashes" in line for line in installs), installs
    requirement = re.search(r"uv==[0-9.]+((?: --hash=sha256:\w+)+)", dockerfile)
    assert requirement, "the uv requirement carries no hashes"
    digests = re.findall(r"--hash=sha256:(\w+)", requirement.group(1))
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in digests), digests
    # One wheel per platform an image is commonly built for, at least x86_64 and aarch64.
    assert len(set(digests)) >= 2


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
    assert set(services) == {"app", "worker", "mailpit"} | dependencies
    app = services["app"]
    assert app["build"] == "." and app["env_file"] == ".env"
    assert app["depends_on"] == {name: {"condition": "service_healthy"} for name in dependencies}
    # The worker: the same image and settings, once the app (its migrations) is healthy.
    worker = services["worker"]
    assert worker["image"] == app["image"]
    assert worker["command"] == ["python", "-m", "app.worker"]
    assert worker["depends_on"] == {"app": {"condition": "service_healthy"}}
    assert worker["environment"]["DATABASE_URL"] == app["environment"]["DATABASE_URL"]
    assert "8001/health" in " ".join(worker["healthcheck"]["test"])
    # The mail catcher only on request, and what the worker sends to when asked.
    assert services["mailpit"]["profiles"] == ["mail"]
    assert worker["environment"]["SMTP_HOST"] == "mailpit"
    assert worker["environment"]["EMAIL_BACKEND"] == "${EMAIL_BACKEND:-console}"
    assert all("healthcheck" in services[name] for name in dependencies)
    assert services["db"]["image"] == "postgres:17"
    assert "@db:5432/" in app["environment"]["DATABASE_URL"]
    assert ("REDIS_URL" in app["environment"]) == (store == "redis")


@pytest.mark.parametrize("tracing", QUESTIONS["tracing"].values)
def test_compose_publishes_ports_on_loopback_only(tracing: str, render: Render) -> None:
    # The compose file runs a development configuration: a port published on every interface
    # would put its open docs and its example secrets on the machine's network.
    services = compose_services(render(tracing=tracing))
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published, "compose publishes no port: the docs' address no longer works"
    assert [port for port in published if not str(port).startswith("127.0.0.1:")] == []


@pytest.mark.parametrize("store", STORES)
def test_fresh_render_has_a_current_lock(store: str, render: Render, uv_cache_dir: Path) -> None:
    project = render(rate_limit_store=store)
    assert (project / "uv.lock").is_file(), "the copier task did not run `uv lock`"
    # Fails when pyproject.toml and uv.lock disagree, as `uv sync --locked` would.
    run(["uv", "lock", "--check"], cwd=project, env=project_env(uv_cache_dir), timeout=120)
