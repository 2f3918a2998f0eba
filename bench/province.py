"""Province scale (issue 20): the paths that grow with the number of enterprises, on the
generated province of :mod:`bench.province_data` (100,000 enterprises, 3,000 grids, 5,000 grid
workers, a year of 1,000,000 demands; generated once into ``gridsvc_bench_province``, reused).

    python -m bench.province                   # every scenario
    python -m bench.province --queries 20      # fewer samples of the p95 scenarios
    make bench ONLY=province

Each scenario runs the services' own functions in this process, on one database session per
service (as a worker of that service would), and comes with a reference measured in the same
run: the bare SQL that does the same work (``INSERT ... SELECT``, a ``GROUP BY``, a ``LIMIT``),
rolled back where it writes. Where the service's call crosses RabbitMQ (the audience the
registry sends to notification), the RPC body is encoded and decoded as JSON here, as nameko
does, so its size and cost are counted; the broker's own transfer is not (see
docs/performance.md). Every scenario also reports the CPU it took by process: this Python
process (the service's code) and the PostgreSQL backends of its sessions (from ``/proc``),
which :doc:`operations` turns into the capacity model.

Scenarios (budgets from the issue; figures, never pass/fail):

- ``fanout_all``: a policy to every in-scope enterprise: resolve the audience (registry), the
  RPC body, publish (snapshot, one inbox message per enterprise, channel deliveries) and
  commit; then the messages and deliveries are counted (each exactly once). Budget 10 s.
  Reference: the bare ``INSERT ... SELECT`` of the same messages and deliveries.
- ``fanout_division``: the same for the division C39 (about 10,000). Budget 2 s.
- ``preview``: the audience preview (count by grid and by division) for varied audiences, p95.
  Budget 200 ms. Reference: a bare ``count(*)`` of the same audience.
- ``meeting``: invitations to about 5,000 enterprises: the registry's invite (resolve, store,
  event), then the notification handler's messages. Reference: bare ``INSERT ... SELECT``.
- ``registry_list``: the registry list with three filters (division, scale, in scope), p95.
  Budget 100 ms. Reference: the bare page query and count.
- ``registry_search``: the registry list's keyword search (``q``), p95. Budget 100 ms.
- ``coverage``: the coverage report. Reference: bare counts of what it checks.
- ``appraisal``: the year's appraisal of the grid workers (its closed demands' full months
  read from the rollup). Budget 5 s. Reference: a bare ``GROUP BY recorded_by`` over the
  year's demands; and the same appraisal counting every demand directly.
- ``overview``: the leaders' overview of the year as read: from its snapshot (p95 of reads,
  budget 1 s), and the snapshot's refresh (computed and stored off the request path).
  Reference: a bare monthly count.
- ``import``: 100,000 enterprises from XLSX (two files of 50,000 rows, the import's row limit),
  rows/s, rolled back. Reference: openpyxl reading the files alone.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench import procstat
from bench import province_data as data
from bench.load import percentile
from common.auth import Principal, Role
from common.db import make_engine
from common.validation import load

SEED = 20261203
WARMUP = 3
BUDGETS_MS = {"fanout_all": 10_000, "fanout_division": 2_000, "preview": 200,
              "registry_list": 100, "registry_search": 100, "appraisal": 5_000,
              "overview": 1_000}
COORDINATOR = Principal("bench-coordinator", Role.COORDINATOR,
                        department_id="economic_development")
ADMIN = Principal("bench-admin", Role.ADMIN)
LEADER = Principal("bench-leader", Role.LEADER)
YEAR = 2026


class Cpu:
    """CPU seconds of this process and of the PostgreSQL backends of some sessions."""

    def __init__(self, *sessions: Session) -> None:
        self.backends = [int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())
                         for s in sessions]

    def read(self) -> tuple[float, float]:
        return time.process_time(), sum(procstat.cpu_seconds(p) for p in self.backends)

    @contextmanager
    def measured(self, into: dict[str, Any]) -> Iterator[None]:
        (app0, db0), started = self.read(), time.perf_counter()
        try:
            yield
        finally:
            (app1, db1) = self.read()
            into["ms"] = (time.perf_counter() - started) * 1000
            into["cpu_ms"] = {"python": (app1 - app0) * 1000, "postgres": (db1 - db0) * 1000}


def _samples(call: Callable[[], Any], queries: int, cpu: Cpu) -> dict[str, Any]:
    for _ in range(WARMUP):
        call()
    took: list[float] = []
    (app0, db0) = cpu.read()
    for _ in range(queries):
        started = time.perf_counter()
        call()
        took.append((time.perf_counter() - started) * 1000)
    (app1, db1) = cpu.read()
    return {"queries": queries, "p50_ms": percentile(took, 50), "p95_ms": percentile(took, 95),
            "max_ms": max(took), "cpu_ms_per_query": {
                "python": (app1 - app0) * 1000 / queries,
                "postgres": (db1 - db0) * 1000 / queries}}


def _once(call: Callable[[], Any], cpu: Cpu, runs: int = 3) -> dict[str, Any]:
    """The fastest of ``runs`` timed calls (after one warm-up), with its CPU."""
    call()
    best: dict[str, Any] | None = None
    for _ in range(runs):
        found: dict[str, Any] = {}
        with cpu.measured(found):
            call()
        if best is None or found["ms"] < best["ms"]:
            best = found
    assert best is not None
    return best


# =========================================================================== fan-out


REFERENCE_MESSAGES = """
WITH new_message AS (
  INSERT INTO notification.inbox_messages (id, recipient, kind, event_id, title, body, link)
  SELECT gen_random_uuid(), 'enterprise:' || e.id, 'policy_published', CAST(:event AS uuid),
         :title, :body, :link
  FROM enterprise.enterprises e WHERE e.in_scope AND e.industry_code LIKE :prefix
  RETURNING id, recipient
), queued AS (
  INSERT INTO notification.deliveries (id, message_id, channel, recipient, address)
  SELECT gen_random_uuid(), m.id, p.channel, m.recipient, p.address
  FROM new_message m JOIN notification.channel_preferences p ON p.recipient = m.recipient
  WHERE p.enabled
  RETURNING 1
)
SELECT (SELECT count(*) FROM new_message), (SELECT count(*) FROM queued)
"""


NOTIFY_TABLES = ("notification.inbox_messages", "notification.deliveries",
                 "notification.policy_recipients")
TICKETING_TABLES = ("ticketing.demands", "ticketing.tasks")


def storage(session: Session, tables: tuple[str, ...]) -> dict[str, int]:
    """The WAL position and the tables' size with their indexes and TOAST, in bytes."""
    wal, size = session.execute(text(
        "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn, "
        + " + ".join(f"pg_total_relation_size('{t}')" for t in tables))).one()
    return {"wal": int(wal), "tables": int(size)}


def write_cost(ticketing: Session, n: int = 10_000) -> dict[str, Any]:
    """WAL and table bytes per demand with its task, from ``n`` generated ones (rolled
    back): the capacity model's PostgreSQL growth per year and write rate."""
    before = storage(ticketing, TICKETING_TABLES)
    ticketing.execute(text(data.DEMANDS_SQL.replace("'PV'", "'PW'")), {
        "n": n, "workers": 5000, "channels": data.CHANNELS, "categories": data.CATEGORIES,
        "difficulties": data.DIFFICULTIES, "closures": data.CLOSURES,
        "start": datetime(YEAR, 6, 1, tzinfo=UTC), "end": datetime(YEAR, 6, 2, tzinfo=UTC)})
    ticketing.execute(text(data.TASKS_SQL.replace("'PV%'", "'PW%'")),
                      {"departments": data.DEPARTMENTS})
    ticketing.flush()
    ticketing.execute(text("SELECT 1"))
    ticketing.commit()  # WAL is flushed at commit; the rows are removed just below
    after = storage(ticketing, TICKETING_TABLES)
    ticketing.execute(text("DELETE FROM ticketing.tasks WHERE demand_id IN (SELECT id FROM "
                           "ticketing.demands WHERE number LIKE 'PW%')"))
    ticketing.execute(text("DELETE FROM ticketing.demands WHERE number LIKE 'PW%'"))
    ticketing.commit()
    totals = ticketing.execute(text(
        "SELECT " + " + ".join(f"pg_total_relation_size('{t}')" for t in (
            *TICKETING_TABLES, "ticketing.ratings", "ticketing.ledger"))
        + ", (SELECT count(*) FROM ticketing.demands)")).one()
    return {"demands": n, "wal_bytes_per_demand": (after["wal"] - before["wal"]) / n,
            "table_bytes_per_demand": (after["tables"] - before["tables"]) / n,
            "ticketing_bytes": int(totals[0]), "ticketing_demands": int(totals[1]),
            "ticketing_bytes_per_demand": int(totals[0]) / int(totals[1])}


def fanout(registry: Session, notify: Session, cpu: Cpu, spec: dict[str, Any]
           ) -> dict[str, Any]:
    """Publish one policy to ``spec`` as the services do, count what it wrote, remove it."""
    from services.enterprise import audience
    from services.enterprise.schemas import AudienceSchema
    from services.notification import policies

    schema = AudienceSchema()
    draft = policies.create(notify, COORDINATOR, {
        "kind": "policy", "title": "关于支持企业高质量发展的若干政策（压测）",
        "body": "为进一步支持企业发展，现将有关政策通知如下。" * 20, "attachments": [],
        "audience": spec}, "economic_development", "经济发展部")
    notify.commit()
    policy_id, version = draft.id, draft.version
    found: dict[str, Any] = {"audience": spec}
    phases: dict[str, Any] = {}
    before = storage(notify, NOTIFY_TABLES)
    with cpu.measured(found):
        with cpu.measured(phases.setdefault("resolve", {})):
            criteria = load(schema, spec)
            members = audience.members(registry, criteria)
            registry.rollback()
            body = json.dumps({"result": {
                "enterprise_ids": [m["id"] for m in members], "count": len(members),
                "audience": schema.dump(criteria), "enterprises": members}, "error": None})
        with cpu.measured(phases.setdefault("rpc_body", {})):
            members = json.loads(body)["result"]["enterprises"]
        with cpu.measured(phases.setdefault("publish", {})):
            _, delivered = policies.publish(notify, COORDINATOR, policy_id, version, members)
            notify.commit()
    found["phases"] = phases
    found["rpc_body_bytes"] = len(body)
    after = storage(notify, NOTIFY_TABLES)
    found["wal_bytes"] = after["wal"] - before["wal"]
    found["table_bytes"] = after["tables"] - before["tables"]
    counts = notify.execute(text("""
        SELECT count(*), count(DISTINCT recipient),
               (SELECT count(*) FROM notification.deliveries d
                JOIN notification.inbox_messages m ON m.id = d.message_id
                WHERE m.event_id = CAST(:p AS uuid)),
               (SELECT count(*) FROM notification.policy_recipients
                WHERE policy_id = CAST(:p AS uuid))
        FROM notification.inbox_messages WHERE event_id = CAST(:p AS uuid)"""),
        {"p": policy_id}).one()
    expected = notify.execute(text("""
        SELECT count(*) FROM notification.channel_preferences p
        JOIN notification.policy_recipients r ON p.recipient = 'enterprise:' || r.enterprise_id
        WHERE r.policy_id = CAST(:p AS uuid) AND p.enabled"""), {"p": policy_id}).scalar_one()
    found |= {"recipients": len(members), "delivered": delivered, "messages": counts[0],
              "distinct_recipients": counts[1], "deliveries": counts[2],
              "expected_deliveries": expected, "snapshot": counts[3]}
    found["exactly_once"] = (counts[0] == counts[1] == len(members) == counts[3]
                             and counts[2] == expected)
    notify.execute(text("DELETE FROM notification.inbox_messages WHERE event_id = "
                        "CAST(:p AS uuid)"), {"p": policy_id})
    notify.execute(text("DELETE FROM notification.outbox WHERE payload::text LIKE :p"),
                   {"p": f"%{policy_id}%"})
    notify.execute(text("DELETE FROM notification.policies WHERE id = CAST(:p AS uuid)"),
                   {"p": policy_id})
    notify.commit()
    prefix = (spec.get("industry_codes") or [""])[0] + "%"
    reference: dict[str, Any] = {}
    with cpu.measured(reference):
        made, queued = notify.execute(text(REFERENCE_MESSAGES), {
            "event": str(uuid.uuid4()), "title": "t", "body": "b" * 600, "link": "/policies/x",
            "prefix": prefix}).one()
    notify.rollback()
    reference |= {"messages": made, "deliveries": queued}
    found["reference"] = reference
    found["reference_ratio"] = found["ms"] / reference["ms"]
    return found


# =========================================================================== preview


def preview_specs(rng: random.Random, grids: list[str]) -> Callable[[], dict[str, Any]]:
    divisions = [data.DIVISION, *data.OTHER_DIVISIONS]

    def spec() -> dict[str, Any]:
        kind = rng.randrange(4)
        if kind == 0:
            return {}
        if kind == 1:
            return {"industry_codes": [rng.choice(divisions)]}
        if kind == 2:
            return {"grid_ids": rng.sample(grids, 20), "scales": ["micro", "small"]}
        return {"industry_codes": rng.sample(divisions, 3), "tags": ["高新技术企业", "专精特新"]}
    return spec


def preview(registry: Session, cpu: Cpu, queries: int, rng: random.Random) -> dict[str, Any]:
    """The preview as the console asks it (``preview_audience``), and the bare count."""
    from services.enterprise import audience
    from services.enterprise.schemas import AudienceSchema
    from services.notification import policies

    schema = AudienceSchema()
    grids = list(registry.execute(text(
        "SELECT id FROM enterprise.grids WHERE id LIKE 'P%'")).scalars())
    specs = preview_specs(rng, grids)
    found: dict[str, Any] = {}
    summarise = getattr(audience, "summary", None)
    if summarise is not None:  # the registry counts and groups in SQL
        def service() -> Any:
            result = summarise(registry, load(schema, specs()))
            registry.rollback()
            return json.loads(json.dumps(result))
        found["service"] = _samples(service, queries, cpu)

    def members_then_group() -> Any:  # the registry sends every member, notification groups
        members = audience.members(registry, load(schema, specs()))
        registry.rollback()
        body = json.dumps({"enterprises": members, "enterprise_ids": [m["id"] for m in members]})
        return policies.audience_summary(json.loads(body)["enterprises"])

    found["members_then_group"] = _samples(members_then_group, max(queries // 4, 5), cpu)
    if "service" not in found:
        found["service"] = found["members_then_group"]

    def bare() -> Any:
        query = audience.audience_query(load(schema, specs())).subquery()
        from sqlalchemy import func, select
        return registry.execute(select(func.count()).select_from(query)).scalar_one()

    found["reference"] = _samples(bare, queries, cpu)
    found["reference_ratio"] = found["service"]["p95_ms"] / found["reference"]["p95_ms"]
    return found


# =========================================================================== meeting


def meeting(registry: Session, notify: Session, cpu: Cpu) -> dict[str, Any]:
    """Invitations to about 5,000 enterprises (C39, micro): the registry's invite, then the
    ``meeting_invited`` handler's messages, as the set-wise writer and one by one."""
    from services.enterprise import meetings
    from services.notification import inbox, templates

    spec = {"industry_codes": [data.DIVISION], "scales": ["micro"]}
    found: dict[str, Any] = {"audience": spec}
    planned = meetings.plan(registry, ADMIN, {
        "theme": "省级政企座谈会（压测）", "description": None, "topics": ["营商环境"],
        "starts_at": datetime.now(UTC) + timedelta(days=30), "ends_at": None,
        "place": "会议中心", "organiser_department_id": "economic_development",
        "organiser_contact": None, "capacity": None, "audience": spec})
    registry.commit()
    registry_part: dict[str, Any] = {}
    with cpu.measured(registry_part):
        held, ids = meetings.invite(registry, ADMIN, planned.id)
        registry.commit()
    found["registry"] = registry_part
    event = registry.execute(text(
        "SELECT payload FROM enterprise.outbox WHERE payload::text LIKE :m "
        "ORDER BY id DESC LIMIT 1"), {"m": f"%{planned.id}%"}).scalar_one()
    event = event if isinstance(event, dict) else json.loads(event)
    found["event_bytes"] = len(json.dumps(event))
    data_ = event.get("data", event)
    title, body, link = templates.meeting_invited(data_)
    recipients = [f"enterprise:{e}" for e in data_["enterprise_ids"]]
    found["invited"] = len(ids)
    writer = getattr(inbox, "deliver_many", None)

    def counted(event_id: str) -> tuple[int, int]:
        return tuple(notify.execute(text("""
            SELECT count(*), (SELECT count(*) FROM notification.deliveries d JOIN
                   notification.inbox_messages m ON m.id = d.message_id
                   WHERE m.event_id = CAST(:e AS uuid))
            FROM notification.inbox_messages WHERE event_id = CAST(:e AS uuid)"""),
            {"e": event_id}).one())

    def clean(event_id: str) -> None:
        notify.execute(text("DELETE FROM notification.inbox_messages WHERE event_id = "
                            "CAST(:e AS uuid)"), {"e": event_id})
        notify.commit()

    ways: dict[str, Callable[[str], None]] = {}
    if writer is not None:
        ways["set_wise"] = lambda event_id: writer(
            notify, [(r, "meeting_invited", title, body, link) for r in recipients], event_id)
    ways["one_by_one"] = lambda event_id: [
        inbox.deliver(notify, r, "meeting_invited", event_id, title, body, link)
        for r in recipients]
    for name, way in ways.items():
        event_id = str(uuid.uuid4())
        part: dict[str, Any] = {}
        with cpu.measured(part):
            way(event_id)
            notify.commit()
        part["messages"], part["deliveries"] = counted(event_id)
        clean(event_id)
        found[name] = part
    handler = found.get("set_wise", found["one_by_one"])
    found["ms"] = registry_part["ms"] + handler["ms"]
    reference: dict[str, Any] = {}
    with cpu.measured(reference):
        made, queued = notify.execute(text(REFERENCE_MESSAGES.replace(
            "e.in_scope AND e.industry_code LIKE :prefix",
            "e.id = ANY(CAST(:ids AS uuid[]))")), {
            "event": str(uuid.uuid4()), "title": title, "body": body, "link": link,
            "ids": list(ids)}).one()
    notify.rollback()
    found["reference"] = reference | {"messages": made, "deliveries": queued}
    found["reference_ratio"] = handler["ms"] / reference["ms"]
    registry.execute(text("DELETE FROM enterprise.meeting_invitations WHERE meeting_id = "
                          "CAST(:m AS uuid)"), {"m": planned.id})
    registry.execute(text("DELETE FROM enterprise.outbox WHERE payload::text LIKE :m"),
                     {"m": f"%{planned.id}%"})
    registry.execute(text("DELETE FROM enterprise.meetings WHERE id = CAST(:m AS uuid)"),
                     {"m": planned.id})
    registry.commit()
    return found


# =========================================================================== registry


LIST_REFERENCE = """
SELECT id, name FROM enterprise.enterprises
WHERE {where} ORDER BY name, id LIMIT 20
"""


def registry_reads(registry: Session, cpu: Cpu, queries: int, rng: random.Random
                   ) -> dict[str, Any]:
    from services.enterprise import registry as reg
    from services.enterprise.schemas import EnterpriseQuerySchema

    schema = EnterpriseQuerySchema()
    divisions = [data.DIVISION, *data.OTHER_DIVISIONS]
    scales = ["micro", "small", "medium", "large"]
    words = [*data.TRADES, *data.PLACES]
    found: dict[str, Any] = {}

    def listed(query: dict[str, Any]) -> Any:
        result = reg.list_enterprises(registry, COORDINATOR, load(schema, query))
        registry.rollback()
        return result

    def three() -> dict[str, Any]:
        return {"industry": rng.choice(divisions), "scale": rng.choice(scales),
                "in_scope": "true"}

    def bare(where: str, params: dict[str, Any]) -> Any:
        registry.execute(text(f"SELECT count(*) FROM enterprise.enterprises WHERE {where}"),
                         params).scalar_one()
        return registry.execute(text(LIST_REFERENCE.format(where=where)), params).all()

    found["list"] = _samples(lambda: listed(three()), queries, cpu)
    found["list_reference"] = _samples(lambda: bare(
        "industry_code LIKE :d AND scale = :s AND in_scope",
        {"d": rng.choice(divisions) + "%", "s": rng.choice(scales)}), queries, cpu)
    found["search"] = _samples(lambda: listed({"q": rng.choice(words)}), queries, cpu)
    found["search_reference"] = _samples(lambda: bare(
        "name LIKE :w", {"w": f"%{rng.choice(words)}%"}), queries, cpu)
    found["list_ratio"] = found["list"]["p95_ms"] / found["list_reference"]["p95_ms"]
    found["search_ratio"] = found["search"]["p95_ms"] / found["search_reference"]["p95_ms"]
    return found


def coverage(registry: Session, cpu: Cpu) -> dict[str, Any]:
    from services.enterprise import directory

    def report() -> Any:
        result = directory.coverage(registry, ADMIN)
        registry.rollback()
        return result

    found = _once(report, cpu)
    result = report()
    found["found"] = {k: len(v) for k, v in result.items() if isinstance(v, list)}

    def bare() -> Any:
        return registry.execute(text("""
            SELECT (SELECT count(*) FROM enterprise.enterprises
                    WHERE in_scope AND grid_id IS NULL),
                   (SELECT count(*) FROM enterprise.grids g WHERE NOT EXISTS (
                      SELECT 1 FROM enterprise.grid_staff s
                      WHERE s.grid_id = g.id AND s.duty = 'leader')),
                   (SELECT count(*) FROM (SELECT g.id FROM enterprise.grids g
                      LEFT JOIN enterprise.grid_staff s ON s.grid_id = g.id
                      AND s.duty = 'worker' GROUP BY g.id HAVING count(s.grid_id) < 2) AS x)
        """)).one()

    found["reference"] = _once(bare, cpu)
    found["reference_ratio"] = found["ms"] / found["reference"]["ms"]
    return found


# =========================================================================== ticketing


def appraisal_and_overview(ticketing: Session, cpu: Cpu, appraise_too: bool = True,
                           overview_too: bool = True, queries: int = 40) -> dict[str, Any]:
    from services.ticketing import appraisal, snapshots
    from services.ticketing.appraisal import Period

    period = Period.year(YEAR)
    found: dict[str, Any] = {}
    rows: list[Any] = []
    found["demands"] = int(ticketing.execute(text(
        "SELECT count(*) FROM ticketing.demands WHERE received_at >= :a AND received_at < :b"),
        {"a": period.start_at, "b": period.end_at}).scalar_one())
    if overview_too:
        found.update(_overview(ticketing, cpu, period, queries, snapshots))
    if not appraise_too:
        return found

    def appraise() -> Any:
        rows[:] = appraisal.appraise(ticketing, appraisal.GRID_WORKERS, period)
        ticketing.rollback()

    found["appraisal"] = _once(appraise, cpu, runs=2)
    found["appraisal"]["subjects"] = len(rows)

    def appraise_directly() -> Any:  # every demand counted, none read from the rollup
        direct = appraisal.appraise(ticketing, appraisal.GRID_WORKERS, period, rollup=False)
        ticketing.rollback()
        return direct

    found["appraisal_direct"] = _once(appraise_directly, cpu, runs=1)

    def bare_appraisal() -> Any:
        return ticketing.execute(text("""
            SELECT d.recorded_by, count(*), count(*) FILTER (WHERE d.triaged_at <=
                   d.triage_due_at), count(*) FILTER (WHERE d.closure = 'rated'),
                   count(t.id), count(t.id) FILTER (WHERE t.accepted_at <= t.accept_due_at)
            FROM ticketing.demands d LEFT JOIN ticketing.tasks t ON t.demand_id = d.id
            WHERE d.received_at >= :a AND d.received_at < :b AND d.recorded_role =
                  'grid_worker'
            GROUP BY d.recorded_by"""), {"a": period.start_at, "b": period.end_at}).all()

    found["appraisal_reference"] = _once(bare_appraisal, cpu, runs=2)
    found["appraisal_ratio"] = found["appraisal"]["ms"] / found["appraisal_reference"]["ms"]

    return found


def _overview(ticketing: Session, cpu: Cpu, period: Any, queries: int,
              snapshots: Any) -> dict[str, Any]:
    """The leaders' overview of the year as leaders read it: the kept answer (p95 of
    ``queries`` reads), and the refresh that computes and stores it (off the request path);
    each rolled back. Reference: a bare monthly count, the same run."""
    found: dict[str, Any] = {}

    def refresh() -> Any:  # what the timer (or a read of a stale key) does
        ticketing.execute(text("DELETE FROM ticketing.overview_snapshots"))
        result = snapshots.read(ticketing, LEADER, period)
        ticketing.rollback()
        return result

    found["overview_refresh"] = _once(refresh, cpu, runs=2)
    snapshots.read(ticketing, LEADER, period, force=True)
    ticketing.commit()  # the kept answer the reads are served from (deleted below)
    try:
        def read() -> Any:
            result = snapshots.read(ticketing, LEADER, period)
            ticketing.commit()
            return result

        found["overview"] = _samples(read, queries, cpu)
    finally:
        ticketing.execute(text("DELETE FROM ticketing.overview_snapshots"))
        ticketing.commit()

    def bare_overview() -> Any:
        return ticketing.execute(text("""
            SELECT date_trunc('month', received_at AT TIME ZONE 'Asia/Shanghai'), count(*),
                   count(*) FILTER (WHERE status = 'closed')
            FROM ticketing.demands WHERE received_at >= :a AND received_at < :b
            GROUP BY 1"""), {"a": period.start_at, "b": period.end_at}).all()

    found["overview_reference"] = _once(bare_overview, cpu, runs=2)
    found["overview_ratio"] = found["overview"]["p95_ms"] / found["overview_reference"]["ms"]
    found["overview_refresh_ratio"] = (found["overview_refresh"]["ms"]
                                       / found["overview_reference"]["ms"])
    return found


# =========================================================================== import


def import_xlsx(url: str, rows: int) -> dict[str, Any]:
    """``rows`` enterprises from XLSX files of at most 50,000 rows each, in one transaction
    rolled back; rows/s and the reference read."""
    import os

    from bench import import_enterprises as ie
    from services.enterprise import demo_data, spreadsheet

    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        incubators = ie.existing_incubators()
        files = []
        left, part = rows, 0
        while left > 0:
            n = min(left, spreadsheet.MAX_ROWS)
            built = ie.build_rows(n, demo_data.DEFAULT_SEED + 7919 * part, incubators)
            files.append(ie.write_file(built))
            left, part = left - n, part + 1
        reference = sum(ie.timed(lambda c=c: ie.openpyxl_read(c))[1] for c in files)
        engine = make_engine(url, "enterprise", "bench-province-import", pool_size=1)
        found: dict[str, Any] = {"rows": rows, "files": len(files),
                                 "xlsx_bytes": sum(len(c) for c in files)}
        try:
            with Session(engine) as session:
                pid = int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
                app0, db0 = time.process_time(), procstat.cpu_seconds(pid)
                started = time.perf_counter()
                created = rejected = 0
                longest = 0.0
                for content in files:
                    phases, result = ie.one_pass(session, content, False)
                    created += result.created
                    rejected += result.rejected
                    longest = max(longest, phases.seconds)
                seconds = time.perf_counter() - started
                found |= {"seconds": seconds, "rows_per_second": rows / seconds,
                          "created": created, "rejected": rejected,
                          "longest_call_seconds": longest,
                          "cpu_ms_per_row": {
                              "python": (time.process_time() - app0) * 1000 / rows,
                              "postgres": (procstat.cpu_seconds(pid) - db0) * 1000 / rows}}
                session.rollback()
        finally:
            engine.dispose()
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
    found["reference_seconds"] = reference
    found["reference_ratio"] = found["seconds"] / reference
    found["stall"] = import_stall(url, min(rows, spreadsheet.MAX_ROWS))
    return found


def import_stall(url: str, rows: int) -> dict[str, Any]:
    """The service's longest stall while importing one file (:mod:`bench.province_stall`,
    in a process of its own: eventlet patches before anything is imported): the synchronous
    RPC's path on the province (one transaction, rolled back), and the import job's path, which
    commits a batch at a time, on a scratch database of its own (the demo zone, created and
    dropped here: the province is only read) with the rows per second of each."""
    found = _stall_run(url, rows, "rpc")
    scratch = make_url(url).set(database=f"{make_url(url).database}_import_job")
    scratch_url = scratch.render_as_string(hide_password=False)
    admin = create_engine(scratch.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{scratch.database}"'))
        from devtools.migrate import load_demo, upgrade_all

        upgrade_all(scratch_url)
        load_demo(scratch_url)
        found["job"] = _stall_run(scratch_url, rows, "job")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
    finally:
        admin.dispose()
    return found


def _stall_run(url: str, rows: int, path: str) -> dict[str, Any]:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "bench.province_stall", "--url", url,
                           "--rows", str(rows), "--path", path], capture_output=True,
                          text=True, timeout=3600)
    if done.returncode != 0:
        return {"error": done.stderr[-2000:], "max_ms": float("nan")}
    return json.loads(done.stdout.strip().splitlines()[-1])


# =========================================================================== run


def run(queries: int = 40, database: str = data.DATABASE, demands: int = data.DEMANDS,
        import_rows: int = 100_000, only: str = "") -> dict[str, Any]:
    rng = random.Random(SEED)
    url, sizes, generated = data.prepare(database, demands)
    result: dict[str, Any] = {"province": sizes, "generated_now": generated}
    wanted = [w for w in only.split(",") if w]

    def want(name: str) -> bool:
        return not wanted or any(name.startswith(w) for w in wanted)

    engines = [make_engine(url, schema, f"bench-province-{schema}", pool_size=1)
               for schema in ("enterprise", "notification", "ticketing")]
    try:
        with Session(engines[0]) as registry, Session(engines[1]) as notify, \
                Session(engines[2]) as ticketing:
            cpu = Cpu(registry, notify)
            if want("fanout"):
                result["fanout_all"] = fanout(registry, notify, cpu, {})
                result["fanout_division"] = fanout(
                    registry, notify, cpu, {"industry_codes": [data.DIVISION]})
            if want("preview"):
                result["preview"] = preview(registry, Cpu(registry), queries, rng)
            if want("meeting"):
                result["meeting"] = meeting(registry, notify, cpu)
            if want("registry"):
                result["registry"] = registry_reads(registry, Cpu(registry), queries, rng)
            if want("coverage"):
                result["coverage"] = coverage(registry, Cpu(registry))
            if want("appraisal") or want("overview"):
                result["ticketing"] = appraisal_and_overview(
                    ticketing, Cpu(ticketing), appraise_too=want("appraisal"),
                    overview_too=want("overview"), queries=queries)
            if want("storage"):
                result["storage"] = write_cost(ticketing)
    finally:
        for engine in engines:
            engine.dispose()
    if want("import") and import_rows:
        result["import"] = import_xlsx(url, import_rows)
    result["ok"] = all(f.get("exactly_once", True) for f in
                       (result.get("fanout_all", {}), result.get("fanout_division", {})))
    report(result)
    return result


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def summary_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    s = r["province"]

    def verdict(name: str, value: float) -> str:
        budget = BUDGETS_MS.get(name)
        if budget is None:
            return ""
        return "within budget" if value < budget else f"MISSED (budget {_ms(budget)})"

    rows.append(("province", "data set", f"{s['enterprises']:,} enterprises, {s['grids']:,} "
                 f"grids, {s['grid_workers']:,} grid workers, {s['demands']:,} demands", ""))
    for name in ("fanout_all", "fanout_division"):
        f = r.get(name)
        if f:
            rows.append(("province", f"{name}: {f['messages']:,} messages + "
                         f"{f['deliveries']:,} deliveries",
                         f"{_ms(f['ms'])} (exactly once: {f['exactly_once']}); bare INSERT "
                         f"... SELECT {_ms(f['reference']['ms'])}, "
                         f"{f['reference_ratio']:.1f}x", verdict(name, f["ms"])))
    if "preview" in r:
        p = r["preview"]
        rows.append(("province", "audience preview p95",
                     f"{_ms(p['service']['p95_ms'])}; bare count "
                     f"{_ms(p['reference']['p95_ms'])}, {p['reference_ratio']:.1f}x",
                     verdict("preview", p["service"]["p95_ms"])))
    if "meeting" in r:
        m = r["meeting"]
        rows.append(("province", f"meeting invitations to {m['invited']:,}",
                     f"{_ms(m['ms'])} (registry {_ms(m['registry']['ms'])}); handler's "
                     f"bare INSERT ... SELECT {_ms(m['reference']['ms'])}", ""))
    if "registry" in r:
        g = r["registry"]
        rows.append(("province", "registry list, three filters p95",
                     f"{_ms(g['list']['p95_ms'])}; bare {_ms(g['list_reference']['p95_ms'])}"
                     f", {g['list_ratio']:.1f}x", verdict("registry_list",
                                                          g["list"]["p95_ms"])))
        rows.append(("province", "registry keyword search p95",
                     f"{_ms(g['search']['p95_ms'])}; bare "
                     f"{_ms(g['search_reference']['p95_ms'])}, {g['search_ratio']:.1f}x",
                     verdict("registry_search", g["search"]["p95_ms"])))
    if "coverage" in r:
        c = r["coverage"]
        rows.append(("province", "coverage report", f"{_ms(c['ms'])}; bare counts "
                     f"{_ms(c['reference']['ms'])}, {c['reference_ratio']:.1f}x", ""))
    if "ticketing" in r:
        t = r["ticketing"]
        if "appraisal" in t:
            rows.append(("province", f"appraisal of {t['appraisal']['subjects']:,} grid "
                         f"workers over {t['demands']:,} demands",
                         f"{_ms(t['appraisal']['ms'])}; bare GROUP BY "
                         f"{_ms(t['appraisal_reference']['ms'])}, {t['appraisal_ratio']:.1f}x",
                         verdict("appraisal", t["appraisal"]["ms"])))
        if "appraisal_direct" in t:
            rows.append(("province", "the same, every demand counted directly (no rollup)",
                         _ms(t["appraisal_direct"]["ms"]), ""))
        if "overview" in t:
            o = t["overview"]
            rows.append(("province", "leaders' overview of the year, read from its snapshot",
                         f"p95 {_ms(o['p95_ms'])} (p50 {_ms(o['p50_ms'])}, "
                         f"{o['queries']} reads); bare monthly count "
                         f"{_ms(t['overview_reference']['ms'])}, {t['overview_ratio']:.3f}x",
                         verdict("overview", o["p95_ms"])))
            rows.append(("province", "the overview snapshot's refresh (off the request path)",
                         f"{_ms(t['overview_refresh']['ms'])}; "
                         f"{t['overview_refresh_ratio']:.1f}x the bare count", ""))
    if "import" in r:
        i = r["import"]
        rows.append(("province", f"import {i['rows']:,} enterprises from XLSX",
                     f"{i['rows_per_second']:,.0f} rows/s ({i['seconds']:.1f} s); openpyxl "
                     f"read alone {i['reference_seconds']:.1f} s, {i['reference_ratio']:.1f}x",
                     ""))
        if "stall" in i:
            for label, st in (("the synchronous RPC", i["stall"]),
                              ("the import job", i["stall"].get("job"))):
                if not st:
                    continue
                rows.append(("province", f"longest stall of the service while {label} "
                             f"imports {st.get('rows', 0):,} rows",
                             f"{_ms(st['max_ms'])} (p99 {_ms(st.get('p99_ms') or 0)} of 50 ms "
                             f"ticks; {st.get('rows_per_second', 0):,.0f} rows/s)",
                             "within 1 s" if st["max_ms"] < 1000 else "MISSED (1 s)"))
    return rows


def report(r: dict[str, Any]) -> None:
    for row in summary_rows(r):
        print("  ".join(cell for cell in row[1:] if cell))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--database", default=data.DATABASE)
    parser.add_argument("--demands", type=int, default=data.DEMANDS)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--out", default="/tmp/bench-province.json")
    parser.add_argument("--only", default="", help="fanout,preview,meeting,registry,coverage,"
                        "appraisal,import")
    args = parser.parse_args(argv)
    result = run(args.queries, args.database, args.demands, args.import_rows, args.only)
    Path(args.out).write_text(json.dumps(result, indent=2, default=str, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
