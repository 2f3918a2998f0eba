"""The SLA ladder (时限与督办升级): what a due deadline does now. Pure rules, no database.

The sweep (:mod:`services.ticketing.sweep`) locks the deadline's subject, asks
:func:`due_now` with the subject's state, and applies the :class:`Action` it gets, whether it
fires a whole batch set-wise or row by row. Each effect happens only if the subject has not
moved on; otherwise the deadline is just marked fired.

- ``triage`` (分理, 10:00 of the next working day): the demand is still ``received`` → 超时
  breach (no department yet).
- ``acceptance`` (受理确认): the task is still ``assigned`` → breach, and after a new breach the
  task times out to ``coordination``.
- ``handling`` (办理时限): the task is still ``accepted`` → breach, 督办 level 1, and the
  level-2 rung ``escalate_to_leader_workdays`` working days later.
- ``escalation`` level 2 or 3: the task is not completed or cancelled → 督办 at that level;
  level 2 puts up the level-3 rung ``escalate_to_group_workdays`` working days later.
- ``reminder`` (提醒): the task is still ``accepted`` → the reminder.
- ``rating_reminder`` and ``close_unrated``: :mod:`services.ticketing.closure` decides.

Who is told: a new breach publishes ``sla_breached``, a new escalation ``task_escalated``
(notification tells the level's people, see :class:`EscalationLevel`), a reminder
``deadline_reminder`` (the task's liaison).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from common.calendar import SHANGHAI, Deadline, WorkCalendar
from services.ticketing.workflow import DemandState, TaskState

#: escalation cause of the SLA ladder (the other cause, ``reopened``, is the lifecycle's)
OVERDUE = "overdue"
#: task states that end the 督办 ladder
TASK_DONE = frozenset({TaskState.COMPLETED.value, TaskState.CANCELLED.value})
#: the deadline kinds whose effect :mod:`services.ticketing.closure` decides
CLOSURE_KINDS = frozenset({"rating_reminder", "close_unrated"})


class EscalationLevel(IntEnum):
    """The rungs of 督办 and who each one tells."""

    DEPARTMENT_HEAD = 1  # 部门负责人, at the handling deadline
    LEADER_IN_CHARGE = 2  # 分管领导, N working days later
    LEADING_GROUP = 3  # 领导小组办公室, M working days after that


#: the setting giving the working days from the rung before to this rung
RUNG_SETTINGS: dict[int, str] = {
    EscalationLevel.LEADER_IN_CHARGE: "escalate_to_leader_workdays",
    EscalationLevel.LEADING_GROUP: "escalate_to_group_workdays",
}


@dataclass(frozen=True)
class Action:
    """What a due deadline does now (nothing: every field false or 0)."""

    breach: bool = False  # 超时: a breach of this deadline; ``sla_breached`` if it is new
    time_out: bool = False  # after a new breach, the task times out to coordination
    escalate: int = 0  # 督办 to this level; ``task_escalated`` if it is new (0: none)
    next_rung: int = 0  # the escalation deadline to put up for this level (0: none)
    remind: bool = False  # ``deadline_reminder`` to the task's liaison

    @property
    def told(self) -> tuple[str, ...]:
        """The events this action may publish, in the order the sweep writes them."""
        return tuple(event for event, on in (
            ("sla_breached", self.breach), ("task_escalated", self.escalate > 0),
            ("deadline_reminder", self.remind)) if on)


NOTHING = Action()


def due_now(kind: str, level: int, status: str | None) -> Action:
    """What a due deadline of ``kind`` (and ``level``, for ``escalation``) does now, its
    subject (the demand for ``triage``, else the task) being in ``status`` (None: gone).

    ValueError for a kind the ladder does not decide (:data:`CLOSURE_KINDS`, unknown kinds)
    and for an escalation deadline of another level than 2 or 3.
    """
    if kind == "escalation" and level not in RUNG_SETTINGS:
        raise ValueError(f"an escalation deadline has level 2 or 3, not {level}")
    if kind == "triage":
        return Action(breach=True) if status == DemandState.RECEIVED else NOTHING
    if kind == "acceptance":
        return Action(breach=True, time_out=True) if status == TaskState.ASSIGNED else NOTHING
    if kind == "handling":
        if status != TaskState.ACCEPTED:
            return NOTHING
        return Action(breach=True, escalate=EscalationLevel.DEPARTMENT_HEAD,
                      next_rung=EscalationLevel.LEADER_IN_CHARGE)
    if kind == "escalation":
        if status is None or status in TASK_DONE:
            return NOTHING
        following = level + 1 if level + 1 in RUNG_SETTINGS else 0
        return Action(escalate=level, next_rung=following)
    if kind == "reminder":
        return Action(remind=True) if status == TaskState.ACCEPTED else NOTHING
    raise ValueError(f"the ladder does not decide deadlines of kind {kind!r}")


def rung_workdays(settings: dict[str, object], level: int) -> int:
    """Working days from the rung before to the rung of ``level`` (2 or 3)."""
    value = settings[RUNG_SETTINGS[level]]
    assert isinstance(value, int | str), value
    return int(value)


def rung_due(calendar: WorkCalendar, due_at: datetime, workdays: int,
             provisional: bool = False) -> Deadline:
    """The same local time (Asia/Shanghai) ``workdays`` working days after ``due_at``'s day,
    调休 included (as :meth:`WorkCalendar.deadline_after_workdays`, keeping the hour): when
    the next rung is due; provisional when the rung before was (``provisional``) or the count
    crosses a year without a loaded table."""
    local = due_at.astimezone(SHANGHAI)
    day, counted = calendar.add_workdays(local.date(), int(workdays))
    return Deadline(datetime.combine(day, local.time(), SHANGHAI), counted or provisional)


def after_workdays(calendar: WorkCalendar, due_at: datetime, workdays: int) -> datetime:
    """The moment of :func:`rung_due`."""
    return rung_due(calendar, due_at, workdays).at
