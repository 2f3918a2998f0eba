"""Who may read and change the zone resources (区域资源, "按权限").

- Every member of the committee's staff (and the platform's services) reads carriers, projects,
  institutes, leading industries with their chain maps, the business environment and the
  economic aggregates (the figures themselves are shared by :mod:`.disclosure`).
- An enterprise user reads the carriers' public vacancy information (招商信息) and the list of
  leading industries, nothing more.
- Coordinators (平台统筹) and admins keep carriers, tenancies, projects and institutes and import
  the economic figures; the liaison and head of a project's responsible department (建设部 by
  default) keep that project and record its milestones; only admins define leading industries
  and their chains ("editable by admins") and grant the per-enterprise figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.concurrency import stale
from common.errors import Forbidden
from common.pagination import paginate

#: staff of the committee and the platform's services: they read every zone resource
READERS = frozenset(Role) - {Role.ENTERPRISE}
#: enterprise users see carriers' vacancy and the leading-industry list only
PUBLIC_READERS = frozenset(Role)
#: who keeps carriers, tenancies, projects and institutes, and imports the figures
EDITORS = frozenset({Role.ADMIN, Role.COORDINATOR})
#: who, besides the editors, keeps the projects of their own department
PROJECT_DEPARTMENT_ROLES = frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD})
#: who defines leading industries and chains, and grants the per-enterprise figures
ADMINS = frozenset({Role.ADMIN})


def check_reader(principal: Principal) -> Principal:
    """Forbidden for an enterprise user (it reads only the public parts)."""
    if principal.role not in READERS:
        raise Forbidden("{role} may not read the zone resources", code="zone.read_forbidden",
                        params={"role": principal.role_label})
    return principal


def check_editor(principal: Principal, roles: Iterable[Role] = EDITORS) -> Principal:
    if principal.role not in frozenset(roles):
        raise Forbidden("{role} may not change the zone resources",
                        code="zone.change_forbidden", params={"role": principal.role_label})
    return principal


def is_public(principal: Principal) -> bool:
    """True when the caller sees only the public parts (an enterprise user)."""
    return principal.role not in READERS


def check_version(current: int, expected: int | None, what: str) -> None:
    """412 unless the resource is still at the version the caller read (None: not asked);
    ``what`` is a code of the ``record`` dictionary (``carrier``, ``project``)."""
    if expected is not None and current != expected:
        raise stale(what, expected, current)


def page(session: Session, query: Select, q: dict[str, Any]) -> tuple[list[Any], int]:
    """One page of ``query`` (``page``, ``per_page``) and the total count."""
    found = paginate(session, query, q)
    return found.items, found.total


def touch(record: Any, now: datetime) -> None:
    """A change: version + 1, updated now."""
    record.version += 1
    record.updated_at = now
