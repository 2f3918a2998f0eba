"""Who sees which economic figures (按权限共享), and the audit of every read of one
enterprise's figures.

Rules (one home each; ``docs/domain.md`` states them for people):

- **Per-enterprise figures** are seen only by the roles and departments the admin grants them
  to (default: 经济发展部, 财政金融部 and the leaders), each within what it reads of the registry
  (grid staff: their grids' enterprises). Every such read is written to the audit log (操作日志)
  in the transaction that reads, with the enterprises read.
- Granted staff who read the whole registry (not grid staff) see every aggregate as it is.
- Everyone else on the staff sees aggregates only where they cannot single out an enterprise:
  a group's figure is released only when at least :data:`MIN_GROUP` enterprises reported it,
  and no released figure, combined with others of the same period by subtraction, isolates
  fewer than :data:`MIN_GROUP` enterprises. :func:`withheld` decides, over every group of every
  dimension of the period at once:

  1. a group with 1 to 4 reporting enterprises is withheld;
  2. then, as long as the released figures, added to and subtracted from one another, give
     the sum of 1 to 4 enterprises (a group less the groups inside it; the zone less the
     released groups of a dimension; a leading industry less its divisions, or a carrier less
     its grid; any mix of those), one of the groups that derivation uses is withheld: a
     leading industry's or a carrier's before a grid's or a division's, the smallest first,
     the zone last. The check is exact: it asks whether the small group's sum lies in the
     span of the released figures (:func:`_leak`);
  3. an indicator is judged on its own reporters, each period on its own.

  What stays possible is said in docs/domain.md: differences between two moments (an import
  in between), and the joint sum of two or more small sets of enterprises that the released
  figures give together while neither alone.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import Forbidden, field_error, invalid_fields
from common.i18n import N_
from services.enterprise import access as registry_access
from services.enterprise import audit
from services.enterprise.models import Department, Setting
from services.enterprise.zone import access
from services.enterprise.zone.figures import ZONE_KEY, memberships, reporters
from services.enterprise.zone.periods import Period
from services.enterprise.zone.vocabulary import (
    DIMENSIONS,
    INDICATORS,
    MIN_GROUP,
    OVERLAPPING,
)

SETTINGS_KEY = "zone.figure_access"
DEFAULT_GRANT: dict[str, list[str]] = {
    "departments": ["economic_development", "finance"],  # 经济发展部, 财政金融部
    "roles": [Role.LEADER.value],  # 分管领导, 领导小组
}

Cell = tuple[str, str]  # (dimension, key)


@dataclass(frozen=True)
class Layout:
    """The groups a set of released figures is made of: its dimensions (the total's among
    them), the total's cell, and which dimensions' groups overlap (an enterprise in several or
    none) rather than split the enterprises."""

    dimensions: tuple[str, ...]
    total: Cell
    overlapping: frozenset[str] = frozenset()

    def order(self, dimension: str) -> int:
        """Which groups go first when one must be withheld: overlapping ones, then those of
        a partition, the total last."""
        if dimension in self.overlapping:
            return 0
        return 2 if dimension == self.total[0] else 1


#: the zone's figures (整体经济运行): every dimension of the summary at once
ZONE_LAYOUT = Layout(DIMENSIONS, ("zone", ZONE_KEY), frozenset(OVERLAPPING))


# --------------------------------------------------------------------------- the grant


def grant(session: Session) -> dict[str, Any]:
    row = session.get(Setting, SETTINGS_KEY)
    value = row.value if row else DEFAULT_GRANT
    return {"departments": list(value.get("departments", [])),
            "roles": list(value.get("roles", [])), "version": row.version if row else 1}


def set_grant(session: Session, principal: Principal, data: Mapping[str, Any],
              expected: int | None) -> dict[str, Any]:
    access.check_editor(principal, access.ADMINS)
    known = set(session.execute(select(Department.id)).scalars())
    unknown = sorted(set(data["departments"]) - known)
    if unknown:
        raise invalid_fields({"departments": [field_error(
            "zone.department_unknown", "no such department: {ids}", ids=unknown)]},
            code="zone.department_unknown")
    row = session.get(Setting, SETTINGS_KEY, with_for_update=True)
    if row is None:
        row = Setting(key=SETTINGS_KEY, value=DEFAULT_GRANT, version=1)
        session.add(row)
        session.flush()
    access.check_version(row.version, expected, "figure_access")
    value = {"departments": sorted(set(data["departments"])), "roles": sorted(set(data["roles"]))}
    if value != row.value:
        row.value = value
        row.version += 1
    session.flush()
    return grant(session)


def granted(principal: Principal, current: Mapping[str, Any]) -> bool:
    """True if the caller's role or department is granted the per-enterprise figures."""
    if principal.role in (Role.ENTERPRISE, Role.SERVICE):
        return False
    return (principal.role.value in current["roles"]
            or (principal.department_id is not None
                and principal.department_id in current["departments"]))


def sees_all(principal: Principal, current: Mapping[str, Any]) -> bool:
    """Granted, and reads the whole registry: every aggregate as it is."""
    return granted(principal, current) and principal.role in registry_access.READ_ALL


def check_enterprise_figures(principal: Principal, current: Mapping[str, Any]) -> None:
    access.check_reader(principal)
    if not granted(principal, current):
        raise Forbidden("the per-enterprise figures are granted to other roles and departments",
                        code="zone.figures_not_granted")


def record_read(session: Session, principal: Principal, call_id: str | None, what: str,
                enterprise_ids: list[str], indicators: list[str], area: str = "zone") -> None:
    """操作日志: one entry per read of per-enterprise figures, with whose figures were read
    (route ``zone.enterprise_figures``, ``enterprise.detail`` ...)."""
    route = f"{area}.{what}"
    audit.record(session, principal, {
        "call_id": call_id or f"{route}.{uuid.uuid4()}", "method": "GET",
        "route": route, "path": route,
        "action": N_("Read per-enterprise economic figures"), "status": 200,
        # the log's subjects are text: the ids read, comma-separated, and how many
        "subject_ids": {"enterprise_ids": ",".join(enterprise_ids),
                        "enterprises": str(len(enterprise_ids))},
        "fields_changed": list(indicators),
    })


# --------------------------------------------------------------------------- suppression


def withheld(session: Session, periods: list[Period]
             ) -> dict[Period, dict[str, set[Cell]]]:
    """period -> indicator -> the groups (dimension, key) whose figure is withheld."""
    reported = reporters(session, periods)
    everyone = set().union(*(ids for by in reported.values() for ids in by.values()))
    groups = memberships(session, everyone)
    result: dict[Period, dict[str, set[Cell]]] = {}
    for period, by_indicator in reported.items():
        result[period] = {}
        memo: dict[frozenset[str], set[Cell]] = {}
        for name in INDICATORS:
            ids = frozenset(by_indicator[name])
            if ids not in memo:
                memo[ids] = decide(ids, groups)
            result[period][name] = memo[ids]
    return result


def cells_of(ids: frozenset[str], groups: Mapping[str, Mapping[str, set[str]]],
             layout: Layout = ZONE_LAYOUT) -> dict[Cell, set[str]]:
    """Every group the reporters ``ids`` form, with its reporters."""
    cells: dict[Cell, set[str]] = defaultdict(set)
    for dimension in layout.dimensions:
        member_of = groups[dimension]
        for enterprise_id in ids:
            for key in member_of.get(enterprise_id, ()):
                cells[(dimension, key)].add(enterprise_id)
    return dict(cells)


def decide(ids: frozenset[str], groups: Mapping[str, Mapping[str, set[str]]],
           layout: Layout = ZONE_LAYOUT) -> set[Cell]:
    """The withheld groups among those the reporters ``ids`` form (rules 1-3 above), for the
    zone's figures or any other set of groups (``layout``; ``groups``: dimension ->
    enterprise -> its keys, the total's dimension included)."""
    cells = cells_of(ids, groups, layout)
    total = cells.get(layout.total, set())
    if len(total) < MIN_GROUP:
        return set(cells)
    hidden = {cell for cell, members in cells.items() if len(members) < MIN_GROUP}
    for _ in range(len(cells)):
        victim = _leak(cells, groups, hidden, layout)
        if victim is None:
            break
        hidden.add(victim)
    return hidden


def _leak(cells: Mapping[Cell, set[str]], groups: Mapping[str, Mapping[str, set[str]]],
          hidden: set[Cell], layout: Layout) -> Cell | None:
    """A released group to withhold because the released figures, added and subtracted,
    give the sum of fewer than MIN_GROUP enterprises; None when they cannot.

    The enterprises fall into atoms: those in exactly the same released groups. Every figure
    anyone can derive is a combination of the atoms' sums, and an atom's sum is derivable
    exactly when its indicator vector lies in the span of the released groups' columns, i.e.
    when its leverage (its diagonal entry of the projection onto that span) is 1.
    A derivable atom of 1-4 enterprises is a leak: the groups the derivation uses are found
    by least squares, and one of them is withheld (a leading industry's or carrier's rather
    than a grid's or division's, the smallest first, the zone last)."""
    released = sorted(c for c in cells if c not in hidden)
    if not released:
        return None
    column = {cell: i for i, cell in enumerate(released)}
    atoms: dict[tuple[int, ...], int] = defaultdict(int)
    for enterprise_id in cells[layout.total]:
        signature = tuple(sorted(
            column[(dimension, key)] for dimension in layout.dimensions
            for key in groups[dimension].get(enterprise_id, ())
            if (dimension, key) in column))
        atoms[signature] += 1
    signatures = sorted(atoms)
    small = [signature for signature in signatures if atoms[signature] < MIN_GROUP]
    if not small:
        return None
    # the hat matrix's diagonal through the Gram matrix of the atoms x groups matrix M:
    # leverage(a) = m_a (M^T M)^+ m_a^T, and the least-norm derivation x = (M^T M)^+ m_a^T
    gram = [[0.0] * len(released) for _ in released]
    for signature in signatures:
        for i in signature:
            row = gram[i]
            for j in signature:
                row[j] += 1.0
    inverse = numpy.linalg.pinv(numpy.array(gram), rcond=1e-10, hermitian=True)
    entries = inverse.tolist()
    for signature in small:
        leverage = sum(entries[i][j] for i in signature for j in signature)
        if signature and leverage > 1 - 1e-8:
            weights = inverse[:, list(signature)].sum(axis=1)
            used = [released[i] for i in numpy.flatnonzero(numpy.abs(weights) > 1e-8)]
            return min(used, key=lambda c: (layout.order(c[0]), len(cells[c]), c))
    return None


def hidden_for(principal: Principal, current: Mapping[str, Any], session: Session,
               periods: list[Period]) -> dict[Period, dict[str, set[Cell]]]:
    """The withheld groups for this caller: none when it sees everything."""
    if sees_all(principal, current):
        return {p: {name: set() for name in INDICATORS} for p in periods}
    return withheld(session, periods)

