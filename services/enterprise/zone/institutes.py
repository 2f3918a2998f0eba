"""科研机构: research institutes of the zone, their level, fields (GB/T 4754 codes and tags),
host (an enterprise of the registry, a university or another body), platforms and labs, and the
enterprises that work with them (产学研合作)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, any_, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from common.auth import Principal
from common.errors import Conflict, NotFound, field_error, invalid_fields
from common.validation import is_uuid
from services.enterprise import industry
from services.enterprise.models import Enterprise
from services.enterprise.zone import access
from services.enterprise.zone.models import Institute, InstitutePartner


def get_institute(session: Session, institute_id: str, lock: bool = False) -> Institute:
    found = session.get(Institute, institute_id, with_for_update=lock) \
        if is_uuid(institute_id) else None
    if found is None:
        raise NotFound("no such research institute", code="zone.institute_not_found")
    return found


def _partners(session: Session, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    if ids:
        rows = session.execute(
            select(InstitutePartner.institute_id, Enterprise.id, Enterprise.name,
                   Enterprise.grid_id)
            .join(Enterprise, Enterprise.id == InstitutePartner.enterprise_id)
            .where(InstitutePartner.institute_id.in_(list(ids)))
            .order_by(Enterprise.name)
        ).all()
        for institute_id, enterprise_id, name, grid_id in rows:
            found.setdefault(institute_id, []).append(
                {"enterprise_id": enterprise_id, "name": name, "grid_id": grid_id})
    return found


def dump_many(session: Session, institutes: Sequence[Institute]) -> list[dict[str, Any]]:
    partners = _partners(session, [i.id for i in institutes])
    hosts = {i.host_enterprise_id for i in institutes if i.host_enterprise_id}
    host_names = dict(session.execute(select(Enterprise.id, Enterprise.name).where(
        Enterprise.id.in_(hosts))).all()) if hosts else {}
    return [{
        "id": i.id, "name": i.name, "level": i.level,
        "fields_": [{"code": c, "name": industry.division_name(c)} for c in i.industry_codes],
        "industry_codes": list(i.industry_codes), "tags": list(i.tags),
        "host_kind": i.host_kind, "host_enterprise_id": i.host_enterprise_id,
        "host_name": host_names.get(i.host_enterprise_id or "", i.host_name),
        "platforms": list(i.platforms), "address": i.address, "lon": i.lon, "lat": i.lat,
        "recognized_on": i.recognized_on, "note": i.note,
        "partners": partners.get(i.id, []), "version": i.version,
        "created_at": i.created_at, "updated_at": i.updated_at,
    } for i in institutes]


def show(session: Session, principal: Principal, institute_id: str) -> dict[str, Any]:
    access.check_reader(principal)
    return dump_many(session, [get_institute(session, institute_id)])[0]


def listing(session: Session, principal: Principal, q: dict[str, Any]) -> dict[str, Any]:
    """By name, level, field (a code prefix: C39 also finds C3971), tag, partner enterprise."""
    access.check_reader(principal)
    query: Select = select(Institute)
    if q.get("q"):
        query = query.where(or_(Institute.name.contains(q["q"], autoescape=True),
                                Institute.host_name.contains(q["q"], autoescape=True)))
    if q.get("level"):
        query = query.where(Institute.level == q["level"])
    if q.get("industry"):
        query = query.where(_code_prefix(q["industry"].upper()))
    if q.get("tag"):
        query = query.where(literal(q["tag"]) == any_(Institute.tags))
    if q.get("enterprise_id"):
        query = query.where(Institute.id.in_(select(InstitutePartner.institute_id).where(
            InstitutePartner.enterprise_id == q["enterprise_id"])))
    rows, total = access.page(session, query.order_by(Institute.name, Institute.id), q)
    return {"items": dump_many(session, [r[0] for r in rows]), "total": total,
            "page": q["page"], "per_page": q["per_page"]}


def _code_prefix(prefix: str) -> Any:
    """An institute with a field code starting with ``prefix`` (C39 finds C39 and C3971)."""
    codes = func.unnest(Institute.industry_codes).table_valued("code").render_derived()
    return select(literal_column("1")).select_from(codes).where(
        codes.c.code.startswith(prefix)).exists()


def _check(session: Session, data: dict[str, Any], current: Institute | None) -> None:
    host_kind = data.get("host_kind", current.host_kind if current else None)
    host_enterprise_id = data.get("host_enterprise_id",
                                  current.host_enterprise_id if current else None)
    if host_kind == "enterprise":
        if not host_enterprise_id:
            raise invalid_fields({"host_enterprise_id": [field_error(
                "zone.host_missing", "an institute hosted by an enterprise names it")]},
                code="zone.host_missing")
        if session.get(Enterprise, host_enterprise_id) is None:
            raise invalid_fields({"host_enterprise_id": [field_error(
                "zone.enterprise_unknown", "no such enterprise")]}, code="zone.enterprise_unknown")
    elif host_enterprise_id:
        raise invalid_fields({"host_enterprise_id": [field_error(
            "zone.host_not_enterprise", "only an institute hosted by an enterprise names one")]},
            code="zone.host_not_enterprise")
    elif not data.get("host_name", current.host_name if current else None):
        raise invalid_fields({"host_name": [field_error(
            "zone.host_missing", "name the host")]}, code="zone.host_missing")
    partners = data.get("partner_enterprise_ids")
    if partners:
        known = set(session.execute(select(Enterprise.id).where(
            Enterprise.id.in_(partners))).scalars())
        if len(known) != len(set(partners)):
            raise invalid_fields({"partner_enterprise_ids": [field_error(
                "zone.enterprise_unknown", "no such enterprise")]}, code="zone.enterprise_unknown")
    name = data.get("name")
    if name and session.execute(select(Institute.id).where(
            Institute.name == name, Institute.id != (current.id if current else None))).first():
        raise Conflict("an institute named {name} exists already",
                       {"name": [field_error("zone.name_taken", "already used")]},
                       code="zone.institute_name_taken", params={"name": name})


def _set_partners(session: Session, institute: Institute, ids: Sequence[str], actor: str
                  ) -> None:
    wanted = list(dict.fromkeys(ids))
    current = set(session.execute(select(InstitutePartner.enterprise_id).where(
        InstitutePartner.institute_id == institute.id)).scalars())
    for gone in current - set(wanted):
        session.delete(session.get(InstitutePartner, (institute.id, gone)))
    for new in [i for i in wanted if i not in current]:
        session.add(InstitutePartner(institute_id=institute.id, enterprise_id=new,
                                     recorded_by=actor))


def create(session: Session, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    access.check_editor(principal)
    data = dict(data)
    _check(session, data, None)
    partners = data.pop("partner_enterprise_ids", [])
    if data.get("host_kind") == "enterprise":
        data["host_name"] = None
    now = datetime.now(UTC)
    institute = Institute(id=str(uuid.uuid4()), created_by=principal.user_id, created_at=now,
                          updated_at=now, version=1, **data)
    session.add(institute)
    session.flush()
    _set_partners(session, institute, partners, principal.user_id)
    session.flush()
    return dump_many(session, [institute])[0]


def update(session: Session, principal: Principal, institute_id: str, data: dict[str, Any],
           expected: int | None) -> dict[str, Any]:
    access.check_editor(principal)
    institute = get_institute(session, institute_id, lock=True)
    access.check_version(institute.version, expected, "institute")
    data = dict(data)
    _check(session, data, institute)
    partners = data.pop("partner_enterprise_ids", None)
    if data.get("host_kind", institute.host_kind) != "enterprise":
        data.setdefault("host_enterprise_id", None)
    else:
        data["host_name"] = None
    changed = {k: v for k, v in data.items() if getattr(institute, k) != v}
    for key, value in changed.items():
        setattr(institute, key, value)
    if partners is not None:
        before = {p["enterprise_id"] for p in _partners(session, [institute.id]).get(
            institute.id, [])}
        if before != set(partners):
            _set_partners(session, institute, partners, principal.user_id)
            changed["partners"] = True
    if changed:
        access.touch(institute, datetime.now(UTC))
    session.flush()
    return dump_many(session, [institute])[0]


def counts(session: Session) -> dict[str, Any]:
    rows = dict(session.execute(select(Institute.level, func.count())
                                .group_by(Institute.level)).all())
    return {"total": sum(rows.values()), "by_level": {
        level: rows.get(level, 0) for level in ("national", "provincial", "municipal")}}
