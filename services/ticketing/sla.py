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
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common import settings_row
from common.calendar import SHANGHAI, WorkCalendar
from common.calendar import Deadline as Due
from services.ticketing import sla_metrics
from services.ticketing.models import Deadline, HandlingTime, SlaSetting, Task

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


def settings(session: Session) -> dict[str, Any]:
    """The SLA settings in force (their one row of ``sla_settings`` over the defaults)."""
    return settings_row.in_force(session, SlaSetting, SETTINGS_KEY, DEFAULT_SETTINGS)


def settings_version(session: Session) -> int:
    """The version of the SLA settings: 1 while only the defaults apply, +1 with every change."""
    return settings_row.version(session, SlaSetting, SETTINGS_KEY)


def locked_settings(session: Session, expected: int | None) -> SlaSetting:
    """The settings row for a write (:func:`common.settings_row.locked`; 412 if stale)."""
    return settings_row.locked(session, SlaSetting, SETTINGS_KEY, expected, "sla_settings")


def handling_workdays(session: Session, category: str | None, difficulty: str) -> int:
    """办理时限 in working days: the category's own row, else the ``*`` row, else 10."""
    rows = dict(session.execute(
        select(HandlingTime.category, HandlingTime.workdays)
        .where(HandlingTime.difficulty == difficulty,
               HandlingTime.category.in_([category or "*", "*"]))
    ).all())
    return rows.get(category or "*", rows.get("*", 10))


def schedule(session: Session, kind: str, subject_id: str, due_at: datetime, *,
             department_id: str | None = None, level: int = 0) -> Deadline:
    assert kind in KINDS, kind
    deadline = Deadline(kind=kind, subject_id=subject_id, due_at=due_at,
                        department_id=department_id, level=level)
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


def replan(session: Session, subject_id: str, kind: str, due_at: datetime) -> int:
    """Move the pending deadline(s) of a kind (an extension, a calendar correction)."""
    return session.execute(
        update(Deadline).where(Deadline.subject_id == subject_id, Deadline.kind == kind,
                               Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None))
        .values(due_at=due_at)
    ).rowcount


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


def reminder_times(calendar: WorkCalendar, due_at: datetime, workdays: Collection[int],
                   after: datetime) -> list[datetime]:
    """When to remind (提醒) before a handling deadline: at :data:`REMINDER_HOUR` of the working
    day ``n`` working days before the due date, for each ``n``, if still after ``after``."""
    due_day = due_at.astimezone(SHANGHAI).date()
    moments = {
        datetime.combine(workdays_before(calendar, due_day, int(n)), time(REMINDER_HOUR),
                         SHANGHAI)
        for n in workdays if int(n) > 0
    }
    return sorted(m for m in moments if after < m < due_at)


def schedule_reminders(session: Session, calendar: WorkCalendar, task: Task,
                        now: datetime) -> None:
    assert task.due_at is not None
    workdays = settings(session)["reminder_workdays_before"]
    for moment in reminder_times(calendar, task.due_at, workdays, now):
        schedule(session, "reminder", task.id, moment, department_id=task.department_id)
