"""kill -9 of the ticketing service while demands are being submitted: every demand the
gateway acknowledged exists afterwards, exactly once (clients retry with their key)."""

from __future__ import annotations

import signal
import threading
import time
import uuid

import httpx
import pytest
from helpers import bearer, demand_body, new_enterprise_id
from sqlalchemy import text

from common.auth import Role

pytestmark = pytest.mark.timeout(180)

CLIENTS, PER_CLIENT = 8, 60


def submit_until_acknowledged(base: str, tok: str, key: str, deadline: float) -> str | None:
    """What a well-behaved client does: retry the same key until the gateway says 200/201."""
    with httpx.Client(base_url=base, timeout=15) as client:
        while time.monotonic() < deadline:
            try:
                r = client.post("/api/v1/demands", json=demand_body(title=f"诉求 {key}"),
                                headers=bearer(tok) | {"Idempotency-Key": key})
            except httpx.TransportError:
                r = None
            if r is not None and r.status_code in (200, 201):
                return r.json()["id"]
            time.sleep(0.2)
    return None


def test_kill_9_of_ticketing_loses_and_duplicates_nothing(healthy_platform, token, db):
    base = healthy_platform.gateway_url()
    ent = new_enterprise_id()
    tok = token(Role.ENTERPRISE, enterprise_id=ent, user_id=f"crash-{uuid.uuid4().hex[:6]}")
    keys = [f"crash-{uuid.uuid4().hex}" for _ in range(CLIENTS * PER_CLIENT)]
    acknowledged: dict[str, str | None] = {}
    deadline = time.monotonic() + 120

    def client(chunk: list[str]) -> None:
        for key in chunk:
            acknowledged[key] = submit_until_acknowledged(base, tok, key, deadline)

    threads = [threading.Thread(target=client, args=(keys[i::CLIENTS],))
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    healthy_platform.kill("ticketing", signal.SIGKILL)  # mid-stream, no goodbye
    done_at_kill = len(acknowledged)
    time.sleep(1.0)
    healthy_platform.procs.pop("ticketing")
    healthy_platform.start_service("ticketing")
    for t in threads:
        t.join()

    assert all(acknowledged[k] for k in keys), "a client never got its demand acknowledged"
    assert 0 < done_at_kill < len(keys), "the kill did not land mid-stream"
    with db.connect() as conn:
        rows = conn.execute(text(
            "SELECT idempotency_key, id::text FROM ticketing.demands WHERE enterprise_id = :e"),
            {"e": ent}).all()
    stored: dict[str, list[str]] = {}
    for key, demand_id in rows:
        stored.setdefault(key, []).append(demand_id)
    assert len(rows) == len(keys), "lost or duplicated demands"
    for key in keys:
        assert stored[key] == [acknowledged[key]]  # exactly once, the acknowledged one
