"""RPC entrypoints of the registry: departments, categories, grids, enterprises, profiles."""

from __future__ import annotations

from typing import Any

from common.concurrency import expected_version as checked_version
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import DomainError
from common.validation import load
from services.enterprise import access, directory, registry
from services.enterprise.schemas import (
    CategoryCreateSchema,
    CategorySchema,
    CategoryUpdateSchema,
    CoverageSchema,
    DepartmentSchema,
    DepartmentUpdateSchema,
    EnterpriseCreateSchema,
    EnterpriseQuerySchema,
    EnterpriseSchema,
    EnterpriseUpdateSchema,
    GridCreateSchema,
    GridQuerySchema,
    GridSchema,
    GridStaffSchema,
    GridUpdateSchema,
    LeadingGroupSchema,
    ProfileSchema,
    ProfileValueCreateSchema,
    ProfileValueSchema,
    ScopeChangeCreateSchema,
    ScopeChangeSchema,
    SummaryQuerySchema,
    SummarySchema,
)


class RegistryApi:
    db: WorkerDatabase
    caller: CallerContext

    # departments, categories, leading group ---------------------------------------------

    @rpc
    def list_departments(self) -> list[dict]:
        self.caller.principal  # noqa: B018 -- any authenticated caller
        with self.db.transaction() as session:
            return DepartmentSchema(many=True).dump(directory.departments(session))

    @rpc
    def names(self, accounts: Any = (), grids: Any = (), departments: Any = ()
              ) -> dict[str, dict[str, str]]:
        """``{"accounts": {id: name}, "grids": {...}, "departments": {...}}`` of the ids asked
        (staff and services; enterprises' accounts and unknown ids left out)."""
        principal = self.caller.principal
        with self.db.transaction() as session:
            return directory.names(session, principal, list(accounts or ()), list(grids or ()),
                                   list(departments or ()))

    @rpc
    def get_department(self, department_id: str) -> dict:
        self.caller.principal  # noqa: B018
        with self.db.transaction() as session:
            return DepartmentSchema().dump(directory.department(session, department_id))

    @rpc
    def update_department(self, department_id: str, payload: dict,
                          expected_version: Any = None) -> dict:
        data = load(DepartmentUpdateSchema(), payload)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            return DepartmentSchema().dump(directory.update_department(
                session, self.caller.principal, department_id, data, expected))

    @rpc
    def list_categories(self) -> list[dict]:
        self.caller.principal  # noqa: B018
        with self.db.transaction() as session:
            return CategorySchema(many=True).dump(directory.categories(session))

    @rpc
    def get_category(self, code: str) -> dict:
        self.caller.principal  # noqa: B018
        with self.db.transaction() as session:
            return CategorySchema().dump(directory.category(session, code))

    @rpc
    def category_table(self) -> dict[str, str]:
        """诉求类别 → department id, for triage."""
        self.caller.principal  # noqa: B018
        with self.db.transaction() as session:
            return directory.category_table(session)

    @rpc
    def create_category(self, payload: dict) -> dict:
        data = load(CategoryCreateSchema(), payload)
        with self.db.transaction() as session:
            return CategorySchema().dump(directory.save_category(
                session, self.caller.principal, data["code"], data, True, self.caller.call_id))

    @rpc
    def update_category(self, code: str, payload: dict, expected_version: Any = None) -> dict:
        data = load(CategoryUpdateSchema(), payload)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            return CategorySchema().dump(directory.save_category(
                session, self.caller.principal, code, data, False, self.caller.call_id,
                expected))

    @rpc
    def leading_group(self) -> dict:
        self.caller.principal  # noqa: B018
        with self.db.transaction() as session:
            return LeadingGroupSchema().dump(directory.leading_group(session))

    # grids ------------------------------------------------------------------------------

    @rpc
    def list_grids(self, query: dict) -> dict:
        q = load(GridQuerySchema(), query)
        with self.db.transaction() as session:
            page = directory.list_grids(session, self.caller.principal, q)
            return {**page, "items": GridSchema(many=True).dump(page["items"])}

    @rpc
    def get_grid(self, grid_id: str) -> dict:
        with self.db.transaction() as session:
            return GridSchema().dump(directory.get_grid(session, self.caller.principal, grid_id))

    @rpc
    def create_grid(self, payload: dict) -> dict:
        data = load(GridCreateSchema(), payload)
        with self.db.transaction() as session:
            return GridSchema().dump(directory.create_grid(session, self.caller.principal, data))

    @rpc
    def update_grid(self, grid_id: str, payload: dict, expected_version: Any = None) -> dict:
        data = load(GridUpdateSchema(), payload)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            return GridSchema().dump(directory.update_grid(
                session, self.caller.principal, grid_id, data, expected))

    @rpc
    def set_grid_staff(self, grid_id: str, payload: dict, expected_version: Any = None) -> dict:
        data = load(GridStaffSchema(), payload)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            return GridSchema().dump(directory.set_grid_staff(
                session, self.caller.principal, grid_id, data, expected,
                call_id=self.caller.call_id))

    @rpc
    def coverage(self) -> dict:
        with self.db.transaction() as session:
            return CoverageSchema().dump(directory.coverage(session, self.caller.principal))

    # enterprises ------------------------------------------------------------------------

    @rpc
    def register_enterprise(self, payload: dict) -> dict:
        data = load(EnterpriseCreateSchema(), payload)
        principal = self.caller.principal
        with self.db.transaction() as session:
            e = registry.register(session, principal, data, self.caller.call_id)
            return EnterpriseSchema().dump(registry.dump(principal, e, None))

    @rpc
    def get_enterprise(self, enterprise_id: str) -> dict:
        principal = self.caller.principal
        with self.db.transaction() as session:
            e = registry.visible(session, principal, enterprise_id)
            return EnterpriseSchema().dump(registry.read(session, principal, e,
                                                         self.caller.request_id))

    @rpc
    def intake_enterprises(self, requests: list) -> list:
        """Ticketing's batched intake: for each ``{token, enterprise_id}``, ``{id, grid_id,
        in_scope}`` of the enterprise if that token's caller may see it, else None; one query
        for the batch instead of one ``get_enterprise`` call per demand."""
        if not isinstance(requests, list):
            return []
        asked = [r if isinstance(r, dict) else {} for r in requests]
        with self.db.transaction() as session:
            found = registry.enterprises_by_id(session, [r.get("enterprise_id") for r in asked])
        answers: list[dict | None] = []
        for request in asked:
            enterprise = found.get(request.get("enterprise_id"))
            try:
                principal = self.caller.principal_of(request.get("token"))
            except DomainError:
                principal = None
            if enterprise is None or principal is None or not access.can_read(principal,
                                                                              enterprise):
                answers.append(None)
                continue
            answers.append({"id": enterprise.id, "grid_id": enterprise.grid_id,
                            "in_scope": enterprise.in_scope})
        return answers

    @rpc
    def list_enterprises(self, query: dict) -> dict:
        q = load(EnterpriseQuerySchema(), query)
        with self.db.transaction() as session:
            page = registry.list_enterprises(session, self.caller.principal, q,
                                             self.caller.request_id)
            return {**page, "items": EnterpriseSchema(many=True).dump(page["items"])}

    @rpc
    def update_enterprise(self, enterprise_id: str, payload: dict) -> dict:
        data = load(EnterpriseUpdateSchema(), payload)
        principal = self.caller.principal
        with self.db.transaction() as session:
            e = registry.update(session, principal, enterprise_id, data, self.caller.call_id)
            return EnterpriseSchema().dump(registry.read(session, principal, e,
                                                         self.caller.request_id, "update"))

    @rpc
    def change_scope(self, enterprise_id: str, payload: dict) -> dict:
        data = load(ScopeChangeCreateSchema(), payload)
        with self.db.transaction() as session:
            return ScopeChangeSchema().dump(registry.change_scope(
                session, self.caller.principal, enterprise_id, data, self.caller.call_id))

    @rpc
    def scope_history(self, enterprise_id: str) -> list[dict]:
        with self.db.transaction() as session:
            return ScopeChangeSchema(many=True).dump(
                registry.scope_history(session, self.caller.principal, enterprise_id))

    @rpc
    def add_profile_value(self, enterprise_id: str, payload: dict) -> dict:
        data = load(ProfileValueCreateSchema(), payload)
        with self.db.transaction() as session:
            return ProfileValueSchema().dump(registry.add_profile_value(
                session, self.caller.principal, enterprise_id, data, self.caller.call_id))

    @rpc
    def get_profile(self, enterprise_id: str) -> dict:
        with self.db.transaction() as session:
            return ProfileSchema().dump(registry.profile(
                session, self.caller.principal, enterprise_id, self.caller.request_id))

    @rpc
    def summary(self, query: dict) -> dict:
        q = load(SummaryQuerySchema(), query)
        with self.db.transaction() as session:
            return SummarySchema().dump(registry.summary(session, self.caller.principal, q))
