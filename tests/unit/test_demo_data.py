"""The synthetic demo dataset: deterministic, complete and consistent with the plan's rules."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from shapely.geometry import box
from shapely.ops import unary_union

from common.auth import Role
from services.enterprise import credit_code, geo, industry
from services.enterprise.demo_data import (
    BBOX,
    CATEGORIES,
    SCALE_RANGES,
    YEARS,
    DemoData,
    build,
)


@pytest.fixture(scope="module")
def data() -> DemoData:
    return build()


def test_deterministic_for_a_seed(data: DemoData) -> None:
    assert build() == data
    assert build(seed=7) == build(seed=7)
    other = build(seed=7)
    assert other != data
    assert [e.credit_code for e in other.enterprises] != [e.credit_code for e in data.enterprises]


def test_as_dict_is_json_ready(data: DemoData) -> None:
    text = json.dumps(data.as_dict(), ensure_ascii=False)
    assert json.loads(text)["enterprises"][0]["credit_code"] == data.enterprises[0].credit_code


def test_credit_codes_valid_and_unique(data: DemoData) -> None:
    codes = [e.credit_code for e in data.enterprises]
    for code in codes:
        assert credit_code.validate(code, check_organization_code=True) == code
    assert len(set(codes)) == len(codes)


def test_names_unique_and_plausible(data: DemoData) -> None:
    names = [e.name for e in data.enterprises]
    assert len(set(names)) == len(names)
    assert all(n.startswith("青岛") and n.endswith("公司") for n in names)


def test_enterprise_counts(data: DemoData) -> None:
    assert len(data.enterprises) == 1200
    incubated = [e for e in data.enterprises if e.incubator_id is not None]
    assert len(incubated) == 800
    build_small = build(seed=3, enterprise_count=120, incubated_count=80)
    assert len(build_small.enterprises) == 120
    assert sum(e.incubator_id is not None for e in build_small.enterprises) == 80


def test_grids(data: DemoData) -> None:
    incubators = [g for g in data.grids if g.kind == "incubator"]
    geographic = [g for g in data.grids if g.kind == "geographic"]
    assert len(incubators) == 24 and len(geographic) == 15
    assert all(g.owner_department == "science_innovation" for g in incubators)
    assert all(g.owner_department == "economic_development" for g in geographic)
    assert len({g.grid_id for g in data.grids}) == 39
    assert len({g.name for g in data.grids}) == 39
    west, south, east, north = BBOX
    for g in incubators:
        assert g.polygon_geojson is None and g.location is not None and g.address
        lon, lat = g.location
        assert west < lon < east and south < lat < north


def test_geographic_grids_tile_the_bounding_box(data: DemoData) -> None:
    areas = data.grid_areas()
    assert len(areas) == 15
    assert geo.overlaps(areas) == []
    union = unary_union([a.geometry for a in areas])
    assert union.symmetric_difference(box(*BBOX)).area == pytest.approx(0, abs=1e-12)


def test_every_enterprise_in_exactly_one_grid(data: DemoData) -> None:
    grids = {g.grid_id: g for g in data.grids}
    index = geo.GridIndex(data.grid_areas())
    for e in data.enterprises:
        grid = grids[e.grid_id]
        if e.incubator_id is not None:
            assert e.grid_id == e.incubator_id
            assert grid.kind == "incubator"
            assert (e.lon, e.lat) == grid.location
            assert grid.name in e.address
        else:
            assert grid.kind == "geographic"
            assert index.covering(e.lon, e.lat) == [e.grid_id]
            assert geo.locate(e.lon, e.lat, index) == e.grid_id
    per_grid = Counter(e.grid_id for e in data.enterprises)
    assert set(per_grid) == set(grids)  # no empty grid


def test_every_grid_has_a_leader_and_two_or_three_workers(data: DemoData) -> None:
    accounts = {a.username: a for a in data.staff}
    for g in data.grids:
        leader = accounts[g.leader]
        assert leader.role == Role.GRID_LEADER
        assert leader.department == g.owner_department  # 经济发展部/科技创新部 staff
        assert leader.grid_ids == (g.grid_id,)
        assert 2 <= len(g.workers) <= 3
        for username in g.workers:
            assert accounts[username].role == Role.GRID_WORKER
            assert accounts[username].grid_ids == (g.grid_id,)
    workers = Counter(len(g.workers) for g in data.grids)
    assert workers[2] and workers[3]


def test_every_category_maps_to_exactly_one_department(data: DemoData) -> None:
    assert {c.code for c in data.categories} == set(CATEGORIES)
    assert len(CATEGORIES) == 18
    handlers = Counter(code for d in data.departments for code in d.categories)
    assert handlers == Counter(set(CATEGORIES))  # each exactly once
    for category in data.categories:
        department = data.department_for(category.code)
        assert category.code in department.categories
    assert data.department_for("talent").name == "党群工作部"
    assert data.department_for("technology").name == "科技创新部"
    assert data.department_for("fire").name == "消防大队"
    assert data.department_for("tax").name == "税务局"
    assert data.department_for("planning").name == "自然资源和规划分局"


def test_departments_and_heads(data: DemoData) -> None:
    names = [d.name for d in data.departments]
    assert names == [
        "党群工作部", "经济发展部", "科技创新部", "财政金融部", "建设部", "行政审批服务部",
        "招商部", "综合部", "公安分局", "交警大队", "消防大队", "自然资源和规划分局",
        "生态环境分局", "税务局",
    ]
    kinds = Counter(d.kind for d in data.departments)
    assert kinds == {"management": 8, "stationed": 6}
    heads = {d.name: d.head_name for d in data.departments}
    assert heads["经济发展部"] == "曾妍"
    assert heads["科技创新部"] == "蔡文静"
    assert heads["税务局"] == "张增利"
    assert all(d.categories for d in data.departments)


def test_one_liaison_per_department_and_every_role(data: DemoData) -> None:
    usernames = [a.username for a in data.staff]
    assert len(set(usernames)) == len(usernames)
    accounts = {a.username: a for a in data.staff}
    liaisons = Counter(a.department for a in data.staff if a.role == Role.LIAISON)
    assert liaisons == Counter(d.code for d in data.departments)
    for d in data.departments:
        assert accounts[d.liaison_username].role == Role.LIAISON
        assert accounts[d.head_username].role == Role.DEPARTMENT_HEAD
        assert accounts[d.head_username].name == d.head_name
        assert accounts[d.leader_in_charge].role == Role.LEADER
    coordinators = {a.department for a in data.staff if a.role == Role.COORDINATOR}
    assert coordinators == {"economic_development", "science_innovation", "party_people"}
    assert {a.role for a in data.staff} == {r.value for r in Role} - {"enterprise", "service"}
    assert accounts["admin"].role == Role.ADMIN
    # staff names are unique people
    people = [a.name for a in data.staff]
    assert len(set(people)) == len(people)


def test_leading_group_from_the_annex(data: DemoData) -> None:
    group = data.leading_group
    assert [m.name for m in group.by_role("组长")] == ["李鸿雁"]
    assert [m.name for m in group.by_role("副组长")] == ["王震", "黄迪勇", "蒲洪强", "纪芳"]
    members = group.by_role("成员")
    assert len(members) == 14
    assert [m.name for m in members][:3] == ["桂晓峰", "王桂贤", "曾妍"]
    assert group.office_department == "economic_development"
    accounts = {a.username: a for a in data.staff}
    assert accounts[group.office_director].name == "曾妍"
    deputies = {m.username for m in group.by_role("副组长")}
    assert {d.leader_in_charge for d in data.departments} == deputies


def test_industries_weighted_to_leading_industries(data: DemoData) -> None:
    counts = Counter(e.industry_code for e in data.enterprises)
    for code in counts:
        assert industry.parse(code).level == "division"
    top = {code for code, _ in counts.most_common(5)}
    assert {"C39", "I65"} <= top
    assert counts["C39"] + counts["I65"] + counts["C35"] + counts["C27"] + counts["M73"] > 600


def test_indicators_consistent_with_scale(data: DemoData) -> None:
    scales = Counter(e.scale for e in data.enterprises)
    assert set(scales) == {"micro", "small", "medium", "large"}
    incubated = Counter(e.scale for e in data.enterprises if e.incubator_id)
    assert incubated["large"] == 0
    for e in data.enterprises:
        assert tuple(i.year for i in e.indicators) == YEARS
        (emp_low, emp_high), (rev_low, rev_high) = SCALE_RANGES[e.scale]
        for i in e.indicators:
            assert emp_low <= i.employees <= emp_high
            assert rev_low - 0.01 <= i.revenue <= rev_high + 0.01
            assert 0 < i.tax < i.revenue * 0.1
            assert 0 < i.rd_spend < i.revenue * 0.5
            assert 0.8 * i.revenue < i.output_value < 1.2 * i.revenue
    medians = {}
    for scale in SCALE_RANGES:
        revenues = sorted(e.indicators[0].revenue for e in data.enterprises if e.scale == scale)
        medians[scale] = revenues[len(revenues) // 2]
    assert medians["micro"] < medians["small"] < medians["medium"] < medians["large"]


def test_bad_counts_rejected() -> None:
    with pytest.raises(ValueError):
        build(enterprise_count=10, incubated_count=20)
