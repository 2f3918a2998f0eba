"""RPC entrypoints for the platform's own services: who should hear about what.

The notification service asks here who the liaison (联络员), head (部门负责人) and leader in
charge (分管领导) of a department are, who sits in the leading group office (领导小组办公室)
and who serves an enterprise's grid. Only other services (role ``service``) and admins may
ask; only enabled accounts are named. Audiences (目标企业) may also be resolved by the staff who
write policies (联络员, 部门负责人, coordinators) and by leaders, who read the whole registry.
"""

from __future__ import annotations

from typing import Any

from common.auth import Role
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import NotFound
from common.validation import is_uuid, load
from services.enterprise import audience, recipients
from services.enterprise.schemas import AudienceSchema

ALLOWED = (Role.SERVICE, Role.ADMIN)
#: who may resolve an audience: other services, and the staff who read the whole registry and
#: address enterprises (policy writers and leaders); grid staff and enterprises may not
AUDIENCE_RESOLVERS = (Role.SERVICE, Role.ADMIN, Role.COORDINATOR, Role.LIAISON,
                      Role.DEPARTMENT_HEAD, Role.LEADER)


class RecipientsApi:
    """Expects ``self.db`` and ``self.caller`` from the service class."""

    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def department_recipients(self, department_id: str) -> dict[str, Any]:
        self.caller.principal.require(*ALLOWED)
        if not isinstance(department_id, str) or not department_id:
            raise NotFound("no such department", code="department.not_found")
        with self.db.transaction() as session:
            return recipients.department_recipients(session, department_id)

    @rpc
    def grid_coordinators(self, grid_id: Any) -> dict[str, Any]:
        """Who hears of a missed triage (分理超时): the owning department's coordinators."""
        self.caller.principal.require(*ALLOWED)
        with self.db.transaction() as session:
            return recipients.grid_coordinators(session,
                                                grid_id if isinstance(grid_id, str) else None)

    @rpc
    def leading_group_office(self) -> list[str]:
        self.caller.principal.require(*ALLOWED)
        with self.db.transaction() as session:
            return recipients.leading_group_office(session)

    @rpc
    def enterprise_recipients(self, enterprise_id: str) -> dict[str, Any]:
        self.caller.principal.require(*ALLOWED)
        if not isinstance(enterprise_id, str) or not is_uuid(enterprise_id):
            raise NotFound("no such enterprise", code="enterprise.not_found")
        with self.db.transaction() as session:
            return recipients.enterprise_recipients(session, enterprise_id)

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
