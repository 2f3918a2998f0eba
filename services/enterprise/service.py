"""Enterprise registry service (企业信息): who is who in the zone. Entrypoints only; the areas
live in ``api/`` and the rules in the plain modules beside this file."""

from __future__ import annotations

from typing import Any

from common.db import Database
from common.dependencies import Caller, Metrics
from common.entrypoints import rpc
from common.health import health_report
from services.enterprise.api.accounts import AccountsApi
from services.enterprise.api.audit import AuditApi
from services.enterprise.api.contacts import ContactsApi
from services.enterprise.api.contracts import ContractsApi
from services.enterprise.api.growth import GrowthApi
from services.enterprise.api.imports import ImportsApi
from services.enterprise.api.meetings import MeetingsApi
from services.enterprise.api.names import NamesApi
from services.enterprise.api.profile_sources import ProfileSourcesApi
from services.enterprise.api.recipients import RecipientsApi
from services.enterprise.api.registry import RegistryApi
from services.enterprise.import_runner import ImportRunner
from services.enterprise.zone.api import ZoneApi


class EnterpriseService(AccountsApi, AuditApi, RegistryApi, ContractsApi, ImportsApi,
                        RecipientsApi, GrowthApi, MeetingsApi, NamesApi, ZoneApi,
                        ContactsApi, ProfileSourcesApi):
    """Departments, grids, staff accounts, enterprises, profiles, contracts and visits, and
    the zone resources (区域资源)."""

    name = "enterprise"

    db = Database("enterprise")
    caller = Caller()
    metrics = Metrics()
    import_runner = ImportRunner()

    @rpc
    def health(self) -> dict[str, Any]:
        return health_report(self.name, self.db)
