"""The demo zone's demands (``make run``): about 300 over the last six months, in every state,
deterministic and idempotent, loaded into a database of its own."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from conftest import fresh_database
from sqlalchemy import create_engine, text

from devtools.migrate import load_demo, load_ticketing_demo


@pytest.fixture(scope="module")
def demo(infrastructure):
    url = fresh_database("demands_demo")
    load_demo(url)
    started = time.monotonic()
    first = load_ticketing_demo(url)
    took = time.monotonic() - started
    second = load_ticketing_demo(url)
    engine = create_engine(url)
    yield engine, first, second, took
    engine.dispose()


def test_the_demo_demands_load_once_in_every_state(demo):
    engine, first, second, took = demo
    print(f"demo demands loaded in {took:.1f} s")  # the figure; no timing assert
    assert first["demo demands"] == 300 and second == {}
    with engine.connect() as conn:
        states = Counter(dict(conn.execute(text(
            "SELECT coalesce(closure, status), count(*) FROM ticketing.demands "
            "GROUP BY 1")).all()))
        escalated = conn.execute(text(
            "SELECT count(*) FROM ticketing.tasks WHERE escalation_level > 0 "
            "AND status = 'accepted' AND due_at < now()")).scalar_one()
        dissatisfied = conn.execute(text(
            "SELECT count(*) FROM ticketing.ratings WHERE NOT satisfied")).scalar_one()
        counts = {table: conn.execute(text(f"SELECT count(*) FROM ticketing.{table}"))
                  .scalar_one() for table in ("notes", "extensions", "ratings")}
        returns = conn.execute(text(
            "SELECT count(*) FROM ticketing.ledger WHERE action = 'return'")).scalar_one()
        months = conn.execute(text(
            "SELECT count(DISTINCT date_trunc('month', received_at)) FROM ticketing.demands"
        )).scalar_one()
        unknown = conn.execute(text(
            "SELECT count(*) FROM ticketing.demands d WHERE NOT EXISTS (SELECT 1 FROM "
            "enterprise.enterprises e WHERE e.id::text = d.enterprise_id)")).scalar_one()
    assert {"received", "triaged", "in_progress", "awaiting_rating", "rated", "internal",
            "unrated"} <= set(states)
    assert escalated > 0 and dissatisfied > 0 and returns > 0
    assert all(counts.values()), counts
    assert months >= 5 and unknown == 0


def test_the_demo_demands_have_the_sla_rows_of_their_history(demo):
    """Each demo demand has the deadlines the lifecycle schedules: met (cancelled), fired
    (with the breaches, escalations and ledger lines of the ladder) or still pending, none
    left due and unfired; the SLA figures (appraisal rates, open work overdue) are not 0."""
    from datetime import UTC, date, datetime, timedelta

    from sqlalchemy.orm import Session

    from services.ticketing import appraisal
    from services.ticketing.sla_metrics import TASKS_DUE_SQL

    engine, first, _second, _took = demo
    assert first["demo deadlines"] > 300 and first["demo breaches"] > 0
    assert first["demo escalations"] > 0
    with engine.connect() as conn:
        kinds = dict(conn.execute(text(
            "SELECT kind, count(*) FROM ticketing.deadlines GROUP BY kind")).all())
        outcomes = dict(conn.execute(text(
            "SELECT CASE WHEN cancelled_at IS NOT NULL THEN 'met' WHEN fired_at IS NOT NULL "
            "THEN 'fired' ELSE 'pending' END, count(*) FROM ticketing.deadlines GROUP BY 1"
        )).all())
        stale = dict(conn.execute(text(
            "SELECT kind, count(*) FROM ticketing.deadlines WHERE fired_at IS NULL AND "
            "cancelled_at IS NULL AND due_at < now() - interval '10 minutes' GROUP BY kind"
        )).all())
        missed = conn.execute(text(
            "SELECT count(*) FROM ticketing.demands WHERE status = 'received' "
            "AND triage_due_at < now() - interval '10 minutes'")).scalar_one()
        without_triage = conn.execute(text(
            "SELECT count(*) FROM ticketing.demands d WHERE NOT EXISTS (SELECT 1 FROM "
            "ticketing.deadlines x WHERE x.subject_id = d.id AND x.kind = 'triage')"
        )).scalar_one()
        breaches = dict(conn.execute(text(
            "SELECT kind, count(*) FROM ticketing.breaches GROUP BY kind")).all())
        levels = dict(conn.execute(text(
            "SELECT level, count(*) FROM ticketing.escalations GROUP BY level")).all())
        lines = dict(conn.execute(text(
            "SELECT action, count(*) FROM ticketing.ledger WHERE action IN "
            "('triage_overdue', 'handling_overdue', 'escalate_head', 'escalate_leader') "
            "GROUP BY action")).all())
        mismatched = conn.execute(text(
            "SELECT count(*) FROM ticketing.tasks t WHERE escalation_level <> coalesce(("
            "SELECT max(level) FROM ticketing.escalations e WHERE e.task_id = t.id), 0)"
        )).scalar_one()
        overdue = sum(row[1] for row in conn.execute(
            TASKS_DUE_SQL, {"horizon": datetime.now(UTC) + timedelta(days=1)}))
    assert set(kinds) == {"triage", "acceptance", "handling", "reminder", "escalation",
                          "rating_reminder", "close_unrated"}, kinds
    assert all(outcomes.get(k) for k in ("met", "fired", "pending")), outcomes
    # only the missed triages of demands still waiting, left to the running sweep
    assert stale == ({"triage": missed} if missed else {}) and without_triage == 0
    assert breaches.get("triage") and breaches.get("handling"), breaches
    assert levels.get(1) and levels.get(2), levels
    assert breaches["handling"] == levels[1] == lines["handling_overdue"] == lines[
        "escalate_head"]
    assert breaches["triage"] == lines["triage_overdue"] and mismatched == 0
    assert overdue > 0  # gridsvc_open_tasks_due{due="overdue"}
    with Session(engine) as session:
        today = date.today()
        [zone] = appraisal.appraise(session, appraisal.ZONE,
                                    appraisal.Period(today - timedelta(days=200), today))
    for figure in ("triage_on_time_rate", "handling_on_time_rate", "satisfaction_rate",
                   "resolution_rate"):
        assert 0.5 < zone[figure] < 1, (figure, zone)


def test_the_running_sweep_notices_the_demos_missed_triages(demo):
    """The sweep of ``make run``'s ticketing fires the demo's missed triages at once: each a
    breach with its ledger line and ``sla_breached`` (coordinators told), counted in
    ``gridsvc_sla_breaches_total``; it finds nothing else due."""
    from datetime import UTC, datetime

    from prometheus_client import REGISTRY
    from sqlalchemy.orm import sessionmaker

    from common.db import make_engine
    from services.ticketing import sweep
    from services.ticketing.calendar_years import read_calendar

    engine, _first, _second, _took = demo
    url = engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        missed = conn.execute(text(
            "SELECT count(*) FROM ticketing.demands WHERE status = 'received' "
            "AND triage_due_at <= now()")).scalar_one()
    labels = {"kind": "triage", "department": "none"}
    before = REGISTRY.get_sample_value("gridsvc_sla_breaches_total", labels) or 0
    ticketing = make_engine(url, "ticketing", "demo-test")
    try:
        factory = sessionmaker(ticketing)
        with factory() as session:
            calendar, _version = read_calendar(session)
        counts = sweep.run_once(factory.begin, calendar, datetime.now(UTC))
    finally:
        ticketing.dispose()
    after = REGISTRY.get_sample_value("gridsvc_sla_breaches_total", labels) or 0
    assert counts.breaches.get(("triage", None), 0) == missed
    assert set(counts.due) <= {"triage", "reminder", "handling", "acceptance", "escalation",
                               "rating_reminder", "close_unrated"}
    assert after - before == missed
    with engine.connect() as conn:
        told = conn.execute(text(
            "SELECT count(*) FROM ticketing.outbox WHERE event_type = 'sla_breached'"
        )).scalar_one()
    assert told >= missed


def test_the_demo_demands_are_the_same_on_every_machine():
    from datetime import UTC, datetime

    from common.calendar import WorkCalendar
    from services.ticketing import demo

    enterprises = [demo.DemoEnterprise(f"e{i}", "GEO01") for i in range(20)]
    categories = {"talent": "party_people", "fire": "fire_rescue"}
    anchor = datetime(2026, 12, 3, 12, tzinfo=UTC)
    one = demo.build(enterprises, categories, WorkCalendar([]), anchor)
    two = demo.build(enterprises, categories, WorkCalendar([]), anchor)
    assert one == two and len(one["demands"]) == 300
