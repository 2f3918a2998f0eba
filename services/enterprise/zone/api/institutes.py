"""RPC entrypoints: research institutes (科研机构)."""

from __future__ import annotations

from typing import Any

from common.concurrency import expected_version as checked_version
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.validation import load
from services.enterprise.zone import access, institutes
from services.enterprise.zone.schemas import (
    InstituteCreateSchema,
    InstituteQuerySchema,
    InstituteSchema,
    InstituteUpdateSchema,
)


class InstitutesApi:
    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def list_institutes(self, query: dict[str, Any]) -> dict[str, Any]:
        access.check_reader(self.caller.principal)
        q = load(InstituteQuerySchema(), query)
        with self.db.transaction() as session:
            page = institutes.listing(session, self.caller.principal, q)
        return {**page, "items": InstituteSchema(many=True).dump(page["items"])}

    @rpc
    def get_institute(self, institute_id: str) -> dict[str, Any]:
        with self.db.transaction() as session:
            return InstituteSchema().dump(institutes.show(session, self.caller.principal,
                                                          institute_id))

    @rpc
    def create_institute(self, payload: dict[str, Any]) -> dict[str, Any]:
        access.check_editor(self.caller.principal)
        data = load(InstituteCreateSchema(), payload)
        with self.db.transaction() as session:
            return InstituteSchema().dump(institutes.create(session, self.caller.principal,
                                                            data))

    @rpc
    def update_institute(self, institute_id: str, payload: dict[str, Any],
                         expected_version: Any = None) -> dict[str, Any]:
        access.check_editor(self.caller.principal)
        data = load(InstituteUpdateSchema(), payload)
        in_body = data.pop("version", None)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            return InstituteSchema().dump(institutes.update(
                session, self.caller.principal, institute_id, data,
                in_body if expected is None else expected))
