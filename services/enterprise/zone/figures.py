"""经济运行: the economic figures of the zone, per enterprise and aggregated.

Definitions (one home each; ``docs/domain.md`` states them for people):

- An enterprise reports each month or each quarter (当期 figures, not cumulative): output
  value (产值), revenue (营业收入), tax (税收) and R&D spending (研发投入) in 万元 are flows;
  employees (从业人员) is the headcount at the period's end (a stock).
- An enterprise's figure for a **quarter** is its quarterly report, or the sum of its three
  months (employees: the quarter's last month); for a **year** the sum of its four quarters
  (employees: the fourth quarter's). A period with any month (quarter) missing is **not
  reported** for that figure: a gap is never counted as zero.
- A group's figure (grid, industry division, leading industry, carrier, the zone) is the sum
  over its enterprises that reported it, with how many did (``reporting``); a group where none
  did is **not reported** (value null). Groups are today's: an enterprise's current grid,
  industry, leading industries and carriers (its tenancies), whether or not still in scope.
- **Year-on-year growth** (同比) = (value - value a year earlier) / value a year earlier, when
  both are reported (and released) and the earlier one is above zero; null otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, String, case, cast, func, literal, select, tuple_, union_all
from sqlalchemy.orm import Session

from common.dictionaries import label_of
from common.i18n import DEFAULT_LANGUAGE
from services.enterprise import industry
from services.enterprise.models import Enterprise, Grid
from services.enterprise.zone import carriers, industries
from services.enterprise.zone.models import Carrier, IndicatorValue, LeadingIndustry
from services.enterprise.zone.periods import Period
from services.enterprise.zone.vocabulary import INDICATORS, PARTITIONS, STOCKS

ZONE_KEY = "zone"
UNASSIGNED = "unassigned"

_iv = IndicatorValue.__table__


def _columns(source: Any) -> list[Any]:
    return [source.c[name] for name in INDICATORS]


def _months(periods: Sequence[Period]) -> Select:
    pairs = [(p.year, p.number) for p in periods]
    return select(_iv.c.enterprise_id, _iv.c.year, _iv.c.period.label("number"),
                  *_columns(_iv)).where(_iv.c.period_kind == "month",
                                        tuple_(_iv.c.year, _iv.c.period).in_(pairs))


def _quarters(pairs: Sequence[tuple[int, int]]) -> Any:
    quarter = ((_iv.c.period + 2) // 3)
    complete = []
    for name in INDICATORS:
        if name in STOCKS:
            complete.append(func.max(_iv.c[name]).filter(_iv.c.period % 3 == 0).label(name))
        else:
            complete.append(case((func.count(_iv.c[name]) == 3, func.sum(_iv.c[name])),
                                 else_=None).label(name))
    from_months = (
        select(_iv.c.enterprise_id, _iv.c.year, quarter.label("number"), *complete)
        .where(_iv.c.period_kind == "month", tuple_(_iv.c.year, quarter).in_(pairs))
        .group_by(_iv.c.enterprise_id, _iv.c.year, quarter)
    )
    reported = select(_iv.c.enterprise_id, _iv.c.year, _iv.c.period.label("number"),
                      *_columns(_iv)).where(_iv.c.period_kind == "quarter",
                                            tuple_(_iv.c.year, _iv.c.period).in_(pairs))
    return union_all(from_months, reported)


def _years(years: Sequence[int]) -> Select:
    quarters = _quarters([(y, q) for y in years for q in range(1, 5)]).subquery("quarters")
    complete = []
    for name in INDICATORS:
        column = quarters.c[name]
        if name in STOCKS:
            complete.append(func.max(column).filter(quarters.c.number == 4).label(name))
        else:
            complete.append(case((func.count(column) == 4, func.sum(column)),
                                 else_=None).label(name))
    return (select(quarters.c.enterprise_id, quarters.c.year, literal(0).label("number"),
                   *complete)
            .group_by(quarters.c.enterprise_id, quarters.c.year))


def enterprise_values(periods: Sequence[Period]) -> Any:
    """Subquery (enterprise_id, year, number, output_value, ...) of each enterprise's figures
    for ``periods`` (all of one kind), by the definitions above."""
    kinds = {p.kind for p in periods}
    assert len(kinds) == 1, kinds
    kind = kinds.pop()
    if kind == "month":
        query: Any = _months(periods)
    elif kind == "quarter":
        query = _quarters([(p.year, p.number) for p in periods])
    else:
        query = _years(sorted({p.year for p in periods}))
    return query.subquery("enterprise_values")


def keyed(values: Any, dimension: str) -> tuple[Select, Any]:
    """(a select over ``values`` joined to the groups of ``dimension``, the key column)."""
    base = select(values).select_from(values)
    if dimension == "zone":
        return base, literal(ZONE_KEY)
    if dimension in PARTITIONS:
        query = base.join(Enterprise, Enterprise.id == values.c.enterprise_id)
        if dimension == "grid":
            return query, func.coalesce(Enterprise.grid_id, UNASSIGNED)
        return query, func.substr(Enterprise.industry_code, 1, 3)
    if dimension == "leading_industry":
        members = industries.membership_relation()
        return base.join(members, members.c.enterprise_id == values.c.enterprise_id), \
            members.c.key
    tenants = carriers.tenants_relation()
    return base.join(tenants, tenants.c.enterprise_id == values.c.enterprise_id), \
        tenants.c.carrier_id


Totals = dict[tuple[Period, str], dict[str, tuple[Decimal | None, int]]]


def aggregate(session: Session, dimension: str, periods: Sequence[Period]) -> Totals:
    """(period, group key) -> indicator -> (sum, how many enterprises reported it)."""
    if not periods:
        return {}
    values = enterprise_values(periods)
    query, key = keyed(values, dimension)
    sums = []
    for name in INDICATORS:
        sums += [func.sum(values.c[name]), func.count(values.c[name])]
    by = [values.c.year, values.c.number] + ([] if dimension == "zone" else [key])
    grouped = query.with_only_columns(values.c.year, values.c.number, key.label("key"), *sums) \
        .group_by(*by)
    by_number = {(p.year, p.number): p for p in periods}
    found: Totals = {}
    for row in session.execute(grouped):
        period = by_number[(row[0], row[1])]
        found[(period, row[2])] = {
            name: (row[3 + 2 * i], row[4 + 2 * i]) for i, name in enumerate(INDICATORS)}
    return found


def reporters(session: Session, periods: Sequence[Period]
              ) -> dict[Period, dict[str, set[str]]]:
    """period -> indicator -> the enterprises that reported it (for the disclosure rules)."""
    if not periods:
        return {}
    values = enterprise_values(periods)
    by_number = {(p.year, p.number): p for p in periods}
    found: dict[Period, dict[str, set[str]]] = {p: {n: set() for n in INDICATORS}
                                                for p in periods}
    flags = [values.c[name].is_not(None) for name in INDICATORS]
    # the ids of each period and combination of indicators reported, in one array each (made
    # and read in C: 200,000 rows of a month and the year before cost seconds row by row);
    # as text: no UUID object made and unmade for each of them
    for row in session.connection().execute(
            select(values.c.year, values.c.number, *flags,
                   func.array_agg(cast(values.c.enterprise_id, String)))
            .group_by(values.c.year, values.c.number, *flags)):
        period = by_number[(row[0], row[1])]
        for i, name in enumerate(INDICATORS):
            if row[2 + i]:
                found[period][name].update(row[-1])
    return found


def membership_keys(session: Session, enterprise_ids: Iterable[str]
                    ) -> dict[str, tuple[tuple[str, ...], ...]]:
    """enterprise id -> the keys of its groups in each of :data:`DIMENSIONS` (zone: ``zone``),
    ascending, for the disclosure rules."""
    wanted = set(enterprise_ids)
    ids = sorted(wanted)
    if not ids:
        return {}
    query = select(cast(Enterprise.id, String), Enterprise.grid_id, Enterprise.industry_code)
    # many: every enterprise, kept if wanted (an IN list of 100,000 ids costs more to make and
    # send than the rows not wanted)
    queries = ([query.where(Enterprise.id.in_(chunk)) for chunk in _chunks(ids, 5_000)]
               if len(ids) <= 5_000 else [query])
    partitions: dict[str, tuple[str, str]] = {}
    connection = session.connection()  # rows as they come, no ORM
    for enterprise_id, grid_id, code in (row for q in queries for row in connection.execute(q)):
        if enterprise_id in wanted:
            partitions[enterprise_id] = (grid_id or UNASSIGNED, code[:3])
    overlapping: dict[str, tuple[list[str], list[str]]] = {}
    members = industries.membership_relation()
    for key, enterprise_id in connection.execute(select(members.c.key,
                                                     cast(members.c.enterprise_id, String))):
        if enterprise_id in partitions:
            overlapping.setdefault(enterprise_id, ([], []))[0].append(key)
    tenants = carriers.tenants_relation()
    for key, enterprise_id in connection.execute(select(cast(tenants.c.carrier_id, String),
                                                     cast(tenants.c.enterprise_id, String))):
        if enterprise_id in partitions:
            overlapping.setdefault(enterprise_id, ([], []))[1].append(key)
    zone, nothing = (ZONE_KEY,), ([], [])
    found = {}
    for enterprise_id, (grid, division) in partitions.items():
        leading, located = overlapping.get(enterprise_id, nothing)
        found[enterprise_id] = (zone, (grid,), (division,), tuple(sorted(set(leading))),
                                tuple(sorted(set(located))))
    return found


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def labels(session: Session, dimension: str, keys: Iterable[str] = (),
           language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """Group key -> the name people read (grids, divisions, industries and carriers by name;
    the zone and the enterprises in no grid by their labels in ``language``)."""
    if dimension == "zone":
        return {ZONE_KEY: label_of("economic_dimension", "zone", language)}
    if dimension == "grid":
        return dict(session.execute(select(Grid.id, Grid.name)).all()) | {
            UNASSIGNED: label_of("grid_source", "unassigned", language)}
    if dimension == "industry_division":
        names = {}
        for key in keys:
            try:
                names[key] = industry.division_name(key)
            except industry.InvalidIndustryCode:
                names[key] = key
        return names
    if dimension == "leading_industry":
        return industries.ids_and_names(session)
    return dict(session.execute(select(Carrier.id, Carrier.name)).all())


def known_keys(session: Session, dimension: str) -> list[str]:
    """The groups listed even without figures (shown as not reported)."""
    if dimension == "zone":
        return [ZONE_KEY]
    if dimension == "grid":
        return list(session.execute(select(Grid.id).order_by(Grid.id)).scalars())
    if dimension == "industry_division":
        return list(session.execute(select(func.substr(Enterprise.industry_code, 1, 3))
                                    .where(Enterprise.in_scope.is_(True)).distinct()
                                    .order_by(func.substr(Enterprise.industry_code, 1, 3)))
                    .scalars())
    if dimension == "leading_industry":
        return list(session.execute(select(LeadingIndustry.id).order_by(
            LeadingIndustry.position, LeadingIndustry.name)).scalars())
    return list(session.execute(select(Carrier.id).order_by(Carrier.name)).scalars())


def growth(current: Decimal | None, previous: Decimal | None) -> float | None:
    """(current - previous) / previous; None unless both are known and previous is above 0."""
    if current is None or previous is None or previous <= 0:
        return None
    return round(float((current - previous) / previous), 4)


def number(value: Decimal | int | None, name: str) -> float | int | None:
    if value is None:
        return None
    if name in STOCKS:
        return int(value)
    return float(round(Decimal(value), 2))


def figure(name: str, current: tuple[Decimal | None, int], previous: tuple[Decimal | None, int],
           hidden_now: bool, hidden_before: bool) -> dict[str, Any]:
    """One indicator of one group: value, reporting, status, the same a year earlier, growth."""
    value, reporting = current
    earlier, earlier_reporting = previous

    def status(count: int, hidden: bool) -> str:
        if count == 0:
            return "not_reported"
        return "suppressed" if hidden else "reported"

    now, before = status(reporting, hidden_now), status(earlier_reporting, hidden_before)
    shown = value if now == "reported" else None
    shown_before = earlier if before == "reported" else None
    return {"value": number(shown, name), "reporting": reporting, "status": now,
            "previous": number(shown_before, name), "previous_reporting": earlier_reporting,
            "previous_status": before, "yoy": growth(shown, shown_before)}


NOTHING: tuple[Decimal | None, int] = (None, 0)


def figures_of(totals: Mapping[str, tuple[Decimal | None, int]] | None,
               earlier: Mapping[str, tuple[Decimal | None, int]] | None,
               hidden_now: set[str], hidden_before: set[str]) -> dict[str, Any]:
    return {name: figure(name, (totals or {}).get(name, NOTHING),
                         (earlier or {}).get(name, NOTHING),
                         name in hidden_now, name in hidden_before) for name in INDICATORS}
