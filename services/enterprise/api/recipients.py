"""RPC entrypoints for the platform's own services: who should hear about what.

The notification service asks here who the liaison (联络员), head (部门负责人) and leader in
charge (分管领导) of a department are, who sits in the leading group office (领导小组办公室)
and who serves an enterprise's grid. Only other services (role ``service``) and admins may
ask; only enabled accounts are named. Audiences (目标企业) may also be resolved by the staff who
write policies (联络员, 部门负责人, coordinators) and by leaders, who read the whole registry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from common.auth import Role
from common.entrypoints import rpc
from common.errors import NotFound
from common.validation import is_uuid, load
from services.enterprise import audience
from services.enterprise.directory import OFFICE_DEPARTMENT
from services.enterprise.models import (
    Account,
    Department,
    Enterprise,
    GridStaff,
    LeadingGroupMember,
)
from services.enterprise.schemas import AudienceSchema

ALLOWED = (Role.SERVICE, Role.ADMIN)
#: who may resolve an audience: other services, and the staff who read the whole registry and
#: address enterprises (policy writers and leaders); grid staff and enterprises may not
AUDIENCE_RESOLVERS = (Role.SERVICE, Role.ADMIN, Role.COORDINATOR, Role.LIAISON,
                      Role.DEPARTMENT_HEAD, Role.LEADER)


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


class RecipientsApi:
    """Expects ``self.db`` and ``self.caller`` from the service class."""

    db: Any
    caller: Any

    @rpc
    def department_recipients(self, department_id: str) -> dict[str, Any]:
        self.caller.principal.require(*ALLOWED)
        if not isinstance(department_id, str) or not department_id:
            raise NotFound("no such department", code="department.not_found")
        with self.db.transaction() as session:
            return department_recipients(session, department_id)

    @rpc
    def leading_group_office(self) -> list[str]:
        self.caller.principal.require(*ALLOWED)
        with self.db.transaction() as session:
            return leading_group_office(session)

    @rpc
    def enterprise_recipients(self, enterprise_id: str) -> dict[str, Any]:
        self.caller.principal.require(*ALLOWED)
        if not isinstance(enterprise_id, str) or not is_uuid(enterprise_id):
            raise NotFound("no such enterprise", code="enterprise.not_found")
        with self.db.transaction() as session:
            return enterprise_recipients(session, enterprise_id)

    @rpc
    def audience_summary(self, spec: Any) -> dict[str, Any]:
        """How many in-scope enterprises an audience (目标企业) names now, by grid and by
        industry division: the policy editor's live preview, counted here in one query."""
        self.caller.principal.require(*AUDIENCE_RESOLVERS)
        criteria = load(AudienceSchema(), spec)
        with self.db.transaction() as session:
            audience.check_references(session, criteria)  # an unknown id: 422 naming it
            return audience.summary(session, criteria)

    @rpc
    def resolve_audience(self, spec: Any, details: bool = False) -> dict[str, Any]:
        """The in-scope enterprises an audience (目标企业) names, resolved now: their ids and
        count, the criteria as understood (``audience``: normalised, e.g. ``c39`` → ``C39``)
        and, with ``details``, each one's name, grid and industry code (``enterprises``)."""
        self.caller.principal.require(*AUDIENCE_RESOLVERS)
        schema = AudienceSchema()
        criteria = load(schema, spec)
        with self.db.transaction() as session:
            audience.check_references(session, criteria)
            if details:
                found = audience.members(session, criteria)
                ids = [e["id"] for e in found]
            else:
                ids = audience.resolve(session, criteria)
        result: dict[str, Any] = {"enterprise_ids": ids, "count": len(ids),
                                  "audience": schema.dump(criteria)}
        if details:
            result["enterprises"] = found
        return result
