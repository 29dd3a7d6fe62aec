"""The rendered Dockerfile, built as it is, and its image run as deploy/kubernetes runs it:
read-only but for /tmp, as uid 10001, every capability dropped, no privilege gained, on
the host's network and 127.0.0.1 only, against a fresh PostgreSQL database (and Redis in
the Redis variant). The engine is the tests' own (tests/support/container_engine.py).

Prints, per variant: build time, image size, seconds to healthy, seconds to stop.
"""

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.container_engine import Engine, engine, make_base_images
from tests.support.databases import REDIS_URL, psql
from tests.support.service_processes import (
    METRICS_TOKEN,
    check_worker_probe,
    free_port,
    production_settings,
    random_secret_key,
    wait_until_answering,
)
from tests.support.variants import DEEP_VARIANTS, Render, compose_services

pytestmark = pytest.mark.deep

# What the manifests' securityContext says, as `docker run` options.
HARDENED = (
    "--network=host",
    "--read-only",
    "--tmpfs=/tmp",
    "--user=10001:10001",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
)
# The HEALTHCHECK must say healthy within seconds of the service answering.
HEALTHY_AFTER_LIVE = 8
# Logins in flight when `docker stop` comes (each hashes for a quarter of a second).
LOGINS_IN_FLIGHT = 6
PASSWORD = "correct horse battery staple"
# The files of /app in the image.
SHIPPED = (".venv", "alembic.ini", "app", "migrations", "pyproject.toml", "scripts", "uv.lock")


@pytest.fixture(scope="module")
def containers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with engine(tmp_path_factory.mktemp("engine") / "dockerd.log") as running:
        yield running


def built_image(containers: Engine, project: Path, tag: str) -> tuple[float, float, str]:
    """Build the project's Dockerfile as it is; seconds, MB and BuildKit's plain output."""
    make_base_images(containers, project / "Dockerfile")
    started = time.monotonic()
    build = containers.docker(
        "build", "--network=host", "--progress=plain", "--tag", tag, str(project), timeout=900
    )
    seconds = time.monotonic() - started
    size = int(containers.docker("image", "inspect", "--format={{.Size}}", tag).stdout)
    return seconds, size / 1e6, build.stdout


def stop_timeouts(project: Path) -> tuple[int, int, int]:
    """start.sh's drain, and how long the docs' `docker run` and compose let it take."""
    drain = re.search(
        r"--timeout-graceful-shutdown (\d+)", (project / "scripts/start.sh").read_text()
    )
    docs = re.search(
        r"docker run --stop-timeout (\d+)", (project / "docs/deploying.md").read_text()
    )
    grace = str(compose_services(project)["app"]["stop_grace_period"])
    assert drain and docs and grace.endswith("s"), (drain, docs, grace)
    return int(drain[1]), int(docs[1]), int(grace.removesuffix("s"))


def not_json(text: str) -> list[str]:
    """The lines of a log that are not JSON objects (there must be none)."""
    wrong = []
    for line in text.splitlines():
        try:
            if not isinstance(json.loads(line), dict):
                wrong.append(line)
        except json.JSONDecodeError:
            wrong.append(line)
    return wrong


@pytest.mark.parametrize("variant", DEEP_VARIANTS)
def test_the_image_builds_serves_and_stops_as_deployed(
    variant: str, render: Render, containers: Engine, fresh_database: str, tmp_path: Path
) -> None:
    project = render(**DEEP_VARIANTS[variant])
    tag = f"template-test/{variant}:latest"
    build_seconds, megabytes, build_output = built_image(containers, project, tag)
    # useradd and groupadd warn of an id above the system range when asked for a system one.
    assert "warning" not in build_output.lower(), build_output
    # What .dockerignore leaves in: what the service runs, nothing of its development.
    shipped = containers.docker("run", "--rm", *HARDENED, tag, "ls", "-A", "/app").stdout.split()
    assert sorted(shipped) == sorted(SHIPPED), shipped

    # `docker stop` waits 10 s by default, less than start.sh's drain: the docs' `docker run`
    # line and compose must give it longer, and the container here runs as the docs say.
    drain, stop_timeout, compose_grace = stop_timeouts(project)
    assert stop_timeout > drain and compose_grace > drain, (drain, stop_timeout, compose_grace)

    port, worker_port = free_port(), free_port()
    # The logins in flight at the stop are more than the login limits allow one client.
    raised = {f"RATE_LIMIT_{name}": "1000/minute" for name in ("LOGIN", "LOGIN_ACCOUNT")}
    settings = production_settings(fresh_database, random_secret_key(), HOST="127.0.0.1", **raised)
    redis = DEEP_VARIANTS[variant].get("rate_limit_store") == "redis"
    if redis:
        settings["REDIS_URL"] = REDIS_URL
    environment = [f"--env={name}={value}" for name, value in settings.items()]
    api, worker = f"api-{variant}", f"worker-{variant}"
    api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
    started = time.monotonic()
    serving = containers.start(
        api_log,
        f"--name={api}",
        f"--stop-timeout={stop_timeout}",
        *HARDENED,
        *environment,
        f"--env=PORT={port}",
        tag,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(serving, f"{url}/health/live", api_log)
        live_at = time.monotonic()
        live = live_at - started
        while containers.health(api) != "healthy":
            late = time.monotonic() - live_at > HEALTHY_AFTER_LIVE
            assert not late, (
                f"not healthy {HEALTHY_AFTER_LIVE} s after live:\n{api_log.read_text()}"
            )
            time.sleep(0.2)
        to_healthy = time.monotonic() - started
        healthy_after_live = time.monotonic() - live_at

        # Not root, and the migrations ran (scripts/start.sh) before the server answered.
        assert containers.docker("exec", api, "id", "-u").stdout.strip() == "10001"
        assert psql("SELECT version_num FROM alembic_version", fresh_database).strip()
        with httpx.Client(base_url=url, timeout=10) as client:
            ready = {"status": "ok", "database": "ok"} | ({"redis": "ok"} if redis else {})
            assert client.get("/health").json() == ready
            email = f"image-{variant}@example.com"
            created = client.post("/api/v1/users", json={"email": email, "password": PASSWORD})
            assert created.status_code == 201, created.text
            login = client.post(
                "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
            assert client.get("/api/v1/users/me", headers=bearer).json()["email"] == email
            assert client.get("/metrics").status_code == 401
            metrics = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert metrics.status_code == 200

        # The worker: the same image, its other command; its probes answer as deployed.
        working = containers.start(
            worker_log,
            f"--name={worker}",
            f"--stop-timeout={stop_timeout}",
            *HARDENED,
            *environment,
            "--env=WORKER_HOST=127.0.0.1",
            f"--env=WORKER_PORT={worker_port}",
            tag,
            "python",
            "-m",
            "app.worker",
        )
        check_worker_probe(working, f"http://127.0.0.1:{worker_port}", "/health", worker_log)

        # Stop both with logins in flight: each answers, and each container exits 0 in time.
        answered: list[int] = []

        def log_in() -> None:
            form = {"username": email, "password": PASSWORD}
            response = httpx.post(f"{url}/api/v1/auth/token", data=form, timeout=30)
            answered.append(response.status_code)

        callers = [threading.Thread(target=log_in) for _ in range(LOGINS_IN_FLIGHT)]
        for caller in callers:
            caller.start()
        time.sleep(0.3)  # sent, and hashing
        stopping = time.monotonic()
        containers.docker("stop", api, worker, timeout=2 * stop_timeout)
        stop_seconds = time.monotonic() - stopping
        for caller in callers:
            caller.join(timeout=30)
        assert answered == [200] * LOGINS_IN_FLIGHT, (answered, api_log.read_text())
        for process, log in ((serving, api_log), (working, worker_log)):
            assert process.wait(timeout=30) == 0, log.read_text()
            # Every line JSON, the migration's and the stop's included.
            assert not_json(log.read_text()) == [], log.read_text()
        assert stop_seconds < drain, stop_seconds
    finally:
        containers.docker("rm", "--force", api, worker, check=False)
    print(
        f"{variant}: built in {build_seconds:.1f} s, {megabytes:.0f} MB; /health/live after "
        f"{live:.1f} s, healthy after {to_healthy:.1f} s ({healthy_after_live:.1f} s after "
        f"live); both stopped in {stop_seconds:.1f} s with {LOGINS_IN_FLIGHT} logins in flight"
    )
