"""Who reads an enterprise's tax and revenue in the registry (企业画像: the yearly 税收 and
营业收入 of ``latest_indicators``, the profile and the classification summary).

The same grant as the zone's per-enterprise figures (按权限: :mod:`.zone.disclosure` is its one
home; default 经济发展部, 财政金融部 and the leaders; the admin changes it at
``/api/v1/zone/economy/access``):

- a granted role or department reads them for the enterprises it reads (grid staff: their
  grids'), and every such read of another's figures goes into the audit log (操作日志) with the
  enterprises read;
- an enterprise user reads its own (it reported them);
- everyone else reads them as withheld (null, named in ``withheld``), may not filter or sort
  the enterprises by tax, and reads the classification summary's tax and revenue sums only
  where they stand for at least 5 enterprises and no subtraction of the other sums it is
  shown narrows one to fewer (:func:`summary_hidden`, the zone's release rule over the
  summary's dimensions).

Output value, employees and R&D spending are not covered by the grant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import Forbidden
from services.enterprise.zone import disclosure

#: the indicators the grant covers here, in the order people read them
GRANTED = ("revenue", "tax")
#: the classification summary's dimensions, and the total they all add up to
SUMMARY_DIMENSIONS = ("grid", "industry_section", "industry_division", "scale", "output_band",
                      "tax_band")
TOTAL: disclosure.Cell = ("total", "total")
SUMMARY_LAYOUT = disclosure.Layout((*SUMMARY_DIMENSIONS, TOTAL[0]), TOTAL)


@dataclass(frozen=True)
class Reader:
    """A caller, and whether the grant covers it."""

    principal: Principal
    granted: bool
    #: granted and reads the whole registry: every summary as it is
    sees_all: bool

    def sees(self, enterprise_id: str) -> bool:
        """True if this caller reads the enterprise's tax and revenue."""
        return self.granted or (self.principal.role == Role.ENTERPRISE
                                and self.principal.enterprise_id == enterprise_id)


def reader(session: Session, principal: Principal) -> Reader:
    current = disclosure.grant(session)
    return Reader(principal, disclosure.granted(principal, current),
                  disclosure.sees_all(principal, current))


def shown(who: Reader, enterprise_id: str, indicators: Mapping[str, Any] | None
          ) -> dict[str, Any] | None:
    """``latest_indicators`` as this caller reads them: tax and revenue null and named in
    ``withheld`` unless it sees them."""
    if indicators is None:
        return None
    if who.sees(enterprise_id):
        return {**indicators, "withheld": []}
    return {**indicators, **dict.fromkeys(GRANTED), "withheld": list(GRANTED)}


def profile_values(who: Reader, enterprise_id: str, values: Iterable[Any]) -> list[Any]:
    """The profile's entries this caller reads (tax and revenue entries only if it sees
    them)."""
    if who.sees(enterprise_id):
        return list(values)
    return [v for v in values if v.indicator not in GRANTED]


def check_query(who: Reader, q: Mapping[str, Any]) -> None:
    """Sorting or bounding the list by tax reads every listed enterprise's tax: granted
    callers only (403 otherwise; the enterprise user's list is its own enterprise)."""
    asked = [name for name in ("min_tax", "max_tax") if q.get(name) is not None]
    if str(q.get("sort", "")).lstrip("-") == "tax":
        asked.append("sort")
    if asked and not who.granted and who.principal.role != Role.ENTERPRISE:
        raise Forbidden("sorting or filtering enterprises by tax ({fields}) needs the grant of "
                        "the per-enterprise figures", code="zone.figures_not_granted",
                        params={"fields": asked})


def record_read(session: Session, who: Reader, call_id: str | None, what: str,
                read: Mapping[str, Mapping[str, Any] | None]) -> None:
    """操作日志 of a read that returned other enterprises' tax or revenue (``read``: enterprise
    id -> what it returned of them); an enterprise reading its own is not logged."""
    if who.principal.role == Role.ENTERPRISE or not who.granted:
        return
    ids = [eid for eid, values in read.items()
           if values and any(values.get(name) is not None for name in GRANTED)]
    if ids:  # the request's id with the read's name: a write's own audit entry keeps its id
        disclosure.record_read(session, who.principal, f"{call_id}.{what}" if call_id else None,
                               what, ids, list(GRANTED), area="enterprise")


def summary_hidden(session: Session, who: Reader, query: Select, year_known: bool
                   ) -> dict[str, set[disclosure.Cell]]:
    """indicator -> the summary's groups (dimension, key) whose tax or revenue this caller
    may not read; ``query`` selects ``id``, a column per :data:`SUMMARY_DIMENSIONS` and
    ``has_<indicator>`` for the enterprises the summary counts (the caller's scope, the
    filters, the year). Nothing is hidden from a granted reader of the whole registry."""
    if who.sees_all or not year_known:
        return {name: set() for name in GRANTED}
    groups: dict[str, dict[str, set[str]]] = {d: {} for d in SUMMARY_LAYOUT.dimensions}
    reporters: dict[str, set[str]] = {name: set() for name in GRANTED}
    for row in session.execute(query).mappings():
        enterprise_id = str(row["id"])
        for dimension in SUMMARY_DIMENSIONS:
            groups[dimension][enterprise_id] = {str(row[dimension])}
        groups[TOTAL[0]][enterprise_id] = {TOTAL[1]}
        for name in GRANTED:
            if row[f"has_{name}"]:
                reporters[name].add(enterprise_id)
    memo: dict[frozenset[str], set[disclosure.Cell]] = {}
    hidden = {}
    for name in GRANTED:
        ids = frozenset(reporters[name])
        if ids not in memo:
            memo[ids] = disclosure.decide(ids, groups, SUMMARY_LAYOUT)
        hidden[name] = memo[ids]
    return hidden
