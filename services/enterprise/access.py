"""Who may see and change what in the registry. Plain functions; the service calls them.

- an enterprise user reads its own record and edits only self-report fields (自主填报);
- a grid worker or grid leader reads and edits the enterprises of their grid(s);
- department staff (liaison, department head) and leaders read;
- coordinators (platform staff) and admins read and edit everything.
"""

from __future__ import annotations

from sqlalchemy import Select, false

from common.auth import Principal, Role
from common.errors import Forbidden, NotFound
from services.enterprise.models import Enterprise

GRID_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})
READ_ALL = frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD, Role.COORDINATOR, Role.LEADER,
                      Role.ADMIN, Role.SERVICE})
EDIT_ALL = frozenset({Role.COORDINATOR, Role.ADMIN})
#: roles whose callers see contacts' phone numbers unmasked
SEES_PHONES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER, Role.COORDINATOR, Role.ADMIN,
                         Role.LIAISON, Role.DEPARTMENT_HEAD, Role.SERVICE})


def can_read(principal: Principal, enterprise: Enterprise) -> bool:
    if principal.role in READ_ALL:
        return True
    if principal.role in GRID_ROLES:
        return enterprise.grid_id in principal.grid_ids
    if principal.role == Role.ENTERPRISE:
        return enterprise.id == principal.enterprise_id
    return False


def check_read(principal: Principal, enterprise: Enterprise | None) -> Enterprise:
    """The enterprise, or NotFound when it does not exist or may not be seen."""
    if enterprise is None or not can_read(principal, enterprise):
        raise NotFound("no such enterprise", code="enterprise.not_found")
    return enterprise


def check_edit(principal: Principal, enterprise: Enterprise, fields: set[str],
               self_report: frozenset[str] | tuple[str, ...]) -> None:
    """Forbidden unless the caller may change these fields of this enterprise."""
    check_read(principal, enterprise)
    if principal.role in EDIT_ALL:
        return
    if principal.role in GRID_ROLES:
        return  # check_read already confined them to their grids
    if principal.role == Role.ENTERPRISE:
        extra = fields - set(self_report)
        if extra:
            raise Forbidden("an enterprise may only change {allowed}; not {fields}",
                            code="enterprise.self_report_only",
                            params={"allowed": list(self_report), "fields": sorted(extra)})
        return
    raise Forbidden("{role} may not change enterprises", code="enterprise.change_forbidden",
                    params={"role": principal.role_label})


def check_create(principal: Principal) -> None:
    if principal.role not in EDIT_ALL | GRID_ROLES:
        raise Forbidden("{role} may not register enterprises",
                        code="enterprise.create_forbidden", params={"role": principal.role_label})


def scoped(query: Select, principal: Principal) -> Select:
    """Restrict a query over Enterprise to what the caller may read."""
    if principal.role in READ_ALL:
        return query
    if principal.role in GRID_ROLES:
        return query.where(Enterprise.grid_id.in_(principal.grid_ids or ("",)))
    if principal.role == Role.ENTERPRISE and principal.enterprise_id:
        return query.where(Enterprise.id == principal.enterprise_id)
    return query.where(false())


def mask_phone(phone: str | None) -> str | None:
    """138****5678: enough to recognise, not enough to call."""
    if not phone:
        return phone
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def contacts_for(principal: Principal, enterprise: Enterprise) -> list[dict]:
    if principal.role in SEES_PHONES or (
        principal.role == Role.ENTERPRISE and principal.enterprise_id == enterprise.id
    ):
        return list(enterprise.contacts or [])
    return [{**c, "phone": mask_phone(c.get("phone"))} for c in enterprise.contacts or []]
