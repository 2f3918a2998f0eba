"""在建项目: projects under construction, their milestones, delays and the investor's entry
into scope.

Rules (one home each):

- Milestones, in this order: land (土地), permits (规划/施工许可), construction start (开工),
  topping-out (封顶), completion acceptance (竣工备案), production (投产). Each has a planned
  day and the day it was done. A milestone is done only after every earlier one, on or after
  their days, never in the future; it is undone only while no later one is done, and
  production never once it brought the investor into scope.
- A milestone is **delayed** when its planned day has passed (Asia/Shanghai) and it is not
  done. The sweep tells the responsible department once per planned day
  (``project_milestone_delayed``; moving the plan and missing it again tells it again).
- Recording **production** (after completion acceptance) brings the investor into scope, as
  the plan says of new land-occupying enterprises: the investor must be a registered
  enterprise (a project of an unregistered investor is linked by its credit code as soon as
  the enterprise registers); it operates, is located at the site if it had no location, gets
  the grid of that location if it had none, enters scope with ``scope_changed`` (reason
  ``completion_accepted``), and ``project_in_production`` tells its grid's workers.
- The liaison and head of the responsible department (建设部 by default), coordinators and
  admins keep a project.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from common.auth import Principal
from common.errors import Conflict, Forbidden, NotFound, field_error, invalid_fields
from common.i18n import DEFAULT_LANGUAGE, N_, label, translate
from common.validation import is_uuid
from services.enterprise import industry, registry
from services.enterprise.events import publish
from services.enterprise.models import Department, Enterprise, Grid
from services.enterprise.zone import access
from services.enterprise.zone.models import Project, ProjectMilestone
from services.enterprise.zone.vocabulary import MILESTONES

DEFAULT_DEPARTMENT = "construction"  # 建设部: construction-stage enterprises (projects)
PRODUCTION, ACCEPTANCE = "production", "completion_acceptance"
SWEEP_BATCH = 200



# --------------------------------------------------------------------------- reading


def get_project(session: Session, project_id: str, lock: bool = False) -> Project:
    project = session.get(Project, project_id, with_for_update=lock) \
        if is_uuid(project_id) else None
    if project is None:
        raise NotFound("no such project", code="zone.project_not_found")
    return project


def milestones_of(session: Session, project_ids: Sequence[str]
                  ) -> dict[str, dict[str, ProjectMilestone]]:
    found: dict[str, dict[str, ProjectMilestone]] = {}
    if project_ids:
        for row in session.execute(select(ProjectMilestone).where(
                ProjectMilestone.project_id.in_(list(project_ids)))).scalars():
            found.setdefault(row.project_id, {})[row.milestone] = row
    return found


def is_delayed(row: ProjectMilestone | None, today: date) -> bool:
    return (row is not None and row.done_on is None and row.planned_on is not None
            and row.planned_on < today)


def stage_of(rows: Mapping[str, ProjectMilestone]) -> str:
    """The last milestone done (``not_started`` before the first)."""
    done = [m for m in MILESTONES if rows.get(m) is not None and rows[m].done_on is not None]
    return done[-1] if done else "not_started"


def dump(project: Project, rows: Mapping[str, ProjectMilestone], today: date,
         names: Mapping[str, Any]) -> dict[str, Any]:
    investor = names["enterprises"].get(project.investor_enterprise_id or "")
    milestones = []
    for name in MILESTONES:
        row = rows.get(name)
        delayed = is_delayed(row, today)
        milestones.append({
            "milestone": name, "planned_on": row.planned_on if row else None,
            "done_on": row.done_on if row else None, "delayed": delayed,
            "days_late": (today - row.planned_on).days if delayed and row else None,
            "note": row.note if row else None,
        })
    pending = [m["milestone"] for m in milestones if m["done_on"] is None]
    planned = project.planned_investment
    return {
        "id": project.id, "name": project.name,
        "investor": {
            "enterprise_id": project.investor_enterprise_id,
            "name": investor["name"] if investor else project.investor_name,
            "credit_code": investor["credit_code"] if investor else project.investor_credit_code,
            "registered": investor is not None,
            "in_scope": investor["in_scope"] if investor else None,
            "grid_id": investor["grid_id"] if investor else None,
        },
        "site_address": project.site_address, "lon": project.lon, "lat": project.lat,
        "industry_code": project.industry_code,
        "industry_name": (industry.division_name(project.industry_code)
                          if project.industry_code else None),
        "planned_investment": float(planned),
        "completed_investment": float(project.completed_investment),
        "investment_progress": (round(float(project.completed_investment / planned), 4)
                                if planned else None),
        "department_id": project.department_id,
        "department_name": names["departments"].get(project.department_id),
        "milestones": milestones, "stage": stage_of(rows),
        "next_milestone": pending[0] if pending else None,
        "delayed": any(m["delayed"] for m in milestones),
        "scope_entered_at": project.scope_entered_at, "note": project.note,
        "version": project.version, "created_at": project.created_at,
        "updated_at": project.updated_at,
    }


def _names(session: Session, projects: Sequence[Project]) -> dict[str, Any]:
    ids = {p.investor_enterprise_id for p in projects if p.investor_enterprise_id}
    enterprises = {}
    if ids:
        for e in session.execute(select(Enterprise).where(Enterprise.id.in_(ids))).scalars():
            enterprises[e.id] = {"name": e.name, "credit_code": e.credit_code,
                                 "in_scope": e.in_scope, "grid_id": e.grid_id}
    departments = dict(session.execute(select(Department.id, Department.name)).all())
    return {"enterprises": enterprises, "departments": departments}


def dump_many(session: Session, projects: Sequence[Project], today: date) -> list[dict]:
    rows = milestones_of(session, [p.id for p in projects])
    names = _names(session, projects)
    return [dump(p, rows.get(p.id, {}), today, names) for p in projects]


def show(session: Session, principal: Principal, project_id: str, today: date) -> dict:
    access.check_reader(principal)
    return dump_many(session, [get_project(session, project_id)], today)[0]


def _delayed_clause(today: date) -> Any:
    return exists().where(ProjectMilestone.project_id == Project.id,
                          ProjectMilestone.done_on.is_(None),
                          ProjectMilestone.planned_on < today)


def _stage_clause(stage: str) -> Any:
    """Projects whose last milestone done is ``stage``."""
    done = [m for m in MILESTONES]
    if stage == "not_started":
        return ~exists().where(ProjectMilestone.project_id == Project.id,
                               ProjectMilestone.done_on.is_not(None))
    later = done[done.index(stage) + 1:]
    this_done = exists().where(ProjectMilestone.project_id == Project.id,
                               ProjectMilestone.milestone == stage,
                               ProjectMilestone.done_on.is_not(None))
    if not later:
        return this_done
    later_done = exists().where(ProjectMilestone.project_id == Project.id,
                                ProjectMilestone.milestone.in_(later),
                                ProjectMilestone.done_on.is_not(None))
    return and_(this_done, ~later_done)


def listing(session: Session, principal: Principal, q: dict[str, Any], today: date) -> dict:
    access.check_reader(principal)
    query: Select = select(Project)
    if q.get("q"):
        query = query.where(or_(Project.name.contains(q["q"], autoescape=True),
                                Project.investor_name.contains(q["q"], autoescape=True)))
    if q.get("department_id"):
        query = query.where(Project.department_id == q["department_id"])
    if q.get("stage"):
        query = query.where(_stage_clause(q["stage"]))
    if q.get("delayed") is not None:
        clause = _delayed_clause(today)
        query = query.where(clause if q["delayed"] else ~clause)
    if q.get("investor_enterprise_id"):
        query = query.where(Project.investor_enterprise_id == q["investor_enterprise_id"])
    order = {"name": (Project.name,), "-planned_investment": (
        Project.planned_investment.desc(), Project.name), "-created_at": (
        Project.created_at.desc(),)}[q.get("sort", "name")]
    rows, total = access.page(session, query.order_by(*order, Project.id), q)
    return {"items": dump_many(session, [r[0] for r in rows], today), "total": total,
            "page": q["page"], "per_page": q["per_page"]}


def counts(session: Session, today: date) -> dict[str, Any]:
    """Projects by stage and how many are delayed (the module's overview)."""
    projects = list(session.execute(select(Project.id)).scalars())
    rows = milestones_of(session, projects)
    by_stage = dict.fromkeys(("not_started", *MILESTONES), 0)
    delayed = 0
    for project_id in projects:
        mine = rows.get(project_id, {})
        by_stage[stage_of(mine)] += 1
        delayed += any(is_delayed(r, today) for r in mine.values())
    return {"total": len(projects), "delayed": delayed, "by_stage": by_stage}


# --------------------------------------------------------------------------- writing


def can_edit(principal: Principal, project: Project | None, department_id: str) -> bool:
    if principal.role in access.EDITORS:
        return True
    return (principal.role in access.PROJECT_DEPARTMENT_ROLES
            and principal.department_id is not None
            and principal.department_id == (project.department_id if project else
                                            department_id))


def _check_edit(principal: Principal, project: Project | None, department_id: str) -> None:
    if not can_edit(principal, project, department_id):
        raise Forbidden("only the responsible department, coordinators and admins may change "
                        "this project", code="zone.project_change_forbidden")


def _investor(session: Session, data: dict[str, Any], project: Project | None) -> None:
    """Resolve the investor: a registered enterprise (its name kept), else a name and an
    optional credit code, linked when an enterprise with that code is registered."""
    if data.get("investor_enterprise_id"):
        enterprise = session.get(Enterprise, data["investor_enterprise_id"])
        if enterprise is None:
            raise invalid_fields({"investor_enterprise_id": [field_error(
                "zone.enterprise_unknown", "no such enterprise")]}, code="zone.enterprise_unknown")
        data["investor_name"] = enterprise.name
        data["investor_credit_code"] = enterprise.credit_code
        return
    if "investor_enterprise_id" in data and project is not None:
        data["investor_enterprise_id"] = None
    code = data.get("investor_credit_code",
                    project.investor_credit_code if project is not None else None)
    if code:
        found = session.execute(select(Enterprise.id, Enterprise.name)
                                .where(Enterprise.credit_code == code)).first()
        if found is not None:
            data["investor_enterprise_id"], data["investor_name"] = found.id, found.name
    name = data.get("investor_name", project.investor_name if project is not None else None)
    if not name:
        raise invalid_fields({"investor_name": [field_error(
            "zone.investor_missing", "name the investor, or give investor_enterprise_id")]},
            code="zone.investor_missing")


def _check_department(session: Session, department_id: str) -> None:
    if session.get(Department, department_id) is None:
        raise invalid_fields({"department_id": [field_error(
            "zone.department_unknown", "no such department")]}, code="zone.department_unknown")


def _check_investment(planned: Decimal, completed: Decimal) -> None:
    if completed > planned:
        raise invalid_fields({"completed_investment": [field_error(
            "zone.investment_exceeds_plan", "may not exceed the planned investment")]},
            code="zone.investment_exceeds_plan")


def create(session: Session, principal: Principal, data: dict[str, Any], today: date,
           call_id: str | None = None, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    data = dict(data)
    data.setdefault("department_id", DEFAULT_DEPARTMENT)
    _check_edit(principal, None, data["department_id"])
    _check_department(session, data["department_id"])
    if session.execute(select(Project.id).where(Project.name == data["name"])).first():
        raise Conflict("a project named {name} exists already",
                       {"name": [field_error("zone.name_taken", "already used")]},
                       code="zone.project_name_taken", params={"name": data["name"]})
    planned_milestones = data.pop("milestones", None) or []
    _investor(session, data, None)
    data.setdefault("completed_investment", Decimal(0))
    _check_investment(data["planned_investment"], data["completed_investment"])
    now = datetime.now(UTC)
    project = Project(id=str(uuid.uuid4()), created_by=principal.user_id, created_at=now,
                      updated_at=now, version=1, **data)
    session.add(project)
    session.flush()
    for item in planned_milestones:
        _apply_milestone(session, principal, project, item["milestone"], item, today, call_id,
                         language)
    session.flush()
    return dump_many(session, [project], today)[0]


def update(session: Session, principal: Principal, project_id: str, data: dict[str, Any],
           expected: int | None, today: date) -> dict[str, Any]:
    project = get_project(session, project_id, lock=True)
    _check_edit(principal, project, project.department_id)
    access.check_version(project.version, expected, "project")
    data = dict(data)
    if "department_id" in data:
        _check_department(session, data["department_id"])
    if "name" in data and session.execute(select(Project.id).where(
            Project.name == data["name"], Project.id != project.id)).first():
        raise Conflict("a project named {name} exists already",
                       {"name": [field_error("zone.name_taken", "already used")]},
                       code="zone.project_name_taken", params={"name": data["name"]})
    if {"investor_enterprise_id", "investor_name", "investor_credit_code"} & set(data):
        if project.scope_entered_at is not None:
            raise Conflict("the investor entered scope through this project and stays its "
                           "investor", code="zone.investor_fixed")
        _investor(session, data, project)
    _check_investment(data.get("planned_investment", project.planned_investment),
                      data.get("completed_investment", project.completed_investment))
    changed = {k: v for k, v in data.items() if getattr(project, k) != v}
    for key, value in changed.items():
        setattr(project, key, value)
    if changed:
        access.touch(project, datetime.now(UTC))
    session.flush()
    return dump_many(session, [project], today)[0]


def record_milestone(session: Session, principal: Principal, project_id: str, milestone: str,
                     data: dict[str, Any], today: date, expected: int | None = None,
                     call_id: str | None = None, language: str = DEFAULT_LANGUAGE
                     ) -> dict[str, Any]:
    """Plan or record one milestone; production brings the investor into scope (the scope
    history's note written in ``language``)."""
    if milestone not in MILESTONES:
        raise NotFound("no such milestone", code="zone.milestone_not_found")
    project = get_project(session, project_id, lock=True)
    _check_edit(principal, project, project.department_id)
    access.check_version(project.version, expected, "project")
    _apply_milestone(session, principal, project, milestone, data, today, call_id, language)
    session.flush()
    return dump_many(session, [project], today)[0]


def _apply_milestone(session: Session, principal: Principal, project: Project, milestone: str,
                     data: Mapping[str, Any], today: date, call_id: str | None,
                     language: str) -> None:
    rows = milestones_of(session, [project.id]).get(project.id, {})
    row = rows.get(milestone)
    if row is None:
        row = ProjectMilestone(project_id=project.id, milestone=milestone)
        session.add(row)
    position = MILESTONES.index(milestone)
    newly_done = False
    if "done_on" in data:
        done_on = data["done_on"]
        if done_on is not None:
            if done_on > today:
                raise invalid_fields({"done_on": [field_error(
                    "zone.date_in_future", "may not lie in the future")]},
                    code="zone.date_in_future")
            for earlier in MILESTONES[:position]:
                previous = rows.get(earlier)
                if previous is None or previous.done_on is None:
                    raise invalid_fields({"done_on": [field_error(
                        "zone.milestone_out_of_order", "{earlier} is not done yet",
                        earlier=label("project_milestone", earlier))]},
                        code="zone.milestone_out_of_order")
                if previous.done_on > done_on:
                    raise invalid_fields({"done_on": [field_error(
                        "zone.milestone_before_previous", "earlier than {earlier} ({day})",
                        earlier=label("project_milestone", earlier),
                        day=previous.done_on.isoformat())]},
                        code="zone.milestone_before_previous")
            for later in MILESTONES[position + 1:]:
                following = rows.get(later)
                if following is not None and following.done_on is not None \
                        and following.done_on < done_on:
                    raise invalid_fields({"done_on": [field_error(
                        "zone.milestone_after_next", "later than {later} ({day})",
                        later=label("project_milestone", later),
                        day=following.done_on.isoformat())]},
                        code="zone.milestone_after_next")
            newly_done = row.done_on is None
        else:
            if milestone == PRODUCTION and project.scope_entered_at is not None:
                raise Conflict("production brought the investor into scope; it stays recorded",
                               code="zone.production_fixed")
            for later in MILESTONES[position + 1:]:
                following = rows.get(later)
                if following is not None and following.done_on is not None:
                    raise invalid_fields({"done_on": [field_error(
                        "zone.milestone_later_done", "{later} is done: undo it first",
                        later=label("project_milestone", later))]},
                        code="zone.milestone_later_done")
        if milestone == PRODUCTION and done_on is not None:
            _bring_investor_into_scope(session, principal, project, done_on, call_id, language)
        row.done_on = done_on
    if "planned_on" in data:
        row.planned_on = data["planned_on"]
    if "note" in data:
        row.note = data["note"]
    now = datetime.now(UTC)
    row.recorded_by, row.recorded_at = principal.user_id, now
    access.touch(project, now)
    if newly_done and milestone == PRODUCTION:
        _announce_production(session, project, call_id)


def _bring_investor_into_scope(session: Session, principal: Principal, project: Project,
                               done_on: date, call_id: str | None, language: str) -> None:
    data: dict[str, Any] = {}
    _investor(session, data, project)  # links a registered investor by its credit code
    if data.get("investor_enterprise_id"):
        project.investor_enterprise_id = data["investor_enterprise_id"]
        project.investor_name = data["investor_name"]
    if project.investor_enterprise_id is None:
        raise invalid_fields({"done_on": [field_error(
            "zone.investor_unregistered", "the investor {name} is not a registered enterprise: "
            "register it (with credit code {credit_code}) or link it first",
            name=project.investor_name, credit_code=project.investor_credit_code or "-")]},
            code="zone.investor_unregistered")
    enterprise = session.get(Enterprise, project.investor_enterprise_id)
    assert enterprise is not None
    site = (project.lon, project.lat) if project.lon is not None and project.lat is not None \
        else None
    registry.bring_into_scope(session, enterprise, done_on, principal.user_id,
                              note=translate(N_("the project 「{project}」 passed completion "
                                                "acceptance and started production"),
                                             language, {"project": project.name}), site=site,
                              call_id=call_id)
    if project.scope_entered_at is None:
        project.scope_entered_at = datetime.now(UTC)


def _announce_production(session: Session, project: Project, call_id: str | None) -> None:
    enterprise = session.get(Enterprise, project.investor_enterprise_id)
    assert enterprise is not None
    grid = session.get(Grid, enterprise.grid_id) if enterprise.grid_id else None
    publish(session, "project_in_production", {
        "project_id": project.id, "project_name": project.name,
        "enterprise_id": enterprise.id, "enterprise_name": enterprise.name,
        "grid_id": enterprise.grid_id, "grid_name": grid.name if grid else None,
        "in_scope": enterprise.in_scope, "site_address": project.site_address,
    }, call_id)


# --------------------------------------------------------------------------- the sweep


def flag_delays(session: Session, today: date, limit: int = SWEEP_BATCH) -> int:
    """Tell the responsible department of each milestone newly past its planned day
    (``project_milestone_delayed``), once per planned day; claims rows with SKIP LOCKED so
    that every replica may sweep. Commit to make it stick."""
    claimed = session.execute(
        select(ProjectMilestone, Project)
        .join(Project, Project.id == ProjectMilestone.project_id)
        .where(ProjectMilestone.done_on.is_(None), ProjectMilestone.planned_on.is_not(None),
               ProjectMilestone.planned_on < today,
               ProjectMilestone.delay_notified_for.is_distinct_from(
                   ProjectMilestone.planned_on))
        .order_by(ProjectMilestone.planned_on, ProjectMilestone.project_id)
        .limit(limit)
        .with_for_update(of=ProjectMilestone, skip_locked=True)
    ).all()
    for row, project in claimed:
        row.delay_notified_for = row.planned_on
        publish(session, "project_milestone_delayed", {
            "project_id": project.id, "project_name": project.name,
            "milestone": row.milestone, "planned_on": row.planned_on.isoformat(),
            "days_late": (today - row.planned_on).days,
            "department_id": project.department_id, "investor_name": project.investor_name,
        })
    session.flush()
    return len(claimed)


def sweep(transaction: Any, today: date, limit: int = SWEEP_BATCH, max_batches: int = 50
          ) -> int:
    """Batches of :func:`flag_delays`, each in its own transaction, until none is left."""
    flagged = 0
    for _ in range(max_batches):
        with transaction() as session:
            count = flag_delays(session, today, limit)
        flagged += count
        if count < limit:
            break
    return flagged

