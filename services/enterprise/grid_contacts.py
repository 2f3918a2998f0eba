"""Grid service contacts (网格化服务联系方式): an enterprise reads its own grid, its grid
leader and grid workers with their work phones ("企业吹哨、网格员报到"); the public reads each
grid's service contacts, only of the staff who agreed to publish theirs (an account setting,
off by default).

Plain functions over a SQLAlchemy session; no broker in here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import Forbidden, NotFound
from common.validation import is_uuid
from services.enterprise.models import Account, Department, Enterprise, Grid, GridStaff

#: who may publish their own contact: the grid's staff
GRID_STAFF = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})


def _contacts(session: Session, grid_ids: list[str], published_only: bool
              ) -> dict[str, list[dict[str, Any]]]:
    """Each grid's leader first, then its workers by name; enabled accounts only."""
    query = (
        select(GridStaff.grid_id, GridStaff.duty, Account.name, Account.phone)
        .join(Account, Account.id == GridStaff.account_id)
        .where(GridStaff.grid_id.in_(grid_ids), Account.disabled.is_(False))
        .order_by(GridStaff.grid_id, GridStaff.duty, Account.name)
    )
    if published_only:
        query = query.where(Account.publish_contact.is_(True))
    out: dict[str, list[dict[str, Any]]] = {g: [] for g in grid_ids}
    for row in session.execute(query):
        out[row.grid_id].append({"name": row.name, "duty": row.duty, "phone": row.phone})
    return out


def _grid_card(grid: Grid, department: str | None, people: list[dict[str, Any]]
               ) -> dict[str, Any]:
    leader = next((p for p in people if p["duty"] == "leader"), None)
    return {"grid_id": grid.id, "name": grid.name, "kind": grid.kind,
            "department_name": department, "address": grid.address,
            "leader": leader, "workers": [p for p in people if p["duty"] == "worker"]}


def my_grid(session: Session, principal: Principal) -> dict[str, Any]:
    """The caller's enterprise's grid with its leader and workers and their work phones."""
    if principal.role != Role.ENTERPRISE or not principal.enterprise_id:
        raise Forbidden("only an enterprise reads its own grid", code="grid.enterprise_only")
    found = session.execute(
        select(Grid, Department.name)
        .join(Enterprise, Enterprise.grid_id == Grid.id)
        .outerjoin(Department, Department.id == Grid.owner_department_id)
        .where(Enterprise.id == principal.enterprise_id)
    ).first()
    if found is None:
        raise NotFound("your enterprise is not in a grid yet", code="grid.none_yet")
    grid, department = found
    return _grid_card(grid, department, _contacts(session, [grid.id], False)[grid.id])


def public_contacts(session: Session, q: dict[str, Any]) -> dict[str, Any]:
    """Every grid with the contacts its staff agreed to publish; searchable by the grid's
    name or address (``q``), filtered by ``kind``."""
    query = select(Grid, Department.name).outerjoin(
        Department, Department.id == Grid.owner_department_id)
    if q.get("kind"):
        query = query.where(Grid.kind == q["kind"])
    if q.get("q"):
        pattern = "%" + q["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Grid.name.ilike(pattern) | Grid.address.ilike(pattern))
    rows = session.execute(query.order_by(Grid.kind, Grid.id)).all()
    people = _contacts(session, [grid.id for grid, _ in rows], True)
    items = [_grid_card(grid, department, people[grid.id]) for grid, department in rows]
    return {"items": items, "total": len(items)}


def publication(session: Session, principal: Principal) -> dict[str, Any]:
    account = _own_staff_account(session, principal)
    return {"publish_contact": account.publish_contact, "phone": account.phone}


def set_publication(session: Session, principal: Principal, publish: bool) -> dict[str, Any]:
    """A grid staff member agrees (or no longer agrees) to publish their name and work phone
    in the public grid service contacts."""
    account = _own_staff_account(session, principal)
    account.publish_contact = publish
    account.version = (account.version or 1) + 1
    return {"publish_contact": account.publish_contact, "phone": account.phone}


def _own_staff_account(session: Session, principal: Principal) -> Account:
    if principal.role not in GRID_STAFF:
        raise Forbidden("{role} has no grid service contact to publish",
                        code="grid.contact_staff_only", params={"role": principal.role_label})
    account = session.get(Account, principal.user_id) if is_uuid(principal.user_id) else None
    if account is None:
        raise NotFound("no account for this token", code="account.not_found")
    return account
