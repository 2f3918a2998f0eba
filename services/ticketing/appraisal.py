"""考评: the appraisal of grid workers (网格员), grids (网格), liaisons (联络员) and departments
(责任部门) for any period, the yearly score (年度考核得分) with the integrity veto (一票否决),
and the yearly awards of outstanding grids (年终优秀奖励).

Every figure is a SQL aggregation over ticketing's own tables (demands, tasks, ratings,
breaches, the ledger): one source of truth, no copied tables that could drift. Plain functions
over a SQLAlchemy session; no broker in here. docs/domain.md (考评) states each definition; in
short, for the demands **received** in the period (``from`` 00:00 to ``to`` 24:00, +08:00) and
their tasks, with open work judged late against ``as_of`` (now):

- 分理及时率 ``triage_on_time / triage_due``: triaged by the 分理时限 (10:00 next working day)
  over demands triaged, or still untriaged past it.
- 受理及时率 ``(accepted_on_time + returned) / acceptance_due`` and 响应率
  ``accepted_on_time / acceptance_due``, where an assignment (分理 or 协调 naming a
  department; the ledger's ``assign``/``reassign`` rows) is due when it was accepted, returned,
  timed out (受理超时) or still waits past its acceptance deadline. A return (退回) is an answer
  in time (the sweep times out a task the moment its deadline passes) but not a response.
- 办理及时率 ``handling_on_time / handling_due``: accepted tasks completed, or past their
  handling deadline (办理时限), or breached; on time = completed by the deadline and never
  breached (a breach in an earlier round counts).
- 解决率 ``resolved / judged``: closed by a satisfied rating (自动销号) over closed by the
  enterprise's verdict (自动销号 + 内部销号); unrated closures are left out (nobody judged).
- 满意率 ``satisfied / ratings``: every rating round counts; satisfied = no dimension below 3
  (满意 or 基本满意). Averages per dimension over the same ratings.
- ``unrated_share`` = closed unrated / closed; 重新办理率 ``reopened / completed_once``.

Attribution: grids by the demand's grid; grid workers by who recorded the demand; departments
by the task's department (and, for acceptance, the department each assignment named);
liaisons by who accepted the task (and who returned it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, distinct, exists, false, func, literal, or_, select
from sqlalchemy.orm import Session

from common import settings_row
from common.auth import Principal, Role
from common.calendar import MAX_RANGE_DAYS, SHANGHAI, WorkCalendar
from common.errors import Forbidden, NotFound
from common.i18n import label
from services.ticketing.models import (
    AppraisalSetting,
    AppraisalVeto,
    Breach,
    Demand,
    Escalation,
    LedgerEntry,
    Rating,
    Task,
)
from services.ticketing.schemas import APPRAISAL_SUBJECTS

GRID_WORKERS, GRIDS, LIAISONS, DEPARTMENTS = APPRAISAL_SUBJECTS
#: the whole platform as one subject (营商环境: the zone's row), each demand and task once
ZONE = "zone"
SUBJECTS = (*APPRAISAL_SUBJECTS, ZONE)
#: subjects appraised per demand (the rest per task)
DEMAND_SUBJECTS = frozenset({GRID_WORKERS, GRIDS, ZONE})

SETTINGS_KEY = "appraisal"
DEFAULT_SETTINGS: dict[str, Any] = {
    "weights": {"quantity": 30.0, "quality": 50.0, "difficulty": 20.0},
    "difficulty_points": {"easy": 1.0, "normal": 2.0, "hard": 3.0},
    "category_points": {},
    "awards": {
        "count": 3,
        "min_service_score": 60.0,
        "weights": {"service": 60.0, "output_growth": 20.0, "tax_growth": 20.0},
    },
}

#: who reads the appraisal at all; what each of them sees is narrowed by :func:`visible`
READ_ALL = frozenset({Role.LEADER, Role.COORDINATOR, Role.ADMIN})
READERS = READ_ALL | {Role.DEPARTMENT_HEAD, Role.GRID_LEADER}
#: the subjects a department head (their department) and a grid leader (their grids) read
SCOPED_SUBJECTS = {Role.DEPARTMENT_HEAD: (DEPARTMENTS, LIAISONS),
                   Role.GRID_LEADER: (GRIDS, GRID_WORKERS)}

CLOSED, CANCELLED = "closed", "cancelled"


# =========================================================================== settings


def settings(session: Session) -> dict[str, Any]:
    """The settings in force: the stored ones over :data:`DEFAULT_SETTINGS`."""
    return settings_row.in_force(session, AppraisalSetting, SETTINGS_KEY, DEFAULT_SETTINGS)


def settings_version(session: Session) -> int:
    """The version of the settings (their one row of ``appraisal_settings``): 1 while only
    the defaults apply (no row yet), +1 with every change."""
    return settings_row.version(session, AppraisalSetting, SETTINGS_KEY)


def locked_settings(session: Session, actor: str, expected: int | None) -> AppraisalSetting:
    """The settings row for a write (:func:`common.settings_row.locked`; 412 if stale); a new
    row names ``actor`` as its author."""
    return settings_row.locked(session, AppraisalSetting, SETTINGS_KEY, expected,
                               "appraisal_settings", updated_by=actor)


# =========================================================================== period


@dataclass(frozen=True)
class Period:
    """Receipt days ``start`` to ``end``, both included, in Asia/Shanghai."""

    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(0), SHANGHAI)

    @property
    def end_at(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(0), SHANGHAI)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def received(self) -> Any:
        return and_(Demand.received_at >= self.start_at, Demand.received_at < self.end_at)


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` to 4 decimals; None when nothing was due."""
    return round(part / whole, 4) if whole else None


def _average(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


# =========================================================================== shared clauses


def task_late(as_of: datetime) -> Any:
    """A task missed its handling deadline (办理时限): completed after it, open past it at
    ``as_of``, or breached by the SLA sweep in any round."""
    breached = exists().where(Breach.kind == "handling", Breach.subject_id == Task.id)
    return func.coalesce(or_(
        Task.completed_at > Task.due_at,
        and_(Task.status == "accepted", Task.due_at <= as_of),
        breached,
    ), false())


def handling_due(as_of: datetime) -> Any:
    """The handling deadline of an accepted task came into play: completed, past it, or
    breached."""
    return and_(Task.accepted_at.is_not(None),
                or_(Task.completed_at.is_not(None), task_late(as_of)))


def points(config: Mapping[str, Any], difficulty: Any, category: Any) -> Any:
    """难度分 of a demand or task: its difficulty's points plus its category's."""
    by_difficulty = case(
        *[(difficulty == name, literal(float(value)))
          for name, value in sorted(config["difficulty_points"].items())],
        else_=literal(0.0),
    )
    extras = sorted(config.get("category_points", {}).items())
    if not extras:
        return by_difficulty
    by_category = case(*[(category == name, literal(float(value))) for name, value in extras],
                       else_=literal(0.0))
    return by_difficulty + by_category


def max_points(config: Mapping[str, Any]) -> float:
    categories = config.get("category_points") or {}
    return max(config["difficulty_points"].values(), default=0.0) + max(
        categories.values(), default=0.0)


# =========================================================================== subject maps


def _cohort_tasks(period: Period) -> Any:
    return select(Task.id).join(Demand, Demand.id == Task.demand_id).where(
        period.received(), Task.status != CANCELLED)


def demand_map(kind: str, period: Period) -> Any:
    """(subject_id, demand_id) of the period's demands attributed to each subject."""
    if kind == ZONE:
        query = select(literal(ZONE).label("subject_id"), Demand.id.label("demand_id")).where(
            period.received())
    elif kind == GRIDS:
        query = select(Demand.grid_id.label("subject_id"), Demand.id.label("demand_id")).where(
            period.received(), Demand.grid_id.is_not(None))
    elif kind == GRID_WORKERS:
        query = select(Demand.recorded_by.label("subject_id"), Demand.id.label("demand_id")
                       ).where(period.received(), Demand.recorded_role == str(Role.GRID_WORKER))
    else:
        owner = Task.department_id if kind == DEPARTMENTS else Task.accepted_by
        query = select(owner.label("subject_id"), Task.demand_id.label("demand_id")).join(
            Demand, Demand.id == Task.demand_id).where(
            period.received(), Task.status != CANCELLED, owner.is_not(None)).distinct()
    return query.subquery("demand_map")


def task_map(kind: str, period: Period) -> Any:
    """(subject_id, task_id) of the period's live tasks attributed to each subject."""
    owner = {GRIDS: Demand.grid_id, GRID_WORKERS: Demand.recorded_by,
             DEPARTMENTS: Task.department_id, LIAISONS: Task.accepted_by,
             ZONE: literal(ZONE)}[kind]
    query = select(owner.label("subject_id"), Task.id.label("task_id")).join(
        Demand, Demand.id == Task.demand_id).where(
        period.received(), Task.status != CANCELLED, owner.is_not(None))
    if kind == GRID_WORKERS:
        query = query.where(Demand.recorded_role == str(Role.GRID_WORKER))
    return query.subquery("task_map")


def ledger_counts(session: Session, kind: str, period: Period) -> dict[str, dict[str, int]]:
    """Returns (退回) and time-outs (受理超时) per subject, from the ledger (台账): departments
    by the department the assignment named, liaisons by who returned, grids and grid workers
    by their demands' tasks."""
    tasks = _cohort_tasks(period).subquery("cohort_tasks")
    actions = ("return", "time_out")
    if kind == ZONE:
        owner = literal(ZONE)
        query = select(owner.label("subject_id"), LedgerEntry.action)
    elif kind == DEPARTMENTS:
        owner = LedgerEntry.department_id
        query = select(owner.label("subject_id"), LedgerEntry.action)
    elif kind == LIAISONS:
        owner = LedgerEntry.actor
        query = select(owner.label("subject_id"), LedgerEntry.action).where(
            LedgerEntry.actor_role == str(Role.LIAISON))
        actions = ("return",)
    else:
        owner = Demand.grid_id if kind == GRIDS else Demand.recorded_by
        query = select(owner.label("subject_id"), LedgerEntry.action).join(
            Demand, Demand.id == LedgerEntry.demand_id)
        if kind == GRID_WORKERS:
            query = query.where(Demand.recorded_role == str(Role.GRID_WORKER))
    query = query.where(LedgerEntry.task_id.in_(select(tasks.c.id)),
                        LedgerEntry.action.in_(actions), owner.is_not(None))
    inner = query.subquery("moves")
    found: dict[str, dict[str, int]] = {}
    for subject_id, action, n in session.execute(
        select(inner.c.subject_id, inner.c.action, func.count())
        .group_by(inner.c.subject_id, inner.c.action)
    ):
        found.setdefault(subject_id, {})[action] = int(n)
    return found


# =========================================================================== the period


def _demand_figures(session: Session, kind: str, period: Period, as_of: datetime,
                    config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    dm = demand_map(kind, period)
    reopened = exists().where(Task.demand_id == Demand.id, Task.reopen_count > 0)
    triaged = Demand.triaged_at.is_not(None)
    counted = func.count().filter
    query = (
        select(
            dm.c.subject_id,
            func.count().label("demands"),
            counted(or_(triaged, Demand.triage_due_at <= as_of)).label("triage_due"),
            counted(Demand.triaged_at <= Demand.triage_due_at).label("triage_on_time"),
            counted(Demand.status == CLOSED).label("closed"),
            counted(Demand.closure == "rated").label("resolved"),
            counted(Demand.closure.in_(("rated", "internal"))).label("judged"),
            counted(Demand.closure == "unrated").label("unrated"),
            counted(or_(Demand.status.in_(("awaiting_rating", CLOSED)), reopened)
                    ).label("completed_once"),
            counted(reopened).label("reopened"),
            func.sum(points(config, Demand.difficulty, Demand.category)).filter(triaged)
            .label("points"),
            counted(triaged).label("pointed"),
            func.array_agg(distinct(Demand.grid_id)).label("grid_ids"),
        )
        .join(Demand, Demand.id == dm.c.demand_id)
        .group_by(dm.c.subject_id)
    )
    return {row.subject_id: row._asdict() for row in session.execute(query)}


def _rating_figures(session: Session, kind: str, period: Period) -> dict[str, dict[str, Any]]:
    dm = demand_map(kind, period)
    query = (
        select(
            dm.c.subject_id,
            func.count().label("ratings"),
            func.count().filter(Rating.satisfied.is_(True)).label("satisfied"),
            func.avg(Rating.efficiency).label("avg_efficiency"),
            func.avg(Rating.attitude).label("avg_attitude"),
            func.avg(Rating.quality).label("avg_quality"),
        )
        .join(Rating, Rating.demand_id == dm.c.demand_id)
        .group_by(dm.c.subject_id)
    )
    return {row.subject_id: row._asdict() for row in session.execute(query)}


def _task_figures(session: Session, kind: str, period: Period, as_of: datetime,
                  config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    tm = task_map(kind, period)
    counted = func.count().filter
    accepted = Task.accepted_at.is_not(None)
    query = (
        select(
            tm.c.subject_id,
            func.count().label("tasks"),
            counted(accepted).label("accepted"),
            counted(Task.accepted_at <= Task.accept_due_at).label("accepted_on_time"),
            counted(Task.accepted_at > Task.accept_due_at).label("accepted_late"),
            counted(and_(Task.status == "assigned", Task.accept_due_at <= as_of))
            .label("waiting_overdue"),
            counted(handling_due(as_of)).label("handling_due"),
            counted(and_(handling_due(as_of), ~task_late(as_of))).label("handling_on_time"),
            counted(or_(Task.status == "completed", Task.reopen_count > 0))
            .label("tasks_completed_once"),
            counted(Task.reopen_count > 0).label("tasks_reopened"),
            func.sum(points(config, Task.difficulty, Demand.category)).filter(accepted)
            .label("task_points"),
            func.max(Task.department_id).label("department_id"),
        )
        .join(Task, Task.id == tm.c.task_id)
        .join(Demand, Demand.id == Task.demand_id)
        .group_by(tm.c.subject_id)
    )
    return {row.subject_id: row._asdict() for row in session.execute(query)}


def appraise(session: Session, kind: str, period: Period, as_of: datetime | None = None,
             config: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every subject of ``kind`` with its figures for the period (``AppraisalRowSchema``),
    sorted by subject id. Unscoped: callers narrow it with :func:`visible`."""
    assert kind in SUBJECTS, kind
    as_of = as_of or datetime.now(UTC)
    config = config or settings(session)
    demands = _demand_figures(session, kind, period, as_of, config)
    ratings = _rating_figures(session, kind, period)
    tasks = _task_figures(session, kind, period, as_of, config)
    moves = ledger_counts(session, kind, period)
    subjects = sorted(set(demands) | set(tasks) | set(moves))
    return [_row(kind, subject, demands.get(subject, {}), ratings.get(subject, {}),
                 tasks.get(subject, {}), moves.get(subject, {})) for subject in subjects]


def _row(kind: str, subject: str, d: Mapping[str, Any], r: Mapping[str, Any],
         t: Mapping[str, Any], m: Mapping[str, int]) -> dict[str, Any]:
    per_demand = kind in DEMAND_SUBJECTS
    on_time, returned = t.get("accepted_on_time", 0), m.get("return", 0)
    timed_out = m.get("time_out", 0)
    acceptance_due = (t.get("accepted", 0) + returned + timed_out + t.get("waiting_overdue", 0))
    triage_due = d.get("triage_due", 0) if per_demand else 0
    triage_on_time = d.get("triage_on_time", 0) if per_demand else 0
    completed_once = d.get("completed_once", 0) if per_demand else t.get("tasks_completed_once",
                                                                         0)
    reopened = d.get("reopened", 0) if per_demand else t.get("tasks_reopened", 0)
    if per_demand:
        handled, pointed, total_points = d.get("demands", 0), d.get("pointed", 0), d.get("points")
    else:
        handled = pointed = t.get("accepted", 0)
        total_points = t.get("task_points")
    ratings, satisfied = r.get("ratings", 0), r.get("satisfied", 0)
    return {
        "subject_id": subject,
        "department_id": t.get("department_id") if kind == LIAISONS else None,
        "grid_ids": sorted(g for g in d.get("grid_ids") or [] if g) if kind == GRID_WORKERS
        else [],
        "handled": handled,
        "demands": d.get("demands", 0),
        "tasks": t.get("tasks", 0),
        "closed": d.get("closed", 0),
        "triage_due": triage_due,
        "triage_on_time": triage_on_time,
        "triage_on_time_rate": rate(triage_on_time, triage_due),
        "acceptance_due": acceptance_due,
        "accepted_on_time": on_time,
        "returned": returned,
        "timed_out": timed_out,
        "acceptance_on_time_rate": rate(on_time + returned, acceptance_due),
        "response_rate": rate(on_time, acceptance_due),
        "handling_due": t.get("handling_due", 0),
        "handling_on_time": t.get("handling_on_time", 0),
        "handling_on_time_rate": rate(t.get("handling_on_time", 0), t.get("handling_due", 0)),
        "judged": d.get("judged", 0),
        "resolved": d.get("resolved", 0),
        "resolution_rate": rate(d.get("resolved", 0), d.get("judged", 0)),
        "ratings": ratings,
        "satisfied": satisfied,
        "satisfaction_rate": rate(satisfied, ratings),
        "avg_efficiency": _average(r.get("avg_efficiency")),
        "avg_attitude": _average(r.get("avg_attitude")),
        "avg_quality": _average(r.get("avg_quality")),
        "unrated": d.get("unrated", 0),
        "unrated_share": rate(d.get("unrated", 0), d.get("closed", 0)),
        "completed_once": completed_once,
        "reopened": reopened,
        "reopen_rate": rate(reopened, completed_once),
        # for the yearly score
        "_pointed": pointed,
        "_points": float(total_points or 0),
    }


# =========================================================================== 营商环境 figures


def handling_workdays(session: Session, kind: str, period: Period, calendar: WorkCalendar
                      ) -> dict[str, tuple[int, int]]:
    """办理用时 per subject: (tasks completed, their working days in all). A task's handling
    time is the number of working days (调休 included) after the day it was accepted up to and
    including the day it was (last) completed, local dates: completed the day it was accepted
    is 0. Tasks of the period's demands, attributed as :func:`task_map` does."""
    tm = task_map(kind, period)
    rows = session.execute(
        select(tm.c.subject_id, Task.accepted_at, Task.completed_at)
        .join(Task, Task.id == tm.c.task_id)
        .where(Task.accepted_at.is_not(None), Task.completed_at.is_not(None))
    ).all()
    if not rows:
        return {}
    spans = [(r.subject_id, r.accepted_at.astimezone(SHANGHAI).date(),
              r.completed_at.astimezone(SHANGHAI).date()) for r in rows]
    counter = WorkdayCounter(calendar, min(s for _, s, _ in spans),
                             max(e for _, _, e in spans))
    found: dict[str, tuple[int, int]] = {}
    for subject, accepted, completed in spans:
        tasks, days = found.get(subject, (0, 0))
        found[subject] = (tasks + 1, days + counter.after(accepted, completed))
    return found


class WorkdayCounter:
    """Working days between two local dates, over a span read from the calendar once."""

    def __init__(self, calendar: WorkCalendar, first: date, last: date) -> None:
        self.first = first
        self.cumulative: list[int] = []
        day, total = first, 0
        while day <= last:
            chunk_end = min(last, day + timedelta(days=MAX_RANGE_DAYS - 1))
            workdays, _ = calendar.workdays_between(day, chunk_end)
            working = set(workdays)
            while day <= chunk_end:
                total += day in working
                self.cumulative.append(total)
                day += timedelta(days=1)

    def upto(self, day: date) -> int:
        """Working days from the span's first day to ``day`` included."""
        index = (day - self.first).days
        return self.cumulative[index] if index >= 0 else 0

    def after(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        return max(self.upto(end) - self.upto(start), 0)


def escalations(session: Session, kind: str, period: Period) -> dict[str, int]:
    """督办升级 per subject: escalations (every level and cause) of the period's tasks."""
    tm = task_map(kind, period)
    return {subject: int(n) for subject, n in session.execute(
        select(tm.c.subject_id, func.count(Escalation.id))
        .join(Escalation, Escalation.task_id == tm.c.task_id)
        .group_by(tm.c.subject_id))}


# =========================================================================== scope


def check_reader(principal: Principal, kind: str | None = None) -> None:
    """Forbidden unless the caller reads this kind of subject: leaders, coordinators and
    admins every kind; department heads departments and liaisons; grid leaders grids and grid
    workers."""
    if principal.role in READ_ALL:
        return
    allowed = SCOPED_SUBJECTS.get(principal.role)
    if allowed is None:
        raise Forbidden("{role} may not read the appraisal", code="appraisal.read_forbidden",
                        params={"role": principal.role_label})
    if kind is not None and kind not in allowed:
        raise Forbidden("{role} may read the appraisal of {subjects} only",
                        code="appraisal.subject_forbidden",
                        params={"role": principal.role_label,
                                "subjects": [label("appraisal_subject", s) for s in allowed]})


def visible(principal: Principal, kind: str, rows: Iterable[dict[str, Any]]
            ) -> list[dict[str, Any]]:
    """The rows this caller may read (after :func:`check_reader`): department heads their
    department and its liaisons; grid leaders their grids and the workers who recorded demands
    in them."""
    check_reader(principal, kind)
    rows = list(rows)
    if principal.role in READ_ALL:
        return rows
    if principal.role == Role.DEPARTMENT_HEAD:
        own = principal.department_id or ""
        if kind == DEPARTMENTS:
            return [row for row in rows if row["subject_id"] == own]
        return [row for row in rows if row.get("department_id") == own]
    grids = set(principal.grid_ids)
    if kind == GRIDS:
        return [row for row in rows if row["subject_id"] in grids]
    return [row for row in rows if grids & set(row.get("grid_ids") or ())]


def public(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows without the working fields (``_...``)."""
    return [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]


# =========================================================================== yearly score


def active_vetoes(session: Session, kind: str, year: int) -> dict[str, str]:
    """subject id → reason of the active 一票否决 of ``kind`` for ``year``."""
    return dict(session.execute(
        select(AppraisalVeto.subject_id, AppraisalVeto.reason).where(
            AppraisalVeto.subject == kind, AppraisalVeto.year == year,
            AppraisalVeto.active.is_(True))
    ).all())


def weighted(parts: Iterable[tuple[float, float | None]]) -> float:
    """Σ weight × value / Σ weight over the parts whose value is known (0 if no weight)."""
    known = [(w, v) for w, v in parts if v is not None]
    total = sum(w for w, _ in known)
    return sum(w * v for w, v in known) / total if total else 0.0


def score_rows(rows: list[dict[str, Any]], config: Mapping[str, Any],
               vetoes: Mapping[str, str]) -> list[dict[str, Any]]:
    """年度考核得分 of each subject (``YearlyRowSchema``), best first.

    quantity = 100 × handled / the most any subject of the kind handled;
    quality = 100 × 满意率 (None without ratings: its weight is left out);
    difficulty = 100 × mean points of what was handled / the highest points possible;
    score = the weighted mean of the three; 0 when vetoed (一票否决). Ties share a rank.
    """
    weights = config["weights"]
    most = max((row["handled"] for row in rows), default=0)
    ceiling = max_points(config)
    scored = []
    for row in rows:
        quantity = 100.0 * row["handled"] / most if most else 0.0
        quality = (100.0 * row["satisfied"] / row["ratings"]) if row["ratings"] else None
        mean = row["_points"] / row["_pointed"] if row["_pointed"] else None
        difficulty = 100.0 * mean / ceiling if mean is not None and ceiling else 0.0
        score = weighted([(weights["quantity"], quantity), (weights["quality"], quality),
                          (weights["difficulty"], difficulty)])
        vetoed = row["subject_id"] in vetoes
        scored.append({
            "subject_id": row["subject_id"], "department_id": row["department_id"],
            "grid_ids": row["grid_ids"], "handled": row["handled"],
            "satisfaction_rate": row["satisfaction_rate"],
            "avg_difficulty": None if mean is None else round(mean, 4),
            "quantity_score": round(quantity, 2),
            "quality_score": None if quality is None else round(quality, 2),
            "difficulty_score": round(difficulty, 2),
            "score": 0.0 if vetoed else round(score, 2),
            "vetoed": vetoed, "veto_reason": vetoes.get(row["subject_id"]),
        })
    return ranked(scored, "score", "subject_id")


def ranked(rows: list[dict[str, Any]], key: str, tie: str) -> list[dict[str, Any]]:
    """Best first by ``key``; equal values share a rank (1, 2, 2, 4), listed by ``tie``."""
    ordered = sorted(rows, key=lambda row: (-row[key], row[tie]))
    for index, row in enumerate(ordered):
        same = index and ordered[index - 1][key] == row[key]
        row["rank"] = ordered[index - 1]["rank"] if same else index + 1
    return ordered


def yearly(session: Session, kind: str, year: int, as_of: datetime | None = None,
           config: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every subject of ``kind`` scored for ``year`` (demands received that year), vetoed
    subjects included even without work; unscoped (narrow with :func:`visible`)."""
    config = config or settings(session)
    rows = appraise(session, kind, Period.year(year), as_of, config)
    vetoes = active_vetoes(session, kind, year)
    known = {row["subject_id"] for row in rows}
    for subject in sorted(set(vetoes) - known):
        rows.append(_row(kind, subject, {}, {}, {}, {}))
    return score_rows(rows, config, vetoes)


# =========================================================================== awards


def growth(current: float | None, previous: float | None) -> float | None:
    """(current − previous) / previous; None when either year has no figures or previous is
    not above 0 (:func:`growth_note` says which)."""
    if current is None or previous is None:
        return None
    return (current - previous) / previous if previous > 0 else None


def growth_note(current: float | None, previous: float | None) -> str | None:
    """Why a growth is None (dictionary ``growth_note``): the year has no figures, the year
    before has none, or the year before is not above 0; None when there is a growth."""
    if current is None:
        return "no_data"
    if previous is None:
        return "no_data_previous"
    return "no_base" if previous <= 0 else None


def _figure(value: Any) -> float | None:
    return None if value is None else float(value)


def awards(grid_scores: list[dict[str, Any]], grids: list[dict[str, Any]],
           criteria: Mapping[str, Any]) -> list[dict[str, Any]]:
    """年终优秀奖励: every grid ranked by the award score (``AwardRowSchema``), best first.

    ``grid_scores``: :func:`yearly` rows of grids; ``grids``: the registry's grids with the
    summed output value and tax of their in-scope enterprises for the year and the year before
    (``grid_id``, ``name``, ``department_id``, ``output_value``, ``output_value_previous``,
    ``tax``, ``tax_previous``).

    growth score = 100 × growth / the highest growth of any grid (a fall, no base or no
    figures: 0); a growth without figures for the year or the year before is None with its
    ``*_growth_note`` (:func:`growth_note`), never −100 %;
    award score = weighted mean of service score and the two growth scores; eligible = not
    vetoed and a service score of at least ``min_service_score``; awarded = eligible and fewer
    than ``count`` eligible grids score higher (a tie at the boundary is awarded together).
    """
    scores = {row["subject_id"]: row for row in grid_scores}
    registry = {grid["grid_id"]: grid for grid in grids}
    rows = []
    for grid_id in sorted(set(scores) | set(registry)):
        grid, score = registry.get(grid_id, {}), scores.get(grid_id, {})
        # a year without figures is no data (None), never 0: no fall of 100 %
        output = _figure(grid.get("output_value"))
        output_before = _figure(grid.get("output_value_previous"))
        tax = _figure(grid.get("tax"))
        tax_before = _figure(grid.get("tax_previous"))
        rows.append({
            "grid_id": grid_id, "name": grid.get("name"),
            "department_id": grid.get("department_id"),
            "service_score": float(score.get("score", 0.0)),
            "vetoed": bool(score.get("vetoed", False)),
            "output_value": output, "output_value_previous": output_before,
            "output_growth": growth(output, output_before),
            "output_growth_note": growth_note(output, output_before),
            "tax": tax, "tax_previous": tax_before, "tax_growth": growth(tax, tax_before),
            "tax_growth_note": growth_note(tax, tax_before),
        })
    best_output = max((r["output_growth"] or 0 for r in rows), default=0)
    best_tax = max((r["tax_growth"] or 0 for r in rows), default=0)
    weights = criteria["weights"]
    for row in rows:
        row["output_growth_score"] = _growth_score(row["output_growth"], best_output)
        row["tax_growth_score"] = _growth_score(row["tax_growth"], best_tax)
        row["award_score"] = round(weighted([
            (weights["service"], row["service_score"]),
            (weights["output_growth"], row["output_growth_score"]),
            (weights["tax_growth"], row["tax_growth_score"]),
        ]), 2)
        row["eligible"] = (not row["vetoed"]
                           and row["service_score"] >= criteria["min_service_score"])
        for key in ("output_growth", "tax_growth"):
            row[key] = None if row[key] is None else round(row[key], 4)
        row["output_growth_score"] = round(row["output_growth_score"], 2)
        row["tax_growth_score"] = round(row["tax_growth_score"], 2)
    ordered = ranked(rows, "award_score", "grid_id")
    eligible = [row["award_score"] for row in ordered if row["eligible"]]
    for row in ordered:
        better = sum(1 for value in eligible if value > row["award_score"])
        row["awarded"] = row["eligible"] and better < criteria["count"]
    return ordered


def _growth_score(value: float | None, best: float) -> float:
    if value is None or value <= 0 or best <= 0:
        return 0.0
    return 100.0 * value / best


def visible_awards(principal: Principal, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leaders, coordinators, admins: every grid; department heads the grids their department
    owns; grid leaders their grids; anyone else Forbidden."""
    if principal.role in READ_ALL:
        return rows
    if principal.role == Role.DEPARTMENT_HEAD:
        return [row for row in rows if row["department_id"] == (principal.department_id or "")]
    if principal.role == Role.GRID_LEADER:
        return [row for row in rows if row["grid_id"] in principal.grid_ids]
    raise Forbidden("{role} may not read the awards", code="appraisal.awards_forbidden",
                    params={"role": principal.role_label})



# =========================================================================== 一票否决


def set_veto(session: Session, principal: Principal, data: Mapping[str, Any],
             now: datetime | None = None) -> tuple[AppraisalVeto, bool]:
    """Set (``vetoed``) or lift the integrity veto of a subject for a year (admins); returns
    (the row, whether it changed). Lifting keeps the row with who lifted it, when and why;
    lifting a veto that was never set is NotFound."""
    principal.require(Role.ADMIN)
    moment = now or datetime.now(UTC)
    key = (data["subject"], data["subject_id"], data["year"])
    row = session.get(AppraisalVeto, key, with_for_update=True)
    if data["vetoed"]:
        if row is None:
            row = AppraisalVeto(subject=key[0], subject_id=key[1], year=key[2])
            session.add(row)
        row.active, row.reason = True, data["reason"]
        row.recorded_by, row.recorded_at = principal.user_id, moment
        row.lifted_by = row.lifted_at = row.lift_reason = None
        session.flush()
        return row, True
    if row is None:
        raise NotFound("no veto of {subject} {subject_id} for {year}", code="veto.not_found",
                       params={"subject": label("appraisal_subject", key[0]),
                               "subject_id": key[1], "year": key[2]})
    if not row.active:
        return row, False
    row.active = False
    row.lifted_by, row.lifted_at, row.lift_reason = principal.user_id, moment, data["reason"]
    session.flush()
    return row, True


def vetoes(session: Session, year: int | None = None) -> list[AppraisalVeto]:
    query = select(AppraisalVeto)
    if year is not None:
        query = query.where(AppraisalVeto.year == year)
    return list(session.execute(query.order_by(
        AppraisalVeto.year.desc(), AppraisalVeto.subject, AppraisalVeto.subject_id)).scalars())
