"""Who should hear about what (the registry's recipients): the liaison (联络员), head
(部门负责人) and leader in charge (分管领导) of a department, the leading group office
(领导小组办公室) and the grid staff serving an enterprise. Only enabled accounts are named.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from common.auth import Role
from common.errors import NotFound
from services.enterprise.directory import OFFICE_DEPARTMENT
from services.enterprise.models import (
    Account,
    Department,
    Enterprise,
    Grid,
    GridStaff,
    LeadingGroupMember,
)


def _enabled(session: Session, account_ids: list[str | None]) -> list[str]:
    """The enabled accounts among ``account_ids``, in the given order, without repeats."""
    wanted = [a for a in dict.fromkeys(account_ids) if a]
    if not wanted:
        return []
    enabled = set(session.execute(
        select(Account.id).where(Account.id.in_(wanted), Account.disabled.is_(False))
    ).scalars())
    return [a for a in wanted if a in enabled]


def department_recipients(session: Session, department_id: str) -> dict[str, Any]:
    """Account ids by duty, and the department's ``name`` for the message text."""
    dept = session.get(Department, department_id)
    if dept is None:
        raise NotFound("no such department", code="department.not_found")
    return {
        "liaison": _enabled(session, [dept.liaison_account_id]),
        "head": _enabled(session, [dept.head_account_id]),
        "leader_in_charge": _enabled(session, [dept.leader_account_id]),
        "name": dept.name,
    }


def leading_group_office(session: Session) -> list[str]:
    """The office director and the leading group members of the office's department; the
    office department's head when the group names nobody there."""
    members = session.execute(
        select(LeadingGroupMember.account_id)
        .where(or_(LeadingGroupMember.is_office_director.is_(True),
                   LeadingGroupMember.department_id == OFFICE_DEPARTMENT))
        .order_by(LeadingGroupMember.is_office_director.desc(), LeadingGroupMember.position)
    ).scalars().all()
    found = _enabled(session, list(members))
    if found:
        return found
    office = session.get(Department, OFFICE_DEPARTMENT)
    return _enabled(session, [office.head_account_id]) if office else []


def enterprise_recipients(session: Session, enterprise_id: str) -> dict[str, Any]:
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound("no such enterprise", code="enterprise.not_found")
    staff: list[str] = []
    if enterprise.grid_id:
        staff = list(session.execute(
            select(GridStaff.account_id)
            .where(GridStaff.grid_id == enterprise.grid_id)
            .order_by(GridStaff.duty, GridStaff.account_id)
        ).scalars())
    return {"grid_staff": _enabled(session, staff), "enterprise": enterprise.id,
            "name": enterprise.name}


def grid_coordinators(session: Session, grid_id: str | None) -> dict[str, Any]:
    """The coordinators (平台统筹) of the department owning the grid (经济发展部 for a
    geographic grid, 科技创新部 for an incubator; 经济发展部, which runs the platform, for a
    demand without a grid), with the department's name."""
    grid = session.get(Grid, grid_id) if grid_id else None
    department_id = grid.owner_department_id if grid is not None else OFFICE_DEPARTMENT
    department = session.get(Department, department_id)
    accounts = session.execute(
        select(Account.id).where(Account.role == Role.COORDINATOR.value,
                                 Account.department_id == department_id,
                                 Account.disabled.is_(False))
        .order_by(Account.username)
    ).scalars().all()
    return {"department_id": department_id, "name": department.name if department else None,
            "coordinators": list(accounts)}
