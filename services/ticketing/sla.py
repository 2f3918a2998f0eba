"""SLA deadlines (时限) as rows: scheduled, re-planned and cancelled by the lifecycle, fired by
the sweep (:mod:`services.ticketing.sweep`) exactly once each.

Kinds: ``triage`` (分理, 10:00 next working day), ``acceptance`` (受理确认), ``handling``
(办理时限; level 1 escalation at the deadline), ``escalation`` (levels 2 and 3 after further
working days), ``reminder`` (before a handling deadline), ``rating_reminder`` and
``close_unrated`` (a completed demand nobody rated).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, time
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common import settings_row
from common.auth import Principal
from common.calendar import SHANGHAI, WorkCalendar
from common.calendar import Deadline as Due
from common.errors import Conflict, NotFound
from services.ticketing import events, sla_metrics
from services.ticketing.models import Deadline, HandlingTime, SlaSetting, Task
from services.ticketing.schemas import DEFAULT_CATEGORY, DIFFICULTIES

KINDS = ("triage", "acceptance", "handling", "escalation", "reminder", "rating_reminder",
         "close_unrated")

DEFAULT_SETTINGS: dict[str, Any] = {
    "acceptance_workdays": 1,
    "reminder_workdays_before": [2, 1],
    "escalate_to_leader_workdays": 3,
    "escalate_to_group_workdays": 5,
    "rating_reminder_workdays": 3,
    "close_unrated_workdays": 10,
}


SETTINGS_KEY = "sla"
#: the event announcing every change of the settings and of the handling-time table
SETTINGS_EVENT = "sla_settings_changed"


def settings(session: Session) -> dict[str, Any]:
    """The SLA settings in force (their one row of ``sla_settings`` over the defaults)."""
    return settings_row.in_force(session, SlaSetting, SETTINGS_KEY, DEFAULT_SETTINGS)


def settings_version(session: Session) -> int:
    """The version of the SLA settings: 1 while only the defaults apply, +1 with every change."""
    return settings_row.version(session, SlaSetting, SETTINGS_KEY)


def locked_settings(session: Session, expected: int | None) -> SlaSetting:
    """The settings row for a write (:func:`common.settings_row.locked`; 412 if stale)."""
    return settings_row.locked(session, SlaSetting, SETTINGS_KEY, expected, "sla_settings")


def update_settings(session: Session, actor: Principal, value: dict[str, Any],
                    expected: int | None, call_id: str | None = None) -> int:
    """Replace the SLA settings (they apply to deadlines scheduled from now on) and announce
    it (``sla_settings_changed``); 412 unless still at version ``expected`` (None: any). The
    version after the change (+1 if anything changed)."""
    row = locked_settings(session, expected)
    previous = settings(session)
    changed = sorted(k for k in value if previous.get(k) != value[k])
    row.value = value
    if changed:
        row.version += 1
    events.publish(session, SETTINGS_EVENT, {
        "actor": actor.user_id, "actor_role": str(actor.role),
        "what": "settings", "changed": changed,
        "previous": {k: previous.get(k) for k in changed},
        "settings": value,
    }, call_id=call_id)
    return int(row.version)


# --------------------------------------------------------------------------- handling times


def handling_times(session: Session) -> list[HandlingTime]:
    """Every row of the handling-time table: ``*`` first, then by category and difficulty
    (easy, normal, hard)."""
    order = {name: i for i, name in enumerate(DIFFICULTIES)}
    rows = session.scalars(select(HandlingTime)).all()
    return sorted(rows, key=lambda r: (r.category != DEFAULT_CATEGORY, r.category,
                                       order.get(r.difficulty, 99)))


def set_handling_time(session: Session, actor: Principal, category: str, difficulty: str,
                      workdays: int, call_id: str | None = None) -> None:
    """Create or change one row of the handling-time table and announce it."""
    previous = session.get(HandlingTime, (category, difficulty), with_for_update=True)
    before = previous.workdays if previous is not None else None
    session.execute(
        insert(HandlingTime).values(category=category, difficulty=difficulty,
                                    workdays=workdays)
        .on_conflict_do_update(index_elements=[HandlingTime.category, HandlingTime.difficulty],
                               set_={"workdays": workdays})
    )
    events.publish(session, SETTINGS_EVENT, {
        "actor": actor.user_id, "actor_role": str(actor.role),
        "what": "handling_time", "category": category, "difficulty": difficulty,
        "workdays": workdays, "previous_workdays": before,
    }, call_id=call_id)


def delete_handling_times(session: Session, actor: Principal, category: str,
                          call_id: str | None = None) -> list[HandlingTime]:
    """Remove a category's own rows, so that the ``*`` rows apply to it again, and announce
    it; the ``*`` rows cannot be removed (Conflict), a category without rows is NotFound."""
    if category == DEFAULT_CATEGORY:
        raise Conflict("the default (*) handling times cannot be deleted; change them",
                       code="handling_time.default_kept")
    removed = list(session.scalars(
        delete(HandlingTime).where(HandlingTime.category == category).returning(HandlingTime)
    ).all())
    if not removed:
        raise NotFound("no handling times for category {category}",
                       code="handling_time.not_found", params={"category": category})
    events.publish(session, SETTINGS_EVENT, {
        "actor": actor.user_id, "actor_role": str(actor.role),
        "what": "handling_time_deleted", "category": category,
        "removed": {row.difficulty: row.workdays for row in removed},
    }, call_id=call_id)
    return removed


def handling_workdays(session: Session, category: str | None, difficulty: str) -> int:
    """办理时限 in working days: the category's own row, else the ``*`` row, else 10."""
    rows = dict(session.execute(
        select(HandlingTime.category, HandlingTime.workdays)
        .where(HandlingTime.difficulty == difficulty,
               HandlingTime.category.in_([category or "*", "*"]))
    ).all())
    return rows.get(category or "*", rows.get("*", 10))


def schedule(session: Session, kind: str, subject_id: str, due_at: datetime, *,
             department_id: str | None = None, level: int = 0,
             provisional: bool = False) -> Deadline:
    """A pending deadline; ``provisional`` when it was counted in, or across, a year without
    a loaded working-day table (re-planned when that year is loaded)."""
    assert kind in KINDS, kind
    deadline = Deadline(kind=kind, subject_id=subject_id, due_at=due_at,
                        department_id=department_id, level=level, provisional=provisional)
    session.add(deadline)
    return deadline


def cancel(session: Session, subject_id: str, kinds: Iterable[str] | None = None) -> int:
    """Cancel the pending deadlines of a subject (all, or of these kinds)."""
    query = update(Deadline).where(Deadline.subject_id == subject_id,
                                   Deadline.fired_at.is_(None),
                                   Deadline.cancelled_at.is_(None))
    if kinds is not None:
        query = query.where(Deadline.kind.in_(list(kinds)))
    now = datetime.now(UTC)
    rows = session.execute(
        query.values(cancelled_at=now)
        .returning(Deadline.kind, Deadline.department_id, Deadline.due_at)
    ).all()
    sla_metrics.record_met((kind, department) for kind, department, due_at in rows
                           if due_at > now)
    return len(rows)


def pending(session: Session, subject_id: str) -> list[dict[str, Any]]:
    """The subject's deadlines not fired nor cancelled, soonest first, as
    ``PendingDeadlineSchema`` shows them (kind, level, due_at, provisional)."""
    rows = session.execute(
        select(Deadline.kind, Deadline.level, Deadline.due_at, Deadline.provisional)
        .where(Deadline.subject_id == subject_id, Deadline.fired_at.is_(None),
               Deadline.cancelled_at.is_(None))
        .order_by(Deadline.due_at, Deadline.id)
    ).all()
    return [row._asdict() for row in rows]


def replan(session: Session, subject_id: str, kind: str, due_at: datetime,
           provisional: bool = False) -> int:
    """Move the pending deadline(s) of a kind (an extension, a calendar correction)."""
    result = session.execute(
        update(Deadline).where(Deadline.subject_id == subject_id, Deadline.kind == kind,
                               Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None))
        .values(due_at=due_at, provisional=provisional)
    )
    return int(cast(CursorResult[Any], result).rowcount)


#: 分理: a demand is due at 10:00 local of the first working day after the day it was received
TRIAGE_HOUR = 10


def triage_deadline(calendar: WorkCalendar, received_at: datetime) -> Due:
    """分理 deadline (``于每日上午十点前完成上一工作日企业问题分理``): 10:00 Asia/Shanghai of the
    first working day strictly after the local date on which the demand was received
    (``received_at`` converted to Asia/Shanghai first, and it must be aware).

    The time of day does not matter: a demand received Monday 00:00 or Monday 23:59 is due
    Tuesday 10:00 (if Tuesday is a working day); one received on a Saturday is due on Monday
    10:00, like one received on Friday. Provisional when a day consulted lies in a year
    without calendar data.
    """
    return calendar.deadline_after_workdays(received_at, 1, hour=TRIAGE_HOUR)


REMINDER_HOUR = 9  # reminders (提醒) go out at 09:00 of their working day


def workdays_before(calendar: WorkCalendar, day: date, n: int) -> date:
    """The working day (工作日) ``n`` working days before ``day`` (调休 weekend days count)."""
    return calendar.subtract_workdays(day, n)[0]


def reminder_deadlines(calendar: WorkCalendar, due_at: datetime, workdays: Collection[int],
                       after: datetime, due_provisional: bool = False) -> list[Due]:
    """When to remind (提醒) before a handling deadline: at :data:`REMINDER_HOUR` of the working
    day ``n`` working days before the due date, for each ``n``, if still after ``after``; each
    provisional when the deadline it leads to is, or its count crosses a year without data."""
    due_day = due_at.astimezone(SHANGHAI).date()
    moments: dict[datetime, bool] = {}
    for n in workdays:
        if int(n) <= 0:
            continue
        day, provisional = calendar.subtract_workdays(due_day, int(n))
        moment = datetime.combine(day, time(REMINDER_HOUR), SHANGHAI)
        moments[moment] = moments.get(moment, False) or provisional or due_provisional
    return [Due(m, p) for m, p in sorted(moments.items()) if after < m < due_at]


def reminder_times(calendar: WorkCalendar, due_at: datetime, workdays: Collection[int],
                   after: datetime) -> list[datetime]:
    """The moments of :func:`reminder_deadlines`."""
    return [d.at for d in reminder_deadlines(calendar, due_at, workdays, after)]


def schedule_reminders(session: Session, calendar: WorkCalendar, task: Task,
                        now: datetime) -> None:
    assert task.due_at is not None
    workdays = settings(session)["reminder_workdays_before"]
    for due in reminder_deadlines(calendar, task.due_at, workdays, now,
                                  bool(task.due_provisional)):
        schedule(session, "reminder", task.id, due.at, department_id=task.department_id,
                 provisional=due.provisional)
