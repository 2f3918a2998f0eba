"""The demo zone's activity (``make run``): the year's meetings against the yearly plan,
published policies with receipts, the supply/demand board with matches and dockings; each
deterministic, loaded once (a second load adds nothing), into a database of its own."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from conftest import fresh_database
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.calendar import SHANGHAI
from devtools.migrate import load_demo, load_meetings_demo

COORDINATOR = Principal(user_id="demo-test", role=Role.COORDINATOR,
                        department_id="economic_development")


@pytest.fixture(scope="module")
def demo(infrastructure):
    url = fresh_database("activity_demo")
    load_demo(url)
    loaders = {"meetings": load_meetings_demo}
    first, second, took = {}, {}, {}
    for name, loader in loaders.items():
        started = time.monotonic()
        first[name] = loader(url)
        took[name] = time.monotonic() - started
        second[name] = loader(url)
    print("demo activity loaded in", {k: f"{v:.1f} s" for k, v in took.items()})
    engine = create_engine(url)
    yield engine, first, second
    engine.dispose()


def test_a_second_load_adds_nothing(demo):
    _engine, first, second = demo
    assert all(first.values()), first
    assert not any(second.values()), second


def test_the_years_meetings_follow_the_yearly_plan(demo):
    from services.enterprise import meetings

    engine, first, _second = demo
    now = datetime.now(UTC)
    today = now.astimezone(SHANGHAI)
    with Session(engine) as session:
        report = meetings.report(session, COORDINATOR, {"year": today.year}, now=now)
        states = dict(session.execute(text(
            "SELECT state, count(*) FROM enterprise.meetings GROUP BY state")).all())
    assert first["meetings"]["demo meeting themes"] == 4
    assert states.get("cancelled") == 1 and states.get("held", 0) >= today.month - 1
    assert states.get("held", 0) + states.get("invited", 0) + states.get("planned", 0) == 12
    assert report["held"] == states.get("held", 0)
    ended = [m for m in report["months"] if m["month"] < today.month]
    assert all(m["status"] == "ok" for m in ended), report["months"]
    assert not report["months_without_meeting"] and not report["quarters_off_theme"]
    assert any(m["on_quarter_theme"] is False for m in report["meetings"]) or today.month < 9
    if report["held"]:
        assert report["invited"] > report["attended"] > 0 and report["registered"] > 0
        assert report["feedback"] > 0 and 3 <= report["average_rating"] <= 5
    if today.month < 12 or today.day < 20:
        assert report["upcoming"] >= 1


def test_the_demo_meetings_are_the_same_on_every_machine():
    from services.enterprise import meetings_demo

    grids = [meetings_demo.DemoGrid(f"GEO{i:02d}", "economic_development") for i in range(9)]
    invitees = None
    anchor = datetime(2026, 12, 3, 12, tzinfo=UTC)
    one = meetings_demo.build(grids, invitees, anchor)
    audiences = {tuple(a["grid_ids"]): ["e1", "e2", "e3", "e4"] for a in one["audiences"]}
    two = meetings_demo.build(grids, audiences, anchor)
    assert [m["starts_at"] for m in one["meetings"]] == [m["starts_at"] for m in two["meetings"]]
    assert two == meetings_demo.build(grids, audiences, anchor)
    assert two["feedback"] and two["attendance"]
