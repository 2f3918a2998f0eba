"""RPC entrypoints: leading industries (主导产业), their members and chain maps (产业链图谱)."""

from __future__ import annotations

from typing import Any

from common.concurrency import expected_version as checked_version
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.validation import load
from services.enterprise.schemas import PageQuery
from services.enterprise.zone import access, industries
from services.enterprise.zone.schemas import (
    ChainMapSchema,
    ChainSetSchema,
    IndustryCreateSchema,
    IndustryListSchema,
    IndustryMemberPageSchema,
    IndustrySchema,
    IndustryUpdateSchema,
)


class IndustriesApi:
    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def list_leading_industries(self) -> dict[str, Any]:
        """Everyone (enterprise users too: the list without counts)."""
        principal = self.caller.principal
        with self.db.transaction() as session:
            return IndustryListSchema().dump(industries.listing(session, principal))

    @rpc
    def get_leading_industry(self, industry_id: str) -> dict[str, Any]:
        with self.db.transaction() as session:
            return IndustrySchema().dump(industries.show(session, self.caller.principal,
                                                         industry_id))

    @rpc
    def create_leading_industry(self, payload: dict[str, Any]) -> dict[str, Any]:
        access.check_editor(self.caller.principal, access.ADMINS)
        data = load(IndustryCreateSchema(), payload)
        with self.db.transaction() as session:
            return IndustrySchema().dump(industries.create(session, self.caller.principal,
                                                           data))

    @rpc
    def update_leading_industry(self, industry_id: str, payload: dict[str, Any],
                                expected_version: Any = None) -> dict[str, Any]:
        access.check_editor(self.caller.principal, access.ADMINS)
        data = load(IndustryUpdateSchema(), payload)
        in_body = data.pop("version", None)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            return IndustrySchema().dump(industries.update(
                session, self.caller.principal, industry_id, data,
                in_body if expected is None else expected))

    @rpc
    def leading_industry_members(self, industry_id: str, query: dict[str, Any]
                                 ) -> dict[str, Any]:
        access.check_reader(self.caller.principal)
        q = load(PageQuery(), query)
        with self.db.transaction() as session:
            return IndustryMemberPageSchema().dump(industries.members(
                session, self.caller.principal, industry_id, q))

    @rpc
    def chain_map(self, industry_id: str) -> dict[str, Any]:
        access.check_reader(self.caller.principal)
        with self.db.transaction() as session:
            return ChainMapSchema().dump(industries.chain_map(session, self.caller.principal,
                                                              industry_id))

    @rpc
    def set_chain(self, industry_id: str, payload: dict[str, Any],
                  expected_version: Any = None) -> dict[str, Any]:
        access.check_editor(self.caller.principal, access.ADMINS)
        data = load(ChainSetSchema(), payload)
        in_body = data.pop("version", None)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            return ChainMapSchema().dump(industries.set_chain(
                session, self.caller.principal, industry_id, data["links"],
                in_body if expected is None else expected))
