"""The capacity model's arithmetic (deploy/capacity.yaml; docs/operations.md, "Capacity of a
province"): from measured CPU per operation and peak rates to cores, replicas, requests, KEDA
thresholds, PostgreSQL size and write rate, RabbitMQ rates. Plain functions, no Kubernetes;
``tests/deploy/test_capacity.py`` compares them with the file and the prod overlay, and
``python tests/deploy/capacity_model.py`` prints them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

MODEL = Path(__file__).resolve().parents[2] / "deploy" / "capacity.yaml"
PROCESSES = ("gateway", "enterprise", "ticketing", "notification", "supplydemand")
SERVICES = PROCESSES[1:]
OTHERS = ("postgres", "rabbitmq")


def load(path: Path = MODEL) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def cores(model: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Cores each process needs in each peak hour: sum of rate x CPU per operation."""
    out: dict[str, dict[str, float]] = {}
    for day, rates in model["peaks"].items():
        for process in (*PROCESSES, *OTHERS):
            out.setdefault(process, {})[day] = sum(
                rate * float(model["cpu_ms"][op].get(process, 0)) / 1000
                for op, rate in rates.items())
    return out


def derive(model: dict[str, Any]) -> dict[str, Any]:
    rules = model["rules"]
    per_pod = rules["target_utilisation"] * rules["pod_cpu_limit_cores"]
    peak = {p: max(by_day.values()) for p, by_day in cores(model).items()}
    replicas = {}
    for p in PROCESSES:
        low = max(rules["availability_min"], math.ceil(peak[p] / per_pod))
        high = max(low + rules["extra_max"], math.ceil(rules["surge"] * peak[p] / per_pod))
        replicas[p] = {"min": low, "max": high}
    queue = {}
    for service in SERVICES:
        call = rules["queue_call"][service]
        cpu = (rules["match_cpu_ms"] if call == "match"
               else float(model["cpu_ms"][call][service]))
        queue[service] = max(rules["min_queue_length"],
                             math.floor(rules["target_queue_wait_ms"] / cpu))
    requests = {p: f"{max(100, math.ceil(peak[p] / replicas[p]['min'] * 10) * 100)}m"
                for p in PROCESSES}
    pg = model["postgres"]
    province = model["province"]
    messages = province["demands_per_year"] * pg["messages_per_demand"] \
        + pg["policy_messages_per_year"]
    size = (province["demands_per_year"] * pg["bytes_per_demand"]
            + messages * pg["bytes_per_message"]) / 2**30
    wal = province["enterprises"] * pg["wal_bytes_per_message"] / pg["publish_target_seconds"]
    mq = model["rabbitmq"]
    rates = {day: sum(rate * (mq["messages_per_demand"] if op == "submit_demand"
                              else mq["messages_per_call"]) for op, rate in r.items())
             for day, r in model["peaks"].items()}
    return {
        "peak_cores": {p: round(peak[p], 2) for p in (*PROCESSES, *OTHERS)},
        "replicas": replicas,
        "keda_rpc_queue_length": queue,
        "cpu_requests": requests,
        "postgres": {"size_per_year_gib": round(size, 1),
                     "storage_needed_gib": round(pg["years_of_storage"] * size * 1.5, 1),
                     "peak_wal_mb_per_second": round(wal / 1e6, 1),
                     "peak_write_iops": math.ceil(wal / 8192)},
        "rabbitmq": {"peak_messages_per_second": round(max(rates.values()), 1),
                     "max_message_size_needed": 2 * mq["largest_message_bytes"]},
    }


if __name__ == "__main__":
    import json

    model = load()
    print(json.dumps({"cores": cores(model), **derive(model)}, indent=2))
