"""载体: incubators, industrial parks, office and factory buildings; their tenants, occupancy
and vacancy.

Rules (one home each):

- An incubator carrier may be linked to its incubator grid (孵化器网格, one carrier per grid).
- The **tenants** of a carrier are the in-scope enterprises located in it: those whose
  incubator is the carrier's grid, and those with an open tenancy (入驻记录: area, moved in,
  moved out). An enterprise that left scope (moved out, deregistered) is no tenant.
- **Occupied area** = the areas of the tenants' open tenancies (a tenant of the incubator
  without a tenancy record counts as a tenant of unknown area); **vacant area** = leasable
  area - occupied area; **occupancy rate** = occupied / leasable. A tenancy that would make the
  occupied area exceed the leasable area is refused.
- Enterprise users see the public vacancy information only: name, kind, address, location,
  leasable and vacant area, vacancy rate, opening day and the leasing contact.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from shapely.geometry import Point
from sqlalchemy import Select, and_, case, func, literal, or_, select, union
from sqlalchemy.orm import Session

from common.auth import Principal
from common.errors import Conflict, InvalidValue, NotFound, field_error, invalid_fields
from common.validation import is_uuid
from services.enterprise import geo, industry
from services.enterprise.models import Enterprise, Grid
from services.enterprise.zone import access
from services.enterprise.zone.models import Carrier, Tenancy

PUBLIC_FIELDS = ("id", "name", "kind", "address", "lon", "lat", "geometry", "leasable_area",
                 "vacant_area", "vacancy_rate", "leasing_contact", "leasing_phone", "opened_on")


# --------------------------------------------------------------------------- tenants


def tenants_relation() -> Any:
    """(carrier_id, enterprise_id, area, moved_in_on, source) of every current tenant: the
    in-scope enterprises of an incubator carrier's grid and those with an open tenancy.
    The one definition of "located in a carrier" (occupancy, tenants, the figures' carrier
    dimension)."""
    open_tenancy = and_(Tenancy.moved_out_on.is_(None))
    members = (
        select(Carrier.id.label("carrier_id"), Enterprise.id.label("enterprise_id"),
               Tenancy.area.label("area"), Tenancy.moved_in_on.label("moved_in_on"),
               literal("incubator").label("source"))
        .join(Enterprise, and_(Enterprise.incubator_id == Carrier.grid_id,
                               Enterprise.in_scope.is_(True)))
        .outerjoin(Tenancy, and_(Tenancy.carrier_id == Carrier.id,
                                 Tenancy.enterprise_id == Enterprise.id, open_tenancy))
        .where(Carrier.grid_id.is_not(None))
    )
    recorded = (
        select(Tenancy.carrier_id, Tenancy.enterprise_id, Tenancy.area, Tenancy.moved_in_on,
               literal("tenancy").label("source"))
        .join(Enterprise, and_(Enterprise.id == Tenancy.enterprise_id,
                               Enterprise.in_scope.is_(True)))
        .join(Carrier, Carrier.id == Tenancy.carrier_id)
        .where(open_tenancy, or_(Carrier.grid_id.is_(None),
                                 Enterprise.incubator_id.is_distinct_from(Carrier.grid_id)))
    )
    return union(members, recorded).subquery("carrier_tenants")


def occupancy(session: Session, carrier_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """carrier id -> tenants, occupied area, tenants without an area."""
    if not carrier_ids:
        return {}
    tenants = tenants_relation()
    rows = session.execute(
        select(tenants.c.carrier_id, func.count().label("tenants"),
               func.coalesce(func.sum(tenants.c.area), 0).label("occupied"),
               func.count().filter(tenants.c.area.is_(None)).label("unknown"))
        .where(tenants.c.carrier_id.in_(list(carrier_ids)))
        .group_by(tenants.c.carrier_id)
    ).all()
    return {r.carrier_id: {"tenants": r.tenants, "occupied": Decimal(r.occupied),
                           "unknown": r.unknown} for r in rows}


def _figures(carrier: Carrier, occupied: Mapping[str, Any] | None) -> dict[str, Any]:
    occupied = occupied or {"tenants": 0, "occupied": Decimal(0), "unknown": 0}
    leasable = carrier.leasable_area
    area = occupied["occupied"]
    vacant = max(leasable - area, Decimal(0)) if leasable is not None else None
    rate = (float(area / leasable) if leasable else None)
    return {
        "tenants": occupied["tenants"], "tenants_without_area": occupied["unknown"],
        "occupied_area": float(area), "vacant_area": None if vacant is None else float(vacant),
        "occupancy_rate": None if rate is None else round(rate, 4),
        "vacancy_rate": None if rate is None else round(max(1 - rate, 0.0), 4),
    }


def dump(principal: Principal, carrier: Carrier, occupied: Mapping[str, Any] | None,
         grid_names: Mapping[str, str]) -> dict[str, Any]:
    """A carrier as the caller may see it (enterprise users: :data:`PUBLIC_FIELDS`)."""
    figures = _figures(carrier, occupied)
    full = {
        "id": carrier.id, "name": carrier.name, "kind": carrier.kind,
        "operator": carrier.operator, "address": carrier.address,
        "geometry": carrier.geometry, "lon": carrier.lon, "lat": carrier.lat,
        "floor_area": _number(carrier.floor_area),
        "leasable_area": _number(carrier.leasable_area),
        "grid_id": carrier.grid_id, "grid_name": grid_names.get(carrier.grid_id or ""),
        "leasing_contact": carrier.leasing_contact, "leasing_phone": carrier.leasing_phone,
        "opened_on": carrier.opened_on, "note": carrier.note, **figures,
        "version": carrier.version, "created_at": carrier.created_at,
        "updated_at": carrier.updated_at,
    }
    if access.is_public(principal):
        return {key: full[key] for key in PUBLIC_FIELDS}
    return full


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- reading


def _grid_names(session: Session, carriers: Sequence[Carrier]) -> dict[str, str]:
    ids = {c.grid_id for c in carriers if c.grid_id}
    if not ids:
        return {}
    return dict(session.execute(select(Grid.id, Grid.name).where(Grid.id.in_(ids))).all())


def get_carrier(session: Session, carrier_id: str, lock: bool = False) -> Carrier:
    carrier = session.get(Carrier, carrier_id, with_for_update=lock) \
        if is_uuid(carrier_id) else None
    if carrier is None:
        raise NotFound("no such carrier", code="zone.carrier_not_found")
    return carrier


def show(session: Session, principal: Principal, carrier_id: str) -> dict[str, Any]:
    carrier = get_carrier(session, carrier_id)
    return dump(principal, carrier, occupancy(session, [carrier.id]).get(carrier.id),
                _grid_names(session, [carrier]))


def _occupied_expression(tenants: Any) -> Any:
    return (select(func.coalesce(func.sum(tenants.c.area), 0))
            .where(tenants.c.carrier_id == Carrier.id).scalar_subquery())


def _vacancy_expression(tenants: Any) -> Any:
    occupied = _occupied_expression(tenants)
    return case((Carrier.leasable_area > 0,
                 func.greatest(Carrier.leasable_area - occupied, 0) / Carrier.leasable_area),
                else_=None)


def listing(session: Session, principal: Principal, q: dict[str, Any]) -> dict[str, Any]:
    """Carriers by kind, name, operator, grid, vacant area and vacancy; sorted by name or
    vacancy rate."""
    query: Select = select(Carrier)
    if q.get("kind"):
        query = query.where(Carrier.kind == q["kind"])
    if q.get("q"):
        query = query.where(Carrier.name.contains(q["q"], autoescape=True))
    if q.get("grid_id"):
        query = query.where(Carrier.grid_id == q["grid_id"])
    if q.get("operator") and not access.is_public(principal):  # not public information
        query = query.where(Carrier.operator.contains(q["operator"], autoescape=True))
    if q.get("min_vacant_area") is not None:
        vacant = func.greatest(Carrier.leasable_area
                               - _occupied_expression(tenants_relation()), 0)
        query = query.where(vacant >= q["min_vacant_area"])
    vacancy = _vacancy_expression(tenants_relation())
    if q.get("has_vacancy") is not None:
        query = query.where(vacancy > 0 if q["has_vacancy"] else func.coalesce(vacancy, 0) <= 0)
    sort = q.get("sort", "name")
    order = {"name": (Carrier.name,), "-vacancy_rate": (vacancy.desc().nulls_last(),
                                                          Carrier.name),
             "vacancy_rate": (vacancy.asc().nulls_last(), Carrier.name),
             "kind": (Carrier.kind, Carrier.name)}[sort]
    rows, total = access.page(session, query.order_by(*order, Carrier.id), q)
    carriers = [r[0] for r in rows]
    figures = occupancy(session, [c.id for c in carriers])
    names = _grid_names(session, carriers)
    return {"items": [dump(principal, c, figures.get(c.id), names) for c in carriers],
            "total": total, "page": q["page"], "per_page": q["per_page"]}


def tenants(session: Session, principal: Principal, carrier_id: str,
            q: dict[str, Any]) -> dict[str, Any]:
    """The tenants of a carrier by name: enterprise, industry, grid, area and since when."""
    access.check_reader(principal)
    carrier = get_carrier(session, carrier_id)
    relation = tenants_relation()
    query = (
        select(relation.c.enterprise_id, relation.c.area, relation.c.moved_in_on,
               relation.c.source, Enterprise.name, Enterprise.industry_code, Enterprise.scale,
               Enterprise.grid_id, Grid.name.label("grid_name"))
        .join(Enterprise, Enterprise.id == relation.c.enterprise_id)
        .outerjoin(Grid, Grid.id == Enterprise.grid_id)
        .where(relation.c.carrier_id == carrier.id)
        .order_by(Enterprise.name, relation.c.enterprise_id)
    )
    rows, total = access.page(session, query, q)
    return {"carrier_id": carrier.id, "carrier_name": carrier.name, "items": [{
        "enterprise_id": r.enterprise_id, "enterprise_name": r.name,
        "industry_code": r.industry_code,
        "industry_name": industry.division_name(r.industry_code), "scale": r.scale,
        "grid_id": r.grid_id, "grid_name": r.grid_name, "area": _number(r.area),
        "moved_in_on": r.moved_in_on, "source": r.source,
    } for r in rows], "total": total, "page": q["page"], "per_page": q["per_page"]}


# --------------------------------------------------------------------------- writing


def _place(data: dict[str, Any]) -> None:
    """Check ``geometry`` (GeoJSON Point, Polygon or MultiPolygon) and derive lon/lat from it;
    a bare lon/lat becomes a Point."""
    geometry = data.get("geometry")
    if geometry is None:
        if data.get("lon") is not None and data.get("lat") is not None:
            data["geometry"] = {"type": "Point", "coordinates": [data["lon"], data["lat"]]}
        return
    try:
        if geometry.get("type") == "Point":
            coordinates = geometry.get("coordinates")
            if (not isinstance(coordinates, list) or len(coordinates) not in (2, 3)
                    or not all(isinstance(c, int | float) and not isinstance(c, bool)
                               and math.isfinite(c) for c in coordinates)):
                raise InvalidValue("zone.point_invalid", "a Point has coordinates [lon, lat]")
            lon, lat = float(coordinates[0]), float(coordinates[1])
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InvalidValue("zone.point_out_of_range",
                                   "lon must lie in [-180, 180] and lat in [-90, 90]")
            point = Point(lon, lat)
        else:
            point = geo.parse_polygon(geometry).representative_point()
    except InvalidValue as exc:
        raise invalid_fields({"geometry": [exc.item()]}) from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise invalid_fields({"geometry": [field_error(
            "zone.geometry_invalid", "not a GeoJSON Point, Polygon or MultiPolygon")]},
            code="zone.geometry_invalid") from exc
    data["lon"], data["lat"] = round(point.x, 6), round(point.y, 6)


def _check_grid(session: Session, data: dict[str, Any], carrier: Carrier | None) -> None:
    kind = data.get("kind", carrier.kind if carrier else None)
    grid_id = data.get("grid_id", carrier.grid_id if carrier else None)
    if grid_id is None:
        return
    grid = session.get(Grid, grid_id)
    if kind != "incubator" or grid is None or grid.kind != "incubator":
        raise invalid_fields({"grid_id": [field_error(
            "zone.carrier_grid_invalid", "only an incubator carrier links an incubator grid")]},
            code="zone.carrier_grid_invalid")
    taken = session.execute(select(Carrier.id).where(
        Carrier.grid_id == grid_id, Carrier.id != (carrier.id if carrier else None))
    ).first()
    if taken:
        raise Conflict("the incubator grid {grid} already has its carrier",
                       {"grid_id": [field_error("zone.carrier_grid_taken",
                                                "already linked to another carrier")]},
                       code="zone.carrier_grid_taken", params={"grid": grid.name})
    if carrier is None or "grid_id" in data:
        for key, value in (("address", grid.address), ("lon", grid.lon), ("lat", grid.lat)):
            if data.get(key) is None and (carrier is None or getattr(carrier, key) is None):
                data[key] = value
        if data.get("geometry") is None and data.get("lon") is not None:
            data["geometry"] = {"type": "Point", "coordinates": [data["lon"], data["lat"]]}


def _check_areas(floor: Decimal | None, leasable: Decimal | None) -> None:
    if floor is not None and leasable is not None and leasable > floor:
        raise invalid_fields({"leasable_area": [field_error(
            "zone.leasable_exceeds_floor", "may not exceed the floor area")]},
            code="zone.leasable_exceeds_floor")


def _unique_name(session: Session, name: str, carrier_id: str | None) -> None:
    if session.execute(select(Carrier.id).where(Carrier.name == name,
                                                Carrier.id != carrier_id)).first():
        raise Conflict("a carrier named {name} exists already",
                       {"name": [field_error("zone.name_taken", "already used")]},
                       code="zone.carrier_name_taken", params={"name": name})


def create(session: Session, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    access.check_editor(principal)
    data = dict(data)
    _unique_name(session, data["name"], None)
    _place(data)
    _check_grid(session, data, None)
    _check_areas(data.get("floor_area"), data.get("leasable_area"))
    now = datetime.now(UTC)
    carrier = Carrier(id=str(uuid.uuid4()), created_by=principal.user_id, created_at=now,
                      updated_at=now, version=1, **data)
    session.add(carrier)
    session.flush()
    return show(session, principal, carrier.id)


def update(session: Session, principal: Principal, carrier_id: str, data: dict[str, Any],
           expected: int | None) -> dict[str, Any]:
    access.check_editor(principal)
    carrier = get_carrier(session, carrier_id, lock=True)
    access.check_version(carrier.version, expected, "carrier")
    data = dict(data)
    if "name" in data:
        _unique_name(session, data["name"], carrier.id)
    if "geometry" in data or ("lon" in data and "lat" in data):
        data.setdefault("geometry", None)
        _place(data)
    _check_grid(session, data, carrier)
    _check_areas(data.get("floor_area", carrier.floor_area),
                 data.get("leasable_area", carrier.leasable_area))
    if "leasable_area" in data and data["leasable_area"] is not None:
        occupied = occupancy(session, [carrier.id]).get(carrier.id)
        if occupied and occupied["occupied"] > data["leasable_area"]:
            raise invalid_fields({"leasable_area": [field_error(
                "zone.leasable_below_occupied", "less than the {occupied} m² already let",
                occupied=float(occupied["occupied"]))]}, code="zone.leasable_below_occupied")
    changed = {k: v for k, v in data.items() if getattr(carrier, k) != v}
    for key, value in changed.items():
        setattr(carrier, key, value)
    if changed:
        access.touch(carrier, datetime.now(UTC))
    session.flush()
    return show(session, principal, carrier.id)


def _enterprise(session: Session, enterprise_id: str) -> Enterprise:
    enterprise = session.get(Enterprise, enterprise_id) if is_uuid(enterprise_id) else None
    if enterprise is None:
        raise invalid_fields({"enterprise_id": [field_error(
            "zone.enterprise_unknown", "no such enterprise")]}, code="zone.enterprise_unknown")
    return enterprise


def record_tenancy(session: Session, principal: Principal, carrier_id: str,
                   data: dict[str, Any], today: date) -> dict[str, Any]:
    """入驻: an enterprise occupies ``area`` m² from ``moved_in_on``; recording it again for an
    open tenancy changes its area and day. Refused beyond the leasable area."""
    access.check_editor(principal)
    carrier = get_carrier(session, carrier_id, lock=True)
    enterprise = _enterprise(session, data["enterprise_id"])
    moved_in = data.get("moved_in_on") or today
    if moved_in > today:
        raise invalid_fields({"moved_in_on": [field_error(
            "zone.date_in_future", "may not lie in the future")]}, code="zone.date_in_future")
    tenancy = session.execute(select(Tenancy).where(
        Tenancy.carrier_id == carrier.id, Tenancy.enterprise_id == enterprise.id,
        Tenancy.moved_out_on.is_(None)).with_for_update()).scalar_one_or_none()
    area = data.get("area")
    if area is not None and carrier.leasable_area is not None:
        occupied = occupancy(session, [carrier.id]).get(carrier.id)
        taken = occupied["occupied"] if occupied else Decimal(0)
        if tenancy is not None and tenancy.area is not None and enterprise.in_scope:
            taken -= tenancy.area
        if taken + area > carrier.leasable_area:
            raise invalid_fields({"area": [field_error(
                "zone.tenancy_exceeds_leasable",
                "only {free} m² of the carrier's leasable area are free",
                free=float(max(carrier.leasable_area - taken, Decimal(0))))]},
                code="zone.tenancy_exceeds_leasable")
    now = datetime.now(UTC)
    if tenancy is None:
        tenancy = Tenancy(carrier_id=carrier.id, enterprise_id=enterprise.id,
                          recorded_by=principal.user_id)
        session.add(tenancy)
    tenancy.area, tenancy.moved_in_on, tenancy.recorded_at = area, moved_in, now
    tenancy.recorded_by = principal.user_id
    access.touch(carrier, now)
    session.flush()
    return _tenancy_dump(tenancy, enterprise)


def end_tenancy(session: Session, principal: Principal, carrier_id: str, enterprise_id: str,
                data: dict[str, Any], today: date) -> dict[str, Any]:
    """迁出: the open tenancy ends on ``moved_out_on`` (default today)."""
    access.check_editor(principal)
    carrier = get_carrier(session, carrier_id, lock=True)
    tenancy = session.execute(select(Tenancy).where(
        Tenancy.carrier_id == carrier.id, Tenancy.enterprise_id == enterprise_id,
        Tenancy.moved_out_on.is_(None)).with_for_update()).scalar_one_or_none() \
        if is_uuid(enterprise_id) else None
    if tenancy is None:
        raise NotFound("no open tenancy of this enterprise in this carrier",
                       code="zone.tenancy_not_found")
    moved_out = data.get("moved_out_on") or today
    if moved_out > today or moved_out < tenancy.moved_in_on:
        raise invalid_fields({"moved_out_on": [field_error(
            "zone.moved_out_invalid", "must lie between the move-in day and today")]},
            code="zone.moved_out_invalid")
    tenancy.moved_out_on = moved_out
    tenancy.recorded_by, tenancy.recorded_at = principal.user_id, datetime.now(UTC)
    access.touch(carrier, tenancy.recorded_at)
    session.flush()
    return _tenancy_dump(tenancy, session.get(Enterprise, tenancy.enterprise_id))


def _tenancy_dump(tenancy: Tenancy, enterprise: Enterprise | None) -> dict[str, Any]:
    return {"carrier_id": tenancy.carrier_id, "enterprise_id": tenancy.enterprise_id,
            "enterprise_name": enterprise.name if enterprise else None,
            "area": _number(tenancy.area), "moved_in_on": tenancy.moved_in_on,
            "moved_out_on": tenancy.moved_out_on, "recorded_by": tenancy.recorded_by,
            "recorded_at": tenancy.recorded_at}
