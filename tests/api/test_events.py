"""Domain events: delivered after commit, handled once even when delivered again."""

from __future__ import annotations

import httpx
import kombu
from conftest import AMQP_URI, METRICS_PORTS
from helpers import bearer, demand_body, eventually, new_enterprise_id
from sqlalchemy import text

from common.auth import Role


def handled_count() -> float:
    metrics = httpx.get(f"http://127.0.0.1:{METRICS_PORTS['notification']}/metrics").text
    for line in metrics.splitlines():
        if line.startswith("gridsvc_worker_calls_total{") and "on_demand_received" in line \
                and 'outcome="ok"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_redelivered_event_makes_no_second_message(client, token, db):
    ent = new_enterprise_id()
    tok = token(Role.ENTERPRISE, enterprise_id=ent)
    demand = client.post("/api/v1/demands", json=demand_body(), headers=bearer(tok)).json()

    def inbox_total() -> int:
        return client.get("/api/v1/inbox", headers=bearer(tok)).json()["total"]

    assert eventually(inbox_total, timeout=2.0) == 1
    with db.connect() as conn:
        payload, published = conn.execute(
            text("SELECT payload, published_at FROM ticketing.outbox "
                 "WHERE payload->'data'->>'demand_id' = :d"), {"d": demand["id"]}
        ).one()
    assert published is not None
    before = handled_count()
    with kombu.Connection(AMQP_URI) as conn:
        producer = conn.Producer(serializer="json")
        exchange = kombu.Exchange("ticketing.events", type="topic", durable=True)
        for _ in range(2):
            producer.publish(payload, exchange=exchange, routing_key="demand_received")
    # both copies were handled (and found to be duplicates), not lost
    assert eventually(lambda: handled_count() >= before + 2, timeout=5.0)
    assert inbox_total() == 1
