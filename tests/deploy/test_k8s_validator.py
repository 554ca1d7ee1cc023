"""The validator fails broken manifests.

Each case takes the real rendered overlay, breaks one thing, and expects the checks to say so. The
last tests break files on disk (a copy of deploy/k8s) and go through kubectl kustomize as well.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import k8s_checks as k  # noqa: E402


def _dep(docs, svc="plans"):
    return k.named(docs, "Deployment", f"tovholder-{svc}")


def _container(docs, svc="plans"):
    return _dep(docs, svc)["spec"]["template"]["spec"]["containers"][0]


def _user(docs, svc="plans"):
    return k.named(docs, "KafkaUser", f"tovholder-{svc}")


def _set(obj, key, value):
    obj[key] = value


def _del_path(doc, path):
    *parents, last = path.split(".")
    k.get(doc, ".".join(parents)).pop(last)


# (id, overlay, mutation, expected substring of one error)
CASES: list[tuple[str, str, Callable[[list], None], str]] = [
    # built-in kinds: Kubernetes schema
    ("unknown container field", "prod",
     lambda d: _set(_container(d), "readinesProbes", {}), "'readinesProbes' was unexpected"),
    ("port is a string", "prod",
     lambda d: _set(_container(d)["ports"][0], "containerPort", "http"), "containerPort"),
    ("removed apiVersion", "dev",
     lambda d: _set(k.named(d, "PodDisruptionBudget", "tovholder-plans"), "apiVersion", "policy/v1beta1"),
     "no schema for policy/v1beta1"),
    ("deployment without selector", "prod",
     lambda d: _dep(d)["spec"].pop("selector"), "'selector' is a required property"),
    ("networkpolicy typo", "prod",
     lambda d: _set(k.named(d, "NetworkPolicy", "tovholder-plans")["spec"], "egres", []), "'egres' was unexpected"),
    # workloads
    ("no readiness probe", "prod",
     lambda d: _container(d).pop("readinessProbe"), "no readinessProbe"),
    ("readiness on the wrong path", "dev",
     lambda d: _set(_container(d)["readinessProbe"]["httpGet"], "path", "/healthz"), "readinessProbe must GET /readyz"),
    ("liveness on the wrong path", "prod",
     lambda d: _set(_container(d)["livenessProbe"]["httpGet"], "path", "/readyz"), "livenessProbe must GET /healthz"),
    ("no limits", "prod",
     lambda d: _container(d)["resources"].pop("limits"), "resources.limits incomplete"),
    ("runs as root", "prod",
     lambda d: _set(_dep(d)["spec"]["template"]["spec"]["securityContext"], "runAsNonRoot", False),
     "runAsNonRoot is not true"),
    ("writable root filesystem", "prod",
     lambda d: _set(_container(d)["securityContext"], "readOnlyRootFilesystem", False),
     "readOnlyRootFilesystem is not true"),
    ("image :latest", "prod",
     lambda d: _set(_container(d), "image", "ghcr.io/tovholder/tovholder:latest"), "has no pinned tag"),
    ("wrong service command", "prod",
     lambda d: _set(_container(d), "args", ["serve", "health"]), "expected ['serve', 'plans']"),
    ("migration job gone", "prod",
     lambda d: d.remove(k.named(d, "Job", "tovholder-plans-migrate")), "Job/tovholder-plans-migrate"),
    # references
    ("service selects nothing", "prod",
     lambda d: _set(k.named(d, "Service", "tovholder-plans")["spec"]["selector"], "app.kubernetes.io/name", "plan"),
     "matches no pod template"),
    ("unknown secret", "prod",
     lambda d: _set(_container(d)["env"][2]["valueFrom"]["secretKeyRef"], "name", "tovholder-planz"),
     "unknown secret 'tovholder-planz'"),
    ("ingress to a missing service", "prod",
     lambda d: _set(k.named(d, "Ingress", "tovholder-plans")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"],
                    "name", "plans"), "unknown Service 'plans'"),
    ("hpa points nowhere", "prod",
     lambda d: _set(k.named(d, "HorizontalPodAutoscaler", "tovholder-plans")["spec"]["scaleTargetRef"], "name", "x"),
     "scaleTargetRef"),
    ("database url uses an undefined variable", "prod",
     lambda d: _container(d)["env"].insert(0, _container(d)["env"].pop(
         next(i for i, e in enumerate(_container(d)["env"]) if e["name"] == "TOVHOLDER_DATABASE_URL"))),
     "before it is defined"),
    # exposure
    ("ingress exposes /metrics", "prod",
     lambda d: _set(k.named(d, "Ingress", "tovholder-plans")["spec"]["rules"][0]["http"]["paths"][0], "path", "/metrics"),
     "/metrics -> tovholder-plans is not a public path"),
    ("plans routes everything", "prod",
     lambda d: _set(k.named(d, "Ingress", "tovholder-plans")["spec"]["rules"][0]["http"]["paths"][0], "path", "/"),
     "/ -> tovholder-plans is not a public path"),
    ("staff host stops blocking /metrics", "prod",
     lambda d: _set(k.named(d, "Ingress", "tovholder-notifications")["spec"]["rules"][0]["http"], "paths",
                    [p for p in k.named(d, "Ingress", "tovholder-notifications")["spec"]["rules"][0]["http"]["paths"]
                     if p["path"] != "/metrics"]),
     "/metrics reaches tovholder-notifications; would expose /metrics"),
    ("staff host blocks /docs only exactly", "prod",
     lambda d: _set(next(p for p in k.named(d, "Ingress", "tovholder-notifications")["spec"]["rules"][0]["http"]["paths"]
                         if p["path"] == "/docs"), "pathType", "Exact"),
     "/docs/x reaches tovholder-notifications"),
    ("ingress without tls", "prod",
     lambda d: k.named(d, "Ingress", "tovholder-plans")["spec"].pop("tls"), "not covered by TLS"),
    ("plans may reach the internet", "prod",
     lambda d: k.named(d, "NetworkPolicy", "tovholder-plans")["spec"]["egress"].append(
         {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}), "only notifications may"),
    ("plans may reach the referrals database", "prod",
     lambda d: k.named(d, "NetworkPolicy", "tovholder-plans")["spec"]["egress"].append(
         {"to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "tovholder-referrals-db"}}}]}),
     "expected only tovholder-plans-db"),
    ("pods without network policy", "prod",
     lambda d: [d.remove(p) for p in k.of_kind(d, "NetworkPolicy")], "not covered by Ingress and Egress"),
    # Strimzi
    ("kafkatopic without replicas", "prod",
     lambda d: k.of_kind(d, "KafkaTopic")[0]["spec"].pop("replicas"), "missing required field spec.replicas"),
    ("kafkatopic for another cluster", "prod",
     lambda d: _set(k.of_kind(d, "KafkaTopic")[0]["metadata"]["labels"], "strimzi.io/cluster", "other"),
     "names no Kafka"),
    ("node pool without storage", "prod",
     lambda d: k.of_kind(d, "KafkaNodePool")[0]["spec"].pop("storage"), "spec.storage.type"),
    ("node pool typo", "prod",
     lambda d: _set(k.of_kind(d, "KafkaNodePool")[0]["spec"], "replica", 3), "unknown spec field(s) ['replica']"),
    ("zookeeper", "prod",
     lambda d: _set(k.named(d, "Kafka", "tovholder")["spec"], "zookeeper", {"replicas": 3}), "KRaft"),
    ("deprecated acl operation", "prod",
     lambda d: _set(_user(d)["spec"]["authorization"]["acls"][0], "operation", "Read"), "use 'operations'"),
    ("bogus acl operation", "prod",
     lambda d: _user(d)["spec"]["authorization"]["acls"][0]["operations"].append("Reed"), "operations"),
    # Kafka vs contracts
    ("dead-letter topic missing", "prod",
     lambda d: d.remove(next(t for t in k.of_kind(d, "KafkaTopic") if t["spec"]["topicName"] == "tovholder.health.dlq.v1")),
     "tovholder.health.dlq.v1 (contracts/topics.py) has no KafkaTopic"),
    ("plans writes the referrals topic", "prod",
     lambda d: _user(d)["spec"]["authorization"]["acls"].append(
         {"resource": {"type": "topic", "name": "tovholder.referrals.events.v1", "patternType": "literal"},
          "operations": ["Write"], "host": "*"}),
     "allows ['Write'] beyond contracts"),
    ("prefix acl", "prod",
     lambda d: _set(_user(d)["spec"]["authorization"]["acls"][0]["resource"], "patternType", "prefix"), "only literal ACLs"),
    ("plans cannot read what it consumes", "dev",
     lambda d: _set(_user(d)["spec"]["authorization"], "acls",
                    [a for a in _user(d)["spec"]["authorization"]["acls"] if a["resource"]["name"] != "tovholder.referrals.events.v1"]),
     "lacks ['Describe', 'Read']"),
    ("wrong consumer group", "prod",
     lambda d: _set(_user(d)["spec"]["authorization"]["acls"][-1]["resource"], "name", "plans"),
     "group tovholder-plans lacks"),
    ("partitions drift", "prod",
     lambda d: _set(k.of_kind(d, "KafkaTopic")[0]["spec"], "partitions", 3), "3 partitions, contracts say"),
    ("wrong SASL user", "prod",
     lambda d: _set(next(e for e in _container(d)["env"] if e["name"] == "TOVHOLDER_KAFKA_SASL_USERNAME"), "value", "tovholder-health"),
     "is not its KafkaUser"),
    ("more pods than partitions", "prod",
     lambda d: _set(k.named(d, "HorizontalPodAutoscaler", "tovholder-plans")["spec"], "maxReplicas", 12), "extra consumers would idle"),
    ("topic replicated beyond the brokers", "dev",
     lambda d: _set(k.of_kind(d, "KafkaTopic")[0]["spec"], "replicas", 3), "> 1 broker(s)"),
    # CloudNativePG
    ("cluster without storage", "prod",
     lambda d: k.of_kind(d, "Cluster")[0]["spec"].pop("storage"), "spec.storage.size"),
    ("cluster without backups", "prod",
     lambda d: k.of_kind(d, "Cluster")[0]["spec"].pop("plugins"), "WAL archiver plugin"),
    ("backup of a missing cluster", "prod",
     lambda d: _set(k.of_kind(d, "ScheduledBackup")[0]["spec"]["cluster"], "name", "nope"), "does not exist"),
    ("five-field cron", "prod",
     lambda d: _set(k.of_kind(d, "ScheduledBackup")[0]["spec"], "schedule", "0 2 * * *"), "six fields"),
    ("object store without destination", "prod",
     lambda d: _del_path(k.of_kind(d, "ObjectStore")[0], "spec.configuration.destinationPath"), "destinationPath"),
    ("retention in years", "prod",
     lambda d: _set(k.of_kind(d, "ObjectStore")[0]["spec"], "retentionPolicy", "1y"), "retentionPolicy must look like"),
    ("a cluster without a scheduled backup", "dev",
     lambda d: d.remove(k.of_kind(d, "ScheduledBackup")[0]), "no ScheduledBackup"),
    ("unknown custom resource", "prod",
     lambda d: _set(k.of_kind(d, "Cluster")[0], "apiVersion", "postgresql.cnpg.io/v2"), "unknown custom resource"),
]


@pytest.mark.parametrize("overlay,mutate,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_manifest_fails(overlay, mutate, expected):
    docs = k.rendered(overlay)
    assert k.validate_overlay(docs, production=overlay == "prod") == [], "the unbroken overlay must pass"
    mutate(docs)
    errors = k.validate_overlay(docs, production=overlay == "prod")
    assert any(expected in e for e in errors), f"expected an error containing {expected!r}, got:\n" + "\n".join(errors)


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: _set(k.of_kind(d, "KafkaTopic")[0]["spec"], "replicas", 2), "production needs 3"),
    (lambda d: _set(k.named(d, "Kafka", "tovholder")["spec"]["kafka"]["config"], "min.insync.replicas", 1),
     "min.insync.replicas is 1, production needs 2"),
    (lambda d: _set(k.named(d, "KafkaNodePool", "brokers")["spec"], "replicas", 1), "at least 3 Kafka brokers"),
    (lambda d: _set(k.named(d, "KafkaNodePool", "controllers")["spec"], "replicas", 2), "odd KRaft quorum"),
    (lambda d: _set(k.of_kind(d, "Cluster")[0]["spec"], "instances", 1), "3 PostgreSQL instances"),
    (lambda d: _set(k.of_kind(d, "HorizontalPodAutoscaler")[0]["spec"], "minReplicas", 1), "at least 2 pods"),
], ids=["topic-rf", "min-isr", "brokers", "quorum", "postgres", "pods"])
def test_undersized_production_fails(mutate, expected):
    docs = k.rendered("prod")
    mutate(docs)
    errors = k.check_production_sizing(docs)
    assert any(expected in e for e in errors), "\n".join(errors)


# ---------------------------------------------------------------- broken files on disk, end to end
@pytest.fixture
def k8s_copy(tmp_path):
    """A scratch copy of deploy/k8s; returns a function that edits one file and renders an overlay."""
    root = tmp_path / "k8s"
    shutil.copytree(k.K8S, root)

    def edit_and_render(relative: str, old: str, new: str, overlay: str = "prod"):
        path = root / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))
        return k.render(root / "overlays" / overlay)

    return edit_and_render


def test_broken_file_fails_validation(k8s_copy):
    docs = k8s_copy("base/apps/health.yaml", "path: /readyz", "path: /ready")
    errors = k.validate_overlay(docs, production=True)
    assert any("Deployment/tovholder-health" in e and "/readyz" in e for e in errors), "\n".join(errors)


def test_misspelt_field_in_file_fails_schema(k8s_copy):
    docs = k8s_copy("base/apps/referrals.yaml", "terminationGracePeriodSeconds:", "terminationGracePeriod:")
    errors = k.check_schemas(docs)
    assert any("Deployment/tovholder-referrals" in e and "terminationGracePeriod" in e for e in errors), "\n".join(errors)


def test_broken_kustomization_fails_rendering(k8s_copy):
    with pytest.raises(k.RenderError):
        k8s_copy("overlays/dev/kustomization.yaml", "path: /spec/walStorage/size", "path: /spec/noSuchThing/size", "dev")


def test_invalid_yaml_fails_rendering(k8s_copy):
    with pytest.raises(k.RenderError):
        k8s_copy("base/kafka/kafka.yaml", "  kafka:\n", "  kafka:\n   - oops: [\n")
