"""Audiences (目标企业): which in-scope enterprises a policy, notice or meeting concerns.

An audience is a set of criteria resolved against the registry when it is used, so a policy
published today reaches the enterprises that match today. Criteria of different kinds are
combined with AND, the values of one criterion with OR; an empty audience means every
in-scope enterprise of the zone. Enterprises out of scope (迁出、注销) are never in an
audience.

- ``grid_ids``: the enterprise's grid (网格)
- ``industry_codes``: GB/T 4754 prefixes: ``C39`` (大类), ``C391``, ``C3911``
- ``scales``: micro, small, medium, large (企业规模)
- ``incubator_ids``: the incubator (孵化器) it sits in
- ``tags``: any of the enterprise's tags (e.g. 高新技术企业, 专精特新, a stage such as 初创期)
- ``listed``: True for listed enterprises (上市企业, the tag :data:`LISTED_TAG`), False for
  the others
- ``strengths``: keywords, any of which occurs in one of its strengths (优势)
- ``enterprise_ids``: named enterprises

A criterion given as an empty list is no criterion (it does not mean "nobody").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, any_, func, literal, not_, or_, select, tuple_
from sqlalchemy.orm import Session

from common.errors import field_error, invalid_fields
from common.validation import is_uuid
from services.enterprise.models import Enterprise, Grid

#: the tag that marks a listed enterprise (上市企业)
LISTED_TAG = "上市企业"

CRITERIA = ("grid_ids", "industry_codes", "scales", "incubator_ids", "tags", "listed",
            "strengths", "enterprise_ids")


def check_references(session: Session, spec: dict[str, Any]) -> None:
    """The grids, incubators and enterprises an audience names must exist: an unknown id is a
    422 naming its criterion (a typo would silently reach nobody)."""
    errors: dict[str, list[Any]] = {}
    for key in ("grid_ids", "incubator_ids"):
        wanted = set(spec.get(key) or [])
        if not wanted:
            continue
        query = select(Grid.id).where(Grid.id.in_(wanted))
        if key == "incubator_ids":
            query = query.where(Grid.kind == "incubator")
        unknown = sorted(wanted - set(session.execute(query).scalars()))
        if unknown and key == "grid_ids":
            errors[key] = [field_error("audience.unknown_grid", "no such grid: {ids}",
                                       ids=unknown)]
        elif unknown:
            errors[key] = [field_error("audience.unknown_incubator",
                                       "no such incubator: {ids}", ids=unknown)]
    wanted = set(spec.get("enterprise_ids") or [])
    if wanted:
        ids = {i for i in wanted if is_uuid(i)}
        known = set(session.execute(select(Enterprise.id).where(Enterprise.id.in_(ids)))
                    .scalars()) if ids else set()
        unknown = sorted(wanted - known)
        if unknown:
            errors["enterprise_ids"] = [field_error(
                "audience.unknown_enterprise", "no such enterprise: {ids}", ids=unknown)]
    if errors:
        raise invalid_fields(errors)


def audience_query(spec: dict[str, Any]) -> Select[str]:
    """SELECT the ids of the in-scope enterprises matching ``spec`` (already validated)."""
    query = select(Enterprise.id).where(Enterprise.in_scope.is_(True))
    for column, key in ((Enterprise.grid_id, "grid_ids"), (Enterprise.scale, "scales"),
                        (Enterprise.incubator_id, "incubator_ids"),
                        (Enterprise.id, "enterprise_ids")):
        values = spec.get(key)
        if values:
            query = query.where(column.in_(list(values)))
    if spec.get("industry_codes"):
        query = query.where(or_(*(Enterprise.industry_code.startswith(code.upper())
                                  for code in spec["industry_codes"])))
    if spec.get("tags"):
        query = query.where(Enterprise.tags.overlap(list(spec["tags"])))
    if spec.get("listed") is not None:
        listed = literal(LISTED_TAG) == any_(Enterprise.tags)
        query = query.where(listed if spec["listed"] else not_(listed))
    if spec.get("strengths"):
        joined = func.array_to_string(Enterprise.strengths, "\n")
        query = query.where(or_(*(joined.icontains(k, autoescape=True)
                                  for k in spec["strengths"])))
    return query


def resolve(session: Session, spec: dict[str, Any]) -> list[str]:
    """The ids of the in-scope enterprises in the audience, sorted."""
    return sorted(session.execute(audience_query(spec)).scalars())


def members(session: Session, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The in-scope enterprises in the audience with what a sender keeps of them (name, grid,
    industry code), sorted by id: one query, for a policy's recipient snapshot."""
    ids = audience_query(spec).subquery()
    rows = session.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.grid_id, Enterprise.industry_code)
        .join(ids, ids.c.id == Enterprise.id)
        .order_by(Enterprise.id)
    ).all()
    return [{"id": r.id, "name": r.name, "grid_id": r.grid_id, "industry_code": r.industry_code}
            for r in rows]


def count(session: Session, spec: dict[str, Any]) -> int:
    return session.execute(
        select(func.count()).select_from(audience_query(spec).subquery())).scalar_one()


def summary(session: Session, spec: dict[str, Any]) -> dict[str, Any]:
    """The audience preview (what the console shows while the audience is edited): how many
    in-scope enterprises it names, by grid and by industry division (GB/T 4754 大类, the
    code's first three characters), largest first; counted by PostgreSQL in one statement
    (``GROUPING SETS``: by grid, by division) over the audience's own WHERE. At 100,000
    enterprises, sending every member to be counted elsewhere took seconds."""
    division = func.substr(Enterprise.industry_code, 1, 3)
    rows = session.execute(
        audience_query(spec)
        .with_only_columns(func.grouping(Enterprise.grid_id).label("by_division"),
                           Enterprise.grid_id, division.label("division"), func.count())
        .group_by(func.grouping_sets(tuple_(Enterprise.grid_id), tuple_(division)))
    ).all()
    by_grid: dict[str | None, int] = {}
    by_industry: dict[str | None, int] = {}
    for by_division, grid_id, code, n in rows:
        if by_division:
            by_industry[code or None] = by_industry.get(code or None, 0) + n
        else:
            by_grid[grid_id] = n

    def ordered(counts: dict[str | None, int]) -> list[dict[str, Any]]:
        return [{"key": k, "count": n}
                for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))]

    return {"count": sum(by_grid.values()), "by_grid": ordered(by_grid),
            "by_industry": ordered(by_industry)}
