"""The capacity model (deploy/capacity.yaml) and the prod overlay agree (issue 20): the model's
outputs are what its inputs give by its formulas (tests/deploy/capacity_model.py, derived in
docs/operations.md), and the overlay's replicas, KEDA thresholds, resources, database
storage and RabbitMQ message size are the model's. Change the model, then the overlay."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import capacity_model
import pytest
import yaml
from test_k8s import K8S, deploy_copy, kustomize


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    return capacity_model.load()


@pytest.fixture(scope="module")
def prod() -> list[dict[str, Any]]:
    return kustomize(K8S / "overlays" / "prod")


def disagreements(model: dict[str, Any], docs: list[dict[str, Any]]) -> list[str]:
    """Where the built prod overlay differs from the model (empty: they agree)."""
    found: list[str] = []
    by_kind: dict[tuple[str, str], dict[str, Any]] = {
        (d["kind"], d["metadata"]["name"]): d for d in docs}
    for service in capacity_model.SERVICES:
        scaled = by_kind[("ScaledObject", service)]["spec"]
        wanted = model["replicas"][service]
        got = {"min": scaled["minReplicaCount"], "max": scaled["maxReplicaCount"]}
        if got != wanted:
            found.append(f"{service} replicas {got} != model {wanted}")
        rpc = next(t for t in scaled["triggers"] if t["name"] == "rpc")
        if rpc["metadata"]["value"] != str(model["keda_rpc_queue_length"][service]):
            found.append(f"{service} KEDA rpc queue length {rpc['metadata']['value']} != "
                         f"model {model['keda_rpc_queue_length'][service]}")
    gateway = by_kind[("Deployment", "gateway")]["spec"]["replicas"]
    if gateway != model["replicas"]["gateway"]["min"]:
        found.append(f"gateway replicas {gateway} != model {model['replicas']['gateway']}")
    for process in capacity_model.PROCESSES:
        container = by_kind[("Deployment", process)]["spec"]["template"]["spec"]["containers"][0]
        if container["resources"] != model["resources"][process]:
            found.append(f"{process} resources {container['resources']} != model "
                         f"{model['resources'][process]}")
    cluster = by_kind[("Cluster", "gridsvc-db")]["spec"]
    if cluster["storage"]["size"] != f"{model['postgres']['storage_gib']}Gi":
        found.append(f"database storage {cluster['storage']['size']} != model "
                     f"{model['postgres']['storage_gib']}Gi")
    config = by_kind[("RabbitmqCluster", "gridsvc-rabbitmq")]["spec"]["rabbitmq"][
        "additionalConfig"]
    size = re.search(r"^max_message_size\s*=\s*(\d+)$", config, re.M)
    if not size or int(size.group(1)) != model["rabbitmq"]["max_message_size"]:
        found.append(f"RabbitMQ max_message_size {size and size.group(1)} != model "
                     f"{model['rabbitmq']['max_message_size']}")
    return found


def test_the_models_outputs_follow_from_its_inputs(model):
    derived = capacity_model.derive(model)
    assert derived["peak_cores"] == pytest.approx(model["peak_cores"], abs=0.011)
    assert derived["replicas"] == model["replicas"]
    assert derived["keda_rpc_queue_length"] == model["keda_rpc_queue_length"]
    assert derived["cpu_requests"] == {p: r["requests"]["cpu"]
                                       for p, r in model["resources"].items()}
    pg = model["postgres"]
    for key in ("size_per_year_gib", "storage_needed_gib", "peak_wal_mb_per_second",
                "peak_write_iops"):
        assert derived["postgres"][key] == pytest.approx(pg[key], rel=0.01), key
    assert pg["storage_gib"] >= derived["postgres"]["storage_needed_gib"]
    mq = model["rabbitmq"]
    assert derived["rabbitmq"]["peak_messages_per_second"] == pytest.approx(
        mq["peak_messages_per_second"], rel=0.01)
    assert mq["max_message_size"] >= derived["rabbitmq"]["max_message_size_needed"]
    # the limit a pod's requests and the model's utilisation assume
    for process, resources in model["resources"].items():
        assert resources["limits"]["cpu"] == str(model["rules"]["pod_cpu_limit_cores"]), process
    # every figure names its source
    assert all(op.get("source") for op in model["cpu_ms"].values())


def test_the_prod_overlay_is_the_model(model, prod):
    assert disagreements(model, prod) == []


def test_a_model_the_overlay_does_not_follow_is_caught(model, prod):
    changed = copy.deepcopy(model)
    changed["replicas"]["ticketing"]["max"] = 10
    changed["keda_rpc_queue_length"]["enterprise"] = 50
    changed["resources"]["notification"]["limits"]["memory"] = "1Gi"
    changed["rabbitmq"]["max_message_size"] = 16 * 2**20
    found = "\n".join(disagreements(changed, prod))
    for part in ("ticketing replicas", "enterprise KEDA", "notification resources",
                 "max_message_size"):
        assert part in found


def test_an_overlay_that_drifts_from_the_model_is_caught(model, tmp_path: Path):
    copy_ = deploy_copy(tmp_path)
    overlay = copy_ / "k8s" / "overlays" / "prod" / "kustomization.yaml"
    text = overlay.read_text(encoding="utf-8").replace("value: 4\n", "value: 6\n", 1)
    overlay.write_text(text, encoding="utf-8")
    found = disagreements(model, kustomize(overlay.parent))
    assert any("replicas" in f and "'max': 6" in f for f in found), found


def test_the_model_file_is_plain_yaml():
    assert isinstance(yaml.safe_load(capacity_model.MODEL.read_text(encoding="utf-8")), dict)
