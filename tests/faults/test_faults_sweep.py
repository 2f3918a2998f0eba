"""Two ticketing replicas sweep a few thousand due handling deadlines (办理时限); the replica
that holds a claimed batch is killed (``kill -9``) in the middle of it: every deadline is still
handled exactly once (one breach, one 督办 escalation, one event each), by the survivor.

"In the middle of a sweep" is observed, not hoped for: PostgreSQL shows which backend holds an
open sweep transaction that has locked rows, and the client port of that backend tells which
replica's process owns the connection; that process is the one killed.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from fault_load import scaled
from helpers import eventually, worker_calls
from sqlalchemy import text
from sqlalchemy.engine import Engine
from test_sweep_replicas import DEPARTMENTS, INSERT, free_port, handling_fired, scalar

from devtools.processes import Platform

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(int(scaled(180, 400)))]

TASKS = int(scaled(3000, 10000))
MINE = ("SELECT t.id FROM ticketing.tasks t JOIN ticketing.demands d ON d.id = t.demand_id "
        "WHERE d.enterprise_id = :m")


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir() if fd_dir.exists() else []:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def inode_of_local_port(port: int) -> str | None:
    """The inode of the TCP socket bound locally to 127.0.0.1:``port`` (IPv4 or IPv6)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    return fields[9]
    return None


def sweeping_backend(db: Engine) -> tuple[int, int] | None:
    """(backend pid, client port) of a ticketing session inside a sweep transaction that has
    locked deadlines (it has a transaction id: ``FOR UPDATE`` writes row locks)."""
    with db.connect() as conn:
        row = conn.execute(text(
            "SELECT pid, client_port FROM pg_stat_activity "
            "WHERE application_name = 'ticketing' AND datname = current_database() "
            "AND backend_xid IS NOT NULL AND state IN ('active', 'idle in transaction') "
            "AND query ILIKE '%deadlines%' AND pid <> pg_backend_pid() LIMIT 1")).first()
    return (row.pid, row.client_port) if row else None


def owner_of(client_port: int, procs: dict[str, int]) -> str | None:
    inode = inode_of_local_port(client_port)
    if inode is None:
        return None
    for name, pid in procs.items():
        if inode in socket_inodes(pid):
            return name
    return None


def test_a_replica_killed_mid_sweep_leaves_every_deadline_handled_once(
        healthy_platform: Platform, db: Engine) -> None:
    port = free_port()
    healthy_platform.start_service(
        "ticketing", replica="2", extra_env={"METRICS_PORT": str(port), "SLA_SWEEP_SECONDS": "1"})
    marker = f"ent-kill-{uuid.uuid4().hex[:10]}"
    victim = None
    try:
        assert eventually(lambda: handling_fired(port) is not None, timeout=30, interval=0.2), \
            "the second ticketing replica did not start"
        # its timer is running: a tick has finished (polled, not slept for)
        assert eventually(lambda: worker_calls(port, "sla_sweep_tick") >= 1, timeout=30,
                          interval=0.2), "the second replica's sweep timer never ticked"
        replicas = {name: healthy_platform.procs[name].popen.pid
                    for name in ("ticketing", "ticketing2")}
        pending = ("SELECT count(*) FROM ticketing.deadlines WHERE kind = 'handling' "
                   f"AND fired_at IS NULL AND subject_id IN ({MINE})")
        with db.begin() as conn:
            conn.execute(text(INSERT), {"marker": marker, "n": TASKS,
                                        "departments": DEPARTMENTS})

        # once some deadlines are handled, watch for a replica holding a claimed batch, and
        # kill that one
        deadline = time.monotonic() + 60
        left_at_kill = None
        while victim is None and time.monotonic() < deadline:
            left = scalar(db, pending, m=marker)
            if left == 0:
                break
            found = sweeping_backend(db) if left < TASKS else None
            name = owner_of(found[1], replicas) if found else None
            if name is not None:
                healthy_platform.kill(name, signal.SIGKILL)
                victim, left_at_kill = name, left
            time.sleep(0.005)
        assert victim is not None, "no replica was caught in the middle of a sweep"
        assert 0 < left_at_kill < TASKS, left_at_kill
        survivor = "ticketing2" if victim == "ticketing" else "ticketing"
        assert healthy_platform.procs[survivor].alive
        assert eventually(lambda: scalar(db, pending, m=marker) == 0, timeout=60,
                          interval=0.2), "the survivor did not take over the deadlines"

        breaches = scalar(db, "SELECT count(*) FROM ticketing.breaches WHERE kind = 'handling' "
                              f"AND subject_id IN ({MINE})", m=marker)
        distinct_deadlines = scalar(
            db, "SELECT count(DISTINCT deadline_id) FROM ticketing.breaches "
                f"WHERE subject_id IN ({MINE})", m=marker)
        escalations = scalar(db, "SELECT count(*) FROM ticketing.escalations WHERE level = 1 "
                                 f"AND cause = 'overdue' AND task_id IN ({MINE})", m=marker)
        assert (breaches, distinct_deadlines, escalations) == (TASKS, TASKS, TASKS)
        for event in ("sla_breached", "task_escalated"):
            total, distinct = (
                scalar(db, f"SELECT {what} FROM ticketing.outbox WHERE event_type = :e "
                           "AND payload->'data'->>'enterprise_id' = :m", e=event, m=marker)
                for what in ("count(*)", "count(DISTINCT payload->'data'->>'task_id')"))
            assert (event, total, distinct) == (event, TASKS, TASKS)
        assert scalar(db, f"SELECT count(*) FROM ticketing.tasks WHERE id IN ({MINE}) "
                          "AND escalation_level = 1", m=marker) == TASKS
        assert scalar(db, "SELECT count(*) FROM ticketing.deadlines WHERE kind = 'escalation' "
                          f"AND level = 2 AND subject_id IN ({MINE})", m=marker) == TASKS
        print(f"\n{TASKS} handling deadlines, two replicas: {victim} killed holding a claimed "
              f"batch with {left_at_kill} deadlines still pending; {survivor} finished the rest; "
              "each breach, escalation and event recorded once")
    finally:
        if victim == "ticketing":
            healthy_platform.procs.pop("ticketing")
            healthy_platform.start_service("ticketing")
        healthy_platform.stop("ticketing2")
        with db.begin() as conn:  # leave no ladder behind for later tests
            conn.execute(text("UPDATE ticketing.deadlines SET cancelled_at = now() "
                              f"WHERE fired_at IS NULL AND subject_id IN ({MINE})"),
                         {"m": marker})
        healthy_platform.wait_ready(timeout=60)
