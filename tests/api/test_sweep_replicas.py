"""Acceptance: "With two ticketing replicas running and 1,000 tasks due in the same minute, each
breach and each escalation (督办升级) is recorded exactly once."

The real platform plus a second ticketing process (its own metrics port, a 1 s sweep); the
1,000 accepted tasks are written straight into the database, as if accepted a while ago, with
their handling deadlines (办理时限) falling due one after another over the next four seconds:
both replicas' sweeps tick within that time, so each gets a share whatever the machine's load
(all due at once, one busy replica could claim them all in a single tick).
"""

from __future__ import annotations

import re
import socket
import time
import uuid

import httpx
import pytest
from conftest import METRICS_PORTS
from helpers import eventually, worker_calls
from sqlalchemy import text
from sqlalchemy.engine import Engine

from devtools.processes import Platform

TASKS = 1000
DEPARTMENTS = [f"dept-{i:02d}" for i in range(14)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def handling_fired(port: int) -> float | None:
    """``gridsvc_sla_deadlines_due_total{kind="handling"}`` of one replica (None: no answer)."""
    try:
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=3).text
    except httpx.HTTPError:
        return None
    match = re.search(r'^gridsvc_sla_deadlines_due_total\{kind="handling"\} (\S+)$', body, re.M)
    return float(match.group(1)) if match else 0.0


INSERT = """
WITH d AS (
  INSERT INTO ticketing.demands (id, number, enterprise_id, channel, title, description,
    urgency, attachments, status, received_at, triage_due_at, triage_due_provisional,
    recorded_by, recorded_role, version)
  SELECT gen_random_uuid(), 'R' || left(md5(:marker), 8) || '-' || i, :marker, 'enterprise',
    '超时压测', 'replicas', 'normal', '[]'::jsonb, 'in_progress', now() - interval '10 days',
    now() - interval '9 days', false, 'test', 'admin', 1
  FROM generate_series(1, :n) AS i
  RETURNING id
), t AS (
  INSERT INTO ticketing.tasks (id, demand_id, department_id, status, difficulty,
    handling_workdays, accept_due_at, due_at, due_provisional, accepted_at, accepted_by,
    reopen_count, escalation_level, version)
  SELECT gen_random_uuid(), d.id, (:departments)[1 + abs(hashtext(d.id::text)) % 14],
    'accepted', 'normal', 5, now() - interval '9 days', now() - interval '5 seconds', false,
    now() - interval '9 days', 'test', 0, 0, 1
  FROM d
  RETURNING id, department_id, due_at
)
INSERT INTO ticketing.deadlines (kind, subject_id, department_id, level, due_at)
SELECT 'handling', t.id, t.department_id, 1,
       now() + (row_number() OVER (ORDER BY t.id)) * interval '4 milliseconds'
FROM t
"""


def scalar(db: Engine, sql: str, **params: object) -> int:
    with db.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


@pytest.mark.timeout(120)
def test_two_replicas_record_each_breach_and_escalation_once(
        healthy_platform: Platform, db: Engine) -> None:
    port = free_port()
    replica = healthy_platform.start_service(
        "ticketing", replica="2",
        extra_env={"METRICS_PORT": str(port), "SLA_SWEEP_SECONDS": "1"})
    marker = f"ent-rep-{uuid.uuid4().hex[:10]}"
    mine = ("SELECT t.id FROM ticketing.tasks t JOIN ticketing.demands d ON d.id = t.demand_id "
            "WHERE d.enterprise_id = :m")
    try:
        assert eventually(lambda: handling_fired(port) is not None, timeout=30, interval=0.2), \
            "the second ticketing replica did not start"
        # its timer is running: a tick has finished (polled, not slept for)
        assert eventually(lambda: worker_calls(port, "sla_sweep_tick") >= 1, timeout=30,
                          interval=0.2), "the second replica's sweep timer never ticked"
        before = {p: handling_fired(p) or 0.0 for p in (METRICS_PORTS["ticketing"], port)}

        started = time.monotonic()
        with db.begin() as conn:
            conn.execute(text(INSERT), {"marker": marker, "n": TASKS,
                                        "departments": DEPARTMENTS})
        pending = f"SELECT count(*) FROM ticketing.deadlines WHERE subject_id IN ({mine}) " \
                  "AND kind = 'handling' AND fired_at IS NULL"
        assert scalar(db, pending, m=marker) == TASKS
        assert eventually(lambda: scalar(db, pending, m=marker) == 0, timeout=45, interval=0.2)
        elapsed = time.monotonic() - started
        assert replica.alive

        breaches = scalar(db, "SELECT count(*) FROM ticketing.breaches WHERE kind = 'handling' "
                              f"AND subject_id IN ({mine})", m=marker)
        distinct_deadlines = scalar(
            db, "SELECT count(DISTINCT deadline_id) FROM ticketing.breaches "
                f"WHERE subject_id IN ({mine})", m=marker)
        escalations = scalar(db, "SELECT count(*) FROM ticketing.escalations WHERE level = 1 "
                                 f"AND cause = 'overdue' AND task_id IN ({mine})", m=marker)
        assert (breaches, distinct_deadlines, escalations) == (TASKS, TASKS, TASKS)
        for event in ("sla_breached", "task_escalated"):
            total, distinct = (
                scalar(db, f"SELECT {what} FROM ticketing.outbox WHERE event_type = :e "
                           "AND payload->'data'->>'enterprise_id' = :m", e=event, m=marker)
                for what in ("count(*)", "count(DISTINCT payload->'data'->>'task_id')"))
            assert (event, total, distinct) == (event, TASKS, TASKS)
        assert scalar(db, f"SELECT count(*) FROM ticketing.tasks WHERE id IN ({mine}) "
                          "AND escalation_level = 1", m=marker) == TASKS
        # the next rung (分管领导, level 2) is planned once per task
        assert scalar(db, "SELECT count(*) FROM ticketing.deadlines WHERE kind = 'escalation' "
                          f"AND level = 2 AND subject_id IN ({mine})", m=marker) == TASKS

        delay = scalar(db, "SELECT extract(epoch FROM max(fired_at - due_at))::int "
                           "FROM ticketing.deadlines WHERE kind = 'handling' "
                           f"AND subject_id IN ({mine})", m=marker)
        after = {p: handling_fired(p) or 0.0 for p in before}
        split = {p: after[p] - before[p] for p in before}
        print(f"\n1,000 handling deadlines fired in {elapsed:.1f}s by two replicas "
              f"(split by metrics port {split}); max timer delay {delay}s")
        assert sum(split.values()) >= TASKS
        # open tasks by state and department, read from the database at scrape time
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert re.search(r'^gridsvc_open_tasks\{department="dept-\d\d",state="accepted"\} ',
                         body, re.M), body[-2000:]
        assert split[port] > 0  # the second replica did its share
    finally:
        healthy_platform.stop("ticketing2")
        with db.begin() as conn:  # leave no ladder behind for later tests
            conn.execute(text("UPDATE ticketing.deadlines SET cancelled_at = now() "
                              f"WHERE fired_at IS NULL AND subject_id IN ({mine})"),
                         {"m": marker})
