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
  2. a group that, less the released groups of another dimension it contains, leaves 1 to 4
     enterprises (a leading industry = two divisions + one tagged enterprise; a carrier = an
     incubator grid + one tenant; a grid less its one nearly equal division) is withheld:
     the group of the overlapping dimension (leading industry, carrier) when there is one,
     else the containing group, and when the containing group is the zone, the contained one;
  3. in a dimension that splits the zone (grid, industry division), the withheld groups
     together hold at least 5 enterprises and are at least two, or none: otherwise the
     smallest released groups are withheld too, so the zone less the released groups never
     isolates one enterprise or one withheld group;
  4. repeated until nothing changes. An indicator is judged on its own reporters.

  What stays possible is said in docs/domain.md: differences between two moments (an import
  in between) and combinations beyond those above are not prevented.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import Forbidden, ValidationFailed, field_error
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
    PARTITIONS,
)

SETTINGS_KEY = "zone.figure_access"
DEFAULT_GRANT: dict[str, list[str]] = {
    "departments": ["economic_development", "finance"],  # 经济发展部, 财政金融部
    "roles": [Role.LEADER.value],  # 分管领导, 领导小组
}

Cell = tuple[str, str]  # (dimension, key)


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
        raise ValidationFailed("invalid fields: {fields}", {"departments": [field_error(
            "zone.department_unknown", "no such department: {ids}", ids=", ".join(unknown))]},
            params={"fields": "departments"})
    row = session.get(Setting, SETTINGS_KEY, with_for_update=True)
    if row is None:
        row = Setting(key=SETTINGS_KEY, value=DEFAULT_GRANT, version=1)
        session.add(row)
        session.flush()
    access.check_version(row.version, expected, "grant of the per-enterprise figures")
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
                enterprise_ids: list[str], indicators: list[str]) -> None:
    """操作日志: one entry per read of per-enterprise figures, with whose figures were read."""
    audit.record(session, principal, {
        "call_id": call_id or f"zone.{what}.{uuid.uuid4()}", "method": "GET",
        "route": f"zone.{what}", "path": f"zone.{what}",
        "action": "Read per-enterprise economic figures", "status": 200,
        "subject_ids": {"enterprise_ids": enterprise_ids[:500],
                        "enterprises": len(enterprise_ids)},
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


def cells_of(ids: frozenset[str], groups: Mapping[str, Mapping[str, set[str]]]
             ) -> dict[Cell, set[str]]:
    cells: dict[Cell, set[str]] = defaultdict(set)
    for dimension in DIMENSIONS:
        member_of = groups[dimension]
        for enterprise_id in ids:
            for key in member_of.get(enterprise_id, ()):
                cells[(dimension, key)].add(enterprise_id)
    return dict(cells)


def decide(ids: frozenset[str], groups: Mapping[str, Mapping[str, set[str]]]) -> set[Cell]:
    """The withheld groups among those the reporters ``ids`` form (rules 1-4 above)."""
    cells = cells_of(ids, groups)
    zone = cells.get(("zone", ZONE_KEY), set())
    if 0 < len(zone) < MIN_GROUP:
        return set(cells)
    hidden = {cell for cell, members in cells.items() if len(members) < MIN_GROUP}
    changed = True
    while changed:
        changed = False
        for cell in _differences(cells, groups, hidden):
            if cell not in hidden:
                hidden.add(cell)
                changed = True
        for dimension in PARTITIONS:
            for cell in _complements(cells, dimension, hidden):
                hidden.add(cell)
                changed = True
    return hidden


def _differences(cells: Mapping[Cell, set[str]], groups: Mapping[str, Mapping[str, set[str]]],
                 hidden: set[Cell]) -> list[Cell]:
    """Rule 2: released groups that, less the released groups of another dimension inside
    them, leave 1-4 enterprises; the group to withhold for each."""
    found = []
    for container, members in cells.items():
        if container in hidden:
            continue
        for dimension in DIMENSIONS:
            if dimension == "zone" or (dimension == container[0]
                                       and dimension not in OVERLAPPING):
                continue
            inside = _contained(members, groups[dimension], cells, dimension,
                                hidden | {container})
            if not inside:
                continue
            covered = set().union(*(cells[c] for c in inside))
            rest = len(members) - len(covered)
            if 0 < rest < MIN_GROUP:
                found.append(_victim(container, inside, cells))
    return found


def _contained(members: set[str], member_of: Mapping[str, set[str]],
               cells: Mapping[Cell, set[str]], dimension: str, hidden: set[Cell]
               ) -> list[Cell]:
    """The released groups of ``dimension`` entirely inside ``members``, pairwise disjoint
    (greedy, largest first, for the dimensions whose groups overlap)."""
    counts: Counter[str] = Counter()
    for enterprise_id in members:
        for key in member_of.get(enterprise_id, ()):
            counts[key] += 1
    inside = [(dimension, key) for key, n in counts.items()
              if (dimension, key) not in hidden and len(cells[(dimension, key)]) == n]
    if dimension not in OVERLAPPING:
        return inside
    chosen: list[Cell] = []
    taken: set[str] = set()
    for cell in sorted(inside, key=lambda c: (-len(cells[c]), c)):
        if not cells[cell] & taken:
            chosen.append(cell)
            taken |= cells[cell]
    return chosen


def _victim(container: Cell, inside: list[Cell], cells: Mapping[Cell, set[str]]) -> Cell:
    if container[0] == "zone":
        return min(inside, key=lambda c: (len(cells[c]), c))
    if container[0] in OVERLAPPING:
        return container
    overlapping = [c for c in inside if c[0] in OVERLAPPING]
    if overlapping:
        return min(overlapping, key=lambda c: (len(cells[c]), c))
    return container


def _complements(cells: Mapping[Cell, set[str]], dimension: str, hidden: set[Cell]
                 ) -> list[Cell]:
    """Rule 3: more groups of a partition to withhold so that the withheld ones hold at
    least MIN_GROUP enterprises and are at least two (or none)."""
    mine = [c for c in cells if c[0] == dimension]
    withheld_cells = [c for c in mine if c in hidden]
    released = sorted((c for c in mine if c not in hidden), key=lambda c: (len(cells[c]), c))
    added: list[Cell] = []
    total = sum(len(cells[c]) for c in withheld_cells)
    count = len(withheld_cells)
    while count and (count < 2 or total < MIN_GROUP) and released:
        cell = released.pop(0)
        added.append(cell)
        total += len(cells[cell])
        count += 1
    return added


def hidden_for(principal: Principal, current: Mapping[str, Any], session: Session,
               periods: list[Period]) -> dict[Period, dict[str, set[Cell]]]:
    """The withheld groups for this caller: none when it sees everything."""
    if sees_all(principal, current):
        return {p: {name: set() for name in INDICATORS} for p in periods}
    return withheld(session, periods)

