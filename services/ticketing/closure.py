"""办理结果反馈 and 销号: the rating (评价) of a completed demand and how it closes.

Plain functions over a SQLAlchemy session; no broker in here.

- :func:`on_awaiting_rating`: every task is completed (办结); the enterprise is asked to rate
  (``rating_requested``), a reminder (``rating_reminder``) and the unrated closure
  (``close_unrated``) are scheduled in working days (:func:`services.ticketing.sla.settings`).
- :func:`rate`: the owning enterprise rates the current round. Satisfied (满意) closes the
  demand at once (自动销号, closure ``rated``); dissatisfied keeps it ``awaiting_rating`` with a
  dissatisfied rating of the current round: that is the marker of the coordinators' queue
  (:func:`awaiting_resolution_clause`).
- :func:`resolve`: a coordinator answers a dissatisfied rating, either by reopening a task
  (重新办理; the second reopen of a task escalates: 多次未办结) or, with the department's
  written report (书面汇报材料), by closing internally (内部销号, closure ``internal``).
- :func:`remind_rating` and :func:`close_unrated`: the SLA sweep's actions.

The round (评价轮次) is the number of completions so far: 1 + the reopens of the demand's
tasks. A rating counts only for its round; ``uq_rating_round`` and the demand row lock make
sure exactly one of two concurrent ratings wins.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.auth import Principal, Role, service_principal
from common.calendar import WorkCalendar
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from common.i18n import label
from services.ticketing import events, intake, ledger, sla
from services.ticketing.appraisal import rollup
from services.ticketing.models import Demand, Escalation, Rating, Task
from services.ticketing.workflow import (
    COORDINATORS,
    Closure,
    DemandState,
    TaskAction,
    TaskState,
    escalates_on_reopen,
    is_satisfied,
    task_transition,
)

RATING_KINDS = ("rating_reminder", "close_unrated")
#: escalation of a task reopened again and again (多次未办结): to the department head
REOPEN_ESCALATION_LEVEL = 1
REOPEN_CAUSE = "reopened"

PLATFORM = service_principal("ticketing")


# --------------------------------------------------------------------------- helpers


def current_round(session: Session, demand_id: str) -> int:
    """评价轮次: the number of completions so far (1 + every reopen of the demand's tasks)."""
    reopens = session.execute(
        select(func.coalesce(func.sum(Task.reopen_count), 0)).where(Task.demand_id == demand_id)
    ).scalar_one()
    return 1 + int(reopens)


def round_rating(session: Session, demand_id: str, round_: int) -> Rating | None:
    return session.execute(
        select(Rating).where(Rating.demand_id == demand_id, Rating.round == round_)
    ).scalar_one_or_none()


def awaiting_resolution_clause() -> Any:
    """A WHERE clause over Demand: awaiting rating, and already rated dissatisfied in the
    current round (the coordinators' queue of 不满意 demands)."""
    reopens = (
        select(func.coalesce(func.sum(Task.reopen_count), 0))
        .where(Task.demand_id == Demand.id)
        .correlate(Demand)
        .scalar_subquery()
    )
    dissatisfied = exists().where(
        Rating.demand_id == Demand.id, Rating.round == reopens + 1, Rating.satisfied.is_(False)
    )
    return and_(Demand.status == str(DemandState.AWAITING_RATING), dissatisfied)


def lock_demand(session: Session, demand_id: str) -> Demand | None:
    """The demand row, locked (FOR UPDATE) and re-read, so concurrent changes queue up."""
    try:
        uuid.UUID(str(demand_id))
    except ValueError:
        return None
    return session.execute(
        select(Demand).where(Demand.id == demand_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def demand_data(demand: Demand, **extra: Any) -> dict[str, Any]:
    return {"demand_id": demand.id, "number": demand.number,
            "enterprise_id": demand.enterprise_id, **extra}


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _close(session: Session, principal: Principal, demand: Demand, closure: Closure,
           now: datetime, call_id: str | None, reason: str | None = None) -> None:
    """销号: the demand is closed with ``closure``; its rating deadlines are cancelled; its
    appraisal figures, fixed from now on, are added to the rollup (once)."""
    before = demand.status
    demand.status = str(DemandState.CLOSED)
    demand.closure = str(closure)
    demand.closed_at = now
    demand.version += 1
    sla.cancel(session, demand.id, RATING_KINDS)
    rollup.record(session, Demand.id == demand.id)
    ledger.record(session, principal, demand.id, "close", before, demand.status,
                  reason=reason or str(closure))
    events.publish(session, "demand_closed",
                   demand_data(demand, closure=str(closure), closed_at=now.isoformat()),
                   call_id)


# --------------------------------------------------------------------------- completion


def on_awaiting_rating(session: Session, demand: Demand, calendar: WorkCalendar,
                       now: datetime | None = None, call_id: str | None = None) -> None:
    """Every task is completed (办结) and the demand is ``awaiting_rating``: ask the enterprise
    to rate (event ``rating_requested``) and schedule ``rating_reminder`` and
    ``close_unrated`` after their working days. The caller (handling) has already moved the
    demand and recorded that in the ledger."""
    moment = _now(now)
    if demand.completed_at is None:
        demand.completed_at = moment
    config = sla.settings(session)
    sla.cancel(session, demand.id, RATING_KINDS)  # a former round's, if any were left
    reminder = calendar.deadline_after_workdays(moment, int(config["rating_reminder_workdays"]))
    unrated = calendar.deadline_after_workdays(moment, int(config["close_unrated_workdays"]))
    sla.schedule(session, "rating_reminder", demand.id, reminder.at,
                 provisional=reminder.provisional)
    sla.schedule(session, "close_unrated", demand.id, unrated.at,
                 provisional=unrated.provisional)
    events.publish(session, "rating_requested", demand_data(
        demand, round=current_round(session, demand.id), reminder=False,
        close_unrated_at=unrated.at.isoformat(), close_unrated_provisional=unrated.provisional,
    ), call_id)


def remind_rating(session: Session, demand_id: str, now: datetime | None = None,
                  call_id: str | None = None) -> bool:
    """The ``rating_reminder`` deadline fired: ask again (``rating_requested``) if the demand
    still waits for the rating of its round. True if a reminder went out."""
    demand = lock_demand(session, demand_id)
    if demand is None or demand.status != DemandState.AWAITING_RATING:
        return False
    round_ = current_round(session, demand.id)
    if round_rating(session, demand.id, round_) is not None:
        return False
    ledger.record(session, PLATFORM, demand.id, "remind_rating", demand.status, demand.status)
    events.publish(session, "rating_requested",
                   demand_data(demand, round=round_, reminder=True), call_id)
    return True


def close_unrated(session: Session, demand_id: str, now: datetime | None = None,
                  call_id: str | None = None) -> bool:
    """The ``close_unrated`` deadline fired: a demand nobody rated in its round is closed as
    ``unrated`` (counted apart from 自动销号). True if it was closed."""
    demand = lock_demand(session, demand_id)
    if demand is None or demand.status != DemandState.AWAITING_RATING:
        return False
    if round_rating(session, demand.id, current_round(session, demand.id)) is not None:
        return False  # rated (dissatisfied): the coordinators decide, not the clock
    _close(session, PLATFORM, demand, Closure.UNRATED, _now(now), call_id,
           reason="no rating within the waiting period")
    return True


# --------------------------------------------------------------------------- rating


def rate(session: Session, principal: Principal, demand_id: str, data: dict[str, Any],
         now: datetime | None = None, call_id: str | None = None) -> Rating:
    """评价 by the enterprise that owns the demand (``RatingCreateSchema`` data).

    Forbidden for any other role; NotFound for another enterprise's demand; Conflict unless
    the demand awaits its rating, or when this round is already rated (the loser of two
    concurrent ratings). Satisfied (``is_satisfied``) closes the demand: 自动销号.
    """
    if principal.role != Role.ENTERPRISE:
        raise Forbidden("only the enterprise that filed the demand may rate it",
                        code="demand.rate_forbidden")
    intake.get_visible(session, principal, demand_id)
    demand = lock_demand(session, demand_id)
    if demand is None:
        raise NotFound("no such demand", code="demand.not_found")
    if demand.status != DemandState.AWAITING_RATING:
        raise Conflict("a demand that is {status} cannot be rated", code="demand.not_ratable",
                       params={"status": label("demand_status", demand.status)})
    round_ = current_round(session, demand.id)
    if round_rating(session, demand.id, round_) is not None:
        raise Conflict("this round of the demand is already rated", code="demand.rated_already")
    moment = _now(now)
    satisfied = is_satisfied(data["efficiency"], data["attitude"], data["quality"])
    rating = Rating(
        id=str(uuid.uuid4()), demand_id=demand.id, round=round_,
        efficiency=data["efficiency"], attitude=data["attitude"], quality=data["quality"],
        comment=data.get("comment"), satisfied=satisfied, rated_by=principal.user_id,
        created_at=moment,
    )
    try:
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("this round of the demand is already rated",
                       code="demand.rated_already") from exc
    before = demand.status
    ledger.record(session, principal, demand.id, "rate", before, before,
                  reason="satisfied" if satisfied else "dissatisfied")
    events.publish(session, "demand_rated", demand_data(
        demand, round=round_, satisfied=satisfied, efficiency=rating.efficiency,
        attitude=rating.attitude, quality=rating.quality,
    ), call_id)
    if satisfied:
        _close(session, principal, demand, Closure.RATED, moment, call_id)
    else:
        demand.version += 1
        sla.cancel(session, demand.id, RATING_KINDS)  # rated: only a coordinator moves it now
    return rating


# --------------------------------------------------------------------------- resolution


def resolve(session: Session, principal: Principal, demand_id: str, data: dict[str, Any],
            calendar: WorkCalendar, now: datetime | None = None,
            call_id: str | None = None, owner_department: str | None = None) -> Demand:
    """A coordinator's answer to a dissatisfied rating (``DissatisfiedResolutionSchema``).

    ``reopen``: the named completed task goes back to ``accepted`` with a new handling
    deadline (办理时限) and the demand to ``in_progress``; a task's second reopen records an
    Escalation (cause ``reopened``, 多次未办结). ``agree_report``: a coordinator of the
    ``owner_department`` (of the demand's grid) agrees to the department's filed written
    report (:func:`file_report`) and the demand closes as ``internal`` (内部销号);
    ``return_report`` sends it back with a ``reason``. ``close_internally``: the one-step
    closure for when no department can report: the coordinator's written report
    (书面汇报材料) is stored on the task(s) and the demand closes as ``internal``.
    """
    if principal.role not in COORDINATORS:
        raise Forbidden("{role} may not resolve a dissatisfied rating",
                        code="demand.resolve_forbidden", params={"role": principal.role_label})
    demand = lock_demand(session, demand_id)
    if demand is None:
        raise NotFound("no such demand", code="demand.not_found")
    if demand.status != DemandState.AWAITING_RATING:
        raise Conflict("a demand that is {status} has no rating to resolve",
                       code="demand.nothing_to_resolve",
                       params={"status": label("demand_status", demand.status)})
    rating = round_rating(session, demand.id, current_round(session, demand.id))
    if rating is None or rating.satisfied:
        raise Conflict("the demand has no dissatisfied rating in its current round",
                       code="demand.nothing_to_resolve")
    moment = _now(now)
    if data["action"] == "reopen":
        _reopen(session, principal, demand, data.get("task_id"), calendar, moment, call_id)
    elif data["action"] == "agree_report":
        _agree_report(session, principal, demand, data.get("task_id"), owner_department,
                      moment, call_id)
    elif data["action"] == "return_report":
        _return_report(session, principal, demand, data.get("task_id"), data.get("reason"),
                       owner_department, call_id)
    else:
        _close_internally(session, principal, demand, data.get("task_id"), data.get("report"),
                          moment, call_id)
    return demand


def _task_of(session: Session, demand: Demand, task_id: str | None, field: str) -> Task:
    try:
        uuid.UUID(str(task_id))
    except ValueError as exc:
        raise _no_such_task(field) from exc
    task = session.execute(
        select(Task).where(Task.id == task_id, Task.demand_id == demand.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if task is None:
        raise _no_such_task(field)
    return task


def _no_such_task(field: str) -> ValidationFailed:
    return ValidationFailed("no such task of this demand", {field: [field_error(
        "task.not_of_demand", "not a task of this demand")]}, code="task.not_of_demand")


def _reopen(session: Session, principal: Principal, demand: Demand, task_id: str | None,
            calendar: WorkCalendar, now: datetime, call_id: str | None) -> None:
    if not task_id:
        raise ValidationFailed("name the task to reopen", {"task_id": [field_error(
            "field.required", "required to reopen")]}, code="demand.reopen_task_missing")
    task = _task_of(session, demand, task_id, "task_id")
    move = task_transition(principal, TaskState(task.status), TaskAction.REOPEN,
                           task.department_id)
    task.status = move.after
    task.reopen_count += 1
    task.completed_at = None
    task.version += 1
    due = calendar.deadline_after_workdays(now, task.handling_workdays)
    task.due_at, task.due_provisional = due.at, due.provisional
    sla.cancel(session, task.id, ("handling", "reminder", "escalation"))
    sla.schedule(session, "handling", task.id, due.at, department_id=task.department_id,
                 level=REOPEN_ESCALATION_LEVEL, provisional=due.provisional)
    sla.schedule_reminders(session, calendar, task, now)
    ledger.record(session, principal, demand.id, "reopen", move.before, move.after,
                  task_id=task.id, department_id=task.department_id,
                  reason="dissatisfied rating")
    task_data = demand_data(demand, task_id=task.id, department_id=task.department_id)
    events.publish(session, "task_reopened", {
        **task_data, "reopen_count": task.reopen_count, "due_at": due.at.isoformat(),
        "due_provisional": due.provisional,
    }, call_id)
    before = demand.status
    demand.status = str(DemandState.IN_PROGRESS)
    demand.completed_at = None
    demand.version += 1
    ledger.record(session, principal, demand.id, "reopen", before, demand.status,
                  reason="dissatisfied rating")
    if escalates_on_reopen(task.reopen_count):
        _escalate_reopened(session, principal, demand, task, call_id, task_data)


def _escalate_reopened(session: Session, principal: Principal, demand: Demand, task: Task,
                       call_id: str | None, task_data: dict[str, Any]) -> None:
    """多次未办结: the task goes to the department head (once per task and level)."""
    known = session.execute(
        select(Escalation.id).where(Escalation.task_id == task.id,
                                    Escalation.level == REOPEN_ESCALATION_LEVEL,
                                    Escalation.cause == REOPEN_CAUSE)
    ).first()
    if known is not None:
        return
    session.add(Escalation(task_id=task.id, level=REOPEN_ESCALATION_LEVEL, cause=REOPEN_CAUSE,
                           department_id=task.department_id))
    task.escalation_level = max(task.escalation_level, REOPEN_ESCALATION_LEVEL)
    ledger.record(session, principal, demand.id, "escalate", task.status, task.status,
                  task_id=task.id, department_id=task.department_id,
                  reason=f"reopened {task.reopen_count} times (多次未办结)")
    events.publish(session, "task_escalated", {
        **task_data, "level": REOPEN_ESCALATION_LEVEL, "cause": REOPEN_CAUSE,
        "reopen_count": task.reopen_count,
    }, call_id)


# --------------------------------------------------------------------------- 内部销号 in two steps

#: who files a department's written report on its task: its liaison or head
REPORTERS = frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD})


def _dissatisfied(session: Session, demand: Demand | None) -> Demand:
    """The demand, if it waits for the coordinators' answer to a dissatisfied rating."""
    if demand is None:
        raise NotFound("no such demand", code="demand.not_found")
    rating = round_rating(session, demand.id, current_round(session, demand.id))
    if demand.status != DemandState.AWAITING_RATING or rating is None or rating.satisfied:
        raise Conflict("a written report is filed only while the enterprise is dissatisfied "
                       "with the result", code="task.report_not_due")
    return demand


def file_report(session: Session, principal: Principal, task_id: str, data: dict[str, Any],
                now: datetime | None = None, call_id: str | None = None) -> Task:
    """书面报告: the handling department's liaison or head reports on its completed task of a
    dissatisfied demand (text, optional attachment links); a coordinator of the owning
    department then agrees (内部销号) or returns it. Filing again replaces a returned one."""
    if principal.role not in REPORTERS:
        raise Forbidden("{role} may not file a department's written report",
                        code="task.report_forbidden", params={"role": principal.role_label})
    demand_id = session.execute(
        select(Task.demand_id).where(Task.id == task_id)
    ).scalar_one_or_none() if _is_uuid(task_id) else None
    demand = lock_demand(session, demand_id) if demand_id else None
    task = session.execute(
        select(Task).where(Task.id == task_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none() if demand is not None else None
    if task is None or task.department_id != principal.department_id:
        raise NotFound("no such task", code="task.not_found")
    _dissatisfied(session, demand)
    if task.status != TaskState.COMPLETED:
        raise Conflict("a written report is filed on a completed task",
                       code="task.report_not_due")
    if task.report_status == "filed":
        raise Conflict("the report is already filed and waits for the coordinators",
                       code="task.report_pending")
    task.internal_report = data["text"]
    task.report_attachments = data.get("attachments") or []
    task.report_status = "filed"
    task.report_filed_at = _now(now)
    task.report_filed_by = principal.user_id
    task.report_return_reason = None
    task.version += 1
    demand.version += 1
    ledger.record(session, principal, demand.id, "report_filed", task.status, task.status,
                  task_id=task.id, department_id=task.department_id, reason=data["text"])
    events.publish(session, "internal_report_filed", demand_data(
        demand, task_id=task.id, department_id=task.department_id, grid_id=demand.grid_id),
        call_id)
    return task


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _filed_reports(session: Session, demand: Demand, task_id: str | None) -> list[Task]:
    query = select(Task).where(Task.demand_id == demand.id, Task.report_status == "filed")
    if task_id:
        if not _is_uuid(task_id):
            raise _no_such_task("task_id")
        query = query.where(Task.id == task_id)
    tasks = list(session.execute(query.order_by(Task.id).with_for_update()).scalars())
    if not tasks:
        raise Conflict("no written report of a department waits for an answer",
                       code="demand.no_report")
    return tasks


def _check_owner(principal: Principal, owner_department: str | None) -> None:
    """Only a coordinator of the department owning the demand's grid (经济发展部 or 科技创新部)
    answers a department's report; admins may too."""
    if principal.role == Role.ADMIN:
        return
    if owner_department is None or principal.department_id != owner_department:
        raise Forbidden("only a coordinator of the department owning the demand's grid answers "
                        "a written report", code="demand.not_owning_department")


def _agree_report(session: Session, principal: Principal, demand: Demand,
                  task_id: str | None, owner_department: str | None, now: datetime,
                  call_id: str | None) -> None:
    _check_owner(principal, owner_department)
    tasks = _filed_reports(session, demand, task_id)
    for task in tasks:
        task.report_status = "agreed"
        task.version += 1
        ledger.record(session, principal, demand.id, "report_agreed", task.status, task.status,
                      task_id=task.id, department_id=task.department_id)
    report = "\n\n".join(task.internal_report or "" for task in tasks)
    _close(session, principal, demand, Closure.INTERNAL, now, call_id, reason=report)


def _return_report(session: Session, principal: Principal, demand: Demand,
                   task_id: str | None, reason: str | None, owner_department: str | None,
                   call_id: str | None) -> None:
    if not reason or not reason.strip():
        raise ValidationFailed("say why the report goes back", {"reason": [field_error(
            "field.required", "required to return a report")]}, code="demand.reason_missing")
    _check_owner(principal, owner_department)
    for task in _filed_reports(session, demand, task_id):
        task.report_status = "returned"
        task.report_return_reason = reason
        task.version += 1
        ledger.record(session, principal, demand.id, "report_returned", task.status,
                      task.status, task_id=task.id, department_id=task.department_id,
                      reason=reason)
        events.publish(session, "internal_report_returned", demand_data(
            demand, task_id=task.id, department_id=task.department_id, reason=reason), call_id)
    demand.version += 1


def _close_internally(session: Session, principal: Principal, demand: Demand,
                      task_id: str | None, report: str | None, now: datetime,
                      call_id: str | None) -> None:
    if not report or not report.strip():
        raise ValidationFailed("an internal closure needs the department's written report",
                               {"report": [field_error("field.required",
                                                       "required to close internally")]},
                               code="demand.report_missing")
    if task_id:
        tasks = [_task_of(session, demand, task_id, "task_id")]
    else:
        tasks = list(session.execute(
            select(Task).where(Task.demand_id == demand.id,
                               Task.status != str(TaskState.CANCELLED)).with_for_update()
        ).scalars())
    for task in tasks:
        task.internal_report = report
        task.version += 1
    _close(session, principal, demand, Closure.INTERNAL, now, call_id, reason=report)
