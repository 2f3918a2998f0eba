"""考评: the subjects, the settings, the period, the clauses every figure shares and who may
read which rows (the other modules of :mod:`services.ticketing.appraisal` build on these)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Numeric, and_, case, cast, exists, false, func, literal, or_
from sqlalchemy.orm import Session

from common import settings_row
from common.auth import Principal, Role
from common.calendar import SHANGHAI
from common.errors import Forbidden
from common.i18n import label
from services.ticketing.models import (
    AppraisalSetting,
    Breach,
    Demand,
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


def difficulty_points(config: Mapping[str, Any], difficulty: Any) -> Any:
    """The difficulty's part of :func:`points` (0 for a difficulty without points)."""
    return cast(case(
        *[(difficulty == name, literal(float(value)))
          for name, value in sorted(config["difficulty_points"].items())],
        else_=literal(0.0),
    ), Numeric)


def category_points(config: Mapping[str, Any], category: Any) -> Any | None:
    """The category's part of :func:`points`; None when no category carries extra points."""
    extras = sorted(config.get("category_points", {}).items())
    if not extras:
        return None
    return cast(case(*[(category == name, literal(float(value))) for name, value in extras],
                     else_=literal(0.0)), Numeric)


def points(config: Mapping[str, Any], difficulty: Any, category: Any) -> Any:
    """难度分 of a demand or task: its difficulty's points plus its category's, each as an
    exact decimal (``numeric``), so that a sum of them is the same however it is grouped:
    over the demands themselves or over the rollup's counts (:mod:`.rollup`)."""
    by_difficulty = difficulty_points(config, difficulty)
    by_category = category_points(config, category)
    return by_difficulty if by_category is None else by_difficulty + by_category


def max_points(config: Mapping[str, Any]) -> float:
    categories = config.get("category_points") or {}
    return max(config["difficulty_points"].values(), default=0.0) + max(
        categories.values(), default=0.0)


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
