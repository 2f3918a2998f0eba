"""Each grid's enterprise growth, for the yearly awards (年终优秀奖励).

The plan rewards "服务企业成效突出、企业业绩有明显增长的网格": ticketing ranks the grids and asks
the registry for the output value (产值) and tax (税收) of each grid's in-scope enterprises in a
year and the year before. Only per-grid sums leave the registry, never an enterprise's figures.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import Forbidden
from services.enterprise import access, profile_sources
from services.enterprise.models import Enterprise, Grid, ProfileValue

#: who may ask: the readers of the awards (grid leaders and department heads see only their
#: grids' rows, but the ranking needs every grid's sums) and the services
GROWTH_READERS = access.READ_ALL | {Role.GRID_LEADER}


def latest_of_year(indicator: str, year: int, name: str) -> Any:
    """Subquery (enterprise_id, value): each enterprise's latest value of one indicator for
    one year (as :func:`services.enterprise.registry.latest_metric`)."""
    return (
        select(ProfileValue.enterprise_id, ProfileValue.value)
        .where(ProfileValue.indicator == indicator, ProfileValue.year == year)
        .ext(distinct_on(ProfileValue.enterprise_id))
        .order_by(ProfileValue.enterprise_id, *profile_sources.order())
        .subquery(name)
    )


def grid_growth(session: Session, principal: Principal, year: int) -> list[dict[str, Any]]:
    """Every grid with the summed output value and tax of its in-scope enterprises for
    ``year`` and ``year - 1`` (each enterprise's latest value of that year); a sum is None
    when none of the grid's enterprises has a figure for that year (no data, not 0)."""
    if principal.role not in GROWTH_READERS:
        raise Forbidden("{role} may not read the grids' growth", code="zone.read_forbidden",
                        params={"role": principal.role_label})
    metrics = {label: latest_of_year(indicator, which, label) for label, indicator, which in (
        ("output_value", "output_value", year), ("output_value_previous", "output_value", year - 1),
        ("tax", "tax", year), ("tax_previous", "tax", year - 1))}
    query = (
        select(Grid.id, Grid.name, Grid.kind, Grid.owner_department_id,
               func.count(Enterprise.id),
               *[func.sum(m.c.value) for m in metrics.values()])
        .select_from(Grid)
        .outerjoin(Enterprise, (Enterprise.grid_id == Grid.id) & Enterprise.in_scope.is_(True))
    )
    for metric in metrics.values():  # one row per enterprise each: no fan-out
        query = query.outerjoin(metric, metric.c.enterprise_id == Enterprise.id)
    labels = list(metrics)
    rows = session.execute(query.group_by(Grid.id).order_by(Grid.id)).all()
    return [{"grid_id": r[0], "name": r[1], "kind": r[2], "department_id": r[3],
             "enterprises": r[4],
             **{label: None if r[5 + i] is None else float(r[5 + i])
                for i, label in enumerate(labels)}}
            for r in rows]
