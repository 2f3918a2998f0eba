"""Operator-loaded calendar years (工作日历) against the test database, without the services.

The 2027 tests run in a transaction that first forgets any committed 2027 (``test_calendar_api``
loads 2027 for real) and is rolled back at the end, so they hold in any order. The file loader
commits: it uses 2035 and 2036, which no other test loads.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from helpers import texts
from prometheus_client import REGISTRY
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from common.calendar import SHANGHAI, WorkCalendar, YearSchedule, covered_years
from common.errors import ValidationFailed
from services.ticketing import calendar_years, ladder, sla
from services.ticketing.calendar_years import CalendarCache, load_year, parse_schedule, parse_year
from services.ticketing.models import Demand

SOURCE = "国办发明电〔2026〕N号 (test data, not the real notice)"
#: received on Thursday 2026-12-31: the next day, 2027-01-01, lies in 2027
NEW_YEARS_EVE = datetime.fromisoformat("2026-12-31T15:00:00+08:00")

no_2027_data = pytest.mark.skipif(
    2027 in covered_years(), reason="the installed chinesecalendar already covers 2027"
)


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    """A transaction in which 2027 has not been loaded, rolled back at the end of the test."""
    with Session(db) as s:
        s.execute(text("DELETE FROM ticketing.calendar_years WHERE year = 2027"))
        yield s
        s.rollback()


def schedule(year: int, holidays: list[str], makeup: tuple[str, ...] = ()) -> YearSchedule:
    return YearSchedule.parse({"year": year, "holidays": holidays, "makeup_workdays": list(makeup)})


def add_demand(session: Session, received_at: datetime, due_at: datetime, provisional: bool,
               status: str = "received") -> Demand:
    demand = Demand(
        id=str(uuid.uuid4()), number=f"SQT-{uuid.uuid4().hex[:16]}", enterprise_id="ent-cal",
        channel="enterprise", title="调休测试", description="calendar test", urgency="normal",
        attachments=[], status=status, received_at=received_at, triage_due_at=due_at,
        triage_due_provisional=provisional, recorded_by="test", recorded_role="admin", version=1,
    )
    session.add(demand)
    session.flush()
    return demand


def events(session: Session, event_type: str, demand_id: str | None = None) -> list[dict]:
    rows = session.execute(
        text("SELECT payload FROM ticketing.outbox WHERE event_type = :t"
             " AND (CAST(:d AS text) IS NULL OR payload->'data'->>'demand_id' = :d) ORDER BY id"),
        {"t": event_type, "d": demand_id},
    ).scalars().all()
    return list(rows)


@no_2027_data
def test_loading_2027_makes_a_2027_deadline_exact(session):
    cache = CalendarCache()
    before = sla.triage_deadline(cache.get(session), NEW_YEARS_EVE)
    assert (before.at.isoformat(), before.provisional) == ("2027-01-01T10:00:00+08:00", True)

    outcome = load_year(session, schedule(2027, ["2027-01-01"]), SOURCE, "admin-1")
    assert outcome.loaded_at.tzinfo is not None
    after = sla.triage_deadline(cache.get(session, lock=True), NEW_YEARS_EVE)
    assert (after.at.isoformat(), after.provisional) == ("2027-01-04T10:00:00+08:00", False)
    assert 2027 in cache.get(session).loaded_years
    loaded = events(session, "calendar_year_loaded")[-1]["data"]
    assert loaded["year"] == 2027 and loaded["holidays"] == ["2027-01-01"]
    assert loaded["source"] == SOURCE and loaded["loaded_by"] == "admin-1"


@no_2027_data
def test_loading_a_year_recomputes_provisional_deadlines_with_an_event(session):
    provisional = add_demand(session, NEW_YEARS_EVE,
                             datetime.fromisoformat("2027-01-01T10:00:00+08:00"), True)
    exact = add_demand(session, datetime.fromisoformat("2026-11-26T09:00:00+08:00"),
                       datetime.fromisoformat("2026-11-27T10:00:00+08:00"), False)

    outcome = load_year(session, schedule(2027, ["2027-01-01"]), SOURCE, "admin-1", "call-7")

    assert outcome.demands_recomputed >= 1
    session.refresh(provisional)
    session.refresh(exact)
    assert provisional.triage_due_at.isoformat() != "2027-01-01T10:00:00+08:00"
    assert provisional.triage_due_at == datetime.fromisoformat("2027-01-04T10:00:00+08:00")
    assert provisional.triage_due_provisional is False
    assert provisional.version == 2
    assert (exact.triage_due_at, exact.version) == (
        datetime.fromisoformat("2026-11-27T10:00:00+08:00"), 1)
    [changed] = events(session, "demand_deadline_changed", provisional.id)
    assert changed["source"] == "ticketing"
    assert changed["data"] == {
        "demand_id": provisional.id,
        "number": provisional.number,
        "enterprise_id": "ent-cal",
        "received_at": "2026-12-31T15:00:00+08:00",
        "triage_due_at": "2027-01-04T10:00:00+08:00",
        "triage_due_provisional": False,
        "previous_triage_due_at": "2027-01-01T10:00:00+08:00",
        "previous_triage_due_provisional": True,
        "calendar_year": 2027,
    }
    assert events(session, "demand_deadline_changed", exact.id) == []
    call_ids = session.execute(text(
        "SELECT call_id FROM ticketing.outbox WHERE payload->'data'->>'demand_id' = :d"
    ), {"d": provisional.id}).scalars().all()
    assert call_ids == ["call-7"]


@no_2027_data
def test_correcting_a_loaded_year_replans_demands_awaiting_triage(session):
    load_year(session, schedule(2027, ["2027-01-01"]), SOURCE, "admin-1")
    demand = add_demand(session, NEW_YEARS_EVE,
                        datetime.fromisoformat("2027-01-04T10:00:00+08:00"), False)
    triaged = add_demand(session, NEW_YEARS_EVE,
                         datetime.fromisoformat("2027-01-04T10:00:00+08:00"), False,
                         status="triaged")
    # a corrected notice: Monday 2027-01-04 is a day off too
    outcome = load_year(session, schedule(2027, ["2027-01-01", "2027-01-04"]), SOURCE + " 更正",
                        "admin-2")
    assert outcome.demands_recomputed >= 1
    session.refresh(demand)
    session.refresh(triaged)
    assert demand.triage_due_at == datetime.fromisoformat("2027-01-05T10:00:00+08:00")
    assert triaged.triage_due_at == datetime.fromisoformat("2027-01-04T10:00:00+08:00")
    assert len(events(session, "demand_deadline_changed", demand.id)) == 1
    row = session.execute(text(
        "SELECT source, loaded_by, holidays FROM ticketing.calendar_years WHERE year = 2027"
    )).one()
    assert row.source.endswith("更正") and row.loaded_by == "admin-2"
    assert row.holidays == [date(2027, 1, 1), date(2027, 1, 4)]


@pytest.mark.parametrize(("body", "field", "named"), [
    ({"holidays": ["2026-12-31"], "makeup_workdays": []}, "holidays", "2026-12-31"),
    ({"holidays": ["2027-02-30"], "makeup_workdays": []}, "holidays", "2027-02-30"),
    ({"holidays": ["27-1-1"], "makeup_workdays": []}, "holidays", "27-1-1"),
    ({"holidays": [], "makeup_workdays": ["2027-02-22"]}, "makeup_workdays", "2027-02-22"),
    ({"holidays": ["2027-02-20"], "makeup_workdays": ["2027-02-20"]}, "holidays", "2027-02-20"),
    ({"holidays": ["2027-02-20"], "makeup_workdays": ["2027-02-20"]}, "makeup_workdays",
     "2027-02-20"),
    ({"year": 2028, "holidays": [], "makeup_workdays": []}, "year", "2028"),
    ({"holidays": [], "makeup_workdays": [], "source": " "}, "source", "notice"),
])
def test_invalid_schedules_are_rejected_naming_field_and_date(body, field, named):
    with pytest.raises(ValidationFailed) as raised:
        parse_schedule(2027, {"source": SOURCE, **body})
    assert field in raised.value.errors
    assert any(named in reason for reason in texts(raised.value.errors[field])), \
        raised.value.errors


def test_years_outside_the_loadable_range_are_rejected():
    assert parse_year("2031") == parse_year(2031) == 2031
    for bad in ("1999", "2101", "20x7", "", 2027.0, True, None):
        with pytest.raises(ValidationFailed) as raised:
            parse_year(bad)
        assert "year" in raised.value.errors


def test_missing_year_gauge_covers_the_current_and_next_year_only():
    def value(year: int) -> float | None:
        return REGISTRY.get_sample_value("gridsvc_calendar_year_missing", {"year": str(year)})

    loaded_2041 = WorkCalendar([schedule(2041, ["2041-01-01"])])
    assert calendar_years.refresh_missing_metric(loaded_2041, date(2040, 3, 1)) == {
        2040: True, 2041: False}
    assert (value(2040), value(2041)) == (1, 0)
    calendar_years.refresh_missing_metric(loaded_2041, date(2041, 1, 1))
    assert (value(2040), value(2041), value(2042)) == (None, 0, 1)
    calendar_years.refresh_missing_metric(WorkCalendar(), date(2025, 6, 1))
    assert (value(2041), value(2042), value(2025), value(2026)) == (None, None, 0, 0)


def test_file_loader_commits_and_other_processes_notice(db, tmp_path: Path, capsys):
    cache = CalendarCache()
    with Session(db) as first:
        assert cache.get(first).is_provisional(date(2035, 1, 2))
    path = tmp_path / "2035.json"
    path.write_text(json.dumps({"year": 2035, "holidays": ["2035-01-01", "2035-01-02"],
                                "makeup_workdays": ["2035-01-06"], "source": SOURCE},
                               ensure_ascii=False), encoding="utf-8")

    assert calendar_years.main(["load", str(path), "--loaded-by", "ops-zhang"]) == 0
    assert "loaded 2035" in capsys.readouterr().out

    with Session(db) as later:  # the cached calendar is stale: the version check rebuilds it
        calendar = cache.get(later)
        assert not calendar.is_provisional(date(2035, 1, 2))
        assert not calendar.is_workday(date(2035, 1, 2))
        assert calendar.is_workday(date(2035, 1, 6))  # a Sunday, 调休
        row = later.execute(text(
            "SELECT source, loaded_by FROM ticketing.calendar_years WHERE year = 2035")).one()
    assert tuple(row) == (SOURCE, "ops-zhang")
    assert calendar_years.main(["show", "2035"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {"year": 2035, "holidays": ["2035-01-01", "2035-01-02"],
                     "makeup_workdays": ["2035-01-06"], "source": SOURCE}


def test_file_loader_rejects_a_bad_file_and_stores_nothing(db, tmp_path: Path, capsys):
    path = tmp_path / "2036.json"
    path.write_text(json.dumps({"year": 2036, "holidays": ["2036-01-01"],
                                "makeup_workdays": ["2036-01-07"], "source": SOURCE}))
    assert calendar_years.main(["load", str(path)]) == 2
    err = capsys.readouterr().err
    assert "makeup_workdays" in err and "2036-01-07" in err
    path.write_text("{not json")
    assert calendar_years.main(["load", str(path)]) == 2
    path.write_text(json.dumps({"holidays": [], "makeup_workdays": [], "source": SOURCE}))
    assert calendar_years.main(["load", str(path)]) == 2
    assert "year" in capsys.readouterr().err
    with db.connect() as conn:
        stored = conn.execute(text(
            "SELECT count(*) FROM ticketing.calendar_years WHERE year = 2036")).scalar_one()
    assert stored == 0


@no_2027_data
def test_loading_2027_replans_a_handling_deadline_off_new_years_day(session):
    """A 20-working-day task accepted on 4 December 2026 is due on 1 January 2027, provisional
    (2027 not loaded: Monday to Friday stands in). Loading 2027 with 1 January a holiday and
    Saturday 2 January a makeup working day (调休) moves it to 2 January, exact, with its
    reminders; a demand awaiting its rating gets its unrated closure re-planned too. One
    event and one ledger line per subject."""
    from services.ticketing.models import Deadline, LedgerEntry, Task

    accepted_at = datetime.fromisoformat("2026-12-04T10:00:00+08:00")
    demand = add_demand(session, datetime.fromisoformat("2026-12-03T09:00:00+08:00"),
                        datetime.fromisoformat("2026-12-04T10:00:00+08:00"), False,
                        status="in_progress")
    task = Task(id=str(uuid.uuid4()), demand_id=demand.id, department_id="finance",
                status="accepted", difficulty="normal", handling_workdays=20,
                accept_due_at=datetime.fromisoformat("2026-12-04T18:00:00+08:00"),
                due_at=datetime.fromisoformat("2027-01-01T18:00:00+08:00"),
                due_provisional=True, accepted_at=accepted_at, reopen_count=0,
                escalation_level=0, version=1)
    session.add(task)
    session.flush()
    handling = sla.schedule(session, "handling", task.id, task.due_at,
                            department_id="finance", level=1)
    sla.schedule_reminders(session, WorkCalendar([]), task, accepted_at)
    waiting = add_demand(session, datetime.fromisoformat("2026-12-20T09:00:00+08:00"),
                         datetime.fromisoformat("2026-12-21T10:00:00+08:00"), False,
                         status="awaiting_rating")
    days = int(sla.settings(session)["close_unrated_workdays"])
    new_years_day = datetime.fromisoformat("2027-01-01T18:00:00+08:00")
    # completed so that its unrated closure falls on 1 January (Monday to Friday counted)
    waiting.completed_at = next(
        moment for back in range(1, 60)
        if WorkCalendar([]).deadline_after_workdays(
            moment := datetime.fromisoformat("2027-01-01T16:00:00+08:00") - timedelta(days=back),
            days).at == new_years_day)
    old_close = new_years_day
    close = sla.schedule(session, "close_unrated", waiting.id, old_close)
    session.flush()

    loaded = schedule(2027, ["2027-01-01"], ("2027-01-02",))
    # the admin's preview first: these two moves listed, nothing changed
    preview = calendar_years.preview_year(session, loaded, SOURCE)
    listed = {(row["task_id"] or row["demand_id"], row["kind"]): row
              for row in preview["replanned"]}
    assert preview["deadlines_moved"] == len(preview["replanned"]) >= 2
    moving = listed[(task.id, "handling")]
    assert (moving["due_at"], moving["provisional"]) == (new_years_day, True)
    assert (moving["new_due_at"], moving["new_provisional"]) == (
        datetime.fromisoformat("2027-01-02T18:00:00+08:00"), False)
    assert (moving["number"], moving["department_id"]) == (demand.number, "finance")
    closing = listed[(waiting.id, "close_unrated")]
    assert closing["task_id"] is None and closing["due_at"] == old_close
    assert closing["new_due_at"] == WorkCalendar([loaded]).deadline_after_workdays(
        waiting.completed_at, days).at
    session.refresh(task)
    session.refresh(handling)
    session.refresh(close)
    assert (task.due_at, task.due_provisional, task.version) == (new_years_day, True, 1)
    assert (handling.due_at, close.due_at) == (new_years_day, old_close)
    assert not [e for e in events(session, "task_deadline_changed", demand.id)]
    assert not events(session, "rating_deadline_changed", waiting.id)

    outcome = load_year(session, loaded, SOURCE, "admin-1", "call-9")

    session.refresh(task)
    session.refresh(handling)
    assert (task.due_at, task.due_provisional) == (
        datetime.fromisoformat("2027-01-02T18:00:00+08:00"), False)
    assert handling.due_at == task.due_at and task.version == 2
    reminders = session.execute(
        select(Deadline.due_at).where(Deadline.subject_id == task.id,
                                      Deadline.kind == "reminder",
                                      Deadline.cancelled_at.is_(None))).scalars().all()
    assert reminders and all(r < task.due_at for r in reminders)
    new_close = WorkCalendar([loaded]).deadline_after_workdays(waiting.completed_at, days).at
    session.refresh(close)
    assert close.due_at == new_close
    assert outcome.deadlines_replanned >= 2
    [moved] = [e["data"] for e in events(session, "task_deadline_changed")
               if e["data"]["task_id"] == task.id]
    assert moved["changes"]["due_at"] == {"before": "2027-01-01T18:00:00+08:00",
                                          "after": "2027-01-02T18:00:00+08:00"}
    assert moved["calendar_year"] == 2027
    assert new_close != old_close
    assert len(events(session, "rating_deadline_changed", waiting.id)) == 1
    lines = session.execute(
        select(LedgerEntry.action, LedgerEntry.task_id).where(
            LedgerEntry.demand_id == demand.id)).all()
    assert lines == [("deadline_replanned", task.id)]


def _start_for(calendar: WorkCalendar, workdays: int, due: datetime, hour: int = 16,
               rung: bool = False) -> datetime:
    """A moment at ``hour`` in 2026 from which ``workdays`` working days (by ``calendar``)
    end at ``due``; ``rung``: counted as an escalation rung (keeping the time of day)."""
    day = due - timedelta(days=1)
    while True:
        start = day.replace(hour=hour, minute=0)
        counted = (ladder.rung_due(calendar, start, workdays) if rung
                   else calendar.deadline_after_workdays(start, workdays))
        if counted.at == due:
            return start
        day -= timedelta(days=1)


@no_2027_data
def test_loading_2027_replans_every_deadline_kind_and_clears_its_provisional_flag(session):
    """Acceptance, handling, reminders, an escalation rung, the rating reminder and the
    unrated closure, each counted across 2026 → 2027 while 2027 had no table: every one is
    provisional and on 1 January. Loading 2027 (1 January a holiday, Saturday 2 January a
    makeup working day) moves each off the holiday, clears each flag (rows, tasks, the API's
    fields), one event and one ledger line per subject, and leaves fired deadlines alone."""
    from services.ticketing.models import Deadline, LedgerEntry, Task
    from services.ticketing.schemas import PendingDeadlineSchema, TaskSchema

    unloaded = WorkCalendar([])
    config = sla.settings(session)
    new_years_day = datetime.fromisoformat("2027-01-01T18:00:00+08:00")
    loaded = schedule(2027, ["2027-01-01"], ("2027-01-02",))
    exact = WorkCalendar([loaded])

    def demand_with_task(status: str, **task_fields) -> tuple[Demand, Task]:
        demand = add_demand(session, datetime.fromisoformat("2026-12-01T09:00:00+08:00"),
                            datetime.fromisoformat("2026-12-02T10:00:00+08:00"), False,
                            status="in_progress")
        task = Task(**{"id": str(uuid.uuid4()), "demand_id": demand.id,
                       "department_id": "finance", "status": status, "difficulty": "normal",
                       "handling_workdays": 20, "reopen_count": 0, "escalation_level": 0,
                       "version": 1, **task_fields})
        session.add(task)
        session.flush()
        return demand, task

    # acceptance: assigned on the working day before 1 January
    assigned_at = _start_for(unloaded, int(config["acceptance_workdays"]), new_years_day)
    accept_due = unloaded.deadline_after_workdays(assigned_at,
                                                  int(config["acceptance_workdays"]))
    assert (accept_due.at, accept_due.provisional) == (new_years_day, True)
    _, assigned = demand_with_task("assigned", accept_due_at=accept_due.at,
                                   accept_due_provisional=True, due_provisional=False,
                                   created_at=assigned_at)
    acceptance = sla.schedule(session, "acceptance", assigned.id, accept_due.at,
                              department_id="finance", provisional=True)

    # handling with its reminders: 20 working days from its acceptance
    accepted_at = _start_for(unloaded, 20, new_years_day, hour=10)
    handling_due = unloaded.deadline_after_workdays(accepted_at, 20)
    assert (handling_due.at, handling_due.provisional) == (new_years_day, True)
    _, accepted = demand_with_task("accepted", accept_due_at=accepted_at,
                                   due_at=handling_due.at, due_provisional=True,
                                   accepted_at=accepted_at)
    handling = sla.schedule(session, "handling", accepted.id, handling_due.at,
                            department_id="finance", level=1, provisional=True)
    sla.schedule_reminders(session, unloaded, accepted, accepted_at)

    # an escalation rung: the handling deadline fired in December, level 2 is due on 1 January
    rung_days = ladder.rung_workdays(config, 2)
    fired_due = _start_for(unloaded, rung_days, new_years_day, hour=18, rung=True)
    _, overdue = demand_with_task("accepted", accept_due_at=fired_due - timedelta(days=30),
                                  due_at=fired_due, due_provisional=False,
                                  accepted_at=fired_due - timedelta(days=30),
                                  escalation_level=1)
    fired = sla.schedule(session, "handling", overdue.id, fired_due, department_id="finance",
                         level=1)
    fired.fired_at = fired_due
    rung_due = ladder.rung_due(unloaded, fired_due, rung_days)
    assert (rung_due.at, rung_due.provisional) == (new_years_day, True)
    rung = sla.schedule(session, "escalation", overdue.id, rung_due.at,
                        department_id="finance", level=2, provisional=True)

    # the rating reminder falls on 1 January, the unrated closure later in January
    waiting = add_demand(session, datetime.fromisoformat("2026-12-01T09:00:00+08:00"),
                         datetime.fromisoformat("2026-12-02T10:00:00+08:00"), False,
                         status="awaiting_rating")
    waiting.completed_at = _start_for(unloaded, int(config["rating_reminder_workdays"]),
                                      new_years_day)
    reminder_due = unloaded.deadline_after_workdays(waiting.completed_at,
                                                    int(config["rating_reminder_workdays"]))
    close_due = unloaded.deadline_after_workdays(waiting.completed_at,
                                                 int(config["close_unrated_workdays"]))
    assert (reminder_due.at, reminder_due.provisional, close_due.provisional) == (
        new_years_day, True, True)
    rating_reminder = sla.schedule(session, "rating_reminder", waiting.id, reminder_due.at,
                                   provisional=True)
    close = sla.schedule(session, "close_unrated", waiting.id, close_due.at, provisional=True)
    session.flush()
    reminders_before = session.execute(
        select(Deadline).where(Deadline.subject_id == accepted.id,
                               Deadline.kind == "reminder")).scalars().all()
    assert reminders_before and all(r.provisional for r in reminders_before)

    def shown_rating_deadlines() -> dict[str, tuple[str, bool]]:
        """The waiting demand's pending deadlines as its timeline shows them."""
        from common.auth import Principal, Role
        from services.ticketing import views

        shown = views.timeline(session, Principal(role=Role.ADMIN, user_id="admin-1"),
                               waiting.id)["demand"]["deadlines"]
        return {d["kind"]: (d["due_at"], d["provisional"]) for d in shown}

    assert shown_rating_deadlines() == {
        "rating_reminder": (reminder_due.at.isoformat(), True),
        "close_unrated": (close_due.at.isoformat(), True)}

    load_year(session, loaded, SOURCE, "admin-1", "call-27")

    for row in (acceptance, handling, fired, rung, rating_reminder, close, assigned, accepted):
        session.refresh(row)
    expected = {
        "acceptance": (acceptance, exact.deadline_after_workdays(
            assigned_at, int(config["acceptance_workdays"])).at),
        "handling": (handling, exact.deadline_after_workdays(accepted_at, 20).at),
        "escalation": (rung, ladder.rung_due(exact, fired_due, rung_days).at),
        "rating_reminder": (rating_reminder, exact.deadline_after_workdays(
            waiting.completed_at, int(config["rating_reminder_workdays"])).at),
        "close_unrated": (close, exact.deadline_after_workdays(
            waiting.completed_at, int(config["close_unrated_workdays"])).at),
    }
    for kind, (row, due) in expected.items():
        assert row.due_at == due, kind
        assert row.due_at.astimezone(SHANGHAI).date() != date(2027, 1, 1), kind
        assert row.provisional is False, kind
    assert handling.due_at == datetime.fromisoformat("2027-01-02T18:00:00+08:00")  # 调休
    assert (assigned.accept_due_at, assigned.accept_due_provisional) == (acceptance.due_at,
                                                                         False)
    assert (accepted.due_at, accepted.due_provisional) == (handling.due_at, False)
    reminders = session.execute(
        select(Deadline).where(Deadline.subject_id == accepted.id, Deadline.kind == "reminder",
                               Deadline.cancelled_at.is_(None))).scalars().all()
    assert reminders and not any(r.provisional for r in reminders)
    assert all(r.due_at < accepted.due_at for r in reminders)
    assert fired.due_at == fired_due  # a fired deadline is history

    # the API's fields: the task and its pending deadlines, flags cleared
    shown = TaskSchema().dump(accepted)
    assert shown["due_provisional"] is False and shown["accept_due_provisional"] is False
    pending = PendingDeadlineSchema(many=True).dump(sla.pending(session, accepted.id))
    assert {p["kind"] for p in pending} == {"handling", "reminder"}
    assert not any(p["provisional"] for p in pending)

    for task in (assigned, accepted, overdue):
        changed = [e["data"] for e in events(session, "task_deadline_changed")
                   if e["data"]["task_id"] == task.id]
        assert len(changed) == 1, task.status
        lines = session.execute(select(LedgerEntry.action).where(
            LedgerEntry.task_id == task.id)).scalars().all()
        assert lines == ["deadline_replanned"]
    assert shown_rating_deadlines() == {
        "rating_reminder": (rating_reminder.due_at.astimezone(SHANGHAI).isoformat(), False),
        "close_unrated": (close.due_at.astimezone(SHANGHAI).isoformat(), False)}
    [rating_changed] = events(session, "rating_deadline_changed", waiting.id)
    assert rating_changed["data"]["changes"]["rating_reminder_provisional"] == {
        "before": True, "after": False}
    assert session.execute(select(LedgerEntry.action).where(
        LedgerEntry.demand_id == waiting.id)).scalars().all() == ["deadline_replanned"]
