"""考评's rollup of closed demands: a period read from the rollup for its full months (and
directly for the rest) has exactly the rows of the same period counted directly, for every
kind of subject; a demand closing is added once; the migration's backfill gives the same.

The data set goes through ticketing's own domain functions (intake, triage, accept, return,
reassign, complete, rate, resolve, the SLA sweep), January to April 2026, in a database of its
own: closed demands (rated, rated after a reopen, internal, unrated after a time-out and a
breach), open ones (being handled past due, never triaged, reassigned after a return), demands
with two departments, a grid worker recording in two grids, one recorded by the enterprise.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from alembic import command
from conftest import fresh_database
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from test_appraisal import LA, LB, LC, W1, W2, Script, enterprise

from common.errors import Conflict
from common.migrations import alembic_config
from services.ticketing import appraisal, closure
from services.ticketing.appraisal import Period, rollup
from services.ticketing.models import AppraisalRollup, AppraisalRollupDemand, Demand

A, B, C = "dept_a", "dept_b", "dept_c"
G1, G2 = "G1", "G2"
E1, E2, E3, E4 = "ent-1", "ent-2", "ent-3", "ent-4"
PERIODS = (
    Period(date(2026, 1, 1), date(2026, 3, 31)),  # three full months
    Period(date(2026, 1, 15), date(2026, 4, 10)),  # partial months at both edges
    Period(date(2026, 2, 1), date(2026, 2, 28)),
    Period.year(2026),
    Period(date(2026, 1, 6), date(2026, 1, 20)),  # no full month
    Period(date(2026, 1, 1), date(2026, 1, 31)),
)
AS_OF = (datetime.fromisoformat("2026-04-20T12:00:00+08:00"),
         datetime.fromisoformat("2026-02-10T12:00:00+08:00"))  # before some closures
CONFIGS = (appraisal.DEFAULT_SETTINGS,
           {**appraisal.DEFAULT_SETTINGS,
            "difficulty_points": {"easy": 0.3, "normal": 1.7, "hard": 2.9},
            "category_points": {"tax": 0.5, "finance": 1.25, "talent": 0.1}})


@pytest.fixture(scope="module")
def engine(infrastructure: dict[str, str]) -> Iterator[Engine]:
    engine = create_engine(fresh_database("rollup"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def script(engine: Engine) -> Script:
    s = Script(engine)
    # January: all closed
    s.submit("a1", W1, E1, G1, "finance", "01-05T09:00")
    s.triage("a1", "01-05T15:00", "finance", "normal", 3, A)
    s.submit("a2", W1, E2, G1, "tax", "01-06T09:00")
    s.triage("a2", "01-06T11:00", "tax", "hard", 3, B, C)
    s.accept("a1a", LA, "01-06T09:00")
    s.give_back("a2b", LB, "01-06T14:00")
    s.reassign("a2b", A, "01-06T15:00")
    s.submit("a3", W2, E3, G2, "finance", "01-07T09:00")
    s.triage("a3", "01-07T10:00", "finance", "easy", 2, A)
    s.accept("a2b", LA, "01-07T09:30")
    s.accept("a2c", LC, "01-07T09:30")
    s.complete("a1a", LA, "01-07T10:00")
    s.rate("a1", (5, 4, 4), "01-07T15:00")
    s.complete("a2b", LA, "01-08T10:00")
    s.complete("a2c", LC, "01-08T10:00")
    s.rate("a2", (2, 2, 2), "01-08T15:00")
    s.sweep("01-09T12:00")  # a3's task (A) times out
    s.resolve("a2", {"action": "reopen", "task_id": s.tasks["a2c"]}, "01-09T13:00")
    s.reassign("a3a", C, "01-09T14:00")
    s.accept("a3a", LC, "01-09T15:00")
    s.complete("a2c", LC, "01-12T10:00")
    s.rate("a2", (4, 4, 3), "01-12T15:00")
    s.sweep("01-15T12:00")  # a3's task breaches its handling deadline
    s.complete("a3a", LC, "01-15T14:00")  # late; never rated
    # February
    s.submit("b1", W2, E3, G2, "talent", "02-02T09:00")
    s.triage("b1", "02-02T11:00", "talent", "normal", 3, B)
    s.submit("b2", W1, E1, G1, "finance", "02-03T09:00")
    s.accept("b1b", LB, "02-03T09:00")
    s.triage("b2", "02-03T15:00", "finance", "normal", 3, A)
    s.accept("b2a", LA, "02-04T09:00")  # open past its deadline from then on
    s.complete("b1b", LB, "02-04T10:00")
    s.rate("b1", (2, 3, 3), "02-04T15:00")
    s.resolve("b1", {"action": "close_internally", "report": "已书面汇报"}, "02-05T10:00")
    s.submit("b3", enterprise(E4), E4, G1, "finance", "02-05T09:00")
    s.triage("b3", "02-06T11:00", "finance", "normal", 3, A, B)  # late
    s.accept("b3a", LA, "02-06T14:00")
    s.accept("b3b", LB, "02-06T14:00")
    s.complete("b3a", LA, "02-09T10:00")
    s.complete("b3b", LB, "02-09T11:00")
    s.rate("b3", (5, 5, 5), "02-09T15:00")
    # March
    s.submit("c1", W1, E2, G2, "tax", "03-02T09:00")  # worker 1 in a second grid
    s.triage("c1", "03-02T10:00", "tax", "normal", 3, B)
    s.submit("c2", W2, E3, G2, None, "03-03T09:00")  # never triaged
    s.submit("c3", W1, E1, G1, "finance", "03-04T09:00")
    s.triage("c3", "03-04T10:00", "finance", "normal", 3, A)
    s.accept("c1b", LB, "03-04T11:00")
    s.give_back("c3a", LA, "03-04T14:00")
    s.reassign("c3a", B, "03-04T15:00")
    s.accept("c3a", LB, "03-05T09:00")  # open
    s.complete("c1b", LB, "03-06T10:00")
    s.rate("c1", (4, 4, 4), "03-06T15:00")
    s.sweep("03-31T12:00")  # a3 closed unrated; b2's and c3's tasks breach
    # April
    s.submit("d1", W2, E2, G2, "finance", "04-01T09:00")
    s.triage("d1", "04-01T10:00", "finance", "hard", 2, C)
    s.accept("d1c", LC, "04-01T11:00")
    s.complete("d1c", LC, "04-02T10:00")
    s.rate("d1", (5, 5, 4), "04-02T15:00")
    s.submit("d2", W1, E1, G1, "talent", "04-03T09:00")
    s.triage("d2", "04-03T10:00", "talent", "normal", 3, B)
    return s


@pytest.fixture
def session(engine: Engine, script: Script) -> Iterator[Session]:
    with Session(engine) as s:
        yield s
        s.rollback()


def states(session: Session, script: Script) -> dict[str, tuple[str, str | None]]:
    return {name: (d.status, d.closure) for name, demand_id in script.demands.items()
            if (d := session.get(Demand, demand_id)) is not None}


def test_the_data_set_has_what_it_says(session, script):
    assert states(session, script) == {
        "a1": ("closed", "rated"), "a2": ("closed", "rated"), "a3": ("closed", "unrated"),
        "b1": ("closed", "internal"), "b2": ("in_progress", None), "b3": ("closed", "rated"),
        "c1": ("closed", "rated"), "c2": ("received", None), "c3": ("in_progress", None),
        "d1": ("closed", "rated"), "d2": ("triaged", None)}
    year = {row["subject_id"]: row for row in appraisal.appraise(
        session, appraisal.ZONE, Period.year(2026), AS_OF[0], rollup=False)}["zone"]
    assert (year["returned"], year["timed_out"], year["reopened"]) == (2, 1, 1)
    assert (year["closed"], year["ratings"], year["judged"], year["unrated"]) == (7, 7, 6, 1)
    workers = {row["subject_id"]: row for row in appraisal.appraise(
        session, appraisal.GRID_WORKERS, Period.year(2026), AS_OF[0], rollup=False)}
    assert workers["worker-1"]["grid_ids"] == [G1, G2]
    # every closed demand is in the rollup, once
    assert session.execute(select(func.count()).select_from(AppraisalRollupDemand)
                           ).scalar_one() == 7


def test_a_ledger_line_names_its_tasks_demand(session):
    """The appraisal finds a task's returns and time-outs by the line's own ``demand_id``
    (``figures.ledger_select``, for its plan): every line with a task, written by the domain
    functions and the sweep, names that task's demand."""
    lines, others = session.execute(text(
        "SELECT count(*), count(*) FILTER (WHERE l.demand_id <> t.demand_id) "
        "FROM ticketing.ledger l JOIN ticketing.tasks t ON t.id = l.task_id")).one()
    assert lines > 10 and others == 0


@pytest.mark.parametrize("kind", appraisal.SUBJECTS)
def test_the_rollup_gives_the_rows_of_the_direct_count(session, kind):
    for period in PERIODS:
        for as_of in AS_OF:
            for config in CONFIGS:
                direct = appraisal.appraise(session, kind, period, as_of, config, rollup=False)
                rolled = appraisal.appraise(session, kind, period, as_of, config)
                assert rolled == direct, (kind, period, as_of, config["category_points"])
                assert direct, (kind, period)


def test_the_full_months_are_read_from_the_rollup(session):
    """The comparison above is not vacuous: a changed rollup row changes the rolled-up
    figures (and only them)."""
    quarter = PERIODS[0]
    before = appraisal.appraise(session, appraisal.ZONE, quarter, AS_OF[0])
    session.execute(text("UPDATE ticketing.appraisal_rollup SET demands = demands + 5 "
                         "WHERE subject = 'zone' AND month = '2026-02-01'"))
    assert appraisal.appraise(session, appraisal.ZONE, quarter, AS_OF[0])[0]["demands"] == (
        before[0]["demands"] + 5)
    assert appraisal.appraise(session, appraisal.ZONE, quarter, AS_OF[0], rollup=False
                              ) == before
    assert appraisal.full_months(PERIODS[1]) == Period(date(2026, 2, 1), date(2026, 3, 31))
    assert appraisal.full_months(Period(date(2026, 1, 31), date(2026, 2, 28))) == Period(
        date(2026, 2, 1), date(2026, 2, 28))
    assert appraisal.full_months(PERIODS[4]) is None


@pytest.mark.parametrize("kind", appraisal.SUBJECTS)
def test_a_year_reads_its_open_demands_from_their_index_alone(engine, script, kind):
    """A period of whole months counts its open demands directly: every statement can read
    them from ``ix_demands_open_figures`` alone (an index-only scan, no page of the table),
    so the index's states are the open ones and it holds every column the figures count (a
    new one counted, or a new state, fails here). The planner is told to avoid the other
    ways, which a table this small would take: a scan of the whole table, of a bitmap, or
    lookups by id in a loop."""
    statements: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if "ticketing.demands" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        with Session(engine) as s:
            appraisal.appraise(s, kind, Period.year(2026), AS_OF[0])
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    assert statements
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE ticketing.demands"))  # its pages all visible
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        for off in ("seqscan", "bitmapscan", "nestloop", "mergejoin"):
            cursor.execute(f"SET enable_{off} = off")
        for statement, parameters in statements:
            cursor.execute("EXPLAIN " + statement, parameters)
            scans = [line for (line,) in cursor.fetchall() if " on demands" in line]
            assert scans and all("Index Only Scan using ix_demands_open_figures" in line
                                 for line in scans), (statement, scans)
        conn.rollback()


def zone_month(session: Session, month: date) -> tuple[int, int, int]:
    row = session.execute(select(AppraisalRollup.__table__.c.demands,
                                 AppraisalRollup.__table__.c.closed,
                                 AppraisalRollup.__table__.c.ratings)
                          .where(AppraisalRollup.subject == "zone",
                                 AppraisalRollup.month == month)).first()
    return tuple(row) if row else (0, 0, 0)


def test_a_demand_closing_is_added_once(engine, script):
    may = date(2026, 5, 1)
    script.submit("e1", W1, E1, G1, "finance", "05-06T09:00")
    script.triage("e1", "05-06T10:00", "finance", "normal", 3, A)
    script.accept("e1a", LA, "05-06T11:00")
    script.complete("e1a", LA, "05-07T10:00")
    demand_id = script.demands["e1"]
    rating = {"efficiency": 5, "attitude": 5, "quality": 5}
    with Session(engine) as session:
        assert zone_month(session, may) == (0, 0, 0)
        # a closure whose transaction fails adds nothing (the sweep retries in a savepoint)
        with pytest.raises(RuntimeError), session.begin_nested():
            closure.rate(session, enterprise(E1), demand_id, rating,
                         now=datetime.fromisoformat("2026-05-07T15:00:00+08:00"))
            assert zone_month(session, may) == (1, 1, 1)
            raise RuntimeError("rolled back")
        assert zone_month(session, may) == (0, 0, 0)
        closure.rate(session, enterprise(E1), demand_id, rating,
                     now=datetime.fromisoformat("2026-05-07T15:00:00+08:00"))
        session.commit()
    with Session(engine) as session:
        assert zone_month(session, may) == (1, 1, 1)
        # recorded again (a retried call, the backfill), rated again, swept: still once
        rollup.record(session, Demand.id == demand_id)
        rollup.backfill(session)
        with pytest.raises(Conflict):
            closure.rate(session, enterprise(E1), demand_id, rating)
        session.rollback()
        assert not closure.close_unrated(session, demand_id)
        script.sweep("06-30T12:00")
        assert zone_month(session, may) == (1, 1, 1)
        assert session.execute(select(func.count()).select_from(AppraisalRollupDemand).where(
            AppraisalRollupDemand.demand_id == demand_id)).scalar_one() == 1
        may_only = Period(date(2026, 5, 1), date(2026, 5, 31))
        for kind in appraisal.SUBJECTS:
            assert appraisal.appraise(session, kind, may_only) == appraisal.appraise(
                session, kind, may_only, rollup=False)


def test_the_migration_backfills_the_closed_demands(engine, script):
    """Down to 0011 (no rollup) and up again: the backfill adds every closed demand once, a
    month at a time, and the rolled-up rows equal the direct ones."""
    with Session(engine) as session:
        expected = {kind: appraisal.appraise(session, kind, Period.year(2026), AS_OF[0],
                                             rollup=False) for kind in appraisal.SUBJECTS}
        closed = session.execute(select(func.count()).select_from(Demand).where(
            Demand.status == "closed")).scalar_one()
    url = engine.url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        cfg = alembic_config("ticketing", url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
        assert conn.execute(text(
            "SELECT to_regclass('ticketing.appraisal_rollup')")).scalar() is None
        command.upgrade(cfg, "head")
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(AppraisalRollupDemand)
                               ).scalar_one() == closed
        for kind in appraisal.SUBJECTS:
            assert appraisal.appraise(session, kind, Period.year(2026), AS_OF[0]
                                      ) == expected[kind], kind
        # a second backfill (after an upgrade that left closures out) adds nothing twice
        session.execute(text("DELETE FROM ticketing.appraisal_rollup_demands WHERE demand_id "
                             "IN (SELECT id FROM ticketing.demands WHERE received_at >= "
                             "'2026-02-01T00:00+08:00')"))
        session.execute(text("DELETE FROM ticketing.appraisal_rollup WHERE month > "
                             "'2026-01-01'"))
        session.execute(text("DELETE FROM ticketing.appraisal_rollup_categories WHERE month "
                             "> '2026-01-01'"))
        assert rollup.backfill(session) == 5  # January (all there already) to May
        for kind in appraisal.SUBJECTS:
            assert appraisal.appraise(session, kind, Period.year(2026), AS_OF[0]
                                      ) == expected[kind], kind
        session.commit()
    # the operator's catch-up after an upgrade: adds nothing that is there already
    assert rollup.main([url]) == 0
    with Session(engine) as session:
        for kind in appraisal.SUBJECTS:
            assert appraisal.appraise(session, kind, Period.year(2026), AS_OF[0]
                                      ) == expected[kind], kind


def test_a_closure_by_the_former_version_is_caught_up_by_the_timer(engine, script,
                                                                    monkeypatch):
    """A replica of the version before the rollup closes a demand without recording it (an
    upgrade's rollout): the catch-up every replica runs adds it once, within its days."""
    june = date(2026, 6, 1)
    script.submit("f1", W2, E3, G2, "finance", "06-08T09:00")
    script.triage("f1", "06-08T10:00", "finance", "normal", 3, A)
    script.accept("f1a", LA, "06-08T11:00")
    script.complete("f1a", LA, "06-09T10:00")
    closed_at = datetime.fromisoformat("2026-06-09T15:00:00+08:00")
    with Session(engine) as session:
        with monkeypatch.context() as former:  # the former version: no rollup at closure
            former.setattr(rollup, "record", lambda *args, **kwargs: None)
            closure.rate(session, enterprise(E3), script.demands["f1"],
                         {"efficiency": 4, "attitude": 4, "quality": 4}, now=closed_at)
        session.commit()
    with Session(engine) as session:
        assert zone_month(session, june) == (0, 0, 0)
        june_only = Period(date(2026, 6, 1), date(2026, 6, 30))
        direct = appraisal.appraise(session, "zone", june_only, rollup=False)
        assert appraisal.appraise(session, "zone", june_only) != direct  # the gap it leaves
        # looked at a week and a day later, the closure is out of the catch-up's days
        later = closed_at + timedelta(days=rollup.CATCH_UP_DAYS, minutes=1)
        assert rollup.catch_up(session, later) == 0
        next_day = closed_at + timedelta(days=1)
        assert rollup.catch_up(session, next_day) == 1
        assert rollup.catch_up(session, next_day) == 0  # every replica's next tick: nothing
        assert zone_month(session, june) == (1, 1, 1)
        for kind in appraisal.SUBJECTS:
            assert appraisal.appraise(session, kind, june_only) == appraisal.appraise(
                session, kind, june_only, rollup=False), kind
        session.commit()
