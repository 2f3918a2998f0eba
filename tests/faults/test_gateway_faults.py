"""The gateway when a service hangs: 504 within the timeout, nothing left in flight."""

from __future__ import annotations

import os
import signal

import httpx
import pytest
from helpers import bearer
from prometheus_client.parser import text_string_to_metric_families

from common.auth import Role


def gauge(client: httpx.Client, name: str) -> float:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    raise AssertionError(f"{name} not exported")


@pytest.mark.timeout(120)
def test_a_frozen_service_gives_504_and_leaves_nothing_in_flight(healthy_platform, token):
    """SIGSTOP freezes ticketing: requests sit unanswered, as with a deadlocked service."""
    healthy_platform.stop("gateway")
    healthy_platform.start_gateway(extra_env={"RPC_TIMEOUT_SECONDS": "1.0"})
    healthy_platform.wait_ready(timeout=30)
    ticketing = healthy_platform.procs["ticketing"].popen.pid
    tok = token(Role.COORDINATOR)
    try:
        with httpx.Client(base_url=healthy_platform.gateway_url(), timeout=10) as client:
            os.killpg(ticketing, signal.SIGSTOP)
            response = client.get("/api/v1/demands", headers=bearer(tok))
            assert response.status_code == 504  # the gateway's 1 s RPC timeout answered
            assert response.headers["content-type"] == "application/problem+json"
            assert gauge(client, "gridsvc_gateway_rpc_in_flight") == 0
            os.killpg(ticketing, signal.SIGCONT)
            # the expired request is not processed late, and the service answers again
            ok = client.get("/api/v1/demands", headers=bearer(tok))
            assert ok.status_code == 200
    finally:
        os.killpg(ticketing, signal.SIGCONT)
        healthy_platform.stop("gateway")
        healthy_platform.start_gateway()
        healthy_platform.wait_ready(timeout=30)


def test_readyz_lists_every_service_at_its_migration_head(client):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert set(body["services"]) == {"enterprise", "ticketing", "notification", "supplydemand"}
    for name, health in body["services"].items():
        assert health["name"] == name
        assert health["healthy"] is True
        assert health["database"]["reachable"] is True
        assert health["migration"]["current"] == health["migration"]["head"] is not None
