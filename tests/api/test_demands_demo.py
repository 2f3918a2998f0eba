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
