"""Reading a rendered project's Kubernetes manifests, and the Dockerfile whose image they run."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

# The kustomize base and its overlay, in a project rendered with deploy_platform=kubernetes.
BASE = Path("deploy/kubernetes")
OVERLAY = Path("deploy/kubernetes-ingress")


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def settings_file(project: Path) -> dict[str, str]:
    """The plain settings the kustomization turns into a ConfigMap: KEY=VALUE lines."""
    settings = {}
    for line in (project / BASE / "settings.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            settings[name] = value
    return settings


def pod_specs(project: Path) -> dict[str, dict[str, Any]]:
    """The pod templates of the base, by the file that holds them."""
    deployment = load(project / BASE / "deployment.yaml")
    worker = load(project / BASE / "worker.yaml")
    cron_job = load(project / BASE / "purge-tokens.yaml")
    return {
        "deployment.yaml": deployment["spec"]["template"]["spec"],
        "worker.yaml": worker["spec"]["template"]["spec"],
        "purge-tokens.yaml": cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"],
    }


def containers(pod: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from pod.get("initContainers", [])
    yield from pod["containers"]


def api_container(project: Path) -> dict[str, Any]:
    (container,) = pod_specs(project)["deployment.yaml"]["containers"]
    return container


def worker_container(project: Path) -> dict[str, Any]:
    (container,) = pod_specs(project)["worker.yaml"]["containers"]
    return container


def pod_annotations(project: Path, file: str = "deployment.yaml") -> dict[str, str]:
    template = load(project / BASE / file)["spec"]["template"]
    annotations: dict[str, str] = template["metadata"]["annotations"]
    return annotations


def dockerfile_value(project: Path, pattern: str) -> str:
    match = re.search(pattern, (project / "Dockerfile").read_text(), re.MULTILINE)
    assert match, f"the Dockerfile has no line matching {pattern!r}"
    return match.group(1)


def image_command(project: Path) -> list[str]:
    """The Dockerfile's CMD in exec form: what a container without `command` runs."""
    command: list[str] = json.loads(dockerfile_value(project, r"^CMD (\[.*\])$"))
    return command
