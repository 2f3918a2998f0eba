"""Every process serves Prometheus metrics on its own port, with bounded labels."""

from __future__ import annotations

import httpx
from conftest import METRICS_PORTS
from helpers import bearer, eventually
from prometheus_client.parser import text_string_to_metric_families

from common.auth import Role


def samples(text: str, name: str) -> list:
    return [s for fam in text_string_to_metric_families(text) for s in fam.samples
            if s.name == name]


def test_each_service_serves_metrics_on_its_port(client, token):
    client.get("/readyz")  # the gateway's monitor calls every service's health
    for service, port in METRICS_PORTS.items():
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        calls = samples(text, "gridsvc_worker_calls_total")
        assert any(s.labels == {"service": service, "method": "health", "outcome": "ok"}
                   and s.value >= 1 for s in calls), service


def test_gateway_metrics_count_requests_by_route_template(client, token):
    tok = token(Role.COORDINATOR)
    client.get("/api/v1/demands/00000000-0000-0000-0000-000000000000", headers=bearer(tok))
    text = client.get("/metrics").text
    requests = samples(text, "gridsvc_gateway_requests_total")
    routes = {s.labels["route"] for s in requests}
    assert "/api/v1/demands/{demand_id}" in routes
    assert not any("00000000" in r for r in routes)  # ids never become labels


def test_sla_series_exist_at_zero_for_every_department_from_the_start(client):
    """Issue 19: every labelled SLA series exists before its first event (Prometheus would
    miss the first 0→1 step otherwise), with the registry's departments, and each department's
    Chinese name is exported for the dashboards to join."""
    port = METRICS_PORTS["ticketing"]

    def primed() -> str | None:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        return text if 'department="taxation"' in text else None

    text = eventually(primed, timeout=15, interval=0.5)
    assert text, "the departments were never read from the registry"
    names = {s.labels["department"]: s.labels["name"]
             for s in samples(text, "gridsvc_department_info")}
    assert len(names) >= 14 and names["none"] == "未分派（分理前）"
    for department in set(names) - {"none"}:
        for kind in ("acceptance", "handling"):
            labels = {"kind": kind, "department": department}
            assert any(s.labels == labels for s in samples(text, "gridsvc_sla_breaches_total"))
            assert any(s.labels == labels
                       for s in samples(text, "gridsvc_sla_deadlines_met_total"))
    assert {s.labels["level"] for s in samples(text, "gridsvc_sla_escalations_total")} >= {
        "1", "2", "3"}
    due = {(s.labels["department"], s.labels["due"])
           for s in samples(text, "gridsvc_open_tasks_due")}
    assert ("taxation", "overdue") in due and ("taxation", "next_workday") in due
    assert samples(text, "gridsvc_sla_oldest_unfired_deadline_seconds")
