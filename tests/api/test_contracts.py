"""协议合同 rules against the real PostgreSQL test database, without the broker: reminder days in
working days (调休 included), and the sweep that raises ``obligation_due`` and
``obligation_overdue`` exactly once each, even when sweeps run twice or side by side.

Sweep tests use dates in 2031 so that the running platform's own timer (which sweeps as of the
real date) never touches their rows.
"""

from __future__ import annotations

import concurrent.futures
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from common.auth import Principal, Role
from common.calendar import WorkCalendar, YearSchedule
from common.errors import Forbidden, ValidationFailed
from services.enterprise import contracts, credit_code
from services.enterprise.models import Contract, Department, Enterprise, Obligation, Setting

CAL = WorkCalendar()
ADMIN = Principal(user_id="admin-test", role=Role.ADMIN)

ContractFactory = Callable[..., list[str]]


@pytest.fixture(scope="module")
def sessions(db: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=db, expire_on_commit=False)


@pytest.fixture(scope="module")
def department(sessions: sessionmaker[Session]) -> str:
    dept_id = f"d-{uuid.uuid4().hex[:10]}"
    with sessions.begin() as session:
        session.add(Department(id=dept_id, name=f"测试部门 {dept_id}", kind="management"))
    return dept_id


@pytest.fixture(scope="module")
def enterprise(sessions: sessionmaker[Session]) -> str:
    ent_id = str(uuid.uuid4())
    with sessions.begin() as session:
        session.add(Enterprise(
            id=ent_id, credit_code=credit_code.generate(random.Random()), name="测试科技有限公司",
            address="高新区测试路1号", industry_code="C39", scale="small",
            grid_source="unassigned", in_scope=True, contacts=[], tags=[], strengths=[],
            upstream=[], downstream=[], version=1,
        ))
    return ent_id


@pytest.fixture
def contract_factory(sessions: sessionmaker[Session], enterprise: str, department: str
                     ) -> ContractFactory:
    """``make([{"party": ..., "due_on": ..., "remind_on": ...}, ...])``: a contract with these
    obligations inserted as they are; returns the obligation ids in order."""

    def make(obligations: list[dict[str, Any]]) -> list[str]:
        contract_id = str(uuid.uuid4())
        ids = [str(uuid.uuid4()) for _ in obligations]
        with sessions.begin() as session:
            session.add(Contract(
                id=contract_id, enterprise_id=enterprise, title="入驻协议",
                signed_on=date(2026, 1, 5), department_id=department, created_by="test",
                created_at=datetime.now(UTC), version=1,
            ))
            session.flush()
            for ob_id, ob in zip(ids, obligations, strict=True):
                session.add(Obligation(
                    id=ob_id, contract_id=contract_id, department_id=department,
                    description="兑现租金补贴", **ob,
                ))
        return ids

    return make


def events_of(db: Engine, obligation_ids: list[str]) -> Counter[tuple[str, str]]:
    """(obligation_id, event_type) -> number of outbox rows."""
    with db.connect() as conn:
        rows = conn.execute(text(
            "SELECT payload->'data'->>'obligation_id', event_type FROM enterprise.outbox "
            "WHERE payload->'data'->>'obligation_id' = ANY(:ids)"
        ), {"ids": obligation_ids}).all()
    return Counter((r[0], r[1]) for r in rows)


def sweep(sessions: sessionmaker[Session], today: date, calendar: WorkCalendar = CAL
          ) -> dict[str, Any]:
    return contracts.run_sweep(sessions.begin, calendar, today)


def obligation(sessions: sessionmaker[Session], ob_id: str) -> Obligation:
    with sessions() as session:
        found = session.get(Obligation, ob_id)
        assert found is not None
        return found


# --------------------------------------------------------------------------- working days


def test_remind_on_counts_working_days_back_across_national_day_2026() -> None:
    # The 2026 notice (chinese_calendar 1.11.0, as the State Council published it): Mid-Autumn
    # 09-25..09-27 off, National Day 10-01..10-07 off, makeup working days Sunday 09-20 and
    # Saturday 10-10; 10-08 is an ordinary working Thursday. Due Friday 10-09, five working
    # days strictly before it, counted by hand going back:
    #   10-08 Thu (1); 10-07..10-01 holiday; 09-30 Wed (2); 09-29 Tue (3); 09-28 Mon (4);
    #   09-27 Sun, 09-26 Sat, 09-25 Fri (Mid-Autumn) off; 09-24 Thu (5).
    assert contracts.subtract_workdays(CAL, date(2026, 10, 9), 5) == (date(2026, 9, 24), False)
    assert contracts.remind_on_for(CAL, date(2026, 10, 9), 1) == date(2026, 10, 8)
    assert contracts.remind_on_for(CAL, date(2026, 10, 8), 1) == date(2026, 9, 30)
    # makeup working days count: Saturday 10-10 and Sunday 09-20
    assert contracts.remind_on_for(CAL, date(2026, 10, 12), 1) == date(2026, 10, 10)
    assert contracts.remind_on_for(CAL, date(2026, 9, 22), 2) == date(2026, 9, 20)
    # 10-12 Mon back five: 10-10 Sat (1), 10-09 (2), 10-08 (3), 09-30 (4), 09-29 (5)
    assert contracts.remind_on_for(CAL, date(2026, 10, 12), 5) == date(2026, 9, 29)
    # zero: the due day itself, or the last working day before a day off
    assert contracts.remind_on_for(CAL, date(2026, 10, 9), 0) == date(2026, 10, 9)
    assert contracts.remind_on_for(CAL, date(2026, 10, 5), 0) == date(2026, 9, 30)
    # a year without data is Monday-Friday and says so
    assert contracts.subtract_workdays(CAL, date(2031, 3, 10), 1) == (date(2031, 3, 7), True)
    with pytest.raises(ValueError):
        contracts.subtract_workdays(CAL, date(2026, 10, 9), -1)


def test_overdue_starts_on_the_first_working_day_after_due() -> None:
    # due_on < overdue_before(today) means: a working day has begun since the due date
    assert contracts.overdue_before(CAL, date(2026, 10, 9)) == date(2026, 10, 9)
    assert contracts.overdue_before(CAL, date(2026, 10, 4)) == date(2026, 9, 30)
    assert contracts.overdue_before(CAL, date(2026, 10, 11)) == date(2026, 10, 10)


def test_state_of_an_obligation() -> None:
    today = date(2031, 3, 5)
    ob = Obligation(due_on=date(2031, 3, 10), remind_on=date(2031, 3, 3), fulfilled_at=None)
    assert contracts.obligation_state(ob, today) == "due_soon"
    assert contracts.obligation_state(ob, date(2031, 3, 1)) == "open"
    assert contracts.obligation_state(ob, date(2031, 3, 11)) == "overdue"
    ob.fulfilled_at = datetime.now(UTC)
    assert contracts.obligation_state(ob, date(2031, 3, 11)) == "fulfilled"


# --------------------------------------------------------------------------- contracts


def test_create_computes_remind_on_and_checks_its_input(sessions, enterprise, department):
    data = {
        "enterprise_id": enterprise, "title": "人才公寓协议", "signed_on": date(2026, 9, 1),
        "department_id": department, "note": None,
        "obligations": [
            {"party": "committee", "description": "交付公寓", "due_on": date(2026, 10, 9)},
            {"party": "enterprise", "description": "引进人才", "due_on": date(2026, 12, 31)},
        ],
    }
    with sessions() as session:
        session.execute(delete(Setting).where(Setting.key == contracts.SETTINGS_KEY))
        assert contracts.reminder_workdays(session) == contracts.DEFAULT_REMINDER_WORKDAYS == 5
        contract, obligations = contracts.create(session, ADMIN, data, CAL)
        assert contract.version == 1 and contract.created_by == ADMIN.user_id
        assert [o.remind_on for o in obligations] == [date(2026, 9, 24), date(2026, 12, 24)]
        assert {o.department_id for o in obligations} == {department}
        session.rollback()

        other = Principal(user_id="liaison-x", role=Role.LIAISON, department_id="elsewhere")
        with pytest.raises(Forbidden):
            contracts.create(session, other, data, CAL)
        own = Principal(user_id="liaison-y", role=Role.LIAISON, department_id=department)
        for unknown in (str(uuid.uuid4()), "not-a-uuid"):  # a 422 naming the field
            with pytest.raises(ValidationFailed) as failed:
                contracts.create(session, own, {**data, "enterprise_id": unknown}, CAL)
            assert [e["code"] for e in failed.value.errors["enterprise_id"]] == [
                "enterprise.not_found"]
        late = {**data["obligations"][0], "due_on": date(2026, 8, 1), "department_id": "nope"}
        with pytest.raises(ValidationFailed) as failed:
            contracts.create(session, own, {**data, "obligations": [late]}, CAL)
        assert failed.value.errors == {"obligations": {"0": {
            "department_id": [{"code": "department.not_found",
                               "message": "no such department"}],
            "due_on": [{"code": "contract.due_before_signed",
                        "message": "before the contract was signed (signed_on)"}],
        }}}
        session.rollback()


def test_settings_change_recomputes_open_obligations_only(sessions, contract_factory):
    due = date(2031, 5, 16)  # a Friday; 2031 is Monday-Friday (no data)
    open_id, reminded_id, fulfilled_id = contract_factory([
        {"party": "committee", "due_on": due, "remind_on": date(2031, 5, 9)},
        {"party": "committee", "due_on": due, "remind_on": date(2031, 5, 9),
         "reminded_at": datetime.now(UTC)},
        {"party": "committee", "due_on": due, "remind_on": date(2031, 5, 9),
         "fulfilled_at": datetime.now(UTC)},
    ])
    try:
        with sessions.begin() as session:
            with pytest.raises(Forbidden):
                contracts.update_settings(session, Principal(user_id="c", role=Role.COORDINATOR),
                                          {"reminder_workdays": 2}, CAL)
        with sessions.begin() as session:
            result = contracts.update_settings(session, ADMIN, {"reminder_workdays": 2}, CAL)
            assert result == {"reminder_workdays": 2}
        with sessions() as session:
            assert contracts.obligation_settings(session) == {"reminder_workdays": 2}
        assert obligation(sessions, open_id).remind_on == date(2031, 5, 14)
        assert obligation(sessions, reminded_id).remind_on == date(2031, 5, 9)
        assert obligation(sessions, fulfilled_id).remind_on == date(2031, 5, 9)
    finally:
        with sessions.begin() as session:
            contracts.update_settings(session, ADMIN, {"reminder_workdays": 5}, CAL)
    assert obligation(sessions, open_id).remind_on == date(2031, 5, 9)


# --------------------------------------------------------------------------- the sweep


def test_sweep_raises_obligation_due_once_even_when_run_twice(db, sessions, contract_factory):
    due = date(2031, 6, 13)
    remind_on = contracts.remind_on_for(CAL, due, 5)
    assert remind_on == date(2031, 6, 6)
    ids = contract_factory([{"party": "committee", "due_on": due, "remind_on": remind_on}])
    sweep(sessions, remind_on - timedelta(days=1))
    assert events_of(db, ids) == Counter()
    assert obligation(sessions, ids[0]).reminded_at is None

    first = sweep(sessions, remind_on)
    assert first["reminded"] >= 1
    reminded_at = obligation(sessions, ids[0]).reminded_at
    assert reminded_at is not None
    sweep(sessions, remind_on)
    sweep(sessions, remind_on + timedelta(days=2))
    assert events_of(db, ids) == Counter({(ids[0], "obligation_due"): 1})
    assert obligation(sessions, ids[0]).reminded_at == reminded_at

    with db.connect() as conn:
        payload = conn.execute(text(
            "SELECT payload FROM enterprise.outbox WHERE payload->'data'->>'obligation_id' = :i"
        ), {"i": ids[0]}).scalar_one()
    assert payload["event_type"] == "obligation_due"
    assert payload["source"] == "enterprise"
    data = payload["data"]
    assert data["due_on"] == "2031-06-13"
    assert {"obligation_id", "contract_id", "enterprise_id", "department_id"} <= set(data)


def test_concurrent_sweeps_skip_rows_another_sweep_holds(db, sessions, contract_factory):
    """Two sessions: the second sweeps while the first still holds its claims; SKIP LOCKED makes
    it pass them by at once (no waiting, no second event)."""
    due = date(2031, 9, 19)
    ids = contract_factory(
        [{"party": "committee", "due_on": due, "remind_on": date(2031, 9, 12)}] * 10
    )
    today = date(2031, 9, 15)
    a_claimed, b_finished = threading.Event(), threading.Event()
    result: dict[str, Any] = {}

    def first() -> None:
        with sessions.begin() as session:
            result["a"] = contracts.remind_due(session, today)
            a_claimed.set()
            # hold the row locks until the other sweep has finished
            result["a_held_until_b_finished"] = b_finished.wait(10)

    def second() -> None:
        assert a_claimed.wait(10)
        with sessions.begin() as session:
            result["b"] = contracts.remind_due(session, today)
        b_finished.set()

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(first), pool.submit(second)]:
            future.result(timeout=30)

    assert result["a_held_until_b_finished"], "the second sweep waited for the first's locks"
    assert result["a"] >= 10 and result["b"] == 0
    assert events_of(db, ids) == Counter({(i, "obligation_due"): 1 for i in ids})


def test_racing_sweeps_raise_each_event_exactly_once(db, sessions, contract_factory):
    due = date(2031, 10, 17)  # Friday
    ids = contract_factory(
        [{"party": "committee", "due_on": due, "remind_on": date(2031, 10, 10)}] * 30
    )
    barrier = threading.Barrier(4)

    def race(today: date) -> dict[str, Any]:
        barrier.wait(10)
        return contracts.run_sweep(sessions.begin, CAL, today, limit=7)

    for today in (date(2031, 10, 13), date(2031, 10, 20)):
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(race, [today] * 4))
        if today.day == 13:
            assert sum(r["reminded"] for r in results) >= 30
        else:
            assert sum(r["overdue"] for r in results) >= 30
    expected = {(i, t): 1 for i in ids for t in ("obligation_due", "obligation_overdue")}
    assert events_of(db, ids) == Counter(expected)


def test_overdue_fires_on_the_first_working_day_after_due(db, sessions, contract_factory):
    friday = date(2031, 3, 7)
    ids = contract_factory([{"party": "committee", "due_on": friday,
                             "remind_on": date(2031, 2, 28), "reminded_at": datetime.now(UTC)}])
    for day in (friday, friday + timedelta(days=1), friday + timedelta(days=2)):
        sweep(sessions, day)  # Friday itself, Saturday, Sunday: not yet
        assert events_of(db, ids) == Counter(), day
    sweep(sessions, friday + timedelta(days=3))  # Monday
    assert events_of(db, ids) == Counter({(ids[0], "obligation_overdue"): 1})
    assert obligation(sessions, ids[0]).overdue_at is not None
    sweep(sessions, friday + timedelta(days=4))
    assert events_of(db, ids) == Counter({(ids[0], "obligation_overdue"): 1})


def test_overdue_waits_past_a_holiday_of_a_loaded_year(db, sessions, contract_factory):
    # an operator-loaded schedule for 2032: Monday 04-05 is a day off
    calendar = WorkCalendar([YearSchedule(2032, frozenset({date(2032, 4, 5)}), frozenset())])
    friday = date(2032, 4, 2)
    ids = contract_factory([{"party": "committee", "due_on": friday, "remind_on": friday,
                             "reminded_at": datetime.now(UTC)}])
    sweep(sessions, date(2032, 4, 5), calendar)
    assert events_of(db, ids) == Counter()
    sweep(sessions, date(2032, 4, 6), calendar)
    assert events_of(db, ids) == Counter({(ids[0], "obligation_overdue"): 1})


def test_fulfilled_obligations_never_fire(db, sessions, contract_factory, enterprise):
    due = date(2031, 4, 11)
    done, later = contract_factory([
        {"party": "committee", "due_on": due, "remind_on": date(2031, 4, 4),
         "fulfilled_at": datetime.now(UTC)},
        {"party": "committee", "due_on": due, "remind_on": date(2031, 4, 4)},
    ])
    sweep(sessions, date(2031, 4, 7))
    assert events_of(db, [done, later]) == Counter({(later, "obligation_due"): 1})
    with sessions.begin() as session:
        contract_id = session.get(Obligation, later).contract_id
        owner = Principal(user_id="org", role=Role.ENTERPRISE, enterprise_id=enterprise)
        with pytest.raises(Forbidden):
            contracts.fulfil(session, owner, contract_id, later)
        fulfilled = contracts.fulfil(session, ADMIN, contract_id, later)
        assert fulfilled.fulfilled_at is not None
    sweep(sessions, date(2031, 4, 21))
    assert events_of(db, [done, later]) == Counter({(later, "obligation_due"): 1})
    assert obligation(sessions, done).reminded_at is None
    assert obligation(sessions, later).overdue_at is None


def test_enterprise_obligations_never_fire(db, sessions, contract_factory):
    due = date(2031, 7, 11)
    ids = contract_factory([{"party": "enterprise", "due_on": due,
                             "remind_on": contracts.remind_on_for(CAL, due, 5)}])
    for day in (date(2031, 7, 7), date(2031, 7, 14), date(2031, 8, 1)):
        sweep(sessions, day)
    assert events_of(db, ids) == Counter()
    ob = obligation(sessions, ids[0])
    assert (ob.reminded_at, ob.overdue_at) == (None, None)


def test_the_timer_survives_a_failing_sweep(caplog: pytest.LogCaptureFixture) -> None:
    from services.enterprise.api.contracts import SWEEP_FAILURES, ContractsApi

    class AwayDatabase:
        def transaction(self) -> Session:
            raise ConnectionError("database away")

    class Replica(ContractsApi):
        db = AwayDatabase()

    failures = SWEEP_FAILURES._value.get()
    Replica().obligation_sweep_tick()  # does not raise
    assert "obligation sweep failed" in caplog.text
    assert SWEEP_FAILURES._value.get() == failures + 1
