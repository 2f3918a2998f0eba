"""整体经济运行: what callers read of the economic figures: the summary of a period by a
dimension, a group's series, and (granted callers only, audited) the figures of enterprises.

The definitions are in :mod:`.figures`, who sees what in :mod:`.disclosure`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from common.auth import Principal
from common.dictionaries import label_of
from common.errors import InvalidValue, NotFound, invalid_fields
from common.i18n import DEFAULT_LANGUAGE, label, translate
from common.validation import is_uuid
from services.enterprise import access as registry_access
from services.enterprise import industry
from services.enterprise.contracts import today_in_shanghai
from services.enterprise.models import Enterprise, Grid
from services.enterprise.zone import access, carriers, disclosure, figures, industries
from services.enterprise.zone.periods import Period, between
from services.enterprise.zone.vocabulary import MIN_GROUP, UNITS

#: periods of a series when the caller names no end
DEFAULT_SPAN = 12


def _indicators(language: str) -> list[dict[str, str]]:
    """The indicators with their units in the reader's language (万元 / 10,000 yuan)."""
    return [{"code": name, "unit": translate(UNITS[name], language)}
            for name in figures.INDICATORS]


def summary(session: Session, principal: Principal, q: dict[str, Any],
            language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """Every group of one dimension for one period, with the year before and the zone; the
    texts (the zone's and the unassigned grid's labels, units) in ``language``."""
    access.check_reader(principal)
    period: Period = q["period"]
    dimension = q["by"]
    current = disclosure.grant(session)
    hidden = disclosure.hidden_for(principal, current, session, [period, period.previous])
    both = [period, period.previous]  # one query for the period and the year before
    now = before = figures.aggregate(session, dimension, both)
    zone_now = zone_before = now if dimension == "zone" else figures.aggregate(
        session, "zone", both)
    keys = list(dict.fromkeys([*figures.known_keys(session, dimension),
                               *sorted(k for _, k in now)]))
    names = figures.labels(session, dimension, keys, language)

    def row(dim: str, key: str, totals: figures.Totals, earlier: figures.Totals,
            label: str) -> dict[str, Any]:
        return {"key": key, "label": label, "figures": figures.figures_of(
            totals.get((period, key)), earlier.get((period.previous, key)),
            _hidden(hidden, period, dim, key), _hidden(hidden, period.previous, dim, key))}

    return {
        "by": dimension, "period": period.label, "granularity": period.kind,
        "previous_period": period.previous.label,
        "restricted": not disclosure.sees_all(principal, current),
        "granted": disclosure.granted(principal, current),
        "min_group": MIN_GROUP, "indicators": _indicators(language),
        "rows": [row(dimension, key, now, before, names.get(key, key)) for key in keys],
        "total": row("zone", figures.ZONE_KEY, zone_now, zone_before,
                     label_of("economic_dimension", "zone", language)),
    }


def _hidden(hidden: dict[Period, dict[str, set[tuple[str, str]]]], period: Period,
            dimension: str, key: str) -> set[str]:
    return {name for name, cells in hidden.get(period, {}).items() if (dimension, key) in cells}


def series(session: Session, principal: Principal, q: dict[str, Any],
           language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """One group's figures period by period (months not reported shown so, never as zero)."""
    access.check_reader(principal)
    dimension, key = q["by"], q.get("key") or figures.ZONE_KEY
    periods = span(q)
    if dimension == "zone":
        key = figures.ZONE_KEY
    names = figures.labels(session, dimension, [key], language)
    if key not in names and key not in figures.known_keys(session, dimension):
        raise NotFound("no such group {key} of {by}", code="zone.group_not_found",
                       params={"key": key, "by": label("economic_dimension", dimension)})
    earlier = [p.previous for p in periods]
    current = disclosure.grant(session)
    hidden = disclosure.hidden_for(principal, current, session, sorted(set(periods + earlier)))
    totals = before = figures.aggregate(session, dimension, sorted(set(periods + earlier)))
    items = [{"period": p.label, "figures": figures.figures_of(
        totals.get((p, key)), before.get((p.previous, key)),
        _hidden(hidden, p, dimension, key), _hidden(hidden, p.previous, dimension, key))}
        for p in periods]
    return {"by": dimension, "key": key, "label": names.get(key, key),
            "granularity": periods[0].kind, "from_": periods[0].label, "to": periods[-1].label,
            "restricted": not disclosure.sees_all(principal, current),
            "min_group": MIN_GROUP, "indicators": _indicators(language), "items": items}


def span(q: dict[str, Any], today: date | None = None) -> list[Period]:
    """The periods of a series: ``from`` to ``to``; without ``to`` the twelve periods from
    ``from``, without ``from`` the twelve up to ``to``, without either the last twelve months
    (Asia/Shanghai)."""
    start, end = q.get("from_"), q.get("to")
    if end is None:
        if start is None:
            now = today or today_in_shanghai()
            end = Period(now.year, "month", now.month)
        else:
            end = start
            for _ in range(DEFAULT_SPAN - 1):
                end = end.next()
    if start is None:
        start = end
        for _ in range(DEFAULT_SPAN - 1):
            start = start.before()
    try:
        return between(start, end)
    except InvalidValue as exc:
        raise invalid_fields({"to": [exc.item()]}, code=exc.code) from exc


# --------------------------------------------------------------------------- per enterprise


def _scope(query: Select, principal: Principal) -> Select:
    return registry_access.scoped(query, principal)


def enterprises(session: Session, principal: Principal, q: dict[str, Any],
                call_id: str | None, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The figures of the enterprises the caller reads for one period (granted callers only),
    with the year before; the read is audited."""
    current = disclosure.grant(session)
    disclosure.check_enterprise_figures(principal, current)
    period: Period = q["period"]
    values = figures.enterprise_values([period])
    earlier = figures.enterprise_values([period.previous])
    previous = earlier.alias("previous_values")
    query = (
        select(Enterprise.id, Enterprise.name, Enterprise.credit_code, Enterprise.grid_id,
               Grid.name.label("grid_name"), Enterprise.industry_code,
               *[values.c[n] for n in figures.INDICATORS],
               *[previous.c[n].label(f"previous_{n}") for n in figures.INDICATORS])
        .select_from(Enterprise)
        .outerjoin(values, values.c.enterprise_id == Enterprise.id)
        .outerjoin(previous, previous.c.enterprise_id == Enterprise.id)
        .outerjoin(Grid, Grid.id == Enterprise.grid_id)
    )
    now_reported = or_(*[values.c[n].is_not(None) for n in figures.INDICATORS])
    reported = or_(now_reported, *[previous.c[n].is_not(None) for n in figures.INDICATORS])
    query = _scope(query.where(or_(reported, Enterprise.in_scope.is_(True))), principal)
    if q.get("reported") is not None:
        query = query.where(now_reported if q["reported"] else ~now_reported)
    query = _filters(session, query, q)
    sort = q.get("sort", "name")
    key = sort.lstrip("-")
    column = Enterprise.name if key == "name" else values.c[key]
    order = column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_last()
    rows, total = access.page(session, query.order_by(order, Enterprise.name, Enterprise.id), q)
    items = []
    for r in rows:
        m = r._mapping
        items.append({
            "enterprise_id": m["id"], "name": m["name"], "credit_code": m["credit_code"],
            "grid_id": m["grid_id"], "grid_name": m["grid_name"],
            "industry_code": m["industry_code"],
            "industry_name": industry.division_name(m["industry_code"]),
            "figures": figures.figures_of(
                {n: (m[n], int(m[n] is not None)) for n in figures.INDICATORS},
                {n: (m[f"previous_{n}"], int(m[f"previous_{n}"] is not None))
                 for n in figures.INDICATORS}, set(), set()),
        })
    disclosure.record_read(session, principal, call_id, "enterprise_figures",
                           [i["enterprise_id"] for i in items], list(figures.INDICATORS))
    return {"period": period.label, "previous_period": period.previous.label,
            "indicators": _indicators(language), "items": items, "total": total, "page": q["page"],
            "per_page": q["per_page"]}


def _filters(session: Session, query: Select, q: dict[str, Any]) -> Select:
    if q.get("q"):
        query = query.where(Enterprise.name.contains(q["q"], autoescape=True))
    if q.get("grid_id"):
        query = query.where(Enterprise.grid_id == q["grid_id"])
    if q.get("industry"):
        query = query.where(Enterprise.industry_code.startswith(q["industry"].upper(),
                                                                autoescape=True))
    if q.get("leading_industry_id"):
        item = industries.get_industry(session, q["leading_industry_id"])
        query = query.where(industries.member_clause(item))
    if q.get("carrier_id"):
        carrier = carriers.get_carrier(session, q["carrier_id"])
        tenants = carriers.tenants_relation()
        query = query.where(Enterprise.id.in_(select(tenants.c.enterprise_id).where(
            tenants.c.carrier_id == carrier.id)))
    return query


def enterprise_series(session: Session, principal: Principal, enterprise_id: str,
                      q: dict[str, Any], call_id: str | None,
                      language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """One enterprise's figures period by period (granted callers only; audited)."""
    current = disclosure.grant(session)
    disclosure.check_enterprise_figures(principal, current)
    enterprise = session.get(Enterprise, enterprise_id) if is_uuid(enterprise_id) else None
    registry_access.check_read(principal, enterprise)
    assert enterprise is not None
    periods = span(q)
    wanted = sorted(set(periods + [p.previous for p in periods]))
    values = figures.enterprise_values(wanted)
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for row in session.execute(select(values).where(values.c.enterprise_id == enterprise.id)):
        found[(row.year, row.number)] = row._mapping

    def totals(period: Period) -> dict[str, tuple[Any, int]]:
        mapping = found.get((period.year, period.number), {})
        return {n: (mapping.get(n), int(mapping.get(n) is not None))
                for n in figures.INDICATORS}

    items = [{"period": p.label, "figures": figures.figures_of(
        totals(p), totals(p.previous), set(), set())} for p in periods]
    disclosure.record_read(session, principal, call_id, "enterprise_series", [enterprise.id],
                           list(figures.INDICATORS))
    return {"enterprise_id": enterprise.id, "name": enterprise.name,
            "granularity": periods[0].kind, "from_": periods[0].label, "to": periods[-1].label,
            "indicators": _indicators(language), "items": items}


def reported_periods(session: Session) -> dict[str, Any]:
    """The months and quarters with any figure, newest first (what the console offers)."""
    iv = figures.IndicatorValue
    rows = session.execute(
        select(iv.year, iv.period_kind, iv.period, func.count())
        .group_by(iv.year, iv.period_kind, iv.period)
        .order_by(iv.year.desc(), iv.period_kind, iv.period.desc())
    ).all()
    return {"items": [{"period": Period(y, k, n).label, "granularity": k, "enterprises": c}
                      for y, k, n, c in rows]}
