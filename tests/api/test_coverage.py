"""Coverage (全覆盖、无遗漏) on the real demo data set, in a database of its own."""

from __future__ import annotations

import pytest
from conftest import fresh_database
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.db import make_engine
from devtools.migrate import load_demo
from services.enterprise import directory
from services.enterprise.models import Enterprise, GridStaff

ADMIN = Principal(user_id="admin", role=Role.ADMIN)


@pytest.fixture(scope="module")
def demo_db(infrastructure):
    url = fresh_database("demo")
    first = load_demo(url)
    second = load_demo(url)
    engine = make_engine(url, "enterprise", "test-coverage")
    yield engine, first, second
    engine.dispose()


def test_demo_load_is_complete_and_idempotent(demo_db):
    engine, first, second = demo_db
    assert first["enterprises"] == 1200 and first["grids"] == 39
    assert all(n == 0 for n in second.values())
    with Session(engine) as session:
        report = directory.coverage(session, ADMIN)
    assert report == {"unassigned_enterprises": [], "grids_without_leader": [],
                      "grids_short_of_workers": [], "overlapping_grids": [], "covered": True}


def test_an_enterprise_outside_every_grid_and_a_grid_without_staff_are_reported(demo_db):
    engine, _, _ = demo_db
    with Session(engine) as session, session.begin():
        lost = session.execute(select(Enterprise).where(Enterprise.incubator_id.is_(None))
                               .limit(1)).scalar_one()
        lost_id = lost.id
        lost.grid_id, lost.grid_source = None, "unassigned"
        session.execute(GridStaff.__table__.delete().where(GridStaff.grid_id == "GEO03",
                                                           GridStaff.duty == "worker"))
        report = directory.coverage(session, ADMIN)
        session.rollback()
    assert [e["enterprise_id"] for e in report["unassigned_enterprises"]] == [lost_id]
    assert report["grids_short_of_workers"] == [{"grid_id": "GEO03", "workers": 0}]
    assert report["covered"] is False
