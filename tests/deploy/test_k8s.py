"""Kubernetes manifests, checked offline: every overlay of deploy/k8s builds with kustomize
(kubectl's), the core objects pass ``kubernetes-validate --strict``, every custom resource
matches its CRD's schema (kept in deploy/k8s/crds/) with Kubernetes' pruning made an error
(the schemas are ours; extend one when the manifests use a new field), and checkov's
best-practice checks pass (each exception justified in deploy/k8s/checkov.yaml). Each
validator is also shown to fail on a broken copy. The tools live in .venv-tools
(``devtools/ensure_tools.sh``, which ``make test`` runs)."""

from __future__ import annotations

import copy
import json
import re
import runpy
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml"))
CRDS = K8S / "crds"
TOOLS = ROOT / ".venv-tools" / "bin"
#: the Kubernetes version the core objects are validated against (the oldest we support)
KUBERNETES_VERSION = "1.33.0"
PROCESSES = ("gateway", "enterprise", "ticketing", "notification", "supplydemand")
SERVICES = PROCESSES[1:]
#: Secrets the manifests read but never contain: made by an operator or by the admin. Each
#: process has its own signing key, its own database role and its own RabbitMQ user.
EXTERNAL_SECRETS = (
    {f"gridsvc-jwt-{p}" for p in PROCESSES}
    | {f"gridsvc-db-{s}" for s in SERVICES}
    | {f"gridsvc-{p}-user-credentials" for p in PROCESSES}
    | {"gridsvc-keda-amqp", "gridsvc-backup-s3"})


def tool(name: str) -> str:
    path = TOOLS / name
    assert path.exists(), f"{name} is missing: run `bash devtools/ensure_tools.sh` (make test does)"
    return str(path)


def run(*args: str, cwd: Path = ROOT, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout)


def kustomize(directory: Path) -> list[dict[str, Any]]:
    result = run(tool("kubectl"), "kustomize", str(directory))
    assert result.returncode == 0, f"kustomize build of {directory} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def is_core(doc: dict[str, Any]) -> bool:
    """Kinds of Kubernetes itself (validated by kubernetes-validate), not of an operator."""
    group = doc["apiVersion"].rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def key(doc: dict[str, Any]) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


# --- strict validation of custom resources against their CRD's openAPIV3Schema -------------

def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    schemas = {}
    for path in sorted(CRDS.glob("*.json")):
        crd = json.loads(path.read_text(encoding="utf-8"))
        schemas[(crd["apiVersion"], crd["kind"])] = crd["openAPIV3Schema"]
    return schemas


def strict_schema(node: dict[str, Any], root: bool = True) -> dict[str, Any]:
    """The JSON Schema (draft 4, as OpenAPI v3.0) of a structural CRD schema, where a field
    Kubernetes would prune (not in ``properties``, no ``additionalProperties``, no
    ``x-kubernetes-preserve-unknown-fields``) is an error instead of silently dropped."""
    schema = {k: v for k, v in node.items() if not k.startswith("x-kubernetes-")
              and k not in ("nullable", "properties", "items", "additionalProperties")}
    preserve = node.get("x-kubernetes-preserve-unknown-fields", False)
    properties = {name: strict_schema(sub, root=False)
                  for name, sub in node.get("properties", {}).items()}
    if root or node.get("x-kubernetes-embedded-resource"):
        # ObjectMeta is checked by the API server itself, not by the CRD schema
        properties.update(apiVersion={"type": "string"}, kind={"type": "string"},
                          metadata={"type": "object"})
    if properties:
        schema["properties"] = properties
    if "items" in node:
        schema["items"] = strict_schema(node["items"], root=False)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        schema["additionalProperties"] = strict_schema(extra, root=False)
    elif extra is not None:
        schema["additionalProperties"] = extra
    elif node.get("type") == "object" and not preserve:
        schema["additionalProperties"] = False
    if node.get("x-kubernetes-int-or-string"):
        schema.pop("type", None)
        schema.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
    return schema


def custom_resource_errors(docs: list[dict[str, Any]]) -> list[str]:
    schemas = crd_schemas()
    errors = []
    for doc in docs:
        if is_core(doc):
            continue
        schema = schemas.get((doc["apiVersion"], doc["kind"]))
        if schema is None:
            errors.append(f"{key(doc)}: no CRD schema for {doc['apiVersion']} in {CRDS}")
            continue
        for error in Draft4Validator(strict_schema(schema)).iter_errors(doc):
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            errors.append(f"{key(doc)} at {where}: {error.message}")
    return errors


# --- the other validators ------------------------------------------------------------------

def kubernetes_validate(docs: list[dict[str, Any]], tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "core.yaml"
    path.write_text(yaml.safe_dump_all([d for d in docs if is_core(d)]), encoding="utf-8")
    return run(tool("kubernetes-validate"), "--strict", "--quiet", "--no-warn",
               "-k", KUBERNETES_VERSION, str(path))


def checkov(path: Path, framework: str) -> subprocess.CompletedProcess:
    return run(tool("checkov"), "--config-file", str(K8S / "checkov.yaml"),
               "--framework", framework, "-f", str(path), timeout=300)


def deploy_copy(tmp_path: Path) -> Path:
    """A copy of deploy/ to break (the overlays reach ../../grafana)."""
    target = tmp_path / "deploy"
    shutil.copytree(DEPLOY, target)
    return target


def add_patch(overlay: Path, target: dict[str, str], ops: list[dict[str, Any]]) -> None:
    kustomization = overlay / "kustomization.yaml"
    data = yaml.safe_load(kustomization.read_text(encoding="utf-8"))
    data.setdefault("patches", []).append({"target": target, "patch": yaml.safe_dump(ops)})
    kustomization.write_text(yaml.safe_dump(data), encoding="utf-8")


@pytest.fixture(scope="module")
def built() -> dict[str, list[dict[str, Any]]]:
    return {overlay: kustomize(K8S / "overlays" / overlay) for overlay in OVERLAYS}


# --- the overlays build and hold what the platform needs -----------------------------------

def test_there_are_dev_and_prod_overlays() -> None:
    assert OVERLAYS == ["dev", "prod"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_has_every_part(built: dict, overlay: str) -> None:
    docs = built[overlay]
    kinds = Counter(doc["kind"] for doc in docs)
    names = {key(doc) for doc in docs}
    namespace = {"dev": "gridsvc-dev", "prod": "gridsvc"}[overlay]
    for process in PROCESSES:
        for kind in ("Deployment", "Service", "PodDisruptionBudget", "ServiceMonitor"):
            assert f"{kind}/{process}" in names
    for service in SERVICES:
        assert f"ScaledObject/{service}" in names
    assert kinds["RabbitmqCluster"] == 1 and kinds["Cluster"] == 1
    assert kinds["PrometheusRule"] == 1 and kinds["Job"] == 1
    assert kinds["NetworkPolicy"] >= 5
    assert {doc["metadata"].get("namespace") for doc in docs if doc["kind"] != "Namespace"} \
        == {namespace}
    rabbit = next(d for d in docs if d["kind"] == "RabbitmqCluster")
    assert "default_queue_type = quorum" in rabbit["spec"]["rabbitmq"]["additionalConfig"]
    if overlay == "prod":
        assert rabbit["spec"]["replicas"] == 3
        assert next(d for d in docs if d["kind"] == "Cluster")["spec"]["instances"] == 3
        assert all(d["spec"]["minReplicaCount"] >= 2 for d in docs if d["kind"] == "ScaledObject")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_unprivileged_with_limits_and_probes(built: dict, overlay: str) -> None:
    for doc in built[overlay]:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, key(doc)
        assert pod["securityContext"]["runAsUser"] >= 10000, key(doc)
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert {"requests", "limits"} <= set(container["resources"]), key(doc)
            if doc["kind"] == "Deployment":
                assert {"livenessProbe", "readinessProbe"} <= set(container), key(doc)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_value_is_committed(built: dict, overlay: str) -> None:
    docs = built[overlay]
    assert not [key(d) for d in docs if d["kind"] == "Secret"]
    referenced = set(re.findall(r"secretKeyRef': \{'key': '[^']+', 'name': '([^']+)'",
                                str(docs)))
    referenced |= {ref["name"] for d in docs if d["kind"] == "TriggerAuthentication"
                   for ref in d["spec"]["secretTargetRef"]}
    cluster = next(d for d in docs if d["kind"] == "Cluster")["spec"]
    referenced |= {role["passwordSecret"]["name"] for role in cluster["managed"]["roles"]}
    referenced |= {ref["name"] for ref in
                   cluster["backup"]["barmanObjectStore"]["s3Credentials"].values()}
    assert referenced == EXTERNAL_SECRETS
    for doc in docs:
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"].startswith("gridsvc-config"):
            assert not [k for k in doc["data"] if re.search("SECRET|PASSWORD|TOKEN", k)]


#: what the database needs besides the Pooler's server connections: superuser_reserved (3),
#: the operator and its replication (a few per instance), the exporter, the migration Job
RESERVED_CONNECTIONS = 25
#: processes with a second engine of their own (pool 1, overflow 1) for /metrics queries
METRICS_ENGINES = {"ticketing": 2, "supplydemand": 2}


def test_connection_budget_of_the_prod_overlay_adds_up(built: dict) -> None:
    """Issue 19: every service pod at KEDA's maximum, each opening all its pooled and overflow
    connections, fits the Pooler's max_client_conn (each instance may get them all); the
    Pooler's server connections fit the database's max_connections; each role's pool fits its
    connection limit."""
    from common.db import connections_per_process

    docs = built["prod"]
    config = next(d for d in docs if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"].startswith("gridsvc-config"))["data"]
    per_process = connections_per_process(int(config["MAX_WORKERS"]))
    pooler = next(d for d in docs if d["kind"] == "Pooler")["spec"]
    params = {k: int(v) for k, v in pooler["pgbouncer"]["parameters"].items() if v.isdigit()}
    assert pooler["pgbouncer"]["poolMode"] == "transaction"
    clients = sum(d["spec"]["maxReplicaCount"] * (per_process + METRICS_ENGINES.get(
        d["spec"]["scaleTargetRef"]["name"], 0)) for d in docs if d["kind"] == "ScaledObject")
    print(f"\nprod: {clients} client connections at most, max_client_conn "
          f"{params['max_client_conn']}")
    assert clients <= params["max_client_conn"]
    cluster = next(d for d in docs if d["kind"] == "Cluster")["spec"]
    max_connections = int(cluster["postgresql"]["parameters"]["max_connections"])
    server = pooler["instances"] * params["max_db_connections"]
    assert server + RESERVED_CONNECTIONS <= max_connections, (server, max_connections)
    roles = cluster["managed"]["roles"]
    assert {r["name"] for r in roles} == set(SERVICES)
    assert len(roles) * params["default_pool_size"] <= params["max_db_connections"]
    for role in roles:
        assert pooler["instances"] * params["default_pool_size"] < role["connectionLimit"]
    # every service reaches the database through the Pooler, as its own role
    for d in docs:
        if d["kind"] == "Deployment" and d["metadata"]["name"] in SERVICES:
            env = {e["name"]: e for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert "@gridsvc-db-pooler-rw:5432/" in env["DATABASE_URL"]["value"]
            assert env["DB_USER"]["valueFrom"]["secretKeyRef"]["name"] == \
                f"gridsvc-db-{d['metadata']['name']}"


def test_backups_and_scraping_of_postgres_and_rabbitmq(built: dict) -> None:
    docs = built["prod"]
    backup = next(d for d in docs if d["kind"] == "ScheduledBackup")["spec"]
    assert backup["cluster"]["name"] == "gridsvc-db" and backup["method"] == "barmanObjectStore"
    store = next(d for d in docs if d["kind"] == "Cluster")["spec"]["backup"]
    assert store["barmanObjectStore"]["destinationPath"].startswith("s3://")
    monitors = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "PodMonitor"}
    assert set(monitors) == {"gridsvc-db", "gridsvc-rabbitmq"}
    assert {e["path"] for e in monitors["gridsvc-rabbitmq"]["podMetricsEndpoints"]} == {
        "/metrics", "/metrics/per-object"}


def test_every_process_command_is_a_module_of_the_image(built: dict) -> None:
    copied = set(re.findall(r"^COPY (\w+) ", (ROOT / "Dockerfile").read_text(), re.M))
    for doc in built["prod"]:
        if doc["kind"] in ("Deployment", "Job"):
            command = doc["spec"]["template"]["spec"]["containers"][0]["command"]
            module = command[command.index("-m") + 1]
            assert module.split(".")[0] in copied, module
            path = ROOT / module.replace(".", "/")
            assert (path / "__main__.py").exists() or path.with_suffix(".py").exists(), module


def test_scaled_objects_watch_the_queues_the_services_consume(built: dict) -> None:
    for doc in built["prod"]:
        if doc["kind"] != "ScaledObject":
            continue
        service = doc["spec"]["scaleTargetRef"]["name"]
        source = "\n".join(p.read_text(encoding="utf-8") for p in
                           (ROOT / "services" / service).glob("**/*.py"))
        expected = {f"rpc-{service}"} | {
            f"evt-{origin}-{event}--{service}.{method}" for origin, event, method in re.findall(
                r'event_handler\("(\w+)", "(\w+)"\)\n\s+def (\w+)', source)}
        queues = {t["metadata"]["queueName"] for t in doc["spec"]["triggers"]}
        # every queue named exists; the RPC queue is always one (event queues may be left out)
        assert f"rpc-{service}" in queues and queues <= expected, (service, queues - expected)


def test_dashboards_configmap_holds_exactly_the_grafana_files(built: dict) -> None:
    files = {p.name: p.read_text(encoding="utf-8") for p in (DEPLOY / "grafana").glob("*.json")}
    for overlay in OVERLAYS:
        configmap = next(d for d in built[overlay]
                         if d["kind"] == "ConfigMap"
                         and d["metadata"]["name"] == "gridsvc-grafana-dashboards")
        assert configmap["data"] == files
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_prometheus_rule_carries_the_rules_file(built: dict) -> None:
    groups = yaml.safe_load((DEPLOY / "prometheus" / "rules.yml").read_text())["groups"]
    generated = runpy.run_path(str(K8S / "sync_rules.py"))["render"]()
    assert (K8S / "base" / "prometheusrule.yaml").read_text() == generated, \
        "run `python deploy/k8s/sync_rules.py` after changing deploy/prometheus/rules.yml"
    for overlay in OVERLAYS:
        rule = next(d for d in built[overlay] if d["kind"] == "PrometheusRule")
        assert rule["spec"]["groups"] == groups


# --- the validators pass on the overlays ---------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_objects_pass_strict_schema_validation(built: dict, overlay: str,
                                                     tmp_path: Path) -> None:
    result = kubernetes_validate(built[overlay], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_match_their_crd_schemas(built: dict, overlay: str) -> None:
    kinds = {d["kind"] for d in built[overlay] if not is_core(d)}
    assert {"RabbitmqCluster", "Cluster", "ScaledObject", "ServiceMonitor",
            "PrometheusRule", "Pooler", "ScheduledBackup", "PodMonitor", "User",
            "Permission"} <= kinds
    assert custom_resource_errors(built[overlay]) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_passes(built: dict, overlay: str, tmp_path: Path) -> None:
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(yaml.safe_dump_all(built[overlay]), encoding="utf-8")
    result = checkov(path, "kubernetes")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Passed checks: " in result.stdout


def test_dockerfile_passes_checkov_and_runs_unprivileged() -> None:
    result = checkov(ROOT / "Dockerfile", "dockerfile")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Failed checks: 0" in result.stdout
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines()
             if line and not line.startswith((" ", "#"))]
    assert lines[0].startswith("FROM python:3.11-slim")
    # the base image pinned by digest in every stage, bytecode compiled in the image
    froms = [line for line in lines if line.startswith("FROM ")]
    assert froms and all(re.match(r"FROM python:3\.11-slim@sha256:[0-9a-f]{64}\b", f)
                         for f in froms), froms
    assert any(line.startswith("RUN python -m compileall") for line in lines)
    user = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert user and not user[-1].startswith(("0", "root"))
    assert lines[-1] == 'CMD ["python", "-m", "gateway"]'


# --- ...and fail on broken manifests -------------------------------------------------------

def test_strict_schema_rejects_what_kubernetes_would_prune() -> None:
    schema = {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "size": {"x-kubernetes-int-or-string": True},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "note": {"type": "string", "nullable": True}}}}}
    validator = Draft4Validator(strict_schema(schema))
    good = {"apiVersion": "x.io/v1", "kind": "X", "metadata": {"name": "a"},
            "spec": {"size": "1Gi", "free": {"any": {"thing": 1}}, "labels": {"a": "b"},
                     "note": None}}
    assert list(validator.iter_errors(good)) == []
    for bad in ({"spec": {"sise": 1}}, {"spce": {}}, {"spec": {"labels": {"a": 1}}},
                {"spec": {"size": 1.5}}):
        assert list(validator.iter_errors(bad)), bad


def test_a_wrong_field_in_a_custom_resource_fails(tmp_path: Path) -> None:
    overlay = deploy_copy(tmp_path) / "k8s" / "overlays" / "dev"
    add_patch(overlay, {"group": "rabbitmq.com", "kind": "RabbitmqCluster"},
              [{"op": "add", "path": "/spec/replica", "value": 3}])
    add_patch(overlay, {"group": "keda.sh", "kind": "ScaledObject", "name": "ticketing"},
              [{"op": "replace", "path": "/spec/triggers/0/metadata/value", "value": 10}])
    add_patch(overlay, {"group": "postgresql.cnpg.io", "kind": "Cluster"},
              [{"op": "add", "path": "/spec/storage/sizee", "value": "1Gi"}])
    errors = "\n".join(custom_resource_errors(kustomize(overlay)))
    assert "RabbitmqCluster/gridsvc-rabbitmq at spec" in errors and "'replica'" in errors
    assert "ScaledObject/ticketing at spec/triggers/0/metadata/value" in errors
    assert "Cluster/gridsvc-db at spec/storage" in errors and "'sizee'" in errors


def test_a_custom_resource_without_a_schema_fails(built: dict) -> None:
    docs = copy.deepcopy(built["dev"])
    docs.append({"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert custom_resource_errors(docs) == [
        "Widget/w: no CRD schema for example.org/v1 in " + str(CRDS)]


def test_a_broken_core_object_fails(tmp_path: Path) -> None:
    overlay = deploy_copy(tmp_path) / "k8s" / "overlays" / "dev"
    add_patch(overlay, {"group": "apps", "kind": "Deployment", "name": "ticketing"},
              [{"op": "add", "path": "/spec/template/spec/containers/0/imagePullPolcy",
                "value": "Always"}])
    result = kubernetes_validate(kustomize(overlay), tmp_path)
    assert result.returncode != 0
    assert "imagePullPolcy" in result.stdout + result.stderr


def test_a_broken_kustomization_fails(tmp_path: Path) -> None:
    overlay = deploy_copy(tmp_path) / "k8s" / "overlays" / "prod"
    (overlay.parent.parent / "base" / "ticketing.yaml").unlink()
    result = run(tool("kubectl"), "kustomize", str(overlay))
    assert result.returncode != 0 and "ticketing.yaml" in result.stderr


def test_checkov_fails_on_a_privileged_pod(built: dict, tmp_path: Path) -> None:
    docs = copy.deepcopy(built["dev"])
    gateway = next(d for d in docs if key(d) == "Deployment/gateway")
    container = gateway["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] = {"privileged": True, "allowPrivilegeEscalation": True}
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    result = checkov(path, "kubernetes")
    assert result.returncode != 0
    assert "CKV_K8S_16" in result.stdout  # "Container should not be privileged"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_trusts_x_forwarded_for_only_from_the_ingress_range(built: dict,
                                                                        overlay: str) -> None:
    """Issue 22, finding 3: behind the ingress every sign-in came from its address (one
    attacker locked everyone out), and trusting the header from anyone lets a client choose
    its address. FORWARDED_ALLOW_IPS names the ingress's network, never ``*``, and only the
    ingress (and monitoring) may reach the gateway's port."""
    import ipaddress

    docs = built[overlay]
    config = next(d for d in docs if d["kind"] == "ConfigMap"
                  and d["metadata"]["name"].startswith("gridsvc-config"))["data"]
    trusted = [item.strip() for item in config["FORWARDED_ALLOW_IPS"].split(",")]
    assert "*" not in trusted and trusted
    networks = [ipaddress.ip_network(item, strict=False) for item in trusted]
    assert all(net.is_private and not net.is_loopback for net in networks)
    policy = next(d for d in docs if d["kind"] == "NetworkPolicy"
                  and d["metadata"]["name"] == "gateway-ingress")
    sources = {s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
               for rule in policy["spec"]["ingress"] for s in rule["from"]}
    assert sources == {"ingress-nginx", "monitoring"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_notification_leaves_the_cluster_only_for_public_https_and_the_smtp_relay(
        built: dict, overlay: str) -> None:
    """Issue 22, finding 4: the notification pods' egress beyond RabbitMQ, PostgreSQL and
    DNS is port 443 to public addresses (no private, loopback, link-local, shared or
    multicast range) and the SMTP relay's one address on 25/587."""
    import ipaddress

    docs = built[overlay]
    policy = next(d for d in docs if d["kind"] == "NetworkPolicy"
                  and d["metadata"]["name"] == "notification-delivery-egress")
    inside = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12",
                                                 "192.168.0.0/16", "127.0.0.0/8",
                                                 "169.254.0.0/16", "100.64.0.0/10")]
    https = smtp = 0
    for rule in policy["spec"]["egress"]:
        ports = {p["port"] for p in rule["ports"]}
        assert rule.get("to"), "every egress rule names where it goes"
        blocks = [peer["ipBlock"] for peer in rule["to"]]
        if ports == {443}:
            https += 1
            for block in blocks:
                excepted = [ipaddress.ip_network(n) for n in block.get("except", [])]
                assert all(any(net.subnet_of(e) for e in excepted) for net in inside)
        else:
            smtp += 1
            assert ports <= {25, 465, 587}
            assert all(ipaddress.ip_network(b["cidr"]).num_addresses <= 16 for b in blocks)
    assert https == 1 and smtp == 1
