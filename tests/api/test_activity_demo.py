"""The demo zone's activity (``make run``): the year's meetings against the yearly plan,
published policies with receipts, the supply/demand board with matches and dockings; each
deterministic, loaded once (a second load adds nothing), into a database of its own."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import fresh_database
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.calendar import SHANGHAI
from devtools.migrate import (
    load_board_demo,
    load_demo,
    load_meetings_demo,
    load_policies_demo,
    load_ticketing_demo,
)

COORDINATOR = Principal(user_id="demo-test", role=Role.COORDINATOR,
                        department_id="economic_development")


@pytest.fixture(scope="module")
def demo(infrastructure):
    url = fresh_database("activity_demo")
    load_demo(url)
    loaders = {"demands": load_ticketing_demo, "meetings": load_meetings_demo,
               "policies": load_policies_demo, "board": load_board_demo}
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


def test_published_policies_with_receipts_some_read_some_not(demo):
    from services.notification import policies, policies_demo

    engine, first, _second = demo
    assert first["policies"]["demo policies"] == len(policies_demo.POLICIES)
    with Session(engine) as session:
        figures = [policies.reach(session, COORDINATOR, policies_demo.stable("policy", p.key))
                   for p in policies_demo.POLICIES]
        grid = figures[-1]["by_grid"][0]["key"]
        worker = Principal(user_id="demo-worker", role=Role.GRID_WORKER, grid_ids=(grid,))
        unread = policies.receipts(session, worker, figures[-1]["policy_id"],
                                   {"read": False, "page": 1, "per_page": 100})
        read = policies.receipts(session, worker, figures[-1]["policy_id"],
                                 {"read": True, "page": 1, "per_page": 100})
        inbox = dict(session.execute(text(
            "SELECT read_at IS NULL, count(*) FROM notification.inbox_messages "
            "WHERE kind = 'policy_published' GROUP BY 1")).all())
        published = session.execute(text(
            "SELECT min(published_at), max(published_at) FROM notification.policies")).one()
    for reach in figures:
        assert reach["status"] == "published"
        assert reach["targeted"] == reach["delivered"] > reach["read"] > 0, reach
    assert figures[0]["read_rate"] > figures[-1]["read_rate"]  # older ones read more
    assert unread["total"] > 0 and read["total"] > 0
    assert all(r["grid_id"] == grid and r["read_at"] is None for r in unread["items"])
    assert inbox[True] > 0 and inbox[False] > 0
    assert published[1] - published[0] > timedelta(days=60)


def test_the_board_has_listings_matches_and_dockings_in_every_state(demo):
    from services.supplydemand import board, board_demo, docking

    engine, first, _second = demo
    assert first["board"]["demo listings"] == len(board_demo.LISTINGS)
    assert first["board"]["demo matches"] > 0
    with Session(engine) as session:
        statuses = dict(session.execute(text(
            "SELECT status, count(*) FROM supplydemand.listings GROUP BY status")).all())
        dockings = {row.status: row for row in session.execute(text(
            "SELECT DISTINCT ON (status) * FROM supplydemand.dockings ORDER BY status, id"))}
        steps = session.execute(text(
            "SELECT count(*) FROM supplydemand.docking_events")).scalar_one()
        pairs = session.execute(text(
            "SELECT count(*) FROM supplydemand.matches")).scalar_one()
        need, _enterprise = board.get(session, board_demo.stable("listing", "laser-demand"))
        ranked = board.matches_for(session, need)
        accepted = dockings["accepted"]
        owner = Principal(user_id="demo-owner", role=Role.ENTERPRISE,
                          enterprise_id=str(accepted.owner_enterprise_id))
        shown = docking.dump(session, *docking.visible(session, owner, str(accepted.id)))
    assert statuses.get("published", 0) >= 10 and statuses.get("closed") == 1
    assert statuses.get("hidden") == 1
    assert set(dockings) == {"requested", "accepted", "declined"}
    assert steps == len(board_demo.DOCKINGS) + sum(
        1 for d in board_demo.DOCKINGS if d[2] != "requested")
    assert pairs == first["board"]["demo matches"]
    assert ranked and ranked[0].candidate.payload["id"] == board_demo.stable(
        "listing", "laser-supply")
    assert accepted.requester_contacts and accepted.owner_contacts
    assert shown["status"] == "accepted" and shown["contacts"]["requester"]
    assert [step["action"] for step in shown["history"]] == ["requested", "accepted"]
    assert dockings["requested"].requester_contacts is None


def test_the_enterprise_make_run_prints_has_a_lived_in_console(demo):
    """The first demo login's enterprise (the one ``make run`` prints) has demands, a listing
    with an accepted docking, meeting invitations and a policy in its inbox."""
    from devtools.migrate import featured_enterprises

    engine, _first, _second = demo
    featured = featured_enterprises(engine.url.render_as_string(hide_password=False))
    assert len(featured) == 10
    with engine.connect() as conn:
        def count(sql: str) -> int:
            return conn.execute(text(sql), {"e": featured[0]}).scalar_one()

        demands = count("SELECT count(*) FROM ticketing.demands WHERE enterprise_id = :e")
        listings = count("SELECT count(*) FROM supplydemand.listings "
                         "WHERE enterprise_id = CAST(:e AS uuid)")
        accepted = count("SELECT count(*) FROM supplydemand.dockings WHERE status = 'accepted' "
                         "AND CAST(:e AS uuid) IN (owner_enterprise_id, requester_enterprise_id)")
        invitations = count("SELECT count(*) FROM enterprise.meeting_invitations "
                            "WHERE enterprise_id = CAST(:e AS uuid)")
        messages = count("SELECT count(*) FROM notification.inbox_messages "
                         "WHERE recipient = 'enterprise:' || :e")
        others = conn.execute(text(
            "SELECT count(DISTINCT enterprise_id) FROM ticketing.demands "
            "WHERE enterprise_id = ANY(:f)"), {"f": featured}).scalar_one()
    assert demands >= 2 and others == len(featured)
    assert listings >= 1 and accepted >= 1 and invitations >= 1 and messages >= 1
