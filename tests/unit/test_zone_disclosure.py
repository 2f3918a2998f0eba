"""The release check of the zone's economic figures (``zone/disclosure.py``) against the dense
implementation it replaced: the same withheld groups, exactly, over many random zones.

The reference below is the check as it was until issue 23 (the Gram matrix of every released
group, pseudo-inverted whole in every round): exact, and three minutes a request at 100,000
enterprises. The new one splits the grids (or another partition) off the Gram matrix; both
must withhold the same groups, in the same order of rounds."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping

import numpy
import pytest
from test_zone_rules import world

from services.enterprise.figure_access import SUMMARY_LAYOUT
from services.enterprise.zone import disclosure
from services.enterprise.zone.disclosure import ZONE_LAYOUT, Cell, Layout, cells_of, decide
from services.enterprise.zone.vocabulary import DIMENSIONS, MIN_GROUP

Groups = dict[str, dict[str, set[str]]]


# --------------------------------------------------------------------------- the reference


def dense_decide(ids: frozenset[str], groups: Mapping[str, Mapping[str, set[str]]],
                 layout: Layout = ZONE_LAYOUT) -> set[Cell]:
    cells = cells_of(ids, groups, layout)
    total = cells.get(layout.total, set())
    if len(total) < MIN_GROUP:
        return set(cells)
    hidden = {cell for cell, members in cells.items() if len(members) < MIN_GROUP}
    for _ in range(len(cells)):
        victim = dense_leak(cells, groups, hidden, layout)
        if victim is None:
            break
        hidden.add(victim)
    return hidden


def dense_leak(cells: Mapping[Cell, set[str]], groups: Mapping[str, Mapping[str, set[str]]],
               hidden: set[Cell], layout: Layout) -> Cell | None:
    used = dense_derivation(cells, groups, hidden, layout)
    if used is None:
        return None
    return min(used, key=lambda c: (layout.order(c[0]), len(cells[c]), c))


def dense_derivation(cells: Mapping[Cell, set[str]],
                     groups: Mapping[str, Mapping[str, set[str]]], hidden: set[Cell],
                     layout: Layout) -> list[Cell] | None:
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
            return [released[i] for i in numpy.flatnonzero(numpy.abs(weights) > 1e-8)]
    return None


def rounds(ids: frozenset[str], groups: Groups, layout: Layout = ZONE_LAYOUT
           ) -> list[tuple[list[Cell], Cell]]:
    """Rule 2 round by round, by both checks, asserting they agree at every round: the groups
    the derivation uses (the least-norm one, whose groups decide the victim) and the victim.
    What the new check found, in order."""
    found: list[tuple[list[Cell], Cell]] = []
    cells = cells_of(ids, groups, layout)
    if len(cells.get(layout.total, ())) < MIN_GROUP:
        return found
    hidden = {c for c, members in cells.items() if len(members) < MIN_GROUP}
    atoms = disclosure._World.of(groups, layout, ids).atoms(ids)  # noqa: SLF001 -- the rounds
    assert not isinstance(atoms, set)
    while True:
        used = disclosure._derivation(atoms, hidden)  # noqa: SLF001
        assert used == dense_derivation(cells, groups, hidden, layout), (found, hidden)
        victim = disclosure._leak(atoms, hidden)  # noqa: SLF001
        assert victim == dense_leak(cells, groups, hidden, layout)
        if victim is None or used is None:
            return found
        found.append((used, victim))
        hidden.add(victim)


# --------------------------------------------------------------------------- random zones


def random_zone(rng: random.Random, overlap: bool = False) -> Groups:
    """Grids and divisions of 1-40 enterprises, leading industries over a few divisions plus
    tagged strays, carriers over parts of a few grids (some enterprises in none of either)."""
    groups: Groups = {d: {} for d in DIMENSIONS}
    n = 0
    grids = [f"G{i:02d}" for i in range(rng.randint(2, 14))]
    divisions = [f"D{i:02d}" for i in range(rng.randint(2, 8))]
    industries = {f"L{i}": set(rng.sample(divisions, rng.randint(1, 2)))
                  for i in range(rng.randint(0, 3))}
    carriers = {f"K{i}": set(rng.sample(grids, rng.randint(1, 2)))
                for i in range(rng.randint(0, 4))}
    for grid in grids:
        for _ in range(rng.choice([1, 2, 3, 5, 6, 8, 12, 20, 40])):
            eid = f"e{n:04d}"
            n += 1
            division = rng.choice(divisions)
            groups["zone"][eid] = {"zone"}
            groups["grid"][eid] = {grid}
            groups["industry_division"][eid] = {division}
            leading = {k for k, of in industries.items() if division in of and rng.random() < 0.9}
            if industries and rng.random() < 0.05:
                leading.add(rng.choice(sorted(industries)))
            if leading:
                groups["leading_industry"][eid] = leading
            tenancies = {k for k, of in carriers.items() if grid in of and rng.random() < 0.7}
            if carriers and rng.random() < 0.05:
                tenancies.add(rng.choice(sorted(carriers)))
            if tenancies:
                groups["carrier"][eid] = tenancies
    if overlap:  # an enterprise in two grids and two divisions: no partition to split off
        eid = rng.choice(sorted(groups["zone"]))
        groups["grid"][eid] = {grids[0], grids[1]}
        groups["industry_division"][eid] = {divisions[0], divisions[1]}
    return groups


def reporting(rng: random.Random, groups: Groups) -> frozenset[str]:
    """Most enterprises report; a few do not."""
    return frozenset(e for e in groups["zone"] if rng.random() < 0.93)


@pytest.mark.parametrize("seed", range(150))
def test_the_split_check_withholds_what_the_dense_one_did(seed):
    rng = random.Random(seed)
    groups = random_zone(rng)
    ids = reporting(rng, groups)
    assert decide(ids, groups) == dense_decide(ids, groups)
    rounds(ids, groups)


@pytest.mark.parametrize("seed", range(10))
def test_an_enterprise_in_two_grids_takes_the_dense_path_to_the_same_answer(seed):
    rng = random.Random(1000 + seed)
    groups = random_zone(rng, overlap=True)
    while len(groups["zone"]) < 10:
        groups = random_zone(rng, overlap=True)
    ids = frozenset(groups["zone"])
    atoms = disclosure._World.of(groups, ZONE_LAYOUT, ids).atoms(ids)  # noqa: SLF001
    assert not isinstance(atoms, set)
    assert disclosure._partition(  # noqa: SLF001 -- neither grid nor division qualifies
        atoms.members, atoms.dimension, ZONE_LAYOUT) is None
    assert decide(ids, groups) == dense_decide(ids, groups)
    rounds(ids, groups)


def test_a_carrier_less_its_grid_is_a_leak_both_find():
    """Carrier K is grid G1 (8 enterprises) plus one tenant of G2: K - G1 is that tenant."""
    groups = world([("G1", "C39", set(), {"K"})] * 8 + [("G2", "C39", set(), {"K"})]
                  + [("G2", "C39", set(), set())] * 9 + [("G3", "M74", set(), set())] * 7)
    ids = frozenset(groups["zone"])
    found = [victim for _, victim in rounds(ids, groups)]
    assert found[0] == ("carrier", "K")  # the carrier goes before the grid
    assert decide(ids, groups) == dense_decide(ids, groups)
    assert ("carrier", "K") in decide(ids, groups)


def test_a_leading_industry_less_its_divisions_is_a_leak_both_find():
    """Leading industry L is divisions C39 and C40 plus one tagged enterprise of M74."""
    groups = world([("G1", "C39", {"L"}, set())] * 6 + [("G2", "C40", {"L"}, set())] * 6
                  + [("G3", "M74", {"L"}, set())] + [("G3", "M74", set(), set())] * 8)
    ids = frozenset(groups["zone"])
    found = [victim for _, victim in rounds(ids, groups)]
    assert found[0] == ("leading_industry", "L")
    assert decide(ids, groups) == dense_decide(ids, groups)


@pytest.mark.parametrize("seed", range(20))
def test_the_registry_summary_layout_too(seed):
    """The registry's classification summary (every dimension a partition, and a total)."""
    rng = random.Random(5000 + seed)
    groups: Groups = {d: {} for d in SUMMARY_LAYOUT.dimensions}
    for n in range(rng.randint(20, 200)):
        eid = f"e{n:04d}"
        for dimension, keys in (("grid", 12), ("industry_section", 4), ("industry_division", 7),
                                ("scale", 3), ("output_band", 4), ("tax_band", 3)):
            groups[dimension][eid] = {f"{dimension[:2]}{rng.randrange(keys)}"}
        groups["total"][eid] = {"total"}
    ids = frozenset(e for e in groups["total"] if rng.random() < 0.9)
    assert decide(ids, groups, SUMMARY_LAYOUT) == dense_decide(ids, groups, SUMMARY_LAYOUT)
    rounds(ids, groups, SUMMARY_LAYOUT)


def test_the_random_zones_do_withhold_by_derivation():
    """The property above is not vacuous: rule 2 withholds groups in many of the zones,
    leading industries and carriers among them."""
    withheld: list[Cell] = []
    for seed in range(150):
        rng = random.Random(seed)
        groups = random_zone(rng)
        withheld += [victim for _, victim in rounds(reporting(rng, groups), groups)]
    assert len(withheld) > 40
    assert {dimension for dimension, _ in withheld} >= {"grid", "leading_industry", "carrier"}
