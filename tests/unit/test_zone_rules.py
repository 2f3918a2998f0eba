"""The zone figures' plain rules, without a broker or a database: reporting periods, and the
release rule that keeps a department below the threshold from singling out an enterprise,
checked against a brute-force attacker who adds and subtracts every released figure."""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime

import pytest

from services.enterprise.zone import periods
from services.enterprise.zone.disclosure import cells_of, decide
from services.enterprise.zone.periods import Period
from services.enterprise.zone.vocabulary import DIMENSIONS, MIN_GROUP

# --------------------------------------------------------------------------- periods


def test_periods_in_the_api_form():
    assert periods.parse("2025-06") == Period(2025, "month", 6)
    assert periods.parse("2025-Q2") == Period(2025, "quarter", 2)
    assert periods.parse("2025") == Period(2025, "year")
    for bad in ("2025-6", "2025-13", "2025-Q5", "25-06", "2025-06-01", "１９９９", "2025-q2"):
        with pytest.raises(ValueError):
            periods.parse(bad)
    assert periods.parse("2025-Q1").previous.label == "2024-Q1"
    assert (Period(2025, "quarter", 1).first_day, Period(2025, "quarter", 1).last_day) == (
        date(2025, 1, 1), date(2025, 3, 31))
    assert Period(2024, "month", 2).last_day == date(2024, 2, 29)
    assert [p.label for p in periods.between(periods.parse("2024-11"),
                                             periods.parse("2025-02"))] == [
        "2024-11", "2024-12", "2025-01", "2025-02"]
    with pytest.raises(ValueError):
        periods.between(periods.parse("2020-01"), periods.parse("2023-02"))  # 38 months
    with pytest.raises(ValueError):
        periods.between(periods.parse("2020-01"), periods.parse("2020-Q2"))


@pytest.mark.parametrize("text, expected", [
    ("2025-06", Period(2025, "month", 6)), ("2025/6", Period(2025, "month", 6)),
    ("2025年6月", Period(2025, "month", 6)), ("２０２５年０６月", Period(2025, "month", 6)),
    ("202506", Period(2025, "month", 6)), (202506, Period(2025, "month", 6)),
    (datetime(2025, 6, 30), Period(2025, "month", 6)),
    ("2025-Q2", Period(2025, "quarter", 2)), ("2025Q2", Period(2025, "quarter", 2)),
    ("2025年第二季度", Period(2025, "quarter", 2)), ("2025年2季度", Period(2025, "quarter", 2)),
])
def test_periods_as_the_statistics_office_writes_them(text, expected):
    assert periods.parse_reported(text) == expected


@pytest.mark.parametrize("text", ["2025", "2025-13", "2025年第五季度", "六月", "", "1999-06"])
def test_what_is_not_a_reporting_period(text):
    with pytest.raises(ValueError):
        periods.parse_reported(text)


# --------------------------------------------------------------------------- release


def world(layout: list[tuple[str, str, set[str], set[str]]]) -> dict[str, dict[str, set[str]]]:
    """(grid, division, leading industries, carriers) per enterprise -> memberships."""
    groups: dict[str, dict[str, set[str]]] = {d: {} for d in DIMENSIONS}
    for n, (grid, division, industries, carriers) in enumerate(layout):
        eid = f"e{n:03d}"
        groups["zone"][eid] = {"zone"}
        groups["grid"][eid] = {grid}
        groups["industry_division"][eid] = {division}
        if industries:
            groups["leading_industry"][eid] = set(industries)
        if carriers:
            groups["carrier"][eid] = set(carriers)
    return groups


def attacker_isolates(groups: dict[str, dict[str, set[str]]], hidden: set) -> set[str]:
    """The enterprises whose figure some sum of released figures with coefficients -1, 0, 1
    equals (every combination: an attacker who knows how the groups are made)."""
    ids = frozenset(groups["zone"])
    cells = cells_of(ids, groups)
    released = [c for c in sorted(cells) if c not in hidden]
    order = sorted(ids)
    vectors = [tuple(int(e in cells[c]) for e in order) for c in released]
    found = set()
    for coefficients in itertools.product((-1, 0, 1), repeat=len(vectors)):
        if not any(coefficients):
            continue
        total = [sum(c * v[i] for c, v in zip(coefficients, vectors, strict=True))
                 for i in range(len(order))]
        if sorted(total) == [0] * (len(order) - 1) + [1]:
            found.add(order[total.index(1)])
    return found


def test_the_lone_enterprise_and_its_neighbours():
    """A grid of one, a division of one, a leading industry that is a division plus one
    tagged enterprise, a carrier that is a grid plus the lone one."""
    layout = ([("G10", "M74", {"L"}, set())] * 6 + [("G10", "F51", {"L"}, set())]
              + [("G11", "C34", set(), {"K"})] + [("G12", "C34", set(), {"K"})] * 5)
    groups = world(layout)
    hidden = decide(frozenset(groups["zone"]), groups)
    assert ("grid", "G11") in hidden and ("industry_division", "F51") in hidden
    assert ("zone", "zone") not in hidden and ("grid", "G10") not in hidden
    cells = cells_of(frozenset(groups["zone"]), groups)
    assert all(len(cells[c]) >= MIN_GROUP for c in cells if c not in hidden)
    assert attacker_isolates(groups, hidden) == set()
    assert attacker_isolates(groups, {c for c in cells if len(cells[c]) < MIN_GROUP}) != set()


def test_fewer_than_five_in_the_zone_release_nothing():
    groups = world([("G1", "C39", set(), set())] * 4)
    cells = cells_of(frozenset(groups["zone"]), groups)
    assert decide(frozenset(groups["zone"]), groups) == set(cells)


def test_a_large_world_releases_what_is_safe():
    layout = [(f"G{n % 3}", f"D{n % 2}", set(), set()) for n in range(60)]
    groups = world(layout)
    assert decide(frozenset(groups["zone"]), groups) == set()


@pytest.mark.parametrize("seed", range(12))
def test_no_released_combination_isolates_an_enterprise(seed):
    """Random small zones (few groups, so every combination can be tried): whatever the
    layout, the attacker isolates nobody, and every released group has 5 or more."""
    rng = random.Random(seed)
    size = rng.randint(9, 16)
    layout = []
    for _ in range(size):
        industries = {"L"} if rng.random() < 0.4 else set()
        carriers = {rng.choice(["K1", "K2"])} if rng.random() < 0.5 else set()
        layout.append((rng.choice(["G1", "G2", "G3"]), rng.choice(["A", "B"]), industries,
                       carriers))
    groups = world(layout)
    hidden = decide(frozenset(groups["zone"]), groups)
    cells = cells_of(frozenset(groups["zone"]), groups)
    released = [c for c in cells if c not in hidden]
    assert all(len(cells[c]) >= MIN_GROUP for c in released)
    assert len(released) <= 11  # 3^11 combinations at most
    assert attacker_isolates(groups, hidden) == set()


# --------------------------------------------------------------------------- dictionaries


def test_every_zone_enumeration_has_its_dictionary_in_both_languages():
    """The codes of zone/vocabulary.py are those of their dictionaries (GET
    /api/v1/dictionaries), with Chinese labels; a stale dictionary fails here, not in the
    console."""
    from common.dictionaries import DICTIONARIES, label_of
    from common.i18n import EN, ZH
    from services.enterprise.zone import vocabulary as v

    expected = {
        "carrier_kind": v.CARRIER_KINDS, "carrier_sort": v.CARRIER_SORTS,
        "tenant_source": v.TENANT_SOURCES, "project_milestone": v.MILESTONES,
        "project_stage": v.STAGES, "project_sort": v.PROJECT_SORTS,
        "institute_level": v.INSTITUTE_LEVELS, "institute_host_kind": v.HOST_KINDS,
        "industry_match": v.MATCHED_BY, "chain_stage": v.CHAIN_STAGES,
        "profile_side": v.PROFILE_SIDES, "economic_dimension": v.DIMENSIONS,
        "figure_status": v.FIGURE_STATUSES, "period_granularity": v.GRANULARITIES,
        "reporting_period": v.PERIOD_KINDS, "enterprise_figure_sort": v.FIGURE_SORTS,
        "staff_role": v.GRANTABLE_ROLES, "profile_indicator": v.INDICATORS,
    }
    for name, codes in expected.items():
        assert DICTIONARIES[name].codes == tuple(codes), name
        for code in codes:
            chinese, english = label_of(name, code, ZH), label_of(name, code, EN)
            assert chinese != english and not chinese.isascii(), (name, code, chinese)
    assert label_of("project_milestone", "completion_acceptance", ZH) == "竣工备案"
    assert label_of("figure_status", "not_reported", ZH) == "未报送"
    assert label_of("record", "project", ZH) == "在建项目"
