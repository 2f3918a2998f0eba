"""Benchmark of the SLA sweep (时限巡检) at scale, against real processes.

    python -m bench.sla_sweep                         # 1,000,000 demands, 10,000 due, 2 replicas
    python -m bench.sla_sweep --demands 200000 --due 2000 --replicas 1 --drop

The issue: "1,000,000 demands in PostgreSQL, 10,000 coming due in the same minute, two
ticketing replicas: time from the deadline until all are handled, timer delay p50 and p99, and
the count of duplicate effects (must be 0). Target: all handled within 10 s of their deadline."

What it does, on its own database ``gridsvc_bench`` (recreated and migrated at the start, kept
at the end unless ``--drop``) and its own RabbitMQ vhost ``gridsvc_bench`` (deleted at the end):

1. Fill ``ticketing.demands`` with ``--demands`` rows in one ``INSERT ... SELECT`` over
   ``generate_series`` (two years of closed demands, the latest ``--due + --pending`` in
   progress with one accepted task each), a cancelled triage deadline per demand (history the
   partial index must skip) and ``--pending`` handling deadlines due next month.
2. Start ``--replicas`` ticketing processes (``SLA_SWEEP_SECONDS=1``; the sweep makes no RPC
   call, so no other service is needed), wait until they run idle, then schedule ``--due``
   handling deadlines (办理时限) all due at the same second about ``--lead`` seconds ahead: a
   handling deadline is 18:00 of a working day, so a busy day's deadlines really do come due
   at one instant (``--spread S`` spreads them over S seconds instead).
3. Wait until every one has ``fired_at``; read from the database the time from the deadline to
   the last one fired, the timer delay (``fired_at - due_at``) percentiles, and every effect
   (breach, level 1 escalation, level 2 deadline, outbox events) against its distinct subjects:
   duplicates must be 0. Each replica's ``gridsvc_sla_deadlines_due_total`` shows the split.
4. Reference: the same deadlines, on a fresh copy of the table, claimed and marked fired by a
   bare SQL loop (``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 500)``, one
   connection, no effects): the database's own limit. The sweep is reported as a multiple.
"""

from __future__ import annotations

import argparse
import math
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from devtools.migrate import upgrade_all
from devtools.processes import Platform

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
DATABASE = "gridsvc_bench"
DATABASE_URL = f"{PG}/{DATABASE}"
VHOST = "gridsvc_bench"
AMQP_URI = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
TARGET_SECONDS = 10.0
BATCH = 500  # as services.ticketing.sweep.BATCH

CHANNELS = ["grid_worker", "service_window", "app", "wechat", "website", "hotline", "enterprise"]
CATEGORIES = ["talent", "education", "economy", "technology", "finance", "funding",
              "construction", "city_operation", "approval", "licence", "police", "traffic",
              "fire", "planning", "environment", "tax", "investment", "general"]
DEPARTMENTS = ["party_people", "economic_development", "science_innovation", "finance",
               "construction", "approval_service", "investment_promotion", "general_office",
               "public_security", "traffic_police", "fire_rescue", "natural_resources",
               "ecology_environment", "taxation"]
DIFFICULTIES = ["easy", "normal", "hard"]
CLOSURES = ["rated", "rated", "rated", "internal", "unrated"]

# --------------------------------------------------------------------------- fill

DEMANDS = """
INSERT INTO ticketing.demands (
  id, number, enterprise_id, channel, category, title, description, urgency, attachments,
  status, received_at, triage_due_at, triage_due_provisional, recorded_by, recorded_role,
  version, created_at, grid_id, difficulty, proposed_opinion, triaged_at, triaged_by,
  closure, completed_at, closed_at)
SELECT
  gen_random_uuid(),
  'SB' || lpad(i::text, 9, '0'),
  'bench-ent-' || lpad((1 + i % 1200)::text, 4, '0'),
  (:channels)[1 + i % 7],
  (:categories)[1 + i % 18],
  '诉求 ' || i || '：' || (:categories)[1 + i % 18],
  '企业反映的问题与诉求（压测数据） ' || md5(i::text),
  CASE WHEN i % 10 = 0 THEN 'urgent' ELSE 'normal' END,
  '[]'::jsonb,
  CASE WHEN r.open THEN 'in_progress' ELSE 'closed' END,
  r.at, r.at + interval '1 day', false, 'gridworker.bench', 'grid_worker',
  4, r.at,
  CASE WHEN i % 5 < 3 THEN 'INC' || lpad((1 + i % 24)::text, 2, '0')
       ELSE 'GEO' || lpad((1 + i % 15)::text, 2, '0') END,
  (:difficulties)[1 + i % 3],
  '拟办意见（压测）', r.at + interval '20 hours', 'coordinator.bench',
  CASE WHEN NOT r.open THEN (:closures)[1 + i % 5] END,
  CASE WHEN NOT r.open THEN r.at + interval '12 days' END,
  CASE WHEN NOT r.open THEN r.at + interval '15 days' END
FROM generate_series(1, :n) AS i,
LATERAL (SELECT now() - interval '20 days' - (:n - i) * (interval '730 days' / :n) AS at,
                i > :n - :open AS open) AS r
"""

TRIAGE_HISTORY = """
INSERT INTO ticketing.deadlines (kind, subject_id, level, due_at, cancelled_at, created_at)
SELECT 'triage', id, 0, triage_due_at, triaged_at, received_at FROM ticketing.demands
"""

TASKS = """
INSERT INTO ticketing.tasks (
  id, demand_id, department_id, status, opinion, difficulty, handling_workdays, accept_due_at,
  due_at, due_provisional, accepted_at, accepted_by, reopen_count, escalation_level, version,
  created_at)
SELECT gen_random_uuid(), d.id, (:departments)[1 + abs(hashtext(d.number)) % 14], 'accepted',
  '拟办意见（压测）', d.difficulty, 20, d.triaged_at + interval '1 day',
  date_trunc('day', now()) + interval '30 days' + (hashtext(d.number) & 15) * interval '1 day'
    + interval '10 hours',
  false, d.triaged_at + interval '4 hours', 'liaison.bench', 0, 0, 2, d.triaged_at
FROM ticketing.demands d WHERE d.status = 'in_progress'
"""

DUE_TASKS = """
CREATE TABLE bench.due_tasks AS
SELECT row_number() OVER (ORDER BY id) AS n, id AS task_id, department_id,
       NULL::bigint AS deadline_id
FROM ticketing.tasks ORDER BY id LIMIT :due
"""

PENDING = """
INSERT INTO ticketing.deadlines (kind, subject_id, department_id, level, due_at, created_at)
SELECT 'handling', t.id, t.department_id, 1, t.due_at, t.accepted_at
FROM ticketing.tasks t
WHERE NOT EXISTS (SELECT 1 FROM bench.due_tasks b WHERE b.task_id = t.id)
"""

SCHEDULE_DUE = """
WITH d AS (
  INSERT INTO ticketing.deadlines (kind, subject_id, department_id, level, due_at)
  SELECT 'handling', task_id, department_id, 1, :due_at + (n - 1) * :step FROM bench.due_tasks
  RETURNING id, subject_id, due_at
), t AS (
  UPDATE ticketing.tasks t SET due_at = d.due_at FROM d WHERE t.id = d.subject_id
)
UPDATE bench.due_tasks b SET deadline_id = d.id FROM d WHERE b.task_id = d.subject_id
"""

MINE = "SELECT deadline_id FROM bench.due_tasks"
MY_TASKS = "SELECT task_id FROM bench.due_tasks"


def timed_sql(engine: Engine, sql: str, **params: Any) -> tuple[int, float]:
    started = time.perf_counter()
    with engine.begin() as conn:
        rows = conn.execute(text(sql), params).rowcount
    return rows, time.perf_counter() - started


def vacuum(engine: Engine, *tables: str) -> float:
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    return time.perf_counter() - started


def recreate_database() -> float:
    started = time.perf_counter()
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    finally:
        admin.dispose()
    upgrade_all(DATABASE_URL)
    return time.perf_counter() - started


def drop_database() -> None:
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    finally:
        admin.dispose()


def fill(engine: Engine, demands: int, due: int, pending: int) -> dict[str, float]:
    """The data set; returns seconds per step (``total`` included)."""
    open_ = due + pending
    if open_ > demands:
        raise SystemExit(f"--due + --pending ({open_:,}) exceeds --demands ({demands:,})")
    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA bench"))
    times: dict[str, float] = {}
    rows, times["demands"] = timed_sql(
        engine, DEMANDS, n=demands, open=open_, channels=CHANNELS, categories=CATEGORIES,
        difficulties=DIFFICULTIES, closures=CLOSURES)
    assert rows == demands, rows
    _, times["triage_history"] = timed_sql(engine, TRIAGE_HISTORY)
    rows, times["tasks"] = timed_sql(engine, TASKS, departments=DEPARTMENTS)
    assert rows == open_, rows
    _, times["due_tasks"] = timed_sql(engine, DUE_TASKS, due=due)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE bench.due_tasks ADD PRIMARY KEY (task_id)"))
    rows, times["pending_deadlines"] = timed_sql(engine, PENDING)
    assert rows == pending, rows
    times["vacuum_analyze"] = vacuum(engine, "ticketing.demands", "ticketing.tasks",
                                     "ticketing.deadlines", "bench.due_tasks")
    times["total"] = sum(times.values())
    return times


# --------------------------------------------------------------------------- processes


def rabbitmqctl(*args: str, check: bool = True) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True, timeout=60)


def recreate_vhost() -> None:
    rabbitmqctl("delete_vhost", VHOST, check=False)
    rabbitmqctl("add_vhost", VHOST)
    rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def metric(port: int, name: str, labels: str = "") -> float:
    """One sample of a replica's /metrics (0 if absent)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        body = resp.read().decode()
    match = re.search(rf"^{name}{re.escape(labels)} (\S+)$", body, re.M)
    return float(match.group(1)) if match else 0.0


def log_tails(platform: Platform, lines: int = 30) -> str:
    out = []
    for proc in platform.procs.values():
        if proc.log_path and proc.log_path.exists():
            tail = proc.log_path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {proc.name} ({proc.log_path}) ---\n" + "\n".join(tail))
    return "\n".join(out)


def start_replicas(platform: Platform, replicas: int, timeout: float = 60.0) -> dict[str, int]:
    ports = {}
    for i in range(1, replicas + 1):
        port = free_port()
        proc = platform.start_service("ticketing", replica=str(i),
                                      extra_env={"METRICS_PORT": str(port)})
        ports[proc.name] = port
    deadline = time.monotonic() + timeout
    while not all(listening(p) for p in ports.values()):
        dead = [p.name for p in platform.procs.values() if not p.alive]
        if dead or time.monotonic() > deadline:
            raise RuntimeError(f"ticketing replicas did not start ({dead or 'timeout'}):\n"
                               + log_tails(platform))
        time.sleep(0.2)
    time.sleep(2.0)  # their timers tick now, on nothing due
    return ports


# --------------------------------------------------------------------------- measures


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def schedule_due(engine: Engine, lead: float, spread: float, due: int) -> datetime:
    """Insert the ``due`` handling deadlines, the first one ``lead`` s ahead (whole second)."""
    first = datetime.fromtimestamp(math.ceil(time.time() + lead), UTC)
    step = timedelta(seconds=spread / due) if spread > 0 else timedelta(0)
    rows, _ = timed_sql(engine, SCHEDULE_DUE, due_at=first, step=step)
    assert rows == due, rows
    return first


def wait_fired(engine: Engine, platform: Platform, first_due: datetime, due: int,
               timeout: float) -> float:
    """Poll until every due deadline has fired; returns the wall time after the first due."""
    time.sleep(max(0.0, first_due.timestamp() - time.time()))
    started = time.monotonic()
    last_print = 0.0
    pending_sql = ("SELECT count(*) FROM ticketing.deadlines "
                   f"WHERE id IN ({MINE}) AND fired_at IS NULL")
    while True:
        pending = scalar(engine, pending_sql)
        elapsed = time.monotonic() - started
        if pending == 0:
            return elapsed
        dead = [p.name for p in platform.procs.values() if not p.alive]
        if dead:
            raise RuntimeError(f"replica(s) died: {dead}\n" + log_tails(platform))
        if elapsed > timeout:
            raise TimeoutError(f"{pending:,} of {due:,} deadlines still pending after "
                               f"{timeout:.0f} s\n" + log_tails(platform))
        if elapsed - last_print >= 5:
            print(f"  {elapsed:5.1f} s after the deadline: {due - pending:,} of {due:,} fired")
            last_print = elapsed
        time.sleep(0.5)


TIMES = f"""
SELECT count(*) AS n, count(fired_at) AS fired, min(due_at) AS first_due,
  max(due_at) AS last_due, min(fired_at) AS first_fired, max(fired_at) AS last_fired,
  percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP
    (ORDER BY extract(epoch FROM fired_at - due_at)) AS pct,
  max(extract(epoch FROM fired_at - due_at)) AS max_delay
FROM ticketing.deadlines WHERE id IN ({MINE})
"""

#: (name, SQL giving total and distinct): every effect against its distinct subjects
EFFECTS = {
    "breaches": "SELECT count(*), count(DISTINCT deadline_id) FROM ticketing.breaches "
                f"WHERE deadline_id IN ({MINE})",
    "escalations (level 1)": "SELECT count(*), count(DISTINCT task_id) FROM "
                             "ticketing.escalations WHERE level = 1 AND cause = 'overdue' "
                             f"AND task_id IN ({MY_TASKS})",
    "level 2 deadlines": "SELECT count(*), count(DISTINCT subject_id) FROM ticketing.deadlines "
                         f"WHERE kind = 'escalation' AND level = 2 AND subject_id IN ({MY_TASKS})",
    "sla_breached events": "SELECT count(*), count(DISTINCT payload->'data'->>'deadline_id') "
                           "FROM ticketing.outbox WHERE event_type = 'sla_breached'",
    "task_escalated events": "SELECT count(*), count(DISTINCT payload->'data'->>'task_id') "
                             "FROM ticketing.outbox WHERE event_type = 'task_escalated'",
}


def measure(engine: Engine, due: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(text(TIMES)).mappings().one()
        effects = {name: tuple(conn.execute(text(sql)).one()) for name, sql in EFFECTS.items()}
        escalated = conn.execute(text(
            f"SELECT count(*) FROM ticketing.tasks WHERE id IN ({MY_TASKS}) "
            "AND escalation_level = 1")).scalar_one()
        stray = conn.execute(text(
            "SELECT count(*) FROM ticketing.deadlines WHERE fired_at IS NOT NULL "
            f"AND kind <> 'escalation' AND id NOT IN ({MINE})")).scalar_one()
        published = conn.execute(text(
            "SELECT count(published_at), count(*) FROM ticketing.outbox")).one()
    p50, p95, p99 = row["pct"]
    last_fired = row["last_fired"]
    duplicates = sum(total - distinct for total, distinct in effects.values())
    missing = sum(max(0, due - distinct) for distinct in (d for _, d in effects.values()))
    return {
        "fired": row["fired"],
        "first_due": row["first_due"].isoformat(),
        "last_due": row["last_due"].isoformat(),
        "first_fired": row["first_fired"].isoformat(),
        "last_fired": last_fired.isoformat(),
        "after_last_due_seconds": (last_fired - row["last_due"]).total_seconds(),
        "after_first_due_seconds": (last_fired - row["first_due"]).total_seconds(),
        "active_seconds": (last_fired - row["first_fired"]).total_seconds(),
        "delay_p50_seconds": p50,
        "delay_p95_seconds": p95,
        "delay_p99_seconds": p99,
        "delay_max_seconds": float(row["max_delay"]),
        "effects": {name: {"total": t, "distinct": d} for name, (t, d) in effects.items()},
        "tasks_at_level_1": escalated,
        "duplicates": duplicates,
        "missing_effects": missing + (due - escalated),
        "stray_fired": stray,
        "outbox_published_at_end": published[0],
        "outbox_rows": published[1],
    }


REF_COPY = f"""
INSERT INTO bench.ref_deadlines (id, kind, subject_id, department_id, level, due_at, fired_at,
                                 cancelled_at, created_at)
SELECT id, kind, subject_id, department_id, level, due_at, NULL, cancelled_at, created_at
FROM ticketing.deadlines WHERE id <= (SELECT max(deadline_id) FROM bench.due_tasks)
  AND (fired_at IS NULL OR id IN ({MINE}))
"""

REF_CLAIM = """
UPDATE bench.ref_deadlines SET fired_at = clock_timestamp() WHERE id IN (
  SELECT id FROM bench.ref_deadlines
  WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= now()
  ORDER BY due_at LIMIT :batch FOR UPDATE SKIP LOCKED)
"""


def reference(engine: Engine, due: int) -> dict[str, float]:
    """The bare SQL loop on a fresh copy of the deadlines (one connection, no effects)."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench.ref_deadlines"))
        conn.execute(text("CREATE TABLE bench.ref_deadlines (LIKE ticketing.deadlines "
                          "INCLUDING DEFAULTS INCLUDING INDEXES)"))
        conn.execute(text(REF_COPY))
    vacuum(engine, "bench.ref_deadlines")
    fired = 0
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while True:
            rows = conn.execute(text(REF_CLAIM), {"batch": BATCH}).rowcount
            fired += rows
            if rows < BATCH:
                break
    seconds = time.perf_counter() - started
    assert fired == due, (fired, due)
    return {"seconds": seconds, "rows_per_second": fired / seconds}


# --------------------------------------------------------------------------- the run


def run(demands: int = 1_000_000, due: int = 10_000, replicas: int = 2,
        pending: int = 100_000, lead: float = 20.0, spread: float = 0.0,
        timeout: float = 600.0, drop: bool = False) -> dict[str, Any]:
    """The whole benchmark; prints as it goes and returns the figures."""
    assert DATABASE.startswith("gridsvc_bench") and VHOST == "gridsvc_bench"
    overall = time.perf_counter()
    print(f"SLA sweep: {demands:,} demands, {due:,} handling deadlines due at once "
          f"(spread {spread:g} s), {pending:,} pending next month, {replicas} replica(s)")
    migrate_seconds = recreate_database()
    engine = create_engine(DATABASE_URL, pool_size=2)
    figures: dict[str, Any] = {
        "demands": demands, "due": due, "pending": pending, "replicas": replicas,
        "spread_seconds": spread, "sweep_interval_seconds": 1.0, "target_seconds": TARGET_SECONDS,
        "migrate_seconds": migrate_seconds,
    }
    try:
        fill_times = fill(engine, demands, due, pending)
        figures["fill_seconds"] = fill_times
        print(f"filled in {fill_times['total']:.1f} s: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in fill_times.items() if k != "total"))
        figures["deadline_rows"] = scalar(engine, "SELECT count(*) FROM ticketing.deadlines")

        recreate_vhost()
        log_dir = Path(tempfile.mkdtemp(prefix="gridsvc-bench-sla-"))
        env = {"GRIDSVC_ENV": "development", "DATABASE_URL": DATABASE_URL,
               "AMQP_URI": AMQP_URI, "LOG_FORMAT": "json", "SLA_SWEEP_SECONDS": "1"}
        platform = Platform(env=env, log_dir=log_dir)
        try:
            ports = start_replicas(platform, replicas)
            before = {n: metric(p, "gridsvc_sla_deadlines_due_total", '{kind="handling"}')
                      for n, p in ports.items()}
            first_due = schedule_due(engine, lead, spread, due)
            print(f"replicas {ports} idle; {due:,} deadlines due at {first_due:%H:%M:%S} UTC "
                  f"(logs in {log_dir})")
            figures["wall_seconds_after_deadline"] = wait_fired(engine, platform, first_due,
                                                                due, timeout)
            split = {n: metric(p, "gridsvc_sla_deadlines_due_total", '{kind="handling"}')
                     - before[n] for n, p in ports.items()}
            errors = sum(metric(p, "gridsvc_sla_sweep_errors_total", '{kind="handling"}')
                         + metric(p, "gridsvc_sla_sweep_failures_total")
                         for p in ports.values())
            figures.update(measure(engine, due))
            figures["split"] = split
            figures["sweep_errors"] = errors
            figures["replica_logs"] = str(log_dir)
        finally:
            platform.stop_all()
            rabbitmqctl("delete_vhost", VHOST, check=False)

        figures["reference"] = reference(engine, due)
    finally:
        engine.dispose()
        if drop:
            drop_database()
    seconds = figures["after_first_due_seconds"]
    figures["rows_per_second"] = due / seconds
    figures["active_rows_per_second"] = due / max(figures["active_seconds"], 1e-9)
    figures["reference_ratio"] = seconds / figures["reference"]["seconds"]
    figures["target_met"] = figures["delay_max_seconds"] <= TARGET_SECONDS
    figures["ok"] = figures["target_met"] and figures["duplicates"] == 0 \
        and figures["missing_effects"] == 0 and figures["stray_fired"] == 0
    figures["total_seconds"] = time.perf_counter() - overall
    report(figures)
    return figures


def report(f: dict[str, Any]) -> None:
    ref = f["reference"]
    split = ", ".join(f"{name} {n:,.0f}" for name, n in f["split"].items())
    lines = [
        ("data set", f"{f['demands']:,} demands, {f['deadline_rows']:,} deadline rows "
                     f"(filled in {f['fill_seconds']['total']:.1f} s)"),
        ("due at once", f"{f['due']:,} handling deadlines, {f['replicas']} replica(s), "
                        f"sweep every 1 s"),
        ("last fired after last due_at", f"{f['after_last_due_seconds']:.2f} s"),
        ("last fired after first due_at", f"{f['after_first_due_seconds']:.2f} s  "
                                          f"(target {TARGET_SECONDS:.0f} s)"),
        ("first fired → last fired", f"{f['active_seconds']:.2f} s"),
        ("timer delay p50 / p95 / p99", f"{f['delay_p50_seconds']:.2f} / "
                                        f"{f['delay_p95_seconds']:.2f} / "
                                        f"{f['delay_p99_seconds']:.2f} s"),
        ("timer delay max", f"{f['delay_max_seconds']:.2f} s"),
        ("rows/s (from the deadline)", f"{f['rows_per_second']:,.0f}  "
                                       f"(while firing {f['active_rows_per_second']:,.0f})"),
        ("split between replicas", split),
        ("duplicate effects", f"{f['duplicates']}  (missing {f['missing_effects']}, "
                              f"stray fired {f['stray_fired']}, errors {f['sweep_errors']:.0f})"),
        ("reference: bare SQL loop", f"{ref['seconds']:.2f} s, {ref['rows_per_second']:,.0f} "
                                     f"rows/s (1 connection, no effects)"),
        ("sweep vs reference", f"{f['reference_ratio']:.1f}x"),
        ("outbox published by then", f"{f['outbox_published_at_end']:,} of "
                                     f"{f['outbox_rows']:,} events"),
    ]
    print()
    for label, value in lines:
        print(f"{label:<32} {value}")
    for name, counts in f["effects"].items():
        print(f"  {name:<30} {counts['total']:>7,} rows, {counts['distinct']:>7,} distinct")
    verdict = "OK" if f["ok"] else "MISSED"
    print(f"{verdict}: every deadline handled within {f['delay_max_seconds']:.2f} s "
          f"(target {TARGET_SECONDS:.0f} s), {f['duplicates']} duplicates; "
          f"whole benchmark {f['total_seconds']:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demands", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--pending", type=int, default=100_000,
                        help="handling deadlines due next month (not swept)")
    parser.add_argument("--lead", type=float, default=20.0,
                        help="seconds from scheduling to the deadline")
    parser.add_argument("--spread", type=float, default=0.0,
                        help="spread the due deadlines over this many seconds (0: one instant)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="give up if not all fired this long after the deadline")
    parser.add_argument("--drop", action="store_true", help="drop gridsvc_bench at the end")
    args = parser.parse_args(argv)
    figures = run(args.demands, args.due, args.replicas, args.pending, args.lead, args.spread,
                  args.timeout, args.drop)
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
