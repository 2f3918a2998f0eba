"""PostgreSQL restarted under load: the gateway answers 503 fast while the database is down,
every process reconnects by itself, nothing acknowledged is lost or recorded twice, and every
``demand_received`` event reaches the inbox exactly once.

The database is a private PostgreSQL cluster of this test session (:mod:`private_infra`): the
machine's shared one is never stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fault_load import (
    FULL,
    DemandLoad,
    assert_each_acknowledged_demand_exactly_once,
    assert_each_delivered_exactly_once,
    scaled,
)
from helpers import bearer, demand_body, eventually
from private_infra import PrivateStack
from sqlalchemy import text
from sqlalchemy.engine import Engine
from test_broker_outage import UNAVAILABLE_WITHIN, enterprise_token, ready

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(int(scaled(300, 600)))]


# a crash-like stop under ``make test``; a clean one too under ``make chaos``
@pytest.mark.parametrize("mode", ["immediate", "fast"] if FULL else ["immediate"])
def test_database_restart_under_load_loses_nothing(stack: PrivateStack, mode: str) -> None:
    """``pg_ctl stop -m immediate`` (every backend killed, as in a crash) or ``-m fast``
    (clients disconnected, clean shutdown) while clients submit demands; started again after
    a few seconds."""
    total = int(scaled(300, 1000))
    down_for = scaled(5, 20)
    tok = enterprise_token(stack.new_enterprise())
    pids = {name: p.popen.pid for name, p in stack.platform.procs.items()}
    client = httpx.Client(base_url=stack.gateway_url, timeout=10)
    with DemandLoad(stack.gateway_url, tok, total, rate=scaled(30, 40),
                    budget=scaled(240, 480)) as load:
        load.wait_for(total // 3)
        at_stop = load.done
        stack.postgres.stop(mode)
        stopped = time.monotonic()
        time.sleep(1.0)  # requests in flight at the stop settle
        readyz = client.get("/readyz")
        answer = client.get("/api/v1/demands", headers=bearer(tok))
        time.sleep(down_for)
        probe_end = time.monotonic()
        stack.postgres.start()
        restarted = time.monotonic()
        assert eventually(lambda: ready(client), timeout=60, interval=0.25), \
            client.get("/readyz").text
        recovered = time.monotonic()
    client.close()
    during = load.answers_between(stopped + 1.0, probe_end)
    latencies = sorted(a.seconds for a in during)
    print(f"\nPostgreSQL stop -m {mode} under load: {total} demands, {at_stop} acknowledged "
          f"before; down {restarted - stopped:.1f}s, ready {recovered - restarted:.1f}s after "
          f"the restart; {len(during)} answers while down, statuses "
          f"{sorted({a.status for a in during})}, slowest {latencies[-1] if latencies else 0:.3f}s;"
          f" all answers {dict(load.statuses())}")

    assert 0 < at_stop < total, "the database restart did not land mid-stream"
    # the gateway can still serve (it holds the broker): the services answer 503 themselves
    assert readyz.status_code == 200, readyz.text
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert during, "no request reached the gateway while the database was down"
    assert {a.status for a in during} == {503}, "not a 503 while the database was down"
    assert latencies[-1] < UNAVAILABLE_WITHIN, "a 503 waited (for a timeout?)"
    # nobody was restarted: every process reconnected by itself
    assert {name: p.popen.pid for name, p in stack.platform.procs.items()} == pids
    assert all(p.alive for p in stack.platform.procs.values())
    db = stack.engine()
    try:
        assert_each_acknowledged_demand_exactly_once(load, db)
        assert_each_delivered_exactly_once(load, db)
    finally:
        db.dispose()


# ---------------------------------------------------------------- one connection dropped
# The restart above drops every connection at once, at a random point of each worker. The
# two tests below drop one service's connection at a chosen point: a table of that service is
# locked, the service's query waits on the lock, and its backend is terminated (as PostgreSQL
# does to every backend in a crash).


def terminate_blocked(db: Engine, application: str, timeout: float = 10) -> int:
    """Terminate the backends of ``application`` that wait on a lock; how many (0: none came)."""

    def blocked() -> list[int]:
        with db.connect() as conn:
            return list(conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = :a "
                "AND wait_event_type = 'Lock'"), {"a": application}).scalars())

    pids = eventually(blocked, timeout=timeout, interval=0.05)
    with db.connect() as conn:
        for pid in pids or []:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    return len(pids or [])


@contextmanager
def table_locked(db: Engine, table: str) -> Iterator[None]:
    with db.connect() as conn, conn.begin():
        conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        yield


def test_a_connection_lost_inside_a_nested_call_is_503_and_the_retry_succeeds(
        stack: PrivateStack) -> None:
    """ticketing asks the registry about the enterprise while submitting; the registry's
    connection dies mid-query: the client gets 503 (not 500), and its retry creates it."""
    tok = enterprise_token(stack.new_enterprise())
    db = stack.engine()
    key = {"Idempotency-Key": f"nested-{time.monotonic_ns()}"}
    answers: list[httpx.Response] = []
    try:
        with table_locked(db, "enterprise.enterprises"):
            submit = threading.Thread(target=lambda: answers.append(httpx.post(
                f"{stack.gateway_url}/api/v1/demands", json=demand_body(),
                headers=bearer(tok) | key, timeout=15)))
            submit.start()
            assert terminate_blocked(db, "enterprise") >= 1, "the registry never blocked"
            submit.join(15)
        assert answers[0].status_code == 503, answers[0].text
        assert answers[0].headers["content-type"] == "application/problem+json"
        retry = httpx.post(f"{stack.gateway_url}/api/v1/demands", json=demand_body(),
                           headers=bearer(tok) | key, timeout=15)
        assert retry.status_code == 201, retry.text
    finally:
        db.dispose()


def test_an_event_whose_handler_loses_its_connection_is_handled_later(
        stack: PrivateStack) -> None:
    """notification's connection dies while it records a ``demand_received``: the event goes
    back to its queue and reaches the inbox once the database answers, exactly once."""
    ent = stack.new_enterprise()
    tok = enterprise_token(ent)
    db = stack.engine()
    try:
        with table_locked(db, "notification.processed_events"):
            created = httpx.post(f"{stack.gateway_url}/api/v1/demands", json=demand_body(),
                                 headers=bearer(tok), timeout=15)
            assert created.status_code == 201, created.text
            assert terminate_blocked(db, "notification") >= 1, "the handler never blocked"
        link = f"/demands/{created.json()['id']}"

        def delivered() -> int:
            with db.connect() as conn:
                return conn.execute(text(
                    "SELECT count(*) FROM notification.inbox_messages WHERE link = :l"),
                    {"l": link}).scalar_one()

        assert eventually(delivered, timeout=15, interval=0.2) == 1, "the event was lost"
        time.sleep(1.5)
        assert delivered() == 1
    finally:
        db.dispose()
