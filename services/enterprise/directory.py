"""Departments (部门), demand categories (诉求类别), the leading group (领导小组), grids (网格)
and their staff, and the coverage report (全覆盖、无遗漏). Plain functions over a session."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from common.auth import STAFF_ROLES, Principal, Role
from common.concurrency import stale
from common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
    field_error,
)
from common.i18n import label
from common.pagination import Page, paginate
from common.validation import is_uuid
from services.enterprise import access, accounts
from services.enterprise.events import publish
from services.enterprise.geo import GridArea, GridIndex, InvalidBoundary, parse_polygon
from services.enterprise.models import (
    Account,
    Category,
    Department,
    Enterprise,
    Grid,
    GridStaff,
    LeadingGroupMember,
)

#: owner of each kind of grid (the plan: incubators 科技创新部, locations 经济发展部)
GRID_OWNER = {"incubator": "science_innovation", "geographic": "economic_development"}
OFFICE_DEPARTMENT = "economic_development"  # 领导小组办公室设在经济发展部
MIN_WORKERS, MAX_WORKERS = 2, 3
MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR})
M = TypeVar("M", Department, Category, Grid)


def _person(session: Session, account_id: str | None) -> dict[str, Any] | None:
    if not account_id:
        return None
    account = session.get(Account, account_id)
    return {"id": account.id, "name": account.name} if account else None


def _locked(session: Session, model: type[M], key: str, expected: int | None,
            what: str) -> M | None:
    """The row as committed, locked until the write ends (None if there is none); 412 unless
    it is still at version ``expected`` (None: any version)."""
    found = session.get(model, key, with_for_update=True, populate_existing=True)
    if found is not None and expected is not None and found.version != expected:
        raise stale(what, expected, found.version)
    return found


def require_admin(principal: Principal) -> None:
    if principal.role != Role.ADMIN:
        raise Forbidden("only an admin may do this", code="auth.admin_only")


# --- departments and categories --------------------------------------------------------------

def departments(session: Session) -> list[dict[str, Any]]:
    cats: dict[str, list[str]] = {}
    for code, dept in session.execute(select(Category.code, Category.department_id)
                                      .order_by(Category.code)):
        cats.setdefault(dept, []).append(code)
    return [
        {"id": d.id, "name": d.name, "kind": d.kind, "head_name": d.head_name,
         "head_title": d.head_title, "head": _person(session, d.head_account_id),
         "liaison": _person(session, d.liaison_account_id),
         "leader_in_charge": _person(session, d.leader_account_id),
         "categories": cats.get(d.id, []), "version": d.version}
        for d in session.execute(select(Department).order_by(Department.kind, Department.name)
                                 ).scalars()
    ]


def department(session: Session, department_id: str) -> dict[str, Any]:
    for d in departments(session):
        if d["id"] == department_id:
            return d
    raise NotFound("no such department", code="department.not_found")


def update_department(session: Session, principal: Principal, department_id: str,
                      data: dict[str, Any], expected: int | None = None) -> dict[str, Any]:
    """Name the liaison (联络员), head and leader in charge (分管领导): admins only; refused
    (412) unless still at version ``expected`` (when given). A change bumps the version."""
    require_admin(principal)
    dept = _locked(session, Department, department_id, expected, "department")
    if dept is None:
        raise NotFound("no such department", code="department.not_found")
    roles = {"liaison_account_id": Role.LIAISON, "head_account_id": Role.DEPARTMENT_HEAD,
             "leader_account_id": Role.LEADER}
    for field, value in data.items():
        if value is not None:
            account = session.get(Account, value) if is_uuid(value) else None
            if account is None or account.role != roles[field] or account.disabled:
                raise ValidationFailed(
                    "not a suitable account",
                    {field: [field_error("department.unsuitable_account",
                                         "an enabled {role} account",
                                         role=label("role", roles[field]))]},
                    code="department.unsuitable_account")
    if any(getattr(dept, field) != value for field, value in data.items()):
        for field, value in data.items():
            setattr(dept, field, value)
        dept.version += 1
        # who reads the departments (ticketing's SLA series) reads them again
        publish(session, "department_changed",
                {"department_id": dept.id, "name": dept.name, "version": dept.version})
    session.flush()
    return department(session, department_id)


def categories(session: Session) -> list[Category]:
    return list(session.execute(select(Category).order_by(Category.code)).scalars())


def category(session: Session, code: str) -> Category:
    found = session.get(Category, code)
    if found is None:
        raise NotFound("no such category", code="category.not_found")
    return found


def category_table(session: Session) -> dict[str, str]:
    """诉求类别 → department id, as triage uses it."""
    return dict(session.execute(select(Category.code, Category.department_id)).all())


def save_category(session: Session, principal: Principal, code: str, data: dict[str, Any],
                  create: bool, call_id: str | None = None,
                  expected: int | None = None) -> Category:
    """Add a category, or route one to a department (refused with 412 unless still at version
    ``expected``, when given). A change bumps its version and that of each department whose
    list of categories changes."""
    require_admin(principal)
    if session.get(Department, data["department_id"]) is None:
        raise ValidationFailed("unknown department", {"department_id": [field_error(
            "department.not_found", "no department {department}",
            department=data["department_id"])]}, code="department.not_found")
    found = _locked(session, Category, code, expected, "category")
    if create and found is not None:
        raise Conflict("the category exists",
                       {"code": [field_error("category.exists", "already exists")]},
                       code="category.exists")
    if not create and found is None:
        raise NotFound("no such category", code="category.not_found")
    if found is None:
        found = Category(code=code, name=data["name"], department_id=data["department_id"],
                         version=1)
        session.add(found)
        _bump_departments(session, {found.department_id})
    elif (found.department_id, found.name) != (data["department_id"],
                                               data.get("name", found.name)):
        if found.department_id != data["department_id"]:
            _bump_departments(session, {found.department_id, data["department_id"]})
        found.department_id = data["department_id"]
        found.name = data.get("name", found.name)
        found.version += 1
    found.updated_at = datetime.now(UTC)
    found.updated_by = principal.user_id
    session.flush()
    publish(session, "category_changed", {"code": code, "department_id": data["department_id"]},
            call_id)
    return found


def _bump_departments(session: Session, department_ids: set[str]) -> None:
    """A department lists its categories: one gained or lost is a change of the department."""
    session.execute(update(Department).where(Department.id.in_(sorted(department_ids)))
                    .values(version=Department.version + 1)
                    .execution_options(synchronize_session="fetch"))


def leading_group(session: Session) -> dict[str, Any]:
    members = session.execute(
        select(LeadingGroupMember).order_by(LeadingGroupMember.position)
    ).scalars()
    return {"members": list(members), "office_department_id": OFFICE_DEPARTMENT}


def names(session: Session, principal: Principal, accounts: list[str], grids: list[str],
          departments: list[str]) -> dict[str, dict[str, str]]:
    """The names of staff accounts, grids and departments by id, for staff and services that
    show them (an appraisal, an export): an enterprise's account, or an unknown id, is left
    out."""
    principal.require(*STAFF_ROLES, Role.SERVICE)

    def by_id(model: Any, ids: list[str], *where: Any) -> dict[str, str]:
        wanted = sorted({str(i) for i in ids})[:5000]
        if not wanted:
            return {}
        return dict(session.execute(select(model.id, model.name).where(
            model.id.in_(wanted), *where)).tuples().all())

    people = [i for i in accounts if is_uuid(str(i))]  # ids the demands recorded, as they were
    return {"accounts": by_id(Account, people, Account.role != Role.ENTERPRISE.value),
            "grids": by_id(Grid, grids), "departments": by_id(Department, departments)}


# --- grids -----------------------------------------------------------------------------------

def _staff(session: Session, grid_ids: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {g: {"leader": None, "workers": []} for g in grid_ids}
    rows = session.execute(
        select(GridStaff.grid_id, GridStaff.duty, Account.id, Account.name)
        .join(Account, Account.id == GridStaff.account_id)
        .where(GridStaff.grid_id.in_(grid_ids))
        .order_by(Account.name)
    ).all()
    for r in rows:
        person = {"id": r.id, "name": r.name}
        if r.duty == "leader":
            out[r.grid_id]["leader"] = person
        else:
            out[r.grid_id]["workers"].append(person)
    return out


def grid_dicts(session: Session, grids: list[Grid]) -> list[dict[str, Any]]:
    ids = [g.id for g in grids]
    staff = _staff(session, ids)
    counts = dict(session.execute(
        select(Enterprise.grid_id, func.count()).where(Enterprise.grid_id.in_(ids),
                                                       Enterprise.in_scope)
        .group_by(Enterprise.grid_id)
    ).all())
    return [
        {"id": g.id, "name": g.name, "kind": g.kind,
         "owner_department_id": g.owner_department_id, "boundary": g.boundary,
         "address": g.address, "lon": g.lon, "lat": g.lat, **staff[g.id],
         "enterprise_count": counts.get(g.id, 0), "version": g.version}
        for g in grids
    ]


def list_grids(session: Session, principal: Principal, q: dict[str, Any]) -> dict[str, Any]:
    query = select(Grid)
    if q.get("kind"):
        query = query.where(Grid.kind == q["kind"])
    if q.get("q"):  # the console's 按网格名称搜索
        text = q["q"].strip()
        query = query.where(or_(Grid.name.contains(text, autoescape=True),
                                Grid.id == text.upper()))
    if principal.role == Role.ENTERPRISE:
        raise Forbidden("enterprises do not list grids", code="grid.read_forbidden")
    found = paginate(session, query, q, order_by=[Grid.id], scalars=True)
    return Page(grid_dicts(session, found.items), found.total, found.page,
                found.per_page).as_dict()


def get_grid(session: Session, principal: Principal, grid_id: str) -> dict[str, Any]:
    grid = session.get(Grid, grid_id)
    if grid is None or principal.role == Role.ENTERPRISE:
        raise NotFound("no such grid", code="grid.not_found")
    return grid_dicts(session, [grid])[0]


def _check_boundary(kind: str, boundary: dict | None) -> None:
    if kind == "geographic":
        if boundary is None:
            raise ValidationFailed("a geographic grid needs its boundary", {"boundary": [
                field_error("grid.boundary_required", "required for geographic grids")]},
                code="grid.boundary_required")
        try:
            parse_polygon(boundary)
        except InvalidBoundary as exc:
            raise ValidationFailed("invalid boundary", {"boundary": [exc.item()]},
                                   code=exc.code) from exc
    elif boundary is not None:
        raise ValidationFailed("an incubator grid has no boundary", {"boundary": [
            field_error("grid.boundary_refused", "only geographic grids have one")]},
            code="grid.boundary_refused")


def create_grid(session: Session, principal: Principal, data: dict[str, Any]) -> dict:
    if principal.role not in MANAGERS:
        raise Forbidden("{role} may not create grids", code="grid.manage_forbidden",
                        params={"role": principal.role_label})
    if session.get(Grid, data["id"]) is not None:
        raise Conflict("the grid exists", {"id": [field_error("grid.exists", "already exists")]},
                       code="grid.exists")
    _check_boundary(data["kind"], data.get("boundary"))
    owner = data.get("owner_department_id") or GRID_OWNER[data["kind"]]
    if session.get(Department, owner) is None:
        raise ValidationFailed("unknown department", {"owner_department_id": [field_error(
            "department.not_found", "no department {department}", department=owner)]},
            code="department.not_found")
    grid = Grid(**{**data, "owner_department_id": owner}, version=1)
    session.add(grid)
    session.flush()
    return grid_dicts(session, [grid])[0]


def update_grid(session: Session, principal: Principal, grid_id: str,
                data: dict[str, Any], expected: int | None = None) -> dict:
    """Change a grid; refused (412) unless still at version ``expected`` (when given)."""
    if principal.role not in MANAGERS:
        raise Forbidden("{role} may not change grids", code="grid.manage_forbidden",
                        params={"role": principal.role_label})
    grid = _locked_grid(session, grid_id, expected)
    if "boundary" in data:
        _check_boundary(grid.kind, data["boundary"])
    changed = [key for key, value in data.items() if getattr(grid, key) != value]
    for key in changed:
        setattr(grid, key, data[key])
    if changed:
        grid.version += 1
    session.flush()
    return grid_dicts(session, [grid])[0]


def _locked_grid(session: Session, grid_id: str, expected: int | None) -> Grid:
    """The grid, locked for a write at version ``expected`` (412 otherwise; None: any)."""
    grid = _locked(session, Grid, grid_id, expected, "grid")
    if grid is None:
        raise NotFound("no such grid", code="grid.not_found")
    return grid


def set_grid_staff(session: Session, principal: Principal, grid_id: str,
                   data: dict[str, Any], expected: int | None = None,
                   call_id: str | None = None) -> dict:
    """One 网格长 and 2-3 网格员; each must hold the matching role. A write on the grid:
    refused (412) unless still at version ``expected`` (when given); a change bumps the
    grid's version and that of every account that joins or leaves it (its ``grid_ids``)."""
    if principal.role not in MANAGERS:
        raise Forbidden("{role} may not staff grids", code="grid.manage_forbidden",
                        params={"role": principal.role_label})
    grid = _locked_grid(session, grid_id, expected)
    workers = list(dict.fromkeys(data["worker_account_ids"]))
    if not MIN_WORKERS <= len(workers) <= MAX_WORKERS:
        raise ValidationFailed(
            "a grid has {min}-{max} grid workers",
            {"worker_account_ids": [field_error("grid.worker_count", "{min}-{max} accounts",
                                                min=MIN_WORKERS, max=MAX_WORKERS)]},
            code="grid.worker_count", params={"min": MIN_WORKERS, "max": MAX_WORKERS})
    wanted = [(data["leader_account_id"], Role.GRID_LEADER, "leader_account_id")] if data[
        "leader_account_id"] else []
    wanted += [(w, Role.GRID_WORKER, "worker_account_ids") for w in workers]
    for account_id, role, field in wanted:
        account = session.get(Account, account_id) if is_uuid(account_id) else None
        if account is None or account.role != role or account.disabled:
            raise ValidationFailed("not a suitable account", {field: [field_error(
                "grid.unsuitable_account", "{account} is not an enabled {role}",
                account=account.name if account else account_id, role=label("role", role))]},
                code="grid.unsuitable_account")
    before = set(session.execute(select(GridStaff.account_id, GridStaff.duty)
                                 .where(GridStaff.grid_id == grid_id)).tuples())
    after = {(a, "leader" if role == Role.GRID_LEADER else "worker") for a, role, _ in wanted}
    if before == after:
        return grid_dicts(session, [grid])[0]
    session.execute(delete(GridStaff).where(GridStaff.grid_id == grid_id))
    for account_id, duty in sorted(after):
        session.add(GridStaff(grid_id=grid_id, account_id=account_id, duty=duty))
    grid.version += 1
    moved = {a for a, _ in before} ^ {a for a, _ in after}
    if moved:
        session.execute(update(Account).where(Account.id.in_(sorted(moved)))
                        .values(version=Account.version + 1)
                        .execution_options(synchronize_session="fetch"))
        # their tokens claim the grids they had: they sign in again for the new ones
        for account in session.execute(
                select(Account).where(Account.id.in_(sorted(moved))).order_by(Account.id)
        ).scalars():
            accounts.revoke_tokens(session, account, "grids_changed", call_id)
    session.flush()
    return grid_dicts(session, [grid])[0]


# --- coverage (全覆盖、无遗漏) ----------------------------------------------------------------

def coverage(session: Session, principal: Principal) -> dict[str, Any]:
    """Everything that keeps the zone from full coverage; all lists empty means covered."""
    if principal.role not in access.READ_ALL:
        raise Forbidden("{role} may not see the coverage report",
                        code="coverage.read_forbidden",
                        params={"role": principal.role_label})
    unassigned = [
        {"enterprise_id": r.id, "name": r.name, "credit_code": r.credit_code}
        for r in session.execute(
            select(Enterprise.id, Enterprise.name, Enterprise.credit_code)
            .where(Enterprise.in_scope, Enterprise.grid_id.is_(None))
            .order_by(Enterprise.name)
        )
    ]
    grids = list(session.execute(select(Grid).order_by(Grid.id)).scalars())
    staff = _staff(session, [g.id for g in grids])
    no_leader = [g.id for g in grids if staff[g.id]["leader"] is None]
    short = [{"grid_id": g.id, "workers": len(staff[g.id]["workers"])} for g in grids
             if len(staff[g.id]["workers"]) < MIN_WORKERS]
    areas = [GridArea(g.id, g.boundary) for g in grids if g.boundary]
    overlapping = [[str(a), str(b)] for a, b in GridIndex(areas).overlaps()] if areas else []
    return {"unassigned_enterprises": unassigned, "grids_without_leader": no_leader,
            "grids_short_of_workers": short, "overlapping_grids": overlapping,
            "covered": not (unassigned or no_leader or short or overlapping)}
