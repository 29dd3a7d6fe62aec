"""The Deployments' own commands, read from their manifests, run here: the service's as three
pods starting at once against one fresh database (one init container migrates, all three
serve), and the worker's as its pod would, probed and stopped as the kubelet does."""

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import REDIS_URL
from tests.support.environment import InstalledProject
from tests.support.manifests import image_command, pod_annotations, pod_specs, settings_file
from tests.support.service_processes import (
    METRICS_TOKEN,
    STARTUP_TIMEOUT,
    Service,
    check_worker_probe,
    free_port,
    production_settings,
    random_secret_key,
    start,
    stop,
    stop_as_a_platform_does,
    wait_until_live,
)


def container_env(
    container: dict[str, Any], settings: dict[str, str], secret: dict[str, str]
) -> dict[str, str]:
    """The variables a container gets: the ConfigMap's, then its own entries, secrets by key."""
    env = dict(settings) if container.get("envFrom") else {}
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        else:
            reference = entry["valueFrom"]["secretKeyRef"]
            # An optional key the Secret lacks leaves the variable unset, as the kubelet does.
            if reference["key"] in secret or not reference.get("optional"):
                env[entry["name"]] = secret[reference["key"]]
    return env


def wait_for_exit(process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    try:
        status = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {timeout} s:\n{log.read_text()}")
    assert status == 0, f"exited {status}:\n{log.read_text()}"


@pytest.mark.deep
def test_three_pods_starting_together_migrate_once_and_serve(
    installed_project: Callable[[str], InstalledProject], fresh_database: str, tmp_path: Path
) -> None:
    project = installed_project("everything")  # deploy_platform=kubernetes, the Redis store
    pod = pod_specs(project.path)["deployment.yaml"]
    (migrate,) = pod["initContainers"]
    (api,) = pod["containers"]
    # Without `command`, a container runs the image's CMD.
    commands = {
        "migrate": migrate["command"],
        "api": api.get("command") or image_command(project.path),
    }
    secret = production_settings(fresh_database, random_secret_key(), REDIS_URL=REDIS_URL)
    settings = settings_file(project.path)
    envs = {
        container["name"]: container_env(container, settings, secret)
        for container in (migrate, api)
    }
    readiness = api["readinessProbe"]["httpGet"]["path"]
    metrics = pod_annotations(project.path)["prometheus.io/path"]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        # Each pod runs its init container to completion, then its server; all three at once.
        migrations = []
        for number in (1, 2, 3):
            log = tmp_path / f"pod-{number}-migrate.log"
            process = start(project, log, commands["migrate"], **envs["migrate"])
            processes.append(process)
            migrations.append((process, log))
        for process, log in migrations:
            wait_for_exit(process, log, timeout=2 * STARTUP_TIMEOUT)
        pods = []
        for number in (1, 2, 3):
            port = free_port()
            log = tmp_path / f"pod-{number}-api.log"
            env = {**envs["api"], "HOST": "127.0.0.1", "PORT": str(port)}
            process = start(project, log, commands["api"], **env)
            processes.append(process)
            pods.append(Service(f"http://127.0.0.1:{port}", process, log))
        for service in pods:
            wait_until_live(service)
            with service.client() as client:
                for path in {readiness, "/health"}:
                    response = client.get(path)
                    assert response.status_code == 200, response.text
                    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}
                assert client.get(metrics).status_code == 401  # no token, no metrics
                bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
                assert client.get(metrics, headers=bearer).status_code == 200
        # Exactly one init container applied every revision; the servers found nothing to do.
        revisions = len(list((project.path / "migrations/versions").glob("rev_*.py")))
        upgrades = [log.read_text().count("Running upgrade") for _, log in migrations]
        assert sorted(upgrades) == [0, 0, revisions], "\n".join(
            log.read_text() for _, log in migrations
        )
        assert [service.log.read_text().count("Running upgrade") for service in pods] == [0, 0, 0]
    finally:
        for process in processes:
            stop(process)


@pytest.mark.deep
def test_the_worker_pod_answers_its_probes_and_stops_on_sigterm(
    installed_project: Callable[[str], InstalledProject], fresh_database: str, tmp_path: Path
) -> None:
    project = installed_project("everything")  # deploy_platform=kubernetes, the Redis store
    pods = pod_specs(project.path)
    (migrate,) = pods["deployment.yaml"]["initContainers"]
    (worker,) = pods["worker.yaml"]["containers"]
    secret = production_settings(fresh_database, random_secret_key(), REDIS_URL=REDIS_URL)
    settings = settings_file(project.path)
    env = container_env(worker, settings, secret)
    assert "WORKER_PORT" not in env, "the pod listens on the default port"
    health_paths = {
        worker[probe]["httpGet"]["path"] for probe in ("livenessProbe", "readinessProbe")
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        # The service's pods migrate; the worker starts on the schema they leave.
        log = tmp_path / "migrate.log"
        migrate_env = container_env(migrate, settings, secret)
        processes.append(start(project, log, migrate["command"], **migrate_env))
        wait_for_exit(processes[-1], log, timeout=2 * STARTUP_TIMEOUT)
        # Its own command and variables; only the address differs: loopback and a free port
        # rather than every address and the container's port, which something here may hold.
        port = free_port()
        log = tmp_path / "worker.log"
        address = {"WORKER_HOST": "127.0.0.1", "WORKER_PORT": str(port)}
        process = start(project, log, worker["command"], **env, **address)
        processes.append(process)
        for path in health_paths:
            check_worker_probe(process, f"http://127.0.0.1:{port}", path, log)
        # The kubelet's SIGTERM: with no job in hand it stops at once, cleanly, well within
        # the pod's grace period.
        assert pods["worker.yaml"]["terminationGracePeriodSeconds"] > 15
        stop_as_a_platform_does(process, log, timeout=15)
        assert "worker stopped" in log.read_text()
    finally:
        for process in processes:
            stop(process)
