"""Apply (or write) the Alembic migrations of every service.

    python -m devtools.migrate upgrade             # create the database if needed, migrate all
    python -m devtools.migrate upgrade --service ticketing   # one service, as its own role
    python -m devtools.migrate revision ticketing "add tasks"   # autogenerate one
"""

from __future__ import annotations

import argparse

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from common.config import SERVICES, load_settings
from common.migrations import alembic_config, upgrade


def ensure_database(database_url: str) -> None:
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def upgrade_all(database_url: str) -> None:
    ensure_database(database_url)
    for service in SERVICES:
        upgrade(service, database_url)


def load_demo(database_url: str) -> dict[str, int]:
    """Load the demo zone (departments, grids, staff, 1,200 enterprises) if missing."""
    from sqlalchemy.orm import Session

    from common.db import make_engine
    from services.enterprise.demo_data import build
    from services.enterprise.demo_load import load

    engine = make_engine(database_url, "enterprise", "demo-loader")
    try:
        with Session(engine) as session, session.begin():
            return load(session, build())
    finally:
        engine.dispose()


def featured_enterprises(database_url: str) -> list[str]:
    """The enterprises the demo's enterprise logins act for, by username (the first is the
    one ``make run`` prints): the demo activity gives each of them demands, listings,
    dockings, meetings and policies, so signing in shows a lived-in console."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from common.db import make_engine
    from services.enterprise.models import Account

    engine = make_engine(database_url, "enterprise", "demo-loader")
    try:
        with Session(engine) as session:
            return [str(e) for e in session.execute(
                select(Account.enterprise_id).where(
                    Account.role == "enterprise", Account.created_by == "demo",
                    Account.enterprise_id.is_not(None))
                .order_by(Account.username)).scalars()]
    finally:
        engine.dispose()


def load_ticketing_demo(database_url: str) -> dict[str, int]:
    """About 300 demo demands over the last six months in every state (services/ticketing/
    demo.py), for the demo zone's enterprises, if missing."""
    from sqlalchemy.orm import Session

    from common.db import make_engine
    from services.enterprise.demo_data import build
    from services.enterprise.demo_load import stable_id
    from services.ticketing import demo
    from services.ticketing.calendar_years import read_calendar

    data = build()
    enterprises = [demo.DemoEnterprise(stable_id("enterprise", e.credit_code), e.grid_id)
                   for e in data.enterprises]
    by_id = {e.id: e for e in enterprises}
    featured = [by_id[e] for e in featured_enterprises(database_url) if e in by_id]
    categories = {c.code: c.department for c in data.categories}
    engine = make_engine(database_url, "ticketing", "demo-loader")
    try:
        with Session(engine) as session, session.begin():
            calendar, _version = read_calendar(session)
            return demo.load(session, enterprises, categories, calendar, featured=featured)
    finally:
        engine.dispose()


def load_meetings_demo(database_url: str) -> dict[str, int]:
    """The year's demo meetings (services/enterprise/meetings_demo.py) with themes, invitees,
    registrations, attendance and feedback, on top of the demo zone, if missing."""
    from sqlalchemy.orm import Session

    from common.db import make_engine
    from services.enterprise import meetings_demo

    engine = make_engine(database_url, "enterprise", "demo-loader")
    try:
        with Session(engine) as session, session.begin():
            return meetings_demo.load(session, featured=featured_enterprises(database_url))
    finally:
        engine.dispose()


def load_policies_demo(database_url: str) -> dict[str, int]:
    """A few demo policies and notices published to audiences of the demo zone, with read
    receipts (services/notification/policies_demo.py), if missing. Each audience is resolved
    by the registry's own code, as the service's resolve_audience call does."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from common.db import make_engine
    from services.enterprise import audience
    from services.enterprise.models import Department, Enterprise
    from services.notification import policies_demo

    featured = featured_enterprises(database_url)
    registry = make_engine(database_url, "enterprise", "demo-loader")
    try:
        with Session(registry) as session:
            grids = sorted({g for g in session.execute(
                select(Enterprise.grid_id).where(Enterprise.id.in_(featured))).scalars() if g})
            audiences = policies_demo.audiences(grids)
            members = {key: audience.members(session, spec) for key, spec in audiences.items()}
            departments = {row.id: row.name for row in session.execute(
                select(Department.id, Department.name))}
    finally:
        registry.dispose()
    engine = make_engine(database_url, "notification", "demo-loader")
    try:
        with Session(engine) as session, session.begin():
            return policies_demo.load(session, members, departments, audiences)
    finally:
        engine.dispose()


def load_board_demo(database_url: str) -> dict[str, int]:
    """The demo supply/demand board (services/supplydemand/board_demo.py): listings of demo
    enterprises, their matches, dockings in every state, if missing. The enterprises' records
    (with their contacts) are read from the registry, as the service's get_enterprise call
    gives them."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from common.db import make_engine
    from services.enterprise.models import Enterprise
    from services.supplydemand import board_demo
    from services.supplydemand.dependencies import match_threshold

    registry = make_engine(database_url, "enterprise", "demo-loader")
    try:
        with Session(registry) as session:
            records = [dict(row._mapping) for row in session.execute(
                select(Enterprise.id, Enterprise.name, Enterprise.grid_id,
                       Enterprise.industry_code, Enterprise.in_scope, Enterprise.contacts))
                       if row.contacts]
    finally:
        registry.dispose()
    for record in records:
        record["id"] = str(record["id"])
    engine = make_engine(database_url, "supplydemand", "demo-loader")
    try:
        with Session(engine) as session, session.begin():
            return board_demo.load(session, records, match_threshold(),
                                   featured=featured_enterprises(database_url))
    finally:
        engine.dispose()


def load_zone_demo(database_url: str) -> dict[str, int]:
    """Load the zone resources' demo (carriers, projects, institutes, leading industries and
    24 months of figures for every demo enterprise) on top of the demo zone, if missing. A
    step of its own: ``make run`` takes it, the test platform does not (its tests count)."""
    from sqlalchemy.orm import Session

    from common.db import make_engine
    from services.enterprise.demo_data import build
    from services.enterprise.zone import demo

    engine = make_engine(database_url, "enterprise", "demo-loader")
    try:
        with Session(engine) as session, session.begin():
            added = demo.load(session, demo.build(build()))
        if any(added.values()):  # fresh statistics: the planner saw these tables empty
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE enterprises, zone_carriers, zone_tenancies, "
                                     "zone_leading_industries, zone_indicator_values")
        return added
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("upgrade")
    up.add_argument("--service", choices=SERVICES,
                    help="only this service's migrations, into an existing database (the "
                         "Kubernetes Job runs each with the service's own role)")
    sub.add_parser("demo", help="load the demo data set (idempotent)")
    sub.add_parser("zone-demo", help="load the zone resources' demo on top of it (idempotent)")
    sub.add_parser("demands-demo", help="load the demo demands in every state (idempotent)")
    sub.add_parser("meetings-demo", help="load the year's demo meetings (idempotent)")
    sub.add_parser("policies-demo", help="load the demo policies with receipts (idempotent)")
    sub.add_parser("board-demo", help="load the demo supply/demand board (idempotent)")
    rev = sub.add_parser("revision")
    rev.add_argument("service", choices=SERVICES)
    rev.add_argument("message")
    args = parser.parse_args()
    url = load_settings().database_url
    if args.cmd == "upgrade" and args.service:
        upgrade(args.service, url)
        print("migrated:", args.service)
    elif args.cmd == "upgrade":
        upgrade_all(url)
        print("migrated:", ", ".join(SERVICES))
    elif args.cmd == "demo":
        print(load_demo(url))
    elif args.cmd == "zone-demo":
        print(load_zone_demo(url))
    elif args.cmd == "demands-demo":
        print(load_ticketing_demo(url))
    elif args.cmd == "meetings-demo":
        print(load_meetings_demo(url))
    elif args.cmd == "policies-demo":
        print(load_policies_demo(url))
    elif args.cmd == "board-demo":
        print(load_board_demo(url))
    else:
        ensure_database(url)
        upgrade(args.service, url)
        command.revision(alembic_config(args.service, url), args.message, autogenerate=True)


if __name__ == "__main__":
    main()
