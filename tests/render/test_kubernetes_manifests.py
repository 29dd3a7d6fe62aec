"""The Kubernetes manifests (deploy_platform=kubernetes): valid, complete, free of secrets,
consistent with the image and the app."""

import ast
import ipaddress
import re
import shutil
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
)
from tests.support.variants import Render, answers

# The oldest release the manifests target (every field they use is stable since 1.31) and the
# newest the validator knows; kubernetes-validate ships the schemas of both: this runs offline.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
STORES = ("memory", "redis")
# In the base's folder for users to read, never applied with it.
SECRET_EXAMPLE = "secret.example.yaml"
SERVICE_MONITOR_EXAMPLE = "servicemonitor.example.yaml"
EXAMPLES = {SECRET_EXAMPLE, SERVICE_MONITOR_EXAMPLE}
# The variables that carry secrets: from the Secret by key, never written in a manifest.
SECRET_VARIABLES = {"SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN"}
# The schema owner's URL: an optional key, read by the migrating init container only.
MIGRATION_VARIABLE = "MIGRATION_DATABASE_URL"
# The SMTP provider's login: optional keys, read by the containers that send e-mail.
MAIL_VARIABLES = {"SMTP_USER", "SMTP_PASSWORD"}
MAILING_CONTAINERS = {"api"}
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


def kustomize(project: Path, folder: Path, output: Path) -> dict[str, dict[str, Any]]:
    """What `kubectl apply -k folder` would send, by kind (one object of each here)."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "this test needs kubectl's client (kustomize v5) on PATH"
    run([kubectl, "kustomize", str(project / folder), "-o", str(output)], cwd=project)
    return {document["kind"]: document for document in yaml.safe_load_all(output.read_text())}


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
        if path.name != SERVICE_MONITOR_EXAMPLE  # a CRD's kind, unknown to the validator
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
    built = []
    for folder in (BASE, OVERLAY):
        output = tmp_path / f"{folder.name}.yaml"
        objects = kustomize(project, folder, output)
        # One ConfigMap: the network peers' values are local to the kustomization.
        expected = {"ConfigMap", "Service", "Deployment", "CronJob", "NetworkPolicy"}
        expected |= {"HorizontalPodAutoscaler", "PodDisruptionBudget"}
        assert set(objects) == expected | ({"Ingress"} if folder == OVERLAY else set())
        config_map = objects["ConfigMap"]["metadata"]["name"]
        assert config_map != kustomization["configMapGenerator"][0]["name"], "no content hash"
        pods = [
            objects["Deployment"]["spec"]["template"]["spec"],
            objects["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        ]
        for container in (container for pod in pods for container in containers(pod)):
            assert container["image"] == f"{image['newName']}:{image['newTag']}"
            assert [source["configMapRef"]["name"] for source in container["envFrom"]] == [
                config_map
            ]
        for document in objects.values():
            assert document["metadata"]["labels"]["app.kubernetes.io/part-of"] == slug(project)
        selector = objects["Deployment"]["spec"]["selector"]["matchLabels"]
        assert "app.kubernetes.io/part-of" not in selector, "labels that may change in a selector"
        built.append(output)
    for version in KUBERNETES_VERSIONS:
        validate(*built, version=version)


@pytest.mark.parametrize("platform", ["railway", "kubernetes", "none"])
def test_only_kubernetes_renders_the_manifests(platform: str, render: Render) -> None:
    project = render(deploy_platform=platform)
    assert (project / "deploy").exists() == (platform == "kubernetes")
    assert (project / "railway.json").exists() == (platform == "railway")
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
    """The values the user edits in kustomization.yaml: who may connect to the pods."""
    (generator,) = [entry for entry in kustomization["configMapGenerator"] if "literals" in entry]
    return dict(literal.split("=", 1) for literal in generator["literals"])


@pytest.mark.parametrize("store", STORES)
def test_only_the_ingress_controller_and_prometheus_reach_the_pods(
    store: str, render: Render, tmp_path: Path
) -> None:
    project = render_kubernetes(render, store)
    # The values live in kustomization.yaml only: changed there, the built policy follows.
    edited = tmp_path / "project"
    shutil.copytree(project / "deploy", edited / "deploy")
    kustomization_path = edited / BASE / "kustomization.yaml"
    kustomization = load(kustomization_path)
    peers = {name: f"{value}-edited" for name, value in network_peers(kustomization).items()}
    (generator,) = [entry for entry in kustomization["configMapGenerator"] if "literals" in entry]
    generator["literals"] = [f"{name}={value}" for name, value in peers.items()]
    kustomization_path.write_text(yaml.safe_dump(kustomization, sort_keys=False))
    selector = load(project / BASE / "deployment.yaml")["spec"]["selector"]["matchLabels"]
    for folder in (BASE, OVERLAY):
        objects = kustomize(edited, folder, tmp_path / f"{folder.name}.yaml")
        config_maps = [objects["ConfigMap"]["metadata"]["name"]]
        assert config_maps != [generator["name"]], "the peers' ConfigMap would be applied"
        policy = objects["NetworkPolicy"]["spec"]
        assert policy["podSelector"] == {"matchLabels": selector}
        assert policy["policyTypes"] == ["Ingress"]
        namespace = "kubernetes.io/metadata.name"
        assert [rule["from"] for rule in policy["ingress"]] == [
            [{"namespaceSelector": {"matchLabels": {namespace: peers["INGRESS_NAMESPACE"]}}}],
            [
                {
                    "namespaceSelector": {
                        "matchLabels": {namespace: peers["PROMETHEUS_NAMESPACE"]}
                    },
                    "podSelector": {
                        "matchLabels": {"app.kubernetes.io/name": peers["PROMETHEUS_POD_NAME"]}
                    },
                }
            ],
        ]
        ports = [{"port": port["name"]} for port in api_container(project)["ports"]]
        assert [rule["ports"] for rule in policy["ingress"]] == [ports, ports]
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
