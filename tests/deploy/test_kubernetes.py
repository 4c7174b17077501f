"""deploy/kubernetes, checked offline: Kubernetes' own JSON schemas (bundled by the
kubernetes-validate package) for the built-in kinds, explicit checks for KEDA's ScaledObject,
and the settings, ports and probes against what the service actually serves."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

from consumer.kafka_config import consumer_config
from consumer.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
KUSTOMIZATION = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
MANIFESTS = {
    path.name: [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for path in sorted(KUBERNETES.glob("*.yaml"))
    if path.name != "kustomization.yaml"
}
DOCS = [doc for docs in MANIFESTS.values() for doc in docs]
# The oldest and the newest Kubernetes whose schemas the package bundles.
VERSIONS = sorted({all_versions()[0], all_versions()[-1]})
WEB_EXTRAS = {"host", "port", "api_token"}  # python -m web's settings beyond the service's


def one(kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in DOCS if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def container(deployment: str) -> dict[str, Any]:
    (only,) = one("Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return only


def config() -> dict[str, str]:
    return one("ConfigMap", "encore-settings")["data"]


def scaled_object() -> dict[str, Any]:
    return one("ScaledObject", "encore")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "doc",
    [d for d in DOCS if d["kind"] != "ScaledObject"],
    ids=lambda d: f"{d['kind']}/{d['metadata']['name']}",
)
def test_built_in_kinds_match_the_kubernetes_schema(doc, version):
    # strict: unknown fields (a typo such as `readinesProbe`) fail instead of being ignored.
    kubernetes_validate.validate(doc, version, strict=True)


def test_the_schemas_catch_a_broken_manifest():
    broken = copy.deepcopy(one("Deployment", "encore"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest():
    assert KUSTOMIZATION["kind"] == "Kustomization"
    assert sorted(KUSTOMIZATION["resources"]) == sorted(MANIFESTS)
    images = {image["name"] for image in KUSTOMIZATION["images"]}
    for deployment in ("encore", "encore-web"):
        assert container(deployment)["image"].split(":")[0] in images


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kustomize_renders_what_is_applied():
    """`kubectl kustomize` runs offline; its output is exactly what `kubectl apply -k` sends."""
    result = subprocess.run(
        ["kubectl", "kustomize", str(KUBERNETES)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    rendered = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert sorted((d["kind"], d["metadata"]["name"]) for d in rendered) == sorted(
        (d["kind"], d["metadata"]["name"]) for d in DOCS
    )
    for doc in rendered:
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "encore"
        if doc["kind"] != "ScaledObject":
            kubernetes_validate.validate(doc, VERSIONS[-1], strict=True)


def test_scaled_object_scales_the_service_on_its_consumer_lag():
    """KEDA's ScaledObject is a custom resource: its schema comes with KEDA's CRDs, which are not
    among Kubernetes' bundled schemas (and not available offline), so it is checked field by field
    here against the fields the kafka scaler reads and against the service's own settings."""
    scaled = scaled_object()
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["kind"] == "ScaledObject"
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == one("Deployment", "encore")["metadata"]["name"]
    assert spec["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    assert set(meta) >= {"bootstrapServers", "consumerGroup", "topic", "lagThreshold"}
    assert all(isinstance(value, str) for value in meta.values())  # KEDA metadata is strings
    assert int(meta["lagThreshold"]) > 0
    defaults = Settings()
    assert meta["consumerGroup"] == defaults.group_id == config()["ENCORE_GROUP_ID"]
    assert meta["topic"] == defaults.input_topic == config()["ENCORE_INPUT_TOPIC"]
    assert meta["bootstrapServers"] == config()["ENCORE_BOOTSTRAP_SERVERS"]
    assert meta["offsetResetPolicy"] == consumer_config(defaults)["auto.offset.reset"]


def test_scaled_object_never_asks_for_more_pods_than_partitions():
    spec = scaled_object()["spec"]
    partitions = Settings().partitions
    assert int(config()["ENCORE_PARTITIONS"]) == partitions
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions
    assert scaled_object()["spec"]["triggers"][0]["metadata"]["allowIdleConsumers"] == "false"
    # KEDA owns the count: a fixed `replicas` would fight it on every apply.
    assert "replicas" not in one("Deployment", "encore")["spec"]


def test_config_map_keys_are_encore_settings():
    for key in config():
        assert key.startswith("ENCORE_"), key
        name = key.removeprefix("ENCORE_").lower()
        assert name in Settings.model_fields or name in WEB_EXTRAS, key
    # And the service accepts their values (web's extras are not its settings).
    given = {key.removeprefix("ENCORE_").lower(): value for key, value in config().items()}
    Settings(**{name: value for name, value in given.items() if name not in WEB_EXTRAS})


def _port(container_spec: dict[str, Any], name: str) -> int:
    (port,) = [p["containerPort"] for p in container_spec["ports"] if p["name"] == name]
    return int(port)


@pytest.mark.parametrize(
    ("deployment", "module", "port_name", "port"),
    [
        ("encore", "consumer", "metrics", Settings().metrics_port),
        ("encore-web", "web", "http", 8000),
    ],
)
def test_probes_and_scrapes_hit_what_the_process_serves(deployment, module, port_name, port):
    spec = container(deployment)
    assert spec["command"] == ["python", "-m", module]
    assert spec["image"] == "encore:latest"
    setting = "ENCORE_METRICS_PORT" if module == "consumer" else "ENCORE_PORT"
    assert int(config()[setting]) == _port(spec, port_name) == port
    assert config()[setting.replace("PORT", "HOST")] == "0.0.0.0"
    assert spec["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port_name}
    assert spec["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port_name}
    annotations = one("Deployment", deployment)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == "/metrics"
    (service,) = [
        d
        for d in DOCS
        if d["kind"] == "Service"
        and d["spec"]["selector"]
        == one("Deployment", deployment)["spec"]["template"]["metadata"]["labels"]
    ]
    assert service["spec"]["ports"][0]["targetPort"] == port_name


def test_resources_follow_the_measured_footprint():
    """263 MB peak RSS on the real catalog (BENCHMARKS.md) must fit the request, with the limit
    above it; the CPU request is what the service is sized at."""
    for deployment in ("encore", "encore-web"):
        resources = container(deployment)["resources"]
        assert resources["requests"] == {"cpu": "500m", "memory": "512Mi"}
        assert resources["limits"]["memory"] == "1Gi"
    env = {e["name"]: e for e in container("encore-web")["env"]}
    assert env["ENCORE_API_TOKEN"]["valueFrom"]["secretKeyRef"]["optional"] is True
    assert "ENCORE_API_TOKEN" not in config()  # a secret, not configuration
