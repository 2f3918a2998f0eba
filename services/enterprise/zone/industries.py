"""主导产业 and their chain maps (产业链图谱).

Rules (one home each):

- An enterprise **falls into** a leading industry when its GB/T 4754 code starts with one of
  the industry's codes (``C39`` takes ``C3971``) or it carries one of the industry's tags.
  Admins edit the codes and tags; membership follows at once (nothing is copied).
- A **chain link** (环节) is provided by an in-scope enterprise whose code starts with one of
  the link's codes, or that carries one of its keywords as a tag, or names one inside a
  strength (优势资源). A link nobody in the zone provides is a **gap** (补链, for 招商部).
- The profiles' upstream and downstream entries (上下游) of the industry's in-scope members are
  the chain as the enterprises record it: each entry is matched to a link when one of the
  link's keywords occurs in it (or it is the link's name); unmatched entries are listed with
  how many members name them and how many enterprises of the zone could provide them, so an
  entry that nobody provides is a gap the profiles reveal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, any_, delete, false, func, literal, or_, select
from sqlalchemy.orm import Session

from common.auth import Principal
from common.errors import Conflict, NotFound, field_error, invalid_fields
from services.enterprise import industry
from services.enterprise.models import Enterprise, Grid
from services.enterprise.zone import access
from services.enterprise.zone.models import ChainLink, LeadingIndustry
from services.enterprise.zone.vocabulary import CHAIN_STAGES

#: how many providers a link lists by name, and how many unmatched profile entries are shown
SAMPLE_PROVIDERS = 5
UNMATCHED_SHOWN = 20


def get_industry(session: Session, industry_id: str, lock: bool = False) -> LeadingIndustry:
    found = session.get(LeadingIndustry, industry_id, with_for_update=lock) \
        if isinstance(industry_id, str) and 0 < len(industry_id) <= 40 else None
    if found is None:
        raise NotFound("no such leading industry", code="zone.industry_not_found")
    return found


# --------------------------------------------------------------------------- membership


def _by_codes(codes: Sequence[str]) -> Any:
    return or_(false(), *[Enterprise.industry_code.startswith(c) for c in codes])


def member_clause(item: LeadingIndustry) -> Any:
    """WHERE over Enterprise: the enterprises that fall into ``item``."""
    parts = [_by_codes(item.industry_codes)]
    if item.tags:
        parts.append(Enterprise.tags.overlap(list(item.tags)))
    return or_(*parts)


def membership_relation() -> Any:
    """(key = industry id, enterprise_id) of every enterprise in every leading industry (in
    scope or not: the figures of an enterprise stay its industry's), one SQL relation."""
    codes = func.unnest(LeadingIndustry.industry_codes).table_valued("code").render_derived(
        name="li_code")
    by_code = (select(literal(1)).select_from(codes)
               .where(Enterprise.industry_code.startswith(codes.c.code)).exists())
    return (
        select(LeadingIndustry.id.label("key"), Enterprise.id.label("enterprise_id"))
        .join(Enterprise, or_(by_code, Enterprise.tags.overlap(LeadingIndustry.tags)))
        .subquery("leading_industry_members")
    )


def provides(link: ChainLink) -> Any:
    """WHERE over Enterprise: the enterprises that provide a chain link."""
    parts = [_by_codes(link.industry_codes)]
    if link.keywords:
        parts.append(Enterprise.tags.overlap(list(link.keywords)))
        strengths = func.array_to_string(Enterprise.strengths, "\u241f")
        parts += [strengths.contains(k, autoescape=True) for k in link.keywords]
    return or_(*parts)


def _member_counts(session: Session, items: Sequence[LeadingIndustry]) -> dict[str, int]:
    counts = {}
    for item in items:
        counts[item.id] = session.execute(select(func.count()).select_from(Enterprise).where(
            Enterprise.in_scope.is_(True), member_clause(item))).scalar_one()
    return counts


def dump(item: LeadingIndustry, members: int | None, public: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": item.id, "name": item.name, "description": item.description,
        "industry_codes": list(item.industry_codes),
        "fields_": [{"code": c, "name": industry.division_name(c)} for c in item.industry_codes],
        "tags": list(item.tags), "position": item.position,
    }
    if not public:
        result |= {"enterprises": members, "version": item.version,
                   "created_at": item.created_at, "updated_at": item.updated_at}
    return result


def listing(session: Session, principal: Principal) -> dict[str, Any]:
    items = list(session.execute(select(LeadingIndustry).order_by(
        LeadingIndustry.position, LeadingIndustry.name)).scalars())
    public = access.is_public(principal)
    counts = {} if public else _member_counts(session, items)
    return {"items": [dump(i, counts.get(i.id), public) for i in items], "total": len(items)}


def show(session: Session, principal: Principal, industry_id: str) -> dict[str, Any]:
    item = get_industry(session, industry_id)
    public = access.is_public(principal)
    return dump(item, None if public else _member_counts(session, [item])[item.id], public)


def members(session: Session, principal: Principal, industry_id: str,
            q: dict[str, Any]) -> dict[str, Any]:
    """The in-scope enterprises of a leading industry, by name, with why they fall into it."""
    access.check_reader(principal)
    item = get_industry(session, industry_id)
    query: Select = (
        select(Enterprise, Grid.name.label("grid_name"))
        .outerjoin(Grid, Grid.id == Enterprise.grid_id)
        .where(Enterprise.in_scope.is_(True), member_clause(item))
        .order_by(Enterprise.name, Enterprise.id)
    )
    rows, total = access.page(session, query, q)
    tags = set(item.tags)
    return {"industry_id": item.id, "industry_name": item.name, "items": [{
        "enterprise_id": e.id, "name": e.name, "industry_code": e.industry_code,
        "industry_name": industry.division_name(e.industry_code), "scale": e.scale,
        "grid_id": e.grid_id, "grid_name": grid_name,
        "matched_by": "industry_code" if any(e.industry_code.startswith(c)
                                             for c in item.industry_codes) else "tag",
        "matched_tags": sorted(tags & set(e.tags or [])),
    } for e, grid_name in rows], "total": total, "page": q["page"], "per_page": q["per_page"]}


# --------------------------------------------------------------------------- chain map


def links_of(session: Session, industry_id: str) -> list[ChainLink]:
    order = {stage: i for i, stage in enumerate(CHAIN_STAGES)}
    rows = list(session.execute(select(ChainLink).where(
        ChainLink.industry_id == industry_id)).scalars())
    return sorted(rows, key=lambda link: (order[link.stage], link.position, link.id))


def _matches(link: ChainLink, term: str) -> bool:
    return term == link.name or any(k in term for k in link.keywords)


def chain_map(session: Session, principal: Principal, industry_id: str) -> dict[str, Any]:
    """The chain of a leading industry: each link with its providers in the zone and how many
    members' profiles name it; the gaps (补链); the profile entries no link covers."""
    access.check_reader(principal)
    item = get_industry(session, industry_id)
    links = links_of(session, item.id)
    in_scope = Enterprise.in_scope.is_(True)
    member_count = session.execute(select(func.count()).select_from(Enterprise).where(
        in_scope, member_clause(item))).scalar_one()
    mentions = _mentions(session, item)
    stages: dict[str, list[dict[str, Any]]] = {stage: [] for stage in CHAIN_STAGES}
    gaps = []
    for link in links:
        count = session.execute(select(func.count()).select_from(Enterprise).where(
            in_scope, provides(link))).scalar_one()
        sample = session.execute(select(Enterprise.id, Enterprise.name).where(
            in_scope, provides(link)).order_by(Enterprise.name).limit(SAMPLE_PROVIDERS)).all()
        named = {member for (term, _side), who in mentions.items() if _matches(link, term)
                 for member in who}
        row = {"id": link.id, "name": link.name, "stage": link.stage,
               "industry_codes": list(link.industry_codes), "keywords": list(link.keywords),
               "description": link.description, "present": count > 0, "providers": count,
               "sample_providers": [{"enterprise_id": i, "name": n} for i, n in sample],
               "mentioned_by": len(named)}
        stages[link.stage].append(row)
        if count == 0:
            gaps.append({"link_id": link.id, "name": link.name, "stage": link.stage,
                         "mentioned_by": len(named)})
    unmatched = [(term, side, len(who)) for (term, side), who in mentions.items()
                 if not any(_matches(link, term) for link in links)]
    unmatched.sort(key=lambda t: (-t[2], t[0], t[1]))
    entries = []
    for term, side, named_by in unmatched[:UNMATCHED_SHOWN]:
        providers = session.execute(select(func.count()).select_from(Enterprise).where(
            in_scope, or_(literal(term) == any_(Enterprise.tags), func.array_to_string(
                Enterprise.strengths, "\u241f").contains(term, autoescape=True)))).scalar_one()
        entries.append({"term": term, "side": side, "mentioned_by": named_by,
                        "providers": providers})
    return {
        "industry_id": item.id, "industry_name": item.name, "members": member_count,
        "links": sum(len(v) for v in stages.values()), "present": sum(
            1 for v in stages.values() for link in v if link["present"]),
        "stages": [{"stage": stage, "links": stages[stage]} for stage in CHAIN_STAGES],
        "gaps": gaps, "profile_entries": entries,
        "version": item.version,
    }


def _mentions(session: Session, item: LeadingIndustry) -> dict[tuple[str, str], set[str]]:
    """(entry, upstream|downstream) -> the in-scope members whose profile records it."""
    found: dict[tuple[str, str], set[str]] = {}
    for side, column in (("upstream", Enterprise.upstream),
                         ("downstream", Enterprise.downstream)):
        term = func.unnest(column).label("term")
        rows = session.execute(select(Enterprise.id, term).where(
            Enterprise.in_scope.is_(True), member_clause(item))).all()
        for enterprise_id, text in rows:
            if text and text.strip():
                found.setdefault((text.strip(), side), set()).add(enterprise_id)
    return found


# --------------------------------------------------------------------------- writing


def _unique_name(session: Session, name: str, industry_id: str | None) -> None:
    if session.execute(select(LeadingIndustry.id).where(
            LeadingIndustry.name == name, LeadingIndustry.id != industry_id)).first():
        raise Conflict("a leading industry named {name} exists already",
                       {"name": [field_error("zone.name_taken", "already used")]},
                       code="zone.industry_name_taken", params={"name": name})


def _needs_a_rule(codes: Sequence[str], tags: Sequence[str]) -> None:
    if not codes and not tags:
        raise invalid_fields({"industry_codes": [field_error(
            "zone.industry_rule_missing", "give industry codes, tags or both")]},
            code="zone.industry_rule_missing")


def create(session: Session, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    access.check_editor(principal, access.ADMINS)
    if session.get(LeadingIndustry, data["id"]) is not None:
        raise Conflict("a leading industry {id} exists already",
                       {"id": [field_error("zone.id_taken", "already used")]},
                       code="zone.industry_id_taken", params={"id": data["id"]})
    _unique_name(session, data["name"], None)
    _needs_a_rule(data.get("industry_codes", []), data.get("tags", []))
    now = datetime.now(UTC)
    item = LeadingIndustry(created_at=now, updated_at=now, version=1, **data)
    session.add(item)
    session.flush()
    return dump(item, _member_counts(session, [item])[item.id], False)


def update(session: Session, principal: Principal, industry_id: str, data: dict[str, Any],
           expected: int | None) -> dict[str, Any]:
    access.check_editor(principal, access.ADMINS)
    item = get_industry(session, industry_id, lock=True)
    access.check_version(item.version, expected, "leading_industry")
    if "name" in data:
        _unique_name(session, data["name"], item.id)
    _needs_a_rule(data.get("industry_codes", item.industry_codes),
                  data.get("tags", item.tags))
    changed = {k: v for k, v in data.items() if getattr(item, k) != v}
    for key, value in changed.items():
        setattr(item, key, value)
    if changed:
        access.touch(item, datetime.now(UTC))
    session.flush()
    return dump(item, _member_counts(session, [item])[item.id], False)


def set_chain(session: Session, principal: Principal, industry_id: str,
              links: list[dict[str, Any]], expected: int | None) -> dict[str, Any]:
    """Replace the chain of an industry (admins); the industry's version counts the change."""
    access.check_editor(principal, access.ADMINS)
    item = get_industry(session, industry_id, lock=True)
    access.check_version(item.version, expected, "leading_industry")
    names = [link["name"] for link in links]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise invalid_fields({"links": [field_error(
            "zone.link_repeated", "a link name appears twice: {names}",
            names=repeated)]}, code="zone.link_repeated")
    for index, link in enumerate(links):
        if not link.get("industry_codes") and not link.get("keywords"):
            raise invalid_fields({f"links.{index}": [field_error(
                "zone.link_rule_missing", "give industry codes, keywords or both")]},
                code="zone.link_rule_missing")
    session.execute(delete(ChainLink).where(ChainLink.industry_id == item.id))
    for position, link in enumerate(links):
        session.add(ChainLink(industry_id=item.id, position=position, **link))
    access.touch(item, datetime.now(UTC))
    session.flush()
    return chain_map(session, principal, item.id)


def ids_and_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(LeadingIndustry.id, LeadingIndustry.name)).all())

