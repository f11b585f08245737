"""deploy/k8s: valid Kubernetes 1.30 resources (kubernetes-validate's shipped schemas, nothing fetched),
and what a schema cannot see: references that resolve, probes on real paths, settings that exist."""

import copy
from typing import Any

import kubernetes_validate
import pytest
import yaml
from aiohttp import web

from services.gateway import health
from shared.core_settings import flat_setting_names
from shared.settings import Settings
from tests.unit.deploy_files import K8S_DIR, SERVED, k8s_documents, parse_billing_command

KUBERNETES_VERSION = "1.30"
CONSUMERS = ("ingest", "worker", "catalog-sync", "telemetry")
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (what the pods must listen on)


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in k8s_documents() if doc["kind"] == kind}


def _pod_specs() -> dict[str, dict[str, Any]]:
    workloads = _of_kind("Deployment") | _of_kind("Job")
    return {name: doc["spec"]["template"]["spec"] for name, doc in workloads.items()}


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def _deployment_container(service: str) -> dict[str, Any]:
    (container,) = _of_kind("Deployment")[f"billing-{service}"]["spec"]["template"]["spec"]["containers"]
    return container


def _config() -> dict[str, str]:
    data: dict[str, str] = _of_kind("ConfigMap")["billing-config"]["data"]
    return data


def _route_path(handler: object) -> str:
    (path,) = [r.path for r in health.routes if isinstance(r, web.RouteDef) and r.handler is handler]
    return path


@pytest.mark.parametrize(
    ("path", "document"), k8s_documents(), ids=lambda v: v["metadata"]["name"] if isinstance(v, dict) else ""
)
def test_manifest_is_a_valid_kubernetes_resource(path: object, document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validation_rejects_an_unknown_field_and_a_wrong_type() -> None:
    """The check above can fail: strict validation reports a probe without a port and a string count."""
    deployment = copy.deepcopy(_of_kind("Deployment")["billing-gateway"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = copy.deepcopy(_of_kind("Deployment")["billing-gateway"])
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_applies_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    manifests = {path.name for path, _ in k8s_documents()}
    assert set(kustomization["resources"]) == manifests


def test_every_referenced_configmap_and_secret_exists() -> None:
    config_maps, secrets = _of_kind("ConfigMap"), _of_kind("Secret")
    for name, pod in _pod_specs().items():
        for container in _containers(pod):
            sources = container.get("envFrom", [])
            assert sources, f"{name}/{container['name']} loads no configuration"
            for source in sources:
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps, name
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets, name
            # All configuration lives in the ConfigMap and Secret, so the checks below see all of it.
            assert "env" not in container, name


def test_every_configuration_key_is_a_billing_setting() -> None:
    """A misspelled key would be ignored silently and leave the default in place."""
    fields = {f"BILLING_{name.upper()}" for name in flat_setting_names(Settings)}
    keys = set(_config()) | set(_of_kind("Secret")["billing-secrets"]["stringData"])
    assert keys <= fields, keys - fields


def test_topics_are_replicated_three_times_with_two_in_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in _config().items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert (settings.kafka_replication_factor, settings.kafka_min_insync_replicas) == (3, 2)


def test_every_container_has_resource_requests_and_limits() -> None:
    for name, pod in _pod_specs().items():
        for container in _containers(pod):
            resources = container["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys(), name
            assert "memory" in resources["limits"], name


def test_every_service_container_has_readiness_and_liveness_probes() -> None:
    for name, deployment in _of_kind("Deployment").items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert "readinessProbe" in container and "livenessProbe" in container, name


def test_the_gateway_probes_the_paths_its_health_routes_serve() -> None:
    gateway = _deployment_container("gateway")
    assert gateway["readinessProbe"]["httpGet"]["path"] == _route_path(health.readiness) == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == _route_path(health.liveness)
    (port,) = gateway["ports"]
    assert port["containerPort"] == Settings.model_fields["gateway_port"].default
    assert gateway["readinessProbe"]["httpGet"]["port"] == port["name"]


def test_consumers_probe_the_metrics_port_they_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Consumers serve Prometheus on metrics_port at gateway_host (apps/cli/main.py): the ConfigMap must
    set a port and a non-loopback address, and the probes must hit that port."""
    for key, value in _config().items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.metrics_port and settings.gateway_host == ALL_INTERFACES
    for service in CONSUMERS:
        container = _deployment_container(service)
        (port,) = container["ports"]
        assert (port["name"], port["containerPort"]) == ("metrics", settings.metrics_port), service
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}, service


def test_every_service_and_the_setup_jobs_run_real_billing_commands() -> None:
    served = set()
    for pod in _pod_specs().values():
        for container in _containers(pod):
            parse_billing_command(container["command"])  # raises for an unknown command or argument
            if container["command"][1] == "serve":
                served.add(container["command"][2])
    assert served == set(SERVED)
    (job,) = _of_kind("Job").values()
    steps = [c["command"] for c in _containers(job["spec"]["template"]["spec"])]
    assert steps == [["billing", "migrate"], ["billing", "catalog", "apply", "catalog/example.yaml"]]
