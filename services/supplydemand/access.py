"""Who may do what on the board (供求信息). Plain functions; the service calls them.

- an enterprise user manages its own listings and dockings (本企业);
- a grid worker or grid leader acts for the enterprises of their grid(s) (代为发布);
- coordinators and admins (platform staff) moderate: hide and restore listings;
- every staff role reads every listing and docking; everyone reads live listings (the board).
"""

from __future__ import annotations

from common.auth import STAFF_ROLES, Principal, Role
from common.errors import Forbidden
from common.validation import is_uuid

GRID_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})
PUBLISHERS = frozenset({Role.ENTERPRISE}) | GRID_ROLES
MODERATORS = frozenset({Role.COORDINATOR, Role.ADMIN})
#: staff who see every listing, hidden or not, and every docking
READ_ALL = frozenset(STAFF_ROLES - GRID_ROLES)


def acts_for(principal: Principal, enterprise_id: str, grid_id: str | None) -> bool:
    """True if the caller manages this enterprise's listings and dockings."""
    if principal.role == Role.ENTERPRISE:
        return principal.enterprise_id == enterprise_id
    if principal.role in GRID_ROLES:
        return grid_id is not None and grid_id in principal.grid_ids
    return False


#: an id no enterprise has: what "own" means for a token that names no valid enterprise
NO_ENTERPRISE = "00000000-0000-0000-0000-000000000000"


def own_enterprise(principal: Principal) -> str:
    """The caller's own enterprise id, safe to compare with a UUID column."""
    eid = principal.enterprise_id
    return eid if eid and is_uuid(eid) else NO_ENTERPRISE


def require_publisher(principal: Principal) -> Principal:
    if principal.role not in PUBLISHERS:
        raise Forbidden("{role} may not publish or manage listings",
                        code="listing.manage_forbidden", params={"role": principal.role_label})
    if principal.role == Role.ENTERPRISE and not principal.enterprise_id:
        raise Forbidden("this enterprise account names no enterprise",
                        code="account.no_enterprise")
    return principal


def require_moderator(principal: Principal) -> Principal:
    if principal.role not in MODERATORS:
        raise Forbidden("{role} may not moderate listings", code="listing.moderate_forbidden",
                        params={"role": principal.role_label})
    return principal


def reads_all(principal: Principal) -> bool:
    return principal.role in READ_ALL
