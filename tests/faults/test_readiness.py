"""Readiness that degrades gracefully (issue 19): ``/readyz`` says whether this gateway can
serve (its process and its broker connection), a service that stops answering opens its
circuit breaker in the gateway (its routes answer 503 with ``Retry-After`` at once, the other
services' routes are unaffected, it is probed again after a few seconds), and each service's
health is the metric ``gridsvc_service_up{service}`` behind the alert ``GridServiceDown``.

The breaker's rules are tested on :class:`gateway.rpc.Breaker` with a fake clock; the rest
against the real test platform and a real Prometheus with the project's rules."""

from __future__ import annotations

import json
import time

import pytest
import yaml
from conftest import METRICS_PORTS
from helpers import bearer, demand_body, eventually, new_enterprise_id, worker_calls
from prometheus_server import RULES, query

from common.auth import Role
from gateway.rpc import Breaker, CircuitOpen

# -- the breaker's rules ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_timeouts_and_a_reply_resets_the_count() -> None:
    clock = Clock()
    breaker = Breaker("ticketing", timeouts_to_open=3, open_seconds=5, clock=clock)
    breaker.record_timeout()
    breaker.record_timeout()
    breaker.record_reply()  # an answer, even an error, is a living service
    breaker.record_timeout()
    breaker.record_timeout()
    assert breaker.state == "closed" and breaker.allow() is False
    breaker.record_timeout()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen) as raised:
        breaker.allow()
    assert raised.value.retry_after == 5
    clock.now += 3.5
    with pytest.raises(CircuitOpen) as raised:
        breaker.allow()
    assert raised.value.retry_after == pytest.approx(1.5)


def test_breaker_lets_one_trial_through_after_its_open_time() -> None:
    clock = Clock()
    breaker = Breaker("supplydemand", open_seconds=5, clock=clock)
    breaker.open("no consumer on its RPC queue")
    clock.now += 5
    assert breaker.state == "half_open"
    assert breaker.allow() is True  # the trial
    with pytest.raises(CircuitOpen):
        breaker.allow()  # only one at a time
    breaker.record_timeout()  # the trial got no answer: open again, for another 5 s
    assert breaker.state == "open"
    clock.now += 5
    assert breaker.allow() is True
    breaker.end_trial()  # no verdict (say, the connection was lost): the next call tries
    assert breaker.allow() is True
    breaker.record_reply()
    assert breaker.state == "closed" and breaker.allow() is False


# -- on the test platform ---------------------------------------------------------------------


def service_down_expression() -> str:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return next(rule["expr"] for group in rules["groups"] for rule in group["rules"]
                if rule.get("alert") == "GridServiceDown")


def test_health_checks_log_no_alembic_lines(healthy_platform, client) -> None:
    """The monitor asks every service's health every few seconds: not a line each time."""
    reports = client.get("/readyz").json()["services"]
    assert all(r["migration"]["up_to_date"] for r in reports.values()), reports
    # one more round of probes at least: every service answered another health call
    probed = {name: worker_calls(METRICS_PORTS[name], "health") for name in METRICS_PORTS}
    assert eventually(lambda: all(worker_calls(METRICS_PORTS[n], "health") > probed[n]
                                  for n in probed), timeout=30, interval=0.2), probed
    for name in ("enterprise", "ticketing", "notification", "supplydemand"):
        lines = healthy_platform.procs[name].log_path.read_text(errors="replace").splitlines()
        alembic = [line for line in lines if '"alembic' in line or "alembic.runtime" in line]
        assert not alembic, f"{name}: {alembic[:3]}"


@pytest.mark.timeout(180)
def test_one_service_down_leaves_the_gateway_ready_and_the_rest_working(
        healthy_platform, client, token, prometheus) -> None:
    """supplydemand killed: /readyz stays 200, the board's routes answer 503 with Retry-After
    at once (the open breaker refuses them), demand submission works, GridServiceDown's
    expression is true for it; back once it is restarted."""
    enterprise_id = new_enterprise_id()
    owner = token(Role.ENTERPRISE, enterprise_id=enterprise_id)
    board = "/api/v1/listings"
    assert client.get(board, headers=bearer(owner)).status_code == 200
    expression = service_down_expression()
    assert not query(prometheus, expression), "GridServiceDown true before the fault"
    try:
        healthy_platform.kill("supplydemand")
        killed = time.monotonic()

        def seen_down():
            reports = client.get("/readyz").json()["services"]
            return reports["supplydemand"]["circuit"] != "closed"

        # the monitor probes every 2 s: a request already sent to the dead service waits for
        # its timeout (it may still be served by a replica that comes back in time); the ones
        # after the breaker opened are refused at once
        assert eventually(seen_down, timeout=10, interval=0.1), "the breaker never opened"
        opened_after = time.monotonic() - killed
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            refused = client.get(board, headers=bearer(owner))
            timings.append(time.perf_counter() - started)
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert 1 <= int(refused.headers["retry-after"]) <= 5
            assert refused.json()["code"] == "service.not_answering"
        print(f"\nbreaker open {opened_after:.2f}s after the kill; 503 in "
              f"{', '.join(f'{t * 1000:.1f}' for t in timings)} ms")
        # refused at once by the open breaker (503 service.not_answering), never the 504 of
        # a call left to time out; the times above are a figure, not a pass/fail

        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        reports = ready.json()["services"]
        assert reports["supplydemand"]["healthy"] is False
        assert reports["supplydemand"]["circuit"] in ("open", "half_open")
        assert reports["ticketing"]["healthy"] is True

        submitted = client.post("/api/v1/demands", headers=bearer(owner),
                                json=demand_body(enterprise_id=enterprise_id))
        assert submitted.status_code == 201, submitted.text

        def alert_true():
            return query(prometheus, expression)

        firing = eventually(alert_true, timeout=20, interval=0.5)
        assert [s["metric"].get("service") for s in firing] == ["supplydemand"], firing
    finally:
        healthy_platform.procs.pop("supplydemand", None)
        healthy_platform.start_service("supplydemand")
        healthy_platform.wait_ready(timeout=60)
    # probed again: the board answers once the service is back, no restart of the gateway
    back = eventually(lambda: client.get(board, headers=bearer(owner)).status_code == 200,
                      timeout=15, interval=0.25)
    assert back, client.get(board, headers=bearer(owner)).text
    assert eventually(lambda: not query(prometheus, expression), timeout=20, interval=0.5)


def test_readyz_reports_the_gateway_and_each_service(client) -> None:
    body = client.get("/readyz").json()
    assert body["status"] == "ready" and body["broker"] == "connected"
    assert set(body["services"]) == {"enterprise", "ticketing", "notification", "supplydemand"}
    assert {r["circuit"] for r in body["services"].values()} == {"closed"}
    metrics = client.get("/metrics").text
    for service in body["services"]:
        assert f'gridsvc_service_up{{service="{service}"}} 1.0' in metrics
        assert f'gridsvc_gateway_circuit_open{{service="{service}"}} 0.0' in metrics
    json.dumps(body)  # plain JSON all through
