"""The zone resources' demo data (``make run``'s zone step): deterministic, complete, and
consistent with the demo zone, loaded into a database of its own so that the shared test
platform's counts never see it."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

import pytest
from conftest import fresh_database
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.db import make_engine
from devtools.migrate import load_demo, load_zone_demo
from services.enterprise.demo_data import YEARS, build
from services.enterprise.models import Enterprise, ProfileValue
from services.enterprise.zone import carriers, demo, economy, industries, projects
from services.enterprise.zone.models import Carrier, IndicatorValue, Project
from services.enterprise.zone.periods import Period
from services.enterprise.zone.vocabulary import INSTITUTE_LEVELS, MILESTONES

ANCHOR = date(2026, 12, 3)


@pytest.fixture(scope="module")
def zone() -> demo.ZoneDemo:
    return demo.build(build(), anchor=ANCHOR)


def test_deterministic(zone):
    assert demo.build(build(), anchor=ANCHOR) == zone
    assert demo.build(build(), seed=7, anchor=ANCHOR) != zone


def test_carriers_the_24_incubators_and_some_parks_and_buildings(zone):
    kinds = Counter(c.kind for c in zone.carriers)
    assert kinds["incubator"] == 24 and kinds["industrial_park"] == 3
    assert kinds["office_building"] + kinds["factory_building"] == 5
    data = build()
    incubated = Counter(e.incubator_id for e in data.enterprises if e.incubator_id)
    for carrier in zone.carriers:
        occupied = sum(area for _, area, _ in carrier.tenancies)
        assert occupied <= carrier.leasable_area <= carrier.floor_area
        if carrier.kind == "incubator":  # every enterprise of the incubator is a tenant
            assert len(carrier.tenancies) == incubated[carrier.grid_id]
        else:
            assert carrier.tenancies
    tenants = [code for c in zone.carriers for code, _, _ in c.tenancies]
    assert len(tenants) == len(set(tenants))


def test_ten_projects_at_every_stage_one_delayed(zone):
    assert len(zone.projects) == 10
    stages = set()
    delayed = []
    for project in zone.projects:
        done = [m.done_on for m in project.milestones if m.done_on]
        assert done == sorted(done) and all(d <= ANCHOR for d in done)
        stages.add(MILESTONES[len(done) - 1] if done else "not_started")
        late = [m for m in project.milestones if m.done_on is None and m.planned_on < ANCHOR]
        if late:
            delayed.append(project.name)
        assert project.registered == (len(done) == len(MILESTONES))
    assert stages == {"not_started", *MILESTONES}
    assert len(delayed) == 1


def test_institutes_industries_and_figures(zone):
    assert len(zone.institutes) == 8
    assert {i.level for i in zone.institutes} == set(INSTITUTE_LEVELS)
    assert all(i.partners for i in zone.institutes)
    assert len(zone.industries) == 5 and all(len(i.links) >= 5 for i in zone.industries)
    data = build()
    assert len(zone.figures) == 24 * len(data.enterprises)
    months = defaultdict(lambda: defaultdict(Decimal))
    for f in zone.figures:
        for name in ("output_value", "revenue", "tax", "rd_spend"):
            months[(f.credit_code, f.year)][name] += getattr(f, name)
        if f.month == 12:
            months[(f.credit_code, f.year)]["employees"] = f.employees
    for e in data.enterprises:
        for yearly in e.indicators:
            summed = months[(e.credit_code, yearly.year)]
            for name in ("output_value", "revenue", "tax", "rd_spend"):
                assert summed[name] == Decimal(str(getattr(yearly, name))), (e.credit_code, name)
            assert summed["employees"] == yearly.employees


@pytest.fixture(scope="module")
def loaded(infrastructure):
    url = fresh_database("zone_demo")
    load_demo(url)
    first = load_zone_demo(url)
    second = load_zone_demo(url)
    engine = make_engine(url, "enterprise", "test-zone-demo", pool_size=2)
    yield engine, first, second
    engine.dispose()


def test_the_demo_step_loads_once(loaded):
    _, first, second = loaded
    assert first["zone_carriers"] == 32 and first["zone_projects"] == 10
    assert first["zone_institutes"] == 8 and first["zone_leading_industries"] == 5
    assert first["zone_indicator_values"] == 28_800 and first["profiles"] > 0
    assert not any(second.values())


def test_the_loaded_demo_adds_up(loaded):
    engine, _, _ = loaded
    leader = Principal("test-leader", Role.LEADER)
    with Session(engine) as session:
        # the 2025 figures of the zone equal the enterprises' yearly profile values
        summary = economy.summary(session, leader, {"by": "zone", "period": Period(2025, "year")})
        for name in ("output_value", "revenue", "tax"):
            yearly = session.execute(select(func.sum(ProfileValue.value)).where(
                ProfileValue.year == 2025, ProfileValue.indicator == name)).scalar_one()
            figure = summary["total"]["figures"][name]
            assert figure["reporting"] == 1200 and figure["status"] == "reported"
            assert Decimal(str(figure["value"])) == yearly
            assert figure["yoy"] is not None
        not_yet = economy.summary(session, leader, {"by": "zone",
                                                    "period": Period(YEARS[-1] + 1, "month", 1)})
        assert not_yet["total"]["figures"]["revenue"]["status"] == "not_reported"
        # incubators' occupancy comes from their enterprises
        incubators = session.execute(select(Carrier).where(Carrier.kind == "incubator")).scalars()
        shown = carriers.occupancy(session, [c.id for c in incubators])
        members = dict(session.execute(select(Enterprise.incubator_id, func.count()).where(
            Enterprise.incubator_id.is_not(None)).group_by(Enterprise.incubator_id)).all())
        for carrier in session.execute(select(Carrier).where(Carrier.kind == "incubator")
                                       ).scalars():
            assert shown[carrier.id]["tenants"] == members[carrier.grid_id]
            assert shown[carrier.id]["unknown"] == 0
        # chain maps with gaps, and one project delayed on the anchor day
        gaps = [g for item in industries.listing(session, leader)["items"]
                for g in industries.chain_map(session, leader, item["id"])["gaps"]]
        assert gaps
        assert session.execute(select(func.count()).select_from(Project)).scalar_one() == 10
        counted = projects.counts(session, date.today())  # the step dates them from today
        assert counted["total"] == 10 and counted["delayed"] == 1
        assert session.execute(select(func.count()).select_from(IndicatorValue)).scalar_one() \
            == 28_800


def test_every_demo_enterprise_has_contacts_and_grid_staff_work_phones(loaded):
    """A demo docking or visit has someone to call; loading again changes nothing."""
    from sqlalchemy import text

    engine, _, _ = loaded
    with engine.connect() as conn:
        before = dict(conn.execute(text(
            "SELECT id, contacts FROM enterprise.enterprises")).all())
        staff = conn.execute(text(
            "SELECT a.phone, a.publish_contact FROM enterprise.accounts a JOIN "
            "enterprise.grid_staff s ON s.account_id = a.id")).all()
    assert len(before) == 1200
    assert all(len(contacts) >= 1 and contacts[0]["phone"] for contacts in before.values())
    assert staff and all(phone and phone.startswith("0532-") for phone, _ in staff)
    assert any(published for _, published in staff)
    load_demo(str(engine.url.render_as_string(hide_password=False)))
    with engine.connect() as conn:
        after = dict(conn.execute(text(
            "SELECT id, contacts FROM enterprise.enterprises")).all())
    assert after == before
