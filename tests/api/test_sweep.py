"""The SLA sweep (时限巡检) as a plain module on the real test database.

Deadlines here lie in late December 2026 / January 2027 and the sweep is given that ``now``,
so a running platform (whose timer uses the real clock) never fires them first. Assertions
look only at this module's own demands and tasks.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from conftest import fresh_database
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from common.calendar import SHANGHAI, WorkCalendar, YearSchedule
from services.ticketing import sla, sla_metrics, sweep
from services.ticketing.models import (
    Breach,
    Deadline,
    Demand,
    Escalation,
    LedgerEntry,
    SlaSetting,
    Task,
)

#: 2027 as an operator would load it before the State Council notice: 元旦 (Fri 1 Jan) off
NEW_YEAR_2027 = YearSchedule(year=2027, holidays=frozenset({date(2027, 1, 1)}),
                             makeup_workdays=frozenset())
CALENDAR = WorkCalendar([NEW_YEAR_2027])
DEPT = "jjfzb"


def at(day: str, hour: int = 18, minute: int = 0, second: int = 0) -> datetime:
    """A moment in Asia/Shanghai."""
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, hour, minute, second, tzinfo=SHANGHAI)


NOW = at("2026-12-30", 18, 0, 5)  # five seconds after a handling deadline of 30 December


@pytest.fixture(scope="module")
def sessions(db: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=db, expire_on_commit=False)


@pytest.fixture(autouse=True)
def default_sla_settings(sessions: sessionmaker[Session]) -> Iterator[None]:
    """The defaults (3 working days to the leader, 5 more to the group) during each test."""
    with sessions.begin() as s:
        saved = s.get(SlaSetting, "sla")
        value = dict(saved.value) if saved is not None else None
        if saved is not None:
            s.delete(saved)
    yield
    if value is not None:
        with sessions.begin() as s:
            s.merge(SlaSetting(key="sla", value=value))


def make_demand(s: Session, status: str = "received") -> Demand:
    demand = Demand(
        id=str(uuid.uuid4()), number=f"SQS-{uuid.uuid4().hex[:16]}", enterprise_id="ent-sweep",
        channel="enterprise", title="超时测试", description="sweep test", urgency="normal",
        attachments=[], status=status, received_at=at("2026-12-28", 9),
        triage_due_at=at("2026-12-29", 10), recorded_by="test", recorded_role="admin", version=1,
    )
    s.add(demand)
    s.flush()
    return demand


def make_task(s: Session, status: str, demand_status: str = "in_progress",
              department_id: str = DEPT) -> Task:
    demand = make_demand(s, demand_status)
    task = Task(id=str(uuid.uuid4()), demand_id=demand.id, department_id=department_id,
                status=status, difficulty="normal", handling_workdays=5,
                due_at=at("2026-12-30"), version=1, escalation_level=0, reopen_count=0)
    s.add(task)
    s.flush()
    return task


def make_deadline(s: Session, kind: str, subject_id: str, due_at: datetime, *,
                  department_id: str | None = None, level: int = 0) -> int:
    deadline = Deadline(kind=kind, subject_id=subject_id, due_at=due_at,
                        department_id=department_id, level=level)
    s.add(deadline)
    s.flush()
    return deadline.id


def run(sessions: sessionmaker[Session], now: datetime = NOW, **kw: int) -> sweep.Counts:
    return sweep.run_once(sessions.begin, CALENDAR, now, **kw)


def outbox(s: Session, event_type: str, key: str, value: str) -> list[dict]:
    return list(s.execute(
        text("SELECT payload->'data' FROM ticketing.outbox WHERE event_type = :t "
             "AND payload->'data'->>:k = :v ORDER BY id"),
        {"t": event_type, "k": key, "v": value},
    ).scalars())


def breaches(s: Session, subject_id: str) -> list[Breach]:
    return list(s.execute(select(Breach).where(Breach.subject_id == subject_id)).scalars())


def escalations(s: Session, task_id: str) -> list[tuple[int, str]]:
    return list(map(tuple, s.execute(
        select(Escalation.level, Escalation.cause).where(Escalation.task_id == task_id)
        .order_by(Escalation.level)
    ).all()))


def pending_escalation_deadlines(s: Session, task_id: str) -> list[tuple[int, datetime]]:
    return list(map(tuple, s.execute(
        select(Deadline.level, Deadline.due_at).where(
            Deadline.subject_id == task_id, Deadline.kind == "escalation",
            Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None))
    ).all()))


def fired_at(s: Session, deadline_id: int) -> datetime | None:
    return s.get(Deadline, deadline_id).fired_at  # type: ignore[union-attr]


# --------------------------------------------------------------------------- each kind


def test_triage_breach_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        demand = make_demand(s)
        deadline = make_deadline(s, "triage", demand.id, at("2026-12-29", 10))
    counts = run(sessions)
    assert counts.due["triage"] >= 1
    with sessions() as s:
        [breach] = breaches(s, demand.id)
        assert (breach.kind, breach.department_id, breach.deadline_id) == ("triage", None, deadline)
        assert breach.due_at == at("2026-12-29", 10)
        [event] = outbox(s, "sla_breached", "demand_id", demand.id)
        assert event["kind"] == "triage" and event["number"] == demand.number
        assert event["enterprise_id"] == "ent-sweep"
        assert fired_at(s, deadline) is not None
        assert fired_at(s, deadline) >= NOW  # type: ignore[operator]


def test_triage_moved_on_is_fired_without_breach(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        demand = make_demand(s, status="triaged")
        deadline = make_deadline(s, "triage", demand.id, at("2026-12-29", 10))
    run(sessions)
    with sessions() as s:
        assert breaches(s, demand.id) == []
        assert outbox(s, "sla_breached", "demand_id", demand.id) == []
        assert fired_at(s, deadline) is not None


def test_acceptance_times_out_to_coordination(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        task = make_task(s, "assigned", demand_status="triaged")
        make_deadline(s, "acceptance", task.id, at("2026-12-30", 10), department_id=DEPT)
    run(sessions)
    with sessions() as s:
        [breach] = breaches(s, task.id)
        assert (breach.kind, breach.department_id) == ("acceptance", DEPT)
        assert s.get(Task, task.id).status == "coordination"  # type: ignore[union-attr]
        [entry] = s.execute(select(LedgerEntry).where(
            LedgerEntry.task_id == task.id, LedgerEntry.action == "time_out")).scalars()
        assert (entry.action, entry.from_state, entry.to_state) == (
            "time_out", "assigned", "coordination")
        assert (entry.actor, entry.actor_role) == ("service:ticketing", "service")
        [event] = outbox(s, "sla_breached", "task_id", task.id)
        assert event["kind"] == "acceptance" and event["department_id"] == DEPT
        [returned] = outbox(s, "task_returned", "task_id", task.id)
        assert returned["cause"] == "time_out"


def test_acceptance_after_accept_is_no_breach(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        task = make_task(s, "accepted")
        deadline = make_deadline(s, "acceptance", task.id, at("2026-12-30", 10))
    run(sessions)
    with sessions() as s:
        assert breaches(s, task.id) == []
        assert s.get(Task, task.id).status == "accepted"  # type: ignore[union-attr]
        assert fired_at(s, deadline) is not None


def test_handling_escalates_to_level_1_and_plans_level_2(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        task = make_task(s, "accepted")
        make_deadline(s, "handling", task.id, at("2026-12-30"), department_id=DEPT)
    counts = run(sessions)
    assert counts.escalations[1] >= 1
    with sessions() as s:
        [breach] = breaches(s, task.id)
        assert (breach.kind, breach.department_id) == ("handling", DEPT)
        assert escalations(s, task.id) == [(1, "overdue")]
        assert s.get(Task, task.id).escalation_level == 1  # type: ignore[union-attr]
        [event] = outbox(s, "task_escalated", "task_id", task.id)
        assert (event["level"], event["department_id"], event["cause"]) == (1, DEPT, "overdue")
        assert len(outbox(s, "sla_breached", "task_id", task.id)) == 1
        # Wed 30 Dec + 3 working days: Thu 31, (Fri 1 Jan 元旦, weekend), Mon 4, Tue 5
        assert pending_escalation_deadlines(s, task.id) == [(2, at("2027-01-05"))]


def test_escalation_ladder_across_new_year(sessions: sessionmaker[Session]) -> None:
    """Level 1 at the deadline (day D), level 2 three working days later, level 3 five more."""
    with sessions.begin() as s:
        task = make_task(s, "accepted")
        make_deadline(s, "handling", task.id, at("2026-12-30"), department_id=DEPT)
    run(sessions)
    # the day before the level-2 deadline nothing more happens
    run(sessions, at("2027-01-05", 17, 59, 59))
    with sessions() as s:
        assert escalations(s, task.id) == [(1, "overdue")]
    run(sessions, at("2027-01-05", 18, 0, 1))
    with sessions() as s:
        assert escalations(s, task.id) == [(1, "overdue"), (2, "overdue")]
        assert s.get(Task, task.id).escalation_level == 2  # type: ignore[union-attr]
        # Tue 5 Jan + 5 working days: Wed 6, Thu 7, Fri 8, Mon 11, Tue 12
        assert pending_escalation_deadlines(s, task.id) == [(3, at("2027-01-12"))]
    run(sessions, at("2027-01-12", 18, 0, 1))
    with sessions() as s:
        assert escalations(s, task.id) == [(1, "overdue"), (2, "overdue"), (3, "overdue")]
        assert [e["level"] for e in outbox(s, "task_escalated", "task_id", task.id)] == [1, 2, 3]
        assert pending_escalation_deadlines(s, task.id) == []  # the top of the ladder
        assert len(breaches(s, task.id)) == 1  # one breach: the handling deadline


def test_escalation_stops_when_the_task_is_completed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        task = make_task(s, "completed")
        make_deadline(s, "escalation", task.id, at("2026-12-30"), department_id=DEPT, level=2)
    run(sessions)
    with sessions() as s:
        assert escalations(s, task.id) == []
        assert pending_escalation_deadlines(s, task.id) == []


def test_existing_escalation_is_not_duplicated(sessions: sessionmaker[Session]) -> None:
    """The unique (task, level, cause) guard: a second level-1 path records nothing new."""
    with sessions.begin() as s:
        task = make_task(s, "accepted")
        s.add(Escalation(task_id=task.id, level=1, cause="overdue", department_id=DEPT))
        make_deadline(s, "handling", task.id, at("2026-12-30"), department_id=DEPT)
    run(sessions)
    with sessions() as s:
        assert escalations(s, task.id) == [(1, "overdue")]
        assert outbox(s, "task_escalated", "task_id", task.id) == []
        assert len(breaches(s, task.id)) == 1


def test_reminder_only_while_accepted(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        open_task = make_task(s, "accepted")
        done_task = make_task(s, "completed")
        for task in (open_task, done_task):
            make_deadline(s, "reminder", task.id, at("2026-12-28", 9))
    counts = run(sessions)
    assert counts.reminders >= 1
    with sessions() as s:
        [event] = outbox(s, "deadline_reminder", "task_id", open_task.id)
        assert datetime.fromisoformat(event["due_at"]) == at("2026-12-30")
        assert event["department_id"] == DEPT
        assert outbox(s, "deadline_reminder", "task_id", done_task.id) == []
        assert breaches(s, open_task.id) == []


@pytest.mark.parametrize("kind", ["rating_reminder", "close_unrated"])
def test_closure_kinds_are_fired(sessions: sessionmaker[Session], kind: str) -> None:
    with sessions.begin() as s:
        demand = make_demand(s, status="awaiting_rating")
        deadline = make_deadline(s, kind, demand.id, at("2026-12-29", 9))
    counts = run(sessions)
    assert counts.errors[kind] == 0
    with sessions() as s:
        assert fired_at(s, deadline) is not None
        assert breaches(s, demand.id) == []
        closed = s.get(Demand, demand.id)
        if kind == "close_unrated":  # closure.close_unrated: 逾期未评价 → closed, unrated
            assert (closed.status, closed.closure) == ("closed", "unrated")  # type: ignore
        else:  # closure.remind_rating: asked again
            assert closed.status == "awaiting_rating"  # type: ignore[union-attr]
            [event] = outbox(s, "rating_requested", "demand_id", demand.id)
            assert event["reminder"] is True


# --------------------------------------------------------------------------- exactly once


def test_second_run_records_nothing_new(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        demand = make_demand(s)
        task = make_task(s, "accepted")
        make_deadline(s, "triage", demand.id, at("2026-12-29", 10))
        make_deadline(s, "handling", task.id, at("2026-12-30"), department_id=DEPT)
    run(sessions)
    again = run(sessions)
    assert again.fired == 0
    with sessions() as s:
        assert len(breaches(s, demand.id)) == 1 and len(breaches(s, task.id)) == 1
        assert escalations(s, task.id) == [(1, "overdue")]
        assert len(outbox(s, "sla_breached", "demand_id", demand.id)) == 1
        assert len(outbox(s, "task_escalated", "task_id", task.id)) == 1
        assert len(pending_escalation_deadlines(s, task.id)) == 1


def test_two_concurrent_sweeps_fire_each_deadline_once(sessions: sessionmaker[Session]) -> None:
    """300 due 分理 deadlines, two sweeps in two threads (own sessions, batches of 25)."""
    with sessions.begin() as s:
        demands = [make_demand(s) for _ in range(300)]
        ids = [make_deadline(s, "triage", d.id, at("2026-12-29", 10)) for d in demands]
    start = threading.Barrier(2)
    results: list[sweep.Counts] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(run(sessions, batch=25))
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures
    assert all(r.fired > 0 for r in results), [r.fired for r in results]
    with sessions() as s:
        count, distinct = s.execute(
            select(func.count(), func.count(func.distinct(Breach.deadline_id)))
            .where(Breach.deadline_id.in_(ids))
        ).one()
        assert (count, distinct) == (300, 300)
        events, distinct_events = s.execute(text(
            "SELECT count(*), count(DISTINCT payload->'data'->>'deadline_id') "
            "FROM ticketing.outbox WHERE event_type = 'sla_breached' "
            "AND (payload->'data'->>'deadline_id')::bigint = ANY(:ids)"), {"ids": ids}).one()
        assert (events, distinct_events) == (300, 300)
        assert s.execute(select(func.count()).where(
            Deadline.id.in_(ids), Deadline.fired_at.is_(None))).scalar_one() == 0


def test_a_bad_row_does_not_stop_the_sweep(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        demand = make_demand(s)
        bad = make_deadline(s, "no_such_kind", demand.id, at("2026-12-29", 9))
        bad_level = make_deadline(s, "escalation", make_task(s, "accepted").id,
                                  at("2026-12-29", 9), level=7)
        good = make_deadline(s, "triage", demand.id, at("2026-12-29", 10))
    counts = run(sessions)
    assert counts.errors["no_such_kind"] == 1 and counts.errors["escalation"] >= 1
    with sessions() as s:
        assert [b.deadline_id for b in breaches(s, demand.id)] == [good]
        assert all(fired_at(s, d) is not None for d in (bad, bad_level, good))
    assert run(sessions).errors["no_such_kind"] == 0  # not retried forever


def test_scheduled_rung_is_a_real_deadline(sessions: sessionmaker[Session]) -> None:
    """What the sweep schedules goes through :func:`sla.schedule` (kind, level, department)."""
    with sessions.begin() as s:
        task = make_task(s, "accepted", department_id="kjcxb")
        make_deadline(s, "handling", task.id, at("2026-12-31"), department_id="kjcxb")
    run(sessions, at("2026-12-31", 18, 0, 1))
    with sessions() as s:
        row = s.execute(select(Deadline).where(
            Deadline.subject_id == task.id, Deadline.kind == "escalation")).scalar_one()
        assert (row.level, row.department_id) == (2, "kjcxb")
        assert row.kind in sla.KINDS
        # Thu 31 Dec + 3: (Fri 1 Jan 元旦, weekend) Mon 4, Tue 5, Wed 6
        assert row.due_at == at("2027-01-06")


# --------------------------------------------------------------------------- metrics


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_follow_committed_batches(sessions: sessionmaker[Session]) -> None:
    before = {
        "due": sample("gridsvc_sla_deadlines_due_total", kind="handling"),
        "breach": sample("gridsvc_sla_breaches_total", kind="handling", department="zhb"),
        "esc": sample("gridsvc_sla_escalations_total", level="1"),
        "delay": sample("gridsvc_sla_timer_delay_seconds_count", kind="handling"),
        "fast": sample("gridsvc_sla_timer_delay_seconds_bucket", kind="handling", le="10.0"),
        "triage": sample("gridsvc_sla_breaches_total", kind="triage", department="none"),
    }
    with sessions.begin() as s:
        task = make_task(s, "accepted", department_id="zhb")
        make_deadline(s, "handling", task.id, at("2026-12-30"), department_id="zhb")
        make_deadline(s, "triage", make_demand(s).id, at("2026-12-29", 10))
    run(sessions)
    assert sample("gridsvc_sla_deadlines_due_total", kind="handling") >= before["due"] + 1
    assert sample("gridsvc_sla_breaches_total", kind="handling",
                  department="zhb") == before["breach"] + 1
    assert sample("gridsvc_sla_escalations_total", level="1") >= before["esc"] + 1
    assert sample("gridsvc_sla_timer_delay_seconds_count", kind="handling") >= before["delay"] + 1
    # due 18:00:00, swept at 18:00:05 (plus the run's own time): a delay of about 5 s
    assert sample("gridsvc_sla_timer_delay_seconds_bucket", kind="handling",
                  le="10.0") >= before["fast"] + 1
    assert sample("gridsvc_sla_breaches_total", kind="triage",
                  department="none") >= before["triage"] + 1


@pytest.fixture(scope="module")
def quiet_db() -> Iterator[Engine]:
    """A database of its own: the test platform's sweep does not fire its deadlines."""
    engine = create_engine(fresh_database("collector"))
    yield engine
    engine.dispose()


def collect(engine: Engine) -> dict:
    """The collector's families, with "due within a working day" meaning the next 24 hours."""

    def horizon(_session: Session, now: datetime) -> datetime:
        return now + timedelta(days=1)

    return {f.name: f for f in sla_metrics.OpenWorkCollector(engine, horizon).collect()}


def test_open_work_collector_reads_the_database(quiet_db: Engine) -> None:
    sla_metrics.prime(sla.KINDS, {"xzspb": "行政审批服务部", DEPT: "经济发展部"})
    quiet = sessionmaker(bind=quiet_db, expire_on_commit=False)
    with quiet.begin() as s:
        make_task(s, "coordination", demand_status="triaged", department_id="xzspb")
    families = collect(quiet_db)
    assert set(families) == {"gridsvc_open_demands", "gridsvc_open_tasks",
                             "gridsvc_open_tasks_due", "gridsvc_department_info",
                             "gridsvc_sla_oldest_unfired_deadline_seconds"}
    demands = {s.labels["state"]: s.value for s in families["gridsvc_open_demands"].samples}
    # every open state is exported, at 0 when it has nothing
    assert demands == {"received": 0, "triaged": 1, "in_progress": 0, "awaiting_rating": 0}
    tasks = {(s.labels["state"], s.labels["department"]): s.value
             for s in families["gridsvc_open_tasks"].samples}
    assert tasks[("coordination", "xzspb")] == 1
    assert tasks[("accepted", "xzspb")] == 0 and tasks[("assigned", DEPT)] == 0
    assert not any(state in ("completed", "cancelled") for state, _ in tasks)
    names = {s.labels["department"]: s.labels["name"]
             for s in families["gridsvc_department_info"].samples}
    assert names == {"xzspb": "行政审批服务部", DEPT: "经济发展部", "none": "未分派（分理前）"}


def test_collector_counts_tasks_overdue_and_due_within_a_working_day(quiet_db: Engine) -> None:
    quiet = sessionmaker(bind=quiet_db, expire_on_commit=False)
    with quiet.begin() as s:
        now = s.execute(text("SELECT now()")).scalar_one()
        late = make_task(s, "accepted", department_id="fire_rescue")
        late.due_at = now - timedelta(hours=1)  # handling overdue
        unaccepted = make_task(s, "assigned", department_id="fire_rescue")
        unaccepted.accept_due_at = now + timedelta(hours=3)  # acceptance due soon
        unaccepted.due_at = now - timedelta(days=9)  # not the deadline of an assigned task
        later = make_task(s, "accepted", department_id="fire_rescue")
        later.due_at = now + timedelta(days=3)
        done = make_task(s, "completed", department_id="fire_rescue")
        done.due_at = now - timedelta(days=1)
    due = {(x.labels["department"], x.labels["due"]): x.value
           for x in collect(quiet_db)["gridsvc_open_tasks_due"].samples}
    assert due[("fire_rescue", "overdue")] == 1
    assert due[("fire_rescue", "next_workday")] == 1
    assert due[("xzspb", "overdue")] == 0  # a known department with nothing due


def test_collector_reports_the_oldest_due_deadline_not_fired(quiet_db: Engine) -> None:
    quiet = sessionmaker(bind=quiet_db, expire_on_commit=False)
    oldest = "gridsvc_sla_oldest_unfired_deadline_seconds"
    with quiet.begin() as s:
        s.execute(text("UPDATE ticketing.deadlines SET fired_at = now() WHERE fired_at IS NULL"))
        now = s.execute(text("SELECT now()")).scalar_one()
        make_deadline(s, "reminder", str(uuid.uuid4()), now + timedelta(minutes=5))
    assert collect(quiet_db)[oldest].samples[0].value == 0  # nothing due yet
    with quiet.begin() as s:
        make_deadline(s, "handling", str(uuid.uuid4()), now - timedelta(minutes=3))
        cancelled = make_deadline(s, "triage", str(uuid.uuid4()), now - timedelta(hours=2))
        s.execute(text("UPDATE ticketing.deadlines SET cancelled_at = now() WHERE id = :i"),
                  {"i": cancelled})
    age = collect(quiet_db)[oldest].samples[0].value
    assert 180 <= age < 240, age  # the handling one: the cancelled one does not count


def test_prime_creates_every_series_at_zero() -> None:
    sla_metrics.prime(sla.KINDS, {"primed_dept": "测试部"})

    def value(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, labels)

    for kind in ("acceptance", "handling"):
        assert value("gridsvc_sla_breaches_total", kind=kind, department="primed_dept") == 0
        assert value("gridsvc_sla_deadlines_met_total", kind=kind, department="primed_dept") == 0
    assert value("gridsvc_sla_breaches_total", kind="triage", department="none") is not None
    for level in ("1", "2", "3"):
        assert value("gridsvc_sla_escalations_total", level=level) is not None
    for kind in sla.KINDS:
        assert value("gridsvc_sla_timer_delay_seconds_count", kind=kind) is not None
        assert value("gridsvc_sla_deadlines_due_total", kind=kind) is not None


def test_open_work_collector_never_raises() -> None:
    broken = create_engine("postgresql+psycopg2://postgres@127.0.0.1:1/none",
                           connect_args={"connect_timeout": 1})
    names = {f.name for f in sla_metrics.OpenWorkCollector(broken, lambda s, n: n).collect()}
    assert names == {"gridsvc_department_info"}  # the database's figures are left out
    broken.dispose()


# --------------------------------------------------------------------------- set-wise batches


def _per_row_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(context: object, rows: object, counts: object) -> None:
        raise RuntimeError("set-wise path broken on purpose")

    monkeypatch.setattr(sweep, "_apply_set_wise", broken)


def _set_wise_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_row_path(context: object, deadline: Deadline, counts: object) -> None:
        raise AssertionError(f"{deadline.kind} went row by row")

    for kind in sweep.SET_WISE:
        monkeypatch.setitem(sweep.EFFECTS, kind, no_row_path)


@pytest.mark.parametrize("path", ["set_wise", "row_by_row"])
def test_batch_paths_agree(sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
                           path: str) -> None:
    """The set-wise batch and its row-by-row fallback record the same effects and events, in
    the same order, also when a handling and a level-2 deadline of one task share a batch
    (the claimed level-2 row is still to come when the handling row looks for one)."""
    (_set_wise_only if path == "set_wise" else _per_row_only)(monkeypatch)
    with sessions.begin() as s:
        task = make_task(s, "accepted")
        make_deadline(s, "handling", task.id, at("2026-12-30"), department_id=DEPT)
        make_deadline(s, "escalation", task.id, at("2026-12-30", 18, 0, 1),
                      department_id=DEPT, level=2)
        reminded = make_task(s, "accepted")
        make_deadline(s, "reminder", reminded.id, at("2026-12-28", 9))
        done = make_task(s, "completed")
        make_deadline(s, "escalation", done.id, at("2026-12-29"), level=3)
        demand = make_demand(s)
        make_deadline(s, "triage", demand.id, at("2026-12-29", 10))
    counts = run(sessions)
    assert counts.errors == Counter()
    with sessions() as s:
        assert escalations(s, task.id) == [(1, "overdue"), (2, "overdue")]
        assert s.get(Task, task.id).escalation_level == 2  # type: ignore[union-attr]
        # no second level-2 rung; level 3 five working days after the level-2 deadline
        assert pending_escalation_deadlines(s, task.id) == [(3, at("2027-01-07", 18, 0, 1))]
        assert [b.kind for b in breaches(s, task.id)] == ["handling"]
        assert [e["level"] for e in outbox(s, "task_escalated", "task_id", task.id)] == [1, 2]
        [breached] = outbox(s, "sla_breached", "task_id", task.id)
        assert (breached["kind"], breached["department_id"]) == ("handling", DEPT)
        [reminder] = outbox(s, "deadline_reminder", "task_id", reminded.id)
        assert reminder["department_id"] == DEPT
        assert escalations(s, done.id) == []
        [triage] = outbox(s, "sla_breached", "demand_id", demand.id)
        assert triage["kind"] == "triage" and triage["department_id"] is None
        assert s.execute(select(func.count()).where(
            Deadline.subject_id.in_([task.id, reminded.id, done.id, demand.id]),
            Deadline.fired_at.is_(None), Deadline.level != 3)).scalar_one() == 0


def test_failed_batch_falls_back_row_by_row(sessions: sessionmaker[Session],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A set-wise batch that fails leaves nothing behind; its rows fire one by one."""
    real = sweep._apply_set_wise

    def half_then_fail(context: sweep._Batch, rows: list[Deadline], counts: object) -> None:
        real(context, rows, sweep.Counts())  # writes breaches, escalations, outbox rows...
        raise RuntimeError("fails after writing")  # ... which the savepoint must undo

    monkeypatch.setattr(sweep, "_apply_set_wise", half_then_fail)
    with sessions.begin() as s:
        task = make_task(s, "accepted")
        deadline = make_deadline(s, "handling", task.id, at("2026-12-30"), department_id=DEPT)
    counts = run(sessions)
    assert counts.errors == Counter() and counts.escalations[1] >= 1
    with sessions() as s:
        assert [b.deadline_id for b in breaches(s, task.id)] == [deadline]
        assert escalations(s, task.id) == [(1, "overdue")]
        assert len(outbox(s, "sla_breached", "task_id", task.id)) == 1
        assert len(outbox(s, "task_escalated", "task_id", task.id)) == 1
        assert pending_escalation_deadlines(s, task.id) == [(2, at("2027-01-05"))]
        assert fired_at(s, deadline) is not None
