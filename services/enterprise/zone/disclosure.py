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
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy
from sqlalchemy import BigInteger, Text, and_, cast, func, literal_column, or_, select, true
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import Forbidden, field_error, invalid_fields
from common.i18n import N_
from services.enterprise import access as registry_access
from services.enterprise import audit
from services.enterprise.models import Department, Enterprise, Setting
from services.enterprise.zone import access
from services.enterprise.zone.figures import ZONE_KEY, membership_keys, reporters
from services.enterprise.zone.models import Carrier, IndicatorValue, LeadingIndustry, Tenancy
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
    """period -> indicator -> the groups (dimension, key) whose figure is withheld.

    Each period's answer is kept in the process (:data:`_DECIDED`) with a fingerprint of what
    it was decided from (:func:`_fingerprints`: the rows of the period's figures and of the
    registry tables the groups come from); the next request asks only for the fingerprint and
    decides again when it changed."""
    prints = _fingerprints(session, periods)
    result: dict[Period, dict[str, set[Cell]]] = {}
    for period in periods:
        kept = _DECIDED.get(period)
        if kept is not None and kept[0] == prints[period]:
            _DECIDED.move_to_end(period)
            result[period] = {name: set(cells) for name, cells in kept[1].items()}
    missing = [period for period in periods if period not in result]
    if not missing:
        return result
    reported = reporters(session, missing)
    everyone = set().union(*(ids for by in reported.values() for ids in by.values()))
    world = _World(membership_keys(session, everyone), ZONE_LAYOUT)
    for period, by_indicator in reported.items():
        result[period] = {}
        memo: dict[frozenset[str], set[Cell]] = {}
        for name in INDICATORS:
            ids = frozenset(by_indicator[name])
            if ids not in memo:
                memo[ids] = world.decide(ids)
            result[period][name] = memo[ids]
        _DECIDED[period] = (prints[period],
                            {name: set(cells) for name, cells in result[period].items()})
        _DECIDED.move_to_end(period)
        while len(_DECIDED) > _KEPT:
            _DECIDED.popitem(last=False)
    return result


#: period -> (the fingerprint of its inputs, indicator -> withheld groups), the most recently
#: asked last; at most :data:`_KEPT` periods (a few kilobytes each)
_DECIDED: OrderedDict[Period, tuple[tuple[Any, ...], dict[str, set[Cell]]]] = OrderedDict()
_KEPT = 64


def _rows(table: Any, *where: Any) -> Any:
    """(how many rows, the sum of their xmin): any insert, update or delete since changes it
    (a row's new version carries the writing transaction's id, newer than any there was),
    whoever writes, through the ORM or not."""
    xmin = cast(cast(literal_column(f"{table.name}.xmin"), Text), BigInteger)
    return select(func.count(), func.coalesce(func.sum(xmin), 0)).select_from(table).where(
        *where)


def _fingerprints(session: Session, periods: list[Period]) -> dict[Period, tuple[Any, ...]]:
    """period -> what its withheld groups depend on, as counts and xmin sums: the figures'
    rows of the period (its months, and quarters when it is a quarter or year) and the tables
    the groups are read from (enterprises: grid, industry, tags, scope, incubator; leading
    industries; carriers; tenancies). One statement; it reads the period's rows (about as
    many as the summary's own sums do) and the enterprises' table, no figures."""
    tables = (Enterprise.__table__, LeadingIndustry.__table__, Carrier.__table__,
              Tenancy.__table__)
    figures = IndicatorValue.__table__
    parts = [_rows(table).subquery() for table in tables]
    for period in periods:
        where = [figures.c.year == period.year]
        if period.kind == "month":
            where += [figures.c.period_kind == "month", figures.c.period == period.number]
        elif period.kind == "quarter":
            where.append(or_(
                and_(figures.c.period_kind == "month",
                     figures.c.period.between(3 * period.number - 2, 3 * period.number)),
                and_(figures.c.period_kind == "quarter", figures.c.period == period.number)))
        parts.append(_rows(figures, *where).subquery())
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.join(part, true())
    row = session.execute(select(*[column for part in parts for column in part.c])
                          .select_from(joined)).one()
    registry = tuple(row[:2 * len(tables)])
    return {period: (*registry, *row[2 * len(tables) + 2 * i:2 * len(tables) + 2 * i + 2])
            for i, period in enumerate(periods)}


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
    return _World.of(groups, layout, ids).decide(ids)


#: a leverage above this is 1: the atom's sum is derivable
_EXACT = 1 - 1e-8
#: a derivation's weight above this (in absolute value) uses the group
_USED = 1e-8
#: eigenvalues below this, relative to the largest group's atoms, are zero (pinv's rcond)
_RCOND = 1e-10


class _World:
    """Enterprises numbered by the groups they are in (the finest atoms), once for several
    sets of reporters drawn from them (a period's indicators, two periods)."""

    def __init__(self, keys_of: Mapping[str, tuple[tuple[str, ...], ...]], layout: Layout
                 ) -> None:
        """``keys_of``: enterprise -> the keys of its groups in each of the layout's
        dimensions, ascending (the total's among them)."""
        self.layout = layout
        dimensions = layout.dimensions
        fine: dict[tuple[tuple[str, ...], ...], int] = {}
        #: enterprise -> its finest atom
        self.fine_of = {enterprise_id: fine.setdefault(keys, len(fine))
                        for enterprise_id, keys in keys_of.items()}
        #: every group any of the enterprises is in, in order
        self.cells = sorted({(dimension, key) for keys in fine
                             for dimension, of in zip(dimensions, keys, strict=True)
                             for key in of})
        index = {cell: i for i, cell in enumerate(self.cells)}
        signatures = [sorted(index[(dimension, key)]
                             for dimension, of in zip(dimensions, keys, strict=True)
                             for key in of) for keys in fine]
        width = max(1, max((len(signature) for signature in signatures), default=1))
        #: finest atom x its groups' indices into ``cells``, ascending, then -1
        self.members = numpy.full((len(fine), width), -1, dtype=numpy.int64)
        for row, signature in enumerate(signatures):
            self.members[row, :len(signature)] = signature
        position = {d: i for i, d in enumerate(dimensions)}
        self.dimension = numpy.array([position[c[0]] for c in self.cells], dtype=numpy.int64)
        self.total = index.get(layout.total, -1)

    @classmethod
    def of(cls, groups: Mapping[str, Mapping[str, set[str]]], layout: Layout,
           enterprises: Iterable[str]) -> _World:
        """The world of ``enterprises`` from ``groups`` (dimension -> enterprise -> keys)."""
        return cls({enterprise_id: tuple(tuple(sorted(groups[dimension].get(enterprise_id, ())))
                                         for dimension in layout.dimensions)
                    for enterprise_id in enterprises}, layout)

    def decide(self, ids: frozenset[str]) -> set[Cell]:
        """:func:`decide` for reporters among the world's enterprises."""
        atoms = self.atoms(ids)
        if isinstance(atoms, set):
            return atoms
        hidden = {cell for cell, size in atoms.size.items() if size < MIN_GROUP}
        for _ in range(len(atoms.cells)):
            victim = _leak(atoms, hidden)
            if victim is None:
                break
            hidden.add(victim)
        return hidden

    def atoms(self, ids: frozenset[str]) -> _Atoms | set[Cell]:
        """The groups the reporters ``ids`` form, with their atoms; or every one of those
        groups when the total has fewer than MIN_GROUP reporters (all withheld)."""
        fine_of = self.fine_of  # an enterprise in no group is in no atom either
        counts = numpy.bincount(
            numpy.fromiter((fine_of[i] for i in ids if i in fine_of), dtype=numpy.int64),
            minlength=len(self.members))
        padded = numpy.where(self.members >= 0, self.members, len(self.cells))
        size = numpy.zeros(len(self.cells) + 1, dtype=numpy.int64)
        numpy.add.at(size, padded, numpy.broadcast_to(counts[:, None], padded.shape))
        size = size[:-1]
        present = size > 0
        cells = [cell for cell, there in zip(self.cells, present, strict=True) if there]
        if self.total < 0 or size[self.total] < MIN_GROUP:
            return set(cells)
        live = (counts > 0) & (self.members == self.total).any(axis=1)
        renumber = numpy.append(numpy.cumsum(present) - 1, -1)
        members = renumber[numpy.where(self.members[live] >= 0, self.members[live], -1)]
        return _Atoms(self.layout, cells,
                      {cell: int(n) for cell, n in zip(cells, size[present], strict=True)},
                      self.dimension[present], members, counts[live])


@dataclass
class _Atoms:
    """The groups one set of reporters forms and its enterprises of the total grouped by
    every group they are in (the finest atoms): each round of :func:`_leak` only drops the
    withheld groups from these and merges the atoms that become alike."""

    layout: Layout
    #: the groups, in order, and how many reporters each has
    cells: list[Cell]
    size: dict[Cell, int]
    #: each group's dimension (its position in the layout)
    dimension: numpy.ndarray
    #: atom x its groups' indices into ``cells``, ascending, then -1
    members: numpy.ndarray
    #: the atom's enterprises
    counts: numpy.ndarray


def _leak(atoms: _Atoms, hidden: set[Cell]) -> Cell | None:
    """A released group to withhold because the released figures, added and subtracted,
    give the sum of fewer than MIN_GROUP enterprises; None when they cannot.

    The enterprises fall into atoms: those in exactly the same released groups. Every figure
    anyone can derive is a combination of the atoms' sums, and an atom's sum is derivable
    exactly when its indicator vector lies in the span of the released groups' columns, i.e.
    when its leverage (its diagonal entry of the projection onto that span) is 1.
    A derivable atom of 1-4 enterprises is a leak: the groups the derivation uses are found
    by least squares (the least-norm solution), and one of them is withheld (a leading
    industry's or carrier's rather than a grid's or division's, the smallest first, the zone
    last).
    """
    used = _derivation(atoms, hidden)
    if used is None:
        return None
    layout = atoms.layout
    return min(used, key=lambda cell: (layout.order(cell[0]), atoms.size[cell], cell))


def _derivation(atoms: _Atoms, hidden: set[Cell]) -> list[Cell] | None:
    """The released groups used by the least-norm derivation of the first small atom (in the
    order of the atoms' signatures) whose sum is derivable; None when none is.

    The atoms x released groups matrix M (one row per distinct signature) is split into the
    groups of one partition O (the grids, typically: mutually orthogonal columns, each atom
    in at most one) and the rest K (a few hundred at most), so that nothing of the size of
    the grids is ever inverted (:func:`_split`); when no partition qualifies, the Gram matrix
    of M is inverted whole (:func:`_dense`)."""
    layout = atoms.layout
    released_mask = numpy.array([cell not in hidden for cell in atoms.cells], dtype=bool)
    if not released_mask.any():
        return None
    released = [cell for cell, kept in zip(atoms.cells, released_mask, strict=True) if kept]
    column = numpy.cumsum(released_mask) - 1
    members = atoms.members
    present = members >= 0
    safe = numpy.where(present, members, 0)
    kept = present & released_mask[safe]
    past = len(released)  # sorts after every column
    mapped = numpy.where(kept, column[safe], past)
    mapped.sort(axis=1)
    mapped[mapped == past] = -1  # a shorter signature sorts first, as tuples do
    order = numpy.lexsort(mapped.T[::-1])
    mapped, counts = mapped[order], atoms.counts[order]
    first = numpy.ones(len(mapped), dtype=bool)
    first[1:] = (mapped[1:] != mapped[:-1]).any(axis=1)
    starts = numpy.flatnonzero(first)
    signatures = mapped[starts]
    enterprises = numpy.add.reduceat(counts, starts)
    small = numpy.flatnonzero((enterprises < MIN_GROUP) & (signatures[:, 0] >= 0))
    if not len(small):
        return None
    dimension = atoms.dimension[released_mask]
    partition = _partition(signatures, dimension, layout)
    if partition is None:
        weights = _dense(signatures, small, len(released))
    else:
        weights = _split(signatures, small, dimension == partition)
    if weights is None:
        return None
    return [released[i] for i in numpy.flatnonzero(numpy.abs(weights) > _USED)]


def _partition(signatures: numpy.ndarray, dimension: numpy.ndarray, layout: Layout
               ) -> int | None:
    """The dimension (its position in the layout) whose released groups become the block O:
    of those that split the enterprises (neither overlapping nor the total's), the one with
    the most released groups in which no atom is in two groups; None if none is."""
    present = signatures >= 0
    of_atom = numpy.where(present, dimension[numpy.where(present, signatures, 0)], -1)
    candidates = [(-int((dimension == i).sum()), i) for i, name in enumerate(layout.dimensions)
                  if name not in layout.overlapping and name != layout.total[0]]
    for released, i in sorted(candidates):
        if released == 0:
            break
        if ((of_atom == i).sum(axis=1) <= 1).all():
            return i
    return None


def _dense(signatures: numpy.ndarray, small: numpy.ndarray, columns: int
           ) -> numpy.ndarray | None:
    """The least-norm derivation of the first derivable small atom, through the pseudo-inverse
    of the whole Gram matrix M^T M: leverage(a) = m_a (M^T M)^+ m_a^T, x = (M^T M)^+ m_a^T."""
    padded = numpy.where(signatures >= 0, signatures, columns)
    gram = numpy.zeros((columns + 1, columns + 1))
    numpy.add.at(gram, (padded[:, :, None], padded[:, None, :]), 1.0)
    inverse = numpy.zeros_like(gram)
    inverse[:columns, :columns] = numpy.linalg.pinv(gram[:columns, :columns], rcond=_RCOND,
                                                    hermitian=True)
    rows = padded[small]
    leverage = inverse[rows[:, :, None], rows[:, None, :]].sum(axis=(1, 2))
    leaks = numpy.flatnonzero(leverage > _EXACT)
    if not len(leaks):
        return None
    weights: numpy.ndarray = inverse[:columns, rows[leaks[0]]].sum(axis=1)
    return weights


def _split(signatures: numpy.ndarray, small: numpy.ndarray, in_o: numpy.ndarray
           ) -> numpy.ndarray | None:
    """The same as :func:`_dense`, with M = [O | K]: O's columns orthogonal (D = O^T O =
    diag(n_g), n_g the atoms of O-group g), K the rest.

    span(M) = span(O) + span(R), orthogonally, with R = (I - H_O) K, whose row r_a is k_a less
    mu_g, the mean of k_b over the atoms b of a's O-group (k_a if a is in none); so
    leverage(a) = [a in g] / n_g + r_a S^+ r_a^T with S = R^T R = K^T K - C^T D^-1 C, C = O^T K.
    A derivation of atom a: x_K = S^+ r_a^T, x_O = D^-1 (e_g - C x_K); the null space of M is
    {(-D^-1 C z, z): z in null(S)}, projected out of it for the least-norm one. Only S (K x K)
    is decomposed."""
    columns = len(in_o)
    o_of = numpy.cumsum(in_o) - 1
    k_of = numpy.cumsum(~in_o) - 1
    n_o, n_k = int(in_o.sum()), columns - int(in_o.sum())
    present = signatures >= 0
    safe = numpy.where(present, signatures, 0)
    in_group = present & in_o[safe]
    group = numpy.where(in_group, o_of[safe], -1).max(axis=1)
    group = numpy.where(group >= 0, group, n_o)  # n_o: in no released O-group
    k_rows = numpy.where(present & ~in_o[safe], k_of[safe], n_k)  # n_k: padding
    atoms_in = numpy.bincount(group, minlength=n_o + 1)[:n_o].astype(float)
    per_atom = numpy.zeros(n_o + 1)
    per_atom[:n_o] = numpy.divide(1.0, atoms_in, out=numpy.zeros(n_o), where=atoms_in > 0)
    sums = numpy.zeros((n_o + 1, n_k + 1))  # C = O^T K (padded)
    numpy.add.at(sums, (numpy.broadcast_to(group[:, None], k_rows.shape), k_rows), 1.0)
    kk = numpy.zeros((n_k + 1, n_k + 1))
    numpy.add.at(kk, (k_rows[:, :, None], k_rows[:, None, :]), 1.0)
    c = sums[:n_o, :n_k]
    means = c * per_atom[:n_o, None]  # mu_g
    s = kk[:n_k, :n_k] - c.T @ means
    if n_k:
        values, vectors = numpy.linalg.eigh(s)
    else:
        values, vectors = numpy.zeros(0), numpy.zeros((0, 0))
    # the cutoff pinv of the whole Gram matrix would use, near enough: its largest eigenvalue
    # is at least its largest diagonal entry (the atoms of the largest group)
    diagonal = max(float(atoms_in.max(initial=0)), float(kk[:n_k, :n_k].diagonal().max(
        initial=0)))
    nonzero = values > _RCOND * max(diagonal, float(values.max(initial=0)))
    inverse = numpy.zeros((n_k + 1, n_k + 1))  # S^+ (padded)
    inverse[:n_k, :n_k] = (vectors[:, nonzero] / values[nonzero]) @ vectors[:, nonzero].T
    pm = numpy.zeros((n_o + 1, n_k + 1))  # S^+ mu_g per group (rows), padded
    pm[:n_o, :n_k] = means @ inverse[:n_k, :n_k]
    mpm = (pm[:, :n_k] * numpy.vstack([means, numpy.zeros((1, n_k))])).sum(axis=1)
    rows, groups_of = k_rows[small], group[small]
    leverage = (per_atom[groups_of]
                + inverse[rows[:, :, None], rows[:, None, :]].sum(axis=(1, 2))
                - 2 * pm[groups_of[:, None], rows].sum(axis=1) + mpm[groups_of])
    leaks = numpy.flatnonzero(leverage > _EXACT)
    if not len(leaks):
        return None
    a = leaks[0]
    g = int(groups_of[a])
    x_k = inverse[:n_k, rows[a]].sum(axis=1) - pm[g, :n_k]
    x_o = -(c @ x_k) * per_atom[:n_o]
    if g < n_o:
        x_o[g] += per_atom[g]
    x = numpy.concatenate([x_o, x_k])
    null = vectors[:, ~nonzero]
    if null.shape[1]:
        basis, _ = numpy.linalg.qr(numpy.vstack([-(c @ null) * per_atom[:n_o, None], null]))
        x = x - basis @ (basis.T @ x)
    weights = numpy.empty(columns)
    weights[in_o] = x[:n_o]
    weights[~in_o] = x[n_o:]
    return weights


def hidden_for(principal: Principal, current: Mapping[str, Any], session: Session,
               periods: list[Period]) -> dict[Period, dict[str, set[Cell]]]:
    """The withheld groups for this caller: none when it sees everything."""
    if sees_all(principal, current):
        return {p: {name: set() for name in INDICATORS} for p in periods}
    return withheld(session, periods)

