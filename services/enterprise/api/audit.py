"""RPC entrypoints of the audit log (操作日志)."""

from __future__ import annotations

from typing import Any

from common.auth import Role
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.validation import load
from services.enterprise import audit
from services.enterprise.schemas import (
    AUDITED_ROLES,
    AuditEntrySchema,
    AuditQuerySchema,
    AuditRecordSchema,
)


class AuditApi:
    """Expects ``self.db`` and ``self.caller`` from the service class."""

    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def record_admin_action(self, payload: Any) -> None:
        """The gateway reports a privileged write that succeeded, with the caller's token."""
        principal = self.caller.principal.require(*(Role(r) for r in AUDITED_ROLES))
        data = load(AuditRecordSchema(), payload)
        with self.db.transaction() as session:
            audit.record(session, principal, data)

    @rpc
    def list_audit_log(self, query: Any) -> dict[str, Any]:
        self.caller.principal.require(Role.ADMIN)
        filters = load(AuditQuerySchema(), query)
        with self.db.transaction() as session:
            rows, total = audit.entries(session, filters)
            return {"items": AuditEntrySchema(many=True).dump(rows), "total": total,
                    "page": filters["page"], "per_page": filters["per_page"]}
