"""Enterprises (企业), their grid (网格), scope (服务范围) and profile (企业画像).

Plain functions over a SQLAlchemy session; the service's entrypoints call them.
- An enterprise's grid comes from its incubator, else from its location inside a geographic
  grid's polygon, else it is flagged unassigned ("全覆盖、无遗漏" means none may stay so).
- In scope (服务范围) = operating, with revenue and paying tax (the plan's rule), checked on
  entry; leaving scope (moved out, deregistered) is recorded with its reason and date.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, null, or_, select
from sqlalchemy.orm import Session

from common import search as fulltext
from common.auth import Principal, Role
from common.calendar import zone_today
from common.concurrency import stale
from common.errors import Conflict, Forbidden, ValidationFailed, field_error
from common.i18n import label
from common.pagination import paginate, paginate_ranked
from common.validation import is_uuid
from services.enterprise import access, figure_access, industry, profile_sources
from services.enterprise.events import publish
from services.enterprise.geo import GridIndex, index_of
from services.enterprise.models import Enterprise, Grid, ProfileValue, ScopeChange
from services.enterprise.schemas import (
    INDICATORS,
    SCOPE_REASONS_IN,
    SCOPE_REASONS_OUT,
    SELF_REPORT_FIELDS,
)

log = logging.getLogger(__name__)

OUTPUT_BANDS = ((0, 100, "<100万"), (100, 1000, "100-1000万"), (1000, 10000, "1000万-1亿"),
                (10000, None, "≥1亿"))
TAX_BANDS = ((0, 10, "<10万"), (10, 100, "10-100万"), (100, 1000, "100-1000万"),
             (1000, None, "≥1000万"))


# --- search (全文检索) --------------------------------------------------------------------------

#: the fields whose words an enterprise is found by
SEARCH_FIELDS = ("name", "tags", "strengths", "upstream", "downstream")


def search_document(name: str | None, tags: Any = (), strengths: Any = (), upstream: Any = (),
                    downstream: Any = ()) -> str:
    """The ``tsvector`` literal of an enterprise: its name and tags weigh A, its strengths
    (优势资源) and products (its upstream and downstream entries) B."""
    def words(texts: Any) -> list[str]:
        return [w for text in texts or () for w in fulltext.words(text)]

    return fulltext.tsvector((fulltext.words(name) + words(tags), "A"),
                             (words(strengths) + words(upstream) + words(downstream), "B"))


def text_clause(text: str) -> Any:
    """A search box over Enterprise: a part of the name, the start of the credit code, or
    every word of it among the words of the name, tags, strengths and products."""
    text = text.strip()
    clauses = [Enterprise.name.contains(text, autoescape=True),
               Enterprise.credit_code.startswith(text.upper(), autoescape=True)]
    words = fulltext.all_of(fulltext.keywords(text))
    if words:
        clauses.append(fulltext.matches(Enterprise.search, words))
    return or_(*clauses)


def refresh_search(session: Session, ids: list[str] | None = None) -> int:
    """Write the ``search`` words of these enterprises (all without ``ids``) again; how many."""
    query = select(Enterprise.id, *(getattr(Enterprise, f) for f in SEARCH_FIELDS))
    if ids is not None:
        if not ids:
            return 0
        query = query.where(Enterprise.id.in_(list(dict.fromkeys(ids))))
    rows = session.execute(query).all()
    params = []
    for count, r in enumerate(rows, start=1):
        if count % 200 == 0:  # an import refreshes thousands: let other green threads run
            time.sleep(0)     # (20,000 rows held the service 48 s: bench/province_stall.py)
        params.append({"b_id": r.id, "b_search": search_document(*r[1:])})
    if params:
        session.execute(
            Enterprise.__table__.update().where(Enterprise.id == bindparam("b_id"))
            .values(search=bindparam("b_search")), params)
    return len(rows)


# --- grid assignment -------------------------------------------------------------------------

def grid_index(session: Session) -> GridIndex:
    rows = session.execute(
        select(Grid.id, Grid.boundary).where(Grid.kind == "geographic",
                                              Grid.boundary.is_not(None))
    ).all()
    return index_of((r.id, r.boundary) for r in rows)


def assign_grid(session: Session, data: dict[str, Any],
                index: GridIndex | None = None) -> tuple[str | None, str]:
    """(grid_id, how): from the incubator, else the location, else unassigned."""
    incubator_id = data.get("incubator_id")
    if incubator_id:
        grid = session.get(Grid, incubator_id)
        if grid is None or grid.kind != "incubator":
            raise ValidationFailed("unknown incubator", {"incubator_id": [field_error(
                "grid.incubator_not_found", "no incubator {incubator}",
                incubator=incubator_id)]}, code="grid.incubator_not_found")
        return grid.id, "incubator"
    lon, lat = data.get("lon"), data.get("lat")
    if lon is not None and lat is not None:
        found = (index or grid_index(session)).locate(lon, lat)
        if found is not None:
            return str(found), "location"
    return None, "unassigned"


def scope_of(data: dict[str, Any]) -> tuple[bool, str]:
    """In scope only if operating, with revenue and paying tax; else the first reason."""
    if not data.get("operating", True):
        return False, "not_operating"
    if not data.get("has_revenue", True):
        return False, "no_revenue"
    if not data.get("pays_tax", True):
        return False, "no_tax"
    return True, "started_operating"


# --- reading ---------------------------------------------------------------------------------

def get_enterprise(session: Session, enterprise_id: str) -> Enterprise | None:
    return session.get(Enterprise, enterprise_id) if is_uuid(enterprise_id) else None


def enterprises_by_id(session: Session, ids: list[Any]) -> dict[str, Enterprise]:
    """The enterprises among ``ids`` (anything not a UUID is skipped), by id."""
    wanted = {i for i in ids if isinstance(i, str) and is_uuid(i)}
    if not wanted:
        return {}
    rows = session.execute(select(Enterprise).where(Enterprise.id.in_(wanted))).scalars()
    return {e.id: e for e in rows}


def visible(session: Session, principal: Principal, enterprise_id: str) -> Enterprise:
    return access.check_read(principal, get_enterprise(session, enterprise_id))


def latest_indicators(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per enterprise, its most recent year with data and the latest value of each indicator."""
    if not ids:
        return {}
    rows = session.execute(
        select(ProfileValue.enterprise_id, ProfileValue.year, ProfileValue.indicator,
               ProfileValue.value)
        .where(ProfileValue.enterprise_id.in_(ids))
        .distinct(ProfileValue.enterprise_id, ProfileValue.year, ProfileValue.indicator)
        .order_by(ProfileValue.enterprise_id, ProfileValue.year, ProfileValue.indicator,
                  *profile_sources.order())
    ).all()
    result: dict[str, dict[str, Any]] = {}
    for r in rows:
        current = result.get(r.enterprise_id)
        if current is None or r.year > current["year"]:
            current = result[r.enterprise_id] = {"year": r.year}
        if r.year == current["year"]:
            current[r.indicator] = float(r.value)
    return result


def dump(principal: Principal, e: Enterprise, indicators: dict[str, Any] | None) -> dict:
    return {
        "id": e.id, "credit_code": e.credit_code, "name": e.name, "address": e.address,
        "lon": e.lon, "lat": e.lat, "industry_code": e.industry_code,
        "industry_name": industry.parse(e.industry_code).division_name,
        "scale": e.scale, "incubator_id": e.incubator_id, "grid_id": e.grid_id,
        "grid_source": e.grid_source, "in_scope": e.in_scope, "operating": e.operating,
        "has_revenue": e.has_revenue, "pays_tax": e.pays_tax,
        "contacts": access.contacts_for(principal, e), "tags": list(e.tags or []),
        "strengths": list(e.strengths or []), "upstream": list(e.upstream or []),
        "downstream": list(e.downstream or []), "latest_indicators": indicators,
        "version": e.version, "created_at": e.created_at, "updated_at": e.updated_at,
    }


def latest_metric(indicator: str, year: int | None = None):
    """Subquery (enterprise_id, value): the latest value of one indicator."""
    query = (
        select(ProfileValue.enterprise_id, ProfileValue.value)
        .where(ProfileValue.indicator == indicator)
        .distinct(ProfileValue.enterprise_id)
        .order_by(ProfileValue.enterprise_id, ProfileValue.year.desc(),
                  *profile_sources.order())
    )
    if year is not None:
        query = query.where(ProfileValue.year == year)
    return query.subquery(f"latest_{indicator}")


#: the filters and sorts that need an enterprise's latest output value or tax in the query
METRIC_KEYS = frozenset({"min_output", "max_output", "min_tax", "max_tax"})
METRIC_SORTS = frozenset({"output_value", "tax"})


def needs_metrics(q: dict[str, Any]) -> bool:
    return (any(q.get(k) is not None for k in METRIC_KEYS)
            or q.get("sort", "name").lstrip("-") in METRIC_SORTS)


def filtered(principal: Principal, q: dict[str, Any]) -> Select:
    """The enterprises the caller reads under ``q``'s filters, with their latest output value
    and tax as columns when a filter or the sort needs them (the latest value of every
    enterprise is a scan of all profile values: 100,000 enterprises made a page of names
    take seconds); otherwise those columns are NULL and the page's figures are read for its
    rows alone (:func:`latest_indicators`)."""
    if needs_metrics(q):
        output = latest_metric("output_value")
        tax = latest_metric("tax")
        query = (
            select(Enterprise, output.c.value.label("output_value"), tax.c.value.label("tax"))
            .outerjoin(output, output.c.enterprise_id == Enterprise.id)
            .outerjoin(tax, tax.c.enterprise_id == Enterprise.id)
        )
        output_value, tax_value = output.c.value, tax.c.value
    else:
        query = select(Enterprise, null().label("output_value"), null().label("tax"))
        output_value = tax_value = None
    query = access.scoped(query, principal)
    if q.get("q"):
        # a part of the name, the start of the credit code (统一社会信用代码, upper case), or
        # the words of the name, tags, strengths and products (全文检索)
        query = query.where(text_clause(q["q"]))
    for column in ("grid_id", "scale", "in_scope", "grid_source"):
        if q.get(column) is not None:
            query = query.where(getattr(Enterprise, column) == q[column])
    if q.get("industry"):
        query = query.where(Enterprise.industry_code.startswith(q["industry"].upper()))
    if q.get("tag"):
        query = query.where(Enterprise.tags.any(q["tag"]))
    bounds = (("min_output", output_value, ">="), ("max_output", output_value, "<"),
              ("min_tax", tax_value, ">="), ("max_tax", tax_value, "<"))
    for key, column, op in bounds:
        if q.get(key) is not None and column is not None:
            value = Decimal(str(q[key]))
            query = query.where(column >= value if op == ">=" else column < value)
    return query


def relevance(text: str) -> list[Any]:
    """The best match of a search box first: the exact name or credit code, then a name
    holding it, then the rank of its words, then the name."""
    text = text.strip()
    order: list[Any] = [
        case((or_(Enterprise.name == text, Enterprise.credit_code == text.upper()), 0),
             (Enterprise.name.contains(text, autoescape=True), 1), else_=2)]
    words = fulltext.all_of(fulltext.keywords(text))
    if words:
        order.append(fulltext.rank(Enterprise.search, words).desc())
    return [*order, Enterprise.name]


def list_enterprises(session: Session, principal: Principal, q: dict[str, Any],
                     request_id: str | None = None) -> dict:
    """A page of the enterprises the caller reads; tax and revenue as :mod:`.figure_access`
    shows them to it (the read audited)."""
    who = figure_access.reader(session, principal)
    figure_access.check_query(who, q)
    query = filtered(principal, q)
    sort = q.get("sort") or ("relevance" if q.get("q") else "name")
    if sort == "relevance":
        order = relevance(q.get("q") or "")
    else:
        descending = sort.startswith("-")
        key = sort.lstrip("-")
        column = {"name": Enterprise.name, "created_at": Enterprise.created_at,
                  "output_value": query.selected_columns.output_value,
                  "tax": query.selected_columns.tax}[key]
        order = [column.desc().nulls_last() if descending else column.asc().nulls_last()]
    # ranked, every match is read to order them: the count rides along in the same scan
    pages = paginate_ranked if sort == "relevance" else paginate
    found = pages(session, query, q, order_by=[*order, Enterprise.id]).map(lambda r: r[0])
    latest = latest_indicators(session, [e.id for e in found.items])
    shown = {e.id: figure_access.shown(who, e.id, latest.get(e.id)) for e in found.items}
    figure_access.record_read(session, who, request_id, "list", shown)
    return found.map(lambda e: dump(principal, e, shown[e.id])).as_dict()


def read(session: Session, principal: Principal, enterprise: Enterprise,
         request_id: str | None = None, what: str = "detail") -> dict[str, Any]:
    """One enterprise as the caller reads it (``dump``), tax and revenue as
    :mod:`.figure_access` shows them (the read audited)."""
    who = figure_access.reader(session, principal)
    shown = figure_access.shown(who, enterprise.id,
                                latest_indicators(session, [enterprise.id]).get(enterprise.id))
    figure_access.record_read(session, who, request_id, what, {enterprise.id: shown})
    return dump(principal, enterprise, shown)


# --- writing ---------------------------------------------------------------------------------

def register(session: Session, principal: Principal, data: dict[str, Any],
             call_id: str | None = None, index: GridIndex | None = None,
             now: datetime | None = None) -> Enterprise:
    """Add an enterprise; grid assigned, scope checked, ``enterprise_registered`` raised."""
    access.check_create(principal)
    existing = session.execute(
        select(Enterprise.id).where(Enterprise.credit_code == data["credit_code"])
    ).first()
    if existing:
        raise Conflict("an enterprise with this credit code is already registered",
                       {"credit_code": [field_error("enterprise.credit_code_taken",
                                                    "already registered")]},
                       code="enterprise.credit_code_taken")
    grid_id, source = assign_grid(session, data, index)
    if principal.role in access.GRID_ROLES and grid_id not in principal.grid_ids:
        raise Forbidden("grid staff may only register enterprises of their own grids",
                        code="enterprise.other_grid")
    in_scope, reason = scope_of(data)
    now = now or datetime.now(UTC)
    enterprise = Enterprise(
        id=str(uuid.uuid4()), grid_id=grid_id, grid_source=source, in_scope=in_scope,
        version=1, created_at=now, updated_at=now,
        **{k: data[k] for k in ("credit_code", "name", "address", "lon", "lat",
                                "industry_code", "scale", "incubator_id", "operating",
                                "has_revenue", "pays_tax", "contacts", "tags", "strengths",
                                "upstream", "downstream")},
    )
    enterprise.search = search_document(*(getattr(enterprise, f) for f in SEARCH_FIELDS))
    session.add(enterprise)
    session.add(ScopeChange(enterprise_id=enterprise.id, in_scope=in_scope, reason=reason,
                            effective_on=zone_today(now), recorded_by=principal.user_id,
                            note="on entry"))
    session.flush()
    publish(session, "enterprise_registered", {
        "enterprise_id": enterprise.id, "credit_code": enterprise.credit_code,
        "name": enterprise.name, "grid_id": grid_id, "industry_code": enterprise.industry_code,
        "in_scope": in_scope,
    }, call_id)
    return enterprise


def update(session: Session, principal: Principal, enterprise_id: str, data: dict[str, Any],
           call_id: str | None = None) -> Enterprise:
    """Change fields; the caller's role decides which. A stale ``version`` is 412."""
    enterprise = visible(session, principal, enterprise_id)
    session.refresh(enterprise, with_for_update=True)
    fields = set(data)
    access.check_edit(principal, enterprise, fields, SELF_REPORT_FIELDS)
    expected = data.pop("version", None)
    if expected is not None and expected != enterprise.version:
        raise stale("enterprise", expected, enterprise.version)
    changed = {k for k, v in data.items() if getattr(enterprise, k) != v}
    for key in changed:
        setattr(enterprise, key, data[key])
    if not changed:
        return enterprise
    if changed & {"lon", "lat", "incubator_id"}:
        old = enterprise.grid_id
        # no autoflush: an unknown incubator is refused by assign_grid (422 naming the field),
        # not by the database's foreign key while it is looked up (a 500)
        with session.no_autoflush:
            enterprise.grid_id, enterprise.grid_source = assign_grid(session, {
                "incubator_id": enterprise.incubator_id, "lon": enterprise.lon,
                "lat": enterprise.lat})
        if enterprise.grid_id != old:
            publish(session, "grid_changed", {"enterprise_id": enterprise.id,
                                              "old_grid_id": old,
                                              "new_grid_id": enterprise.grid_id}, call_id)
    if changed & set(SEARCH_FIELDS):
        enterprise.search = search_document(*(getattr(enterprise, f) for f in SEARCH_FIELDS))
    if changed & {"tags", "strengths", "upstream", "downstream", "industry_code", "scale"}:
        publish(session, "profile_updated", {"enterprise_id": enterprise.id,
                                             "fields": sorted(changed)}, call_id)
    enterprise.version += 1
    enterprise.updated_at = datetime.now(UTC)
    session.flush()
    return enterprise


def change_scope(session: Session, principal: Principal, enterprise_id: str,
                 data: dict[str, Any], call_id: str | None = None) -> ScopeChange:
    """纳入 / 迁出 / 注销: record the change with its reason and date; history kept."""
    enterprise = visible(session, principal, enterprise_id)
    if principal.role not in access.EDIT_ALL | access.GRID_ROLES:
        raise Forbidden("{role} may not change an enterprise's scope",
                        code="enterprise.scope_forbidden", params={"role": principal.role_label})
    allowed = SCOPE_REASONS_IN if data["in_scope"] else SCOPE_REASONS_OUT
    if data["reason"] not in allowed:
        raise ValidationFailed("reason does not fit the direction of the change", {"reason": [
            field_error("enterprise.scope_reason", "one of {reasons}",
                        reasons=[label("scope_reason", r) for r in allowed])]},
            code="enterprise.scope_reason")
    return _record_scope(session, enterprise, data, principal.user_id, call_id)


def _record_scope(session: Session, enterprise: Enterprise, data: dict[str, Any], actor: str,
                  call_id: str | None) -> ScopeChange:
    """The history entry, and the change with its ``scope_changed`` event when it is one."""
    change = ScopeChange(enterprise_id=enterprise.id, recorded_by=actor,
                         recorded_at=datetime.now(UTC), **data)
    session.add(change)
    if enterprise.in_scope != data["in_scope"]:
        enterprise.in_scope = data["in_scope"]
        enterprise.version += 1
        enterprise.updated_at = datetime.now(UTC)
        publish(session, "scope_changed", {
            "enterprise_id": enterprise.id, "in_scope": data["in_scope"],
            "reason": data["reason"], "effective_on": data["effective_on"].isoformat(),
        }, call_id)
    session.flush()
    return change


def bring_into_scope(session: Session, enterprise: Enterprise, effective_on: date, actor: str,
                     note: str, site: tuple[float, float] | None = None,
                     call_id: str | None = None) -> bool:
    """纳入服务范围 by the plan's rule for a new land-occupying enterprise: once its building
    project passed completion acceptance (竣工备案) and started production (投产) it operates
    and is in scope (reason ``completion_accepted``), located at the project's ``site`` when it
    had no location of its own, and given a grid by that location when it had none
    (``grid_changed``); the scope change is recorded and announced as ``change_scope`` does.
    True if the enterprise changed."""
    session.refresh(enterprise, with_for_update=True)
    changed = False
    if not enterprise.operating:
        enterprise.operating = changed = True
    if site is not None and enterprise.lon is None and enterprise.incubator_id is None:
        enterprise.lon, enterprise.lat = site
        changed = True
    if enterprise.grid_id is None:
        grid_id, source = assign_grid(session, {"incubator_id": enterprise.incubator_id,
                                                "lon": enterprise.lon, "lat": enterprise.lat})
        if grid_id is not None:
            enterprise.grid_id, enterprise.grid_source = grid_id, source
            publish(session, "grid_changed", {"enterprise_id": enterprise.id,
                                              "old_grid_id": None, "new_grid_id": grid_id},
                    call_id)
            changed = True
    if changed:
        enterprise.version += 1
        enterprise.updated_at = datetime.now(UTC)
    if not enterprise.in_scope:
        _record_scope(session, enterprise, {"in_scope": True, "reason": "completion_accepted",
                                            "effective_on": effective_on, "note": note},
                      actor, call_id)
        changed = True
    session.flush()
    return changed


def scope_history(session: Session, principal: Principal, enterprise_id: str
                  ) -> list[ScopeChange]:
    enterprise = visible(session, principal, enterprise_id)
    return list(session.execute(
        select(ScopeChange).where(ScopeChange.enterprise_id == enterprise.id)
        .order_by(ScopeChange.recorded_at, ScopeChange.id)
    ).scalars())


# --- profile (企业画像) -----------------------------------------------------------------------

def add_profile_value(session: Session, principal: Principal, enterprise_id: str,
                      data: dict[str, Any], call_id: str | None = None) -> ProfileValue:
    enterprise = visible(session, principal, enterprise_id)
    if principal.role == Role.ENTERPRISE:
        if data["source"] != "self_report":
            raise ValidationFailed("an enterprise reports its own figures", {"source": [
                field_error("enterprise.self_report_source", "must be self_report")]},
                code="enterprise.self_report_source")
    else:
        access.check_edit(principal, enterprise, {"indicators"}, ())
    value = ProfileValue(enterprise_id=enterprise.id, entered_by=principal.user_id,
                         entered_at=datetime.now(UTC), **data)
    session.add(value)
    session.flush()
    publish(session, "profile_updated", {"enterprise_id": enterprise.id,
                                         "fields": [data["indicator"]],
                                         "year": data["year"]}, call_id)
    return value


def profile(session: Session, principal: Principal, enterprise_id: str,
            request_id: str | None = None) -> dict[str, Any]:
    """企业画像; tax and revenue entries as :mod:`.figure_access` shows them (``withheld``
    names those left out; the read audited)."""
    enterprise = visible(session, principal, enterprise_id)
    who = figure_access.reader(session, principal)
    recorded = list(session.execute(
        select(ProfileValue).where(ProfileValue.enterprise_id == enterprise.id)
        .order_by(ProfileValue.year.desc(), ProfileValue.indicator,
                  *profile_sources.order())  # the shown value first: by source precedence
    ).scalars())
    history = figure_access.profile_values(who, enterprise.id, recorded)
    latest: dict[tuple[int, str], ProfileValue] = {}
    for value in history:
        latest.setdefault((value.year, value.indicator), value)
    figure_access.record_read(session, who, request_id, "profile", {enterprise.id: {
        v.indicator: v.value for v in history}})
    withheld = [] if who.sees(enterprise.id) else list(figure_access.GRANTED)
    return {"enterprise_id": enterprise.id, "latest": list(latest.values()),
            "history": history, "withheld": withheld, "tags": list(enterprise.tags or []),
            "strengths": list(enterprise.strengths or []),
            "upstream": list(enterprise.upstream or []),
            "downstream": list(enterprise.downstream or [])}


# --- classification and zone summary ---------------------------------------------------------

def _band(column, bands) -> Any:
    whens = [(and_(column >= low, column < high) if high is not None else column >= low, label)
             for low, high, label in bands]
    return case(*whens, else_="无数据")


def summary(session: Session, principal: Principal, q: dict[str, Any]) -> dict[str, Any]:
    """Zone totals by grid, industry, scale or band, over the latest values of one year.

    Tax and revenue sums as :mod:`.figure_access` releases them to the caller (``restricted``:
    a sum that fewer than 5 enterprises stand for, or that the other sums shown would narrow
    to fewer by subtraction, is null)."""
    if principal.role not in access.READ_ALL | access.GRID_ROLES:
        raise Forbidden("{role} may not see zone figures", code="zone.read_forbidden",
                        params={"role": principal.role_label})
    year = q.get("year") or session.execute(select(func.max(ProfileValue.year))).scalar()
    metrics = {name: latest_metric(name, year) for name in INDICATORS if name != "rd_spend"}
    keys = {
        "grid": func.coalesce(Enterprise.grid_id, "unassigned"),
        "industry_section": func.substr(Enterprise.industry_code, 1, 1),
        "industry_division": func.substr(Enterprise.industry_code, 1, 3),
        "scale": Enterprise.scale,
        "output_band": _band(metrics["output_value"].c.value, OUTPUT_BANDS),
        "tax_band": _band(metrics["tax"].c.value, TAX_BANDS),
    }

    def counted(query: Select) -> Select:
        query = query.select_from(Enterprise)
        for m in metrics.values():
            query = query.outerjoin(m, m.c.enterprise_id == Enterprise.id)
        query = access.scoped(query, principal)
        if q.get("in_scope") is not None:
            query = query.where(Enterprise.in_scope == q["in_scope"])
        return query

    key = keys[q["by"]].label("key")
    sums = [func.coalesce(func.sum(m.c.value), 0).label(name) for name, m in metrics.items()]
    query = counted(select(key, func.count(Enterprise.id).label("enterprises"), *sums))
    rows = session.execute(query.group_by(key).order_by(key)).all()
    who = figure_access.reader(session, principal)
    hidden = figure_access.summary_hidden(session, who, counted(select(
        Enterprise.id, *[keys[d].label(d) for d in figure_access.SUMMARY_DIMENSIONS],
        *[metrics[n].c.value.is_not(None).label(f"has_{n}") for n in figure_access.GRANTED],
    )), year is not None)
    labels = _labels(session, q["by"])
    out = [_row(r, labels.get(r.key, r.key)) for r in rows]
    total = {"key": "total", "label": "合计", "enterprises": sum(r["enterprises"] for r in out)}
    for name in ("output_value", "revenue", "tax", "employees"):
        total[name] = round(sum(r[name] for r in out), 2)
    for name, cells in hidden.items():
        for row in out:
            if (q["by"], row["key"]) in cells:
                row[name] = None
        if figure_access.TOTAL in cells:
            total[name] = None
    return {"by": q["by"], "year": year, "restricted": not who.sees_all, "rows": out,
            "total": total}


def _row(r: Any, label: str) -> dict[str, Any]:
    return {"key": r.key, "label": label, "enterprises": r.enterprises,
            "output_value": float(r.output_value), "revenue": float(r.revenue),
            "tax": float(r.tax), "employees": float(r.employees)}


def _labels(session: Session, by: str) -> dict[str, str]:
    if by == "grid":
        return dict(session.execute(select(Grid.id, Grid.name)).all()) | {"unassigned": "未分配"}
    if by == "industry_section":
        return dict(industry.SECTIONS)
    if by == "industry_division":
        return {f"{d.section}{code}": d.name for code, d in industry.DIVISIONS.items()}
    if by == "scale":
        return {"micro": "微型", "small": "小型", "medium": "中型", "large": "大型"}
    return {}
