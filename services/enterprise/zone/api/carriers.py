"""RPC entrypoints: carriers (载体), their tenants and tenancies, and the module's overview."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select

from common.concurrency import expected_version as checked_version
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.validation import load
from services.enterprise.contracts import today_in_shanghai
from services.enterprise.schemas import PageQuery
from services.enterprise.zone import access, carriers, institutes, projects
from services.enterprise.zone.models import Carrier, IndicatorValue, LeadingIndustry
from services.enterprise.zone.periods import Period
from services.enterprise.zone.schemas import (
    CarrierCreateSchema,
    CarrierQuerySchema,
    CarrierSchema,
    CarrierUpdateSchema,
    TenancyCreateSchema,
    TenancyEndSchema,
    TenancySchema,
    TenantPageSchema,
    ZoneOverviewSchema,
)
from services.enterprise.zone.vocabulary import CARRIER_KINDS


class CarriersApi:
    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def zone_overview(self) -> dict[str, Any]:
        """区域资源 at a glance: carriers, projects, institutes, industries, latest figures."""
        access.check_reader(self.caller.principal)
        today = today_in_shanghai()
        with self.db.transaction() as session:
            every = [c for (c,) in session.execute(select(Carrier)).all()]
            figures = carriers.occupancy(session, [c.id for c in every])
            by_kind = dict.fromkeys(CARRIER_KINDS, 0)
            leasable = occupied = vacant = 0.0
            tenants = 0
            for carrier in every:
                by_kind[carrier.kind] += 1
                mine = figures.get(carrier.id)
                tenants += mine["tenants"] if mine else 0
                if carrier.leasable_area is not None:
                    area = float(mine["occupied"]) if mine else 0.0
                    leasable += float(carrier.leasable_area)
                    occupied += area
                    vacant += max(float(carrier.leasable_area) - area, 0.0)
            latest = session.execute(
                select(IndicatorValue.year, IndicatorValue.period_kind, IndicatorValue.period)
                .order_by(IndicatorValue.year.desc(),
                          case((IndicatorValue.period_kind == "month", IndicatorValue.period),
                               else_=IndicatorValue.period * 3).desc(),
                          IndicatorValue.period_kind)
                .limit(1)).first()
            industries_total = session.execute(
                select(func.count()).select_from(LeadingIndustry)).scalar_one()
            return ZoneOverviewSchema().dump({
                "carriers": {"total": len(every), "by_kind": by_kind,
                             "leasable_area": round(leasable, 2),
                             "occupied_area": round(occupied, 2),
                             "vacant_area": round(vacant, 2), "tenants": tenants},
                "projects": projects.counts(session, today),
                "institutes": institutes.counts(session),
                "leading_industries": industries_total,
                "latest_period": Period(*latest).label if latest else None,
            })

    @rpc
    def list_carriers(self, query: dict[str, Any]) -> dict[str, Any]:
        q = load(CarrierQuerySchema(), query)
        with self.db.transaction() as session:
            page = carriers.listing(session, self.caller.principal, q)
        return {**page, "items": CarrierSchema(many=True).dump(page["items"])}

    @rpc
    def get_carrier(self, carrier_id: str) -> dict[str, Any]:
        with self.db.transaction() as session:
            return CarrierSchema().dump(carriers.show(session, self.caller.principal,
                                                      carrier_id))

    @rpc
    def create_carrier(self, payload: dict[str, Any]) -> dict[str, Any]:
        access.check_editor(self.caller.principal)
        data = load(CarrierCreateSchema(), payload)
        with self.db.transaction() as session:
            return CarrierSchema().dump(carriers.create(session, self.caller.principal, data))

    @rpc
    def update_carrier(self, carrier_id: str, payload: dict[str, Any],
                       expected_version: Any = None) -> dict[str, Any]:
        access.check_editor(self.caller.principal)
        data = load(CarrierUpdateSchema(), payload)
        in_body = data.pop("version", None)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            return CarrierSchema().dump(carriers.update(
                session, self.caller.principal, carrier_id, data,
                in_body if expected is None else expected))

    @rpc
    def list_carrier_tenants(self, carrier_id: str, query: dict[str, Any]) -> dict[str, Any]:
        access.check_reader(self.caller.principal)
        q = load(PageQuery(), query)
        with self.db.transaction() as session:
            return TenantPageSchema().dump(carriers.tenants(
                session, self.caller.principal, carrier_id, q))

    @rpc
    def record_tenancy(self, carrier_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        access.check_editor(self.caller.principal)
        data = load(TenancyCreateSchema(), payload)
        with self.db.transaction() as session:
            return TenancySchema().dump(carriers.record_tenancy(
                session, self.caller.principal, carrier_id, data, today_in_shanghai()))

    @rpc
    def end_tenancy(self, carrier_id: str, enterprise_id: str,
                    payload: dict[str, Any]) -> dict[str, Any]:
        access.check_editor(self.caller.principal)
        data = load(TenancyEndSchema(), payload)
        with self.db.transaction() as session:
            return TenancySchema().dump(carriers.end_tenancy(
                session, self.caller.principal, carrier_id, enterprise_id, data,
                today_in_shanghai()))
