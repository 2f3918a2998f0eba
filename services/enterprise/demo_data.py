"""Deterministic synthetic demo data (演示数据) for ``make run``: no database, no network.

``build(seed)`` returns a :class:`DemoData` made only of frozen dataclasses (``as_dict()`` gives
plain JSON-ready dicts). Everything comes from one ``random.Random(seed)``, so the same seed
always gives the same data. Its shape::

    DemoData
      categories:    (Category(code, name, department), ...)            18 诉求类别
      departments:   (Department(code, name, kind, categories, head_name, head_title,
                                 head_username, liaison_username, leader_in_charge), ...)
                     14: 8 管委部门 (kind "management") + 6 派驻机构 (kind "stationed")
      leading_group: LeadingGroup(name, members=(LeadingGroupMember(name, role, title,
                                  username, department), ...), office_department,
                                  office_director)                    领导小组: 1+4+14
      staff:         (StaffAccount(username, name, role, department, grid_ids, title), ...)
                     roles are the values of common.auth.Role (leader, department_head,
                     liaison, coordinator, grid_leader, grid_worker, admin)
      grids:         (Grid(grid_id, name, kind, owner_department, leader, workers,
                           polygon_geojson, location, address), ...)
                     24 incubator grids INC01-INC24 (kind "incubator", 科技创新部, a location and
                     an address, no polygon) + 15 geographic grids GEO01-GEO15 (kind
                     "geographic", 经济发展部, a GeoJSON rectangle of a 5x3 tiling of
                     lon 120.25-120.40, lat 36.28-36.36)
      enterprises:   (Enterprise(credit_code, name, address, lon, lat, industry_code, scale,
                                 grid_id, incubator_id, indicators), ...)
                     1,200 by default, 800 inside incubators (grid_id == incubator_id) and
                     400 located inside exactly one geographic grid (incubator_id None);
                     indicators = (YearlyIndicators(year, output_value, revenue, tax,
                     employees, rd_spend), ...) for 2024 and 2025; money in 万元.

The leading group and the department heads are the roster in the annex of the 2020
implementation plan (seed). Which 副组长 is 分管领导 of which department is **not** in the
source: the assignment here is illustrative. Everyone else (liaisons, grid staff, ...) and
every enterprise and incubator is invented.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.enterprise import credit_code, industry
from services.enterprise.geo import GridArea, GridIndex, rectangle

__all__ = [
    "BBOX",
    "CATEGORIES",
    "DEFAULT_SEED",
    "SCALE_RANGES",
    "YEARS",
    "Category",
    "DemoData",
    "Department",
    "Enterprise",
    "Grid",
    "LeadingGroup",
    "LeadingGroupMember",
    "StaffAccount",
    "YearlyIndicators",
    "build",
]

DEFAULT_SEED = 20200706  # the day the plan was issued
YEARS = (2024, 2025)
#: the core area's demo bounding box: (west, south, east, north) in WGS 84 degrees
BBOX = (120.25, 36.28, 120.40, 36.36)
GEO_COLUMNS, GEO_ROWS = 5, 3
INCUBATOR_COUNT = 24

SCIENCE = "science_innovation"
ECONOMY = "economic_development"
PARTY = "party_people"

# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Category:
    """诉求类别: code, Chinese name, and the one department that handles it."""

    code: str
    name: str
    department: str


@dataclass(frozen=True)
class Department:
    """部门 or 派驻机构 with its 部长 (from the annex), 联络员 and 分管领导 (usernames)."""

    code: str
    name: str
    kind: str  # "management" 管委部门 | "stationed" 派驻机构
    categories: tuple[str, ...]
    head_name: str
    head_title: str
    head_username: str
    liaison_username: str
    leader_in_charge: str


@dataclass(frozen=True)
class LeadingGroupMember:
    """领导小组成员: role is 组长, 副组长 or 成员."""

    name: str
    role: str
    title: str
    username: str
    department: str | None


@dataclass(frozen=True)
class LeadingGroup:
    """企业服务工作领导小组; its office (办公室) sits in 经济发展部."""

    name: str
    members: tuple[LeadingGroupMember, ...]
    office_department: str
    office_director: str

    def by_role(self, role: str) -> tuple[LeadingGroupMember, ...]:
        """Members with one role (组长 / 副组长 / 成员)."""
        return tuple(m for m in self.members if m.role == role)


@dataclass(frozen=True)
class StaffAccount:
    """A staff login; ``role`` is a ``common.auth.Role`` value."""

    username: str
    name: str
    role: str
    department: str | None
    grid_ids: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class Grid:
    """网格: one incubator (孵化器网格) or one geographic area (地理网格)."""

    grid_id: str
    name: str
    kind: str  # "incubator" | "geographic"
    owner_department: str
    leader: str  # username of the 网格长
    workers: tuple[str, ...]  # usernames of the 2-3 网格员
    polygon_geojson: dict[str, Any] | None
    location: tuple[float, float] | None  # (lon, lat) of an incubator's building
    address: str | None


@dataclass(frozen=True)
class YearlyIndicators:
    """年度指标, money in 万元: 产值 output_value, 营业收入 revenue, 纳税 tax, 研发投入 rd_spend."""

    year: int
    output_value: float
    revenue: float
    tax: float
    employees: int
    rd_spend: float


@dataclass(frozen=True)
class Enterprise:
    """企业 in scope: exactly one grid (an incubator's when ``incubator_id`` is set)."""

    credit_code: str
    name: str
    address: str
    lon: float
    lat: float
    industry_code: str
    scale: str  # micro 微型 | small 小型 | medium 中型 | large 大型
    grid_id: str
    incubator_id: str | None
    indicators: tuple[YearlyIndicators, ...]


@dataclass(frozen=True)
class DemoData:
    """The whole demo dataset."""

    seed: int
    categories: tuple[Category, ...]
    departments: tuple[Department, ...]
    leading_group: LeadingGroup
    staff: tuple[StaffAccount, ...]
    grids: tuple[Grid, ...]
    enterprises: tuple[Enterprise, ...]

    def department_for(self, category: str) -> Department:
        """The department handling a 诉求类别."""
        code = next(c.department for c in self.categories if c.code == category)
        return next(d for d in self.departments if d.code == code)

    def grid_areas(self) -> list[GridArea]:
        """The geographic grids as :class:`GridArea` for ``geo.locate``."""
        return [GridArea(g.grid_id, g.polygon_geojson) for g in self.grids
                if g.polygon_geojson is not None]

    def as_dict(self) -> dict[str, Any]:
        """Plain dicts, lists and scalars (JSON-ready)."""
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------- fixed rosters

#: 诉求类别 vocabulary: code -> (name, handling department code)
CATEGORIES: dict[str, tuple[str, str]] = {
    "talent": ("人才", PARTY),
    "education": ("教育", PARTY),
    "economy": ("经济运行", ECONOMY),
    "technology": ("科技创新", SCIENCE),
    "finance": ("金融服务", "finance"),
    "funding": ("资金扶持", "finance"),
    "construction": ("项目建设", "construction"),
    "city_operation": ("城市运行", "construction"),
    "approval": ("行政审批", "approval_service"),
    "licence": ("证照办理", "approval_service"),
    "police": ("治安", "public_security"),
    "traffic": ("交通", "traffic_police"),
    "fire": ("消防", "fire_rescue"),
    "planning": ("自然资源和规划", "natural_resources"),
    "environment": ("生态环境", "ecology_environment"),
    "tax": ("税务", "taxation"),
    "investment": ("招商引资", "investment_promotion"),
    "general": ("综合事务", "general_office"),
}

# (code, name, kind, head name, head title) — heads from the annex of the plan
_DEPARTMENTS: tuple[tuple[str, str, str, str, str], ...] = (
    (PARTY, "党群工作部", "management", "王桂贤", "高新区党群工作部部长"),
    (ECONOMY, "经济发展部", "management", "曾妍", "高新区经济发展部部长"),
    (SCIENCE, "科技创新部", "management", "蔡文静", "高新区科技创新部部长"),
    ("finance", "财政金融部", "management", "孙逊", "高新区财政金融部部长"),
    ("construction", "建设部", "management", "周松", "高新区建设部部长"),
    ("approval_service", "行政审批服务部", "management", "耿凯", "高新区行政审批服务部部长"),
    ("investment_promotion", "招商部", "management", "李明宽", "高新区招商部部长"),
    ("general_office", "综合部", "management", "桂晓峰", "高新区综合部部长"),
    ("public_security", "公安分局", "stationed", "孔繁霈", "高新区公安分局局长"),
    ("traffic_police", "交警大队", "stationed", "刘晓宁", "高新区交警大队大队长"),
    ("fire_rescue", "消防大队", "stationed", "张建军", "高新区消防大队教导员"),
    ("natural_resources", "自然资源和规划分局", "stationed", "张子文",
     "市自然资源和规划局高新区分局负责人（主持工作）"),
    ("ecology_environment", "生态环境分局", "stationed", "饶兵",
     "高新区生态环境分局大队长（主持工作）"),
    ("taxation", "税务局", "stationed", "张增利", "高新区税务局党委书记、局长"),
)

# 组长 and 副组长 of the annex: (name, pinyin for the username, title)
_GROUP_LEADER = ("李鸿雁", "lihongyan", "高新区管委主任、工委副书记")
_DEPUTIES = (
    ("王震", "wangzhen", "高新区管委副主任、工委委员"),
    ("黄迪勇", "huangdiyong", "高新区管委副主任、工委委员"),
    ("蒲洪强", "puhongqiang", "高新区管委副主任、工委委员"),
    ("纪芳", "jifang", "高新区管委副主任、工委委员"),
)
# 分管领导 per department: ILLUSTRATIVE, the plan does not say who oversees whom
_LEADER_IN_CHARGE = {
    ECONOMY: "wangzhen",
    "investment_promotion": "wangzhen",
    "finance": "wangzhen",
    SCIENCE: "huangdiyong",
    PARTY: "huangdiyong",
    "general_office": "huangdiyong",
    "construction": "puhongqiang",
    "natural_resources": "puhongqiang",
    "ecology_environment": "puhongqiang",
    "fire_rescue": "puhongqiang",
    "approval_service": "jifang",
    "public_security": "jifang",
    "traffic_police": "jifang",
    "taxation": "jifang",
}
# order of the 成员 in the annex
_MEMBER_ORDER = (
    "general_office", PARTY, ECONOMY, "investment_promotion", SCIENCE, "finance",
    "construction", "approval_service", "public_security", "traffic_police", "fire_rescue",
    "natural_resources", "ecology_environment", "taxation",
)

_INCUBATORS = (
    "青岛高新区创业园",
    "青岛蓝色生物医药产业园",
    "青岛高新区软件科技城孵化器",
    "青岛国际创新园",
    "青岛高新区海洋科技孵化器",
    "青岛高新区智能制造孵化中心",
    "青岛留学人员创业园",
    "青岛高新区大学生创业孵化基地",
    "青岛高新区医疗器械产业园",
    "青岛高新区集成电路创新中心",
    "青岛高新区机器人产业孵化器",
    "青岛虚拟现实产业园",
    "青岛高新区新材料孵化器",
    "青岛高新区科技金融孵化中心",
    "青岛高新区海洋装备孵化器",
    "青岛高新区检验检测产业园",
    "青岛高新区人工智能孵化基地",
    "青岛高新区工业互联网产业园",
    "青岛高新区生命科学孵化器",
    "青岛高新区文化创意孵化基地",
    "青岛高新区节能环保孵化器",
    "青岛高新区北斗导航产业园",
    "青岛高新区众创空间",
    "青岛高新区科研成果转化中心",
)

_ROADS = (
    "火炬路", "汇智桥路", "聚贤桥路", "华贯路", "宁安路", "锦汇路", "新悦路", "科韵路",
    "智力岛路", "创业路", "春阳路", "河东路", "广盛路", "新业路", "东岳路",
)

# industry weights: the zone's leading industries first (GB/T 4754-2017 大类)
_INDUSTRY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("C39", 18), ("I65", 18), ("C35", 10), ("C27", 9), ("M73", 9), ("C40", 5),
    ("C38", 5), ("I64", 5), ("M74", 5), ("M75", 4), ("C26", 3), ("C34", 3),
    ("C37", 2), ("L72", 2), ("F51", 2),
)
# words that make a company name fit its industry
_NAME_WORDS = {
    "C39": ("电子科技", "微电子", "通信技术", "光电科技", "智能科技"),
    "I65": ("软件", "信息技术", "数据科技", "软件技术", "数字科技"),
    "C35": ("智能装备", "海洋装备", "机械设备", "医疗器械", "自动化设备"),
    "C27": ("生物医药", "药业", "生物制药", "医药科技"),
    "M73": ("生物技术研究院", "科技研发", "创新研究院", "技术研究"),
    "C40": ("仪器仪表", "传感技术", "测控技术"),
    "C38": ("电气", "新能源科技", "电力设备"),
    "I64": ("网络科技", "互联网科技", "云计算"),
    "M74": ("检测技术", "工程技术", "设计咨询"),
    "M75": ("科技服务", "技术转移", "科技咨询"),
    "C26": ("新材料", "化工科技", "材料科技"),
    "C34": ("机械", "精密机械", "流体设备"),
    "C37": ("船舶科技", "航空科技", "轨道交通设备"),
    "L72": ("企业管理咨询", "商务服务", "知识产权代理"),
    "F51": ("贸易", "供应链管理", "进出口"),
}
_TECH_DIVISIONS = frozenset({"C39", "I65", "C27", "M73", "C40", "C35", "I64", "C38"})
_BRAND_CHARS = (
    "海蓝创智华鑫瑞博远达科信聚恒泰源微芯诺康明晟睿启航润宇越星辰云景天合新安普德隆"
    "融拓翔盛峰岳澜泓汇锦晨昊凯璟卓尚弘和嘉佳益立舜禾川钧沃"
)

#: (min, max) of employees and of revenue in 万元 per scale (工信部 thresholds for industry)
SCALE_RANGES: dict[str, tuple[tuple[int, int], tuple[float, float]]] = {
    "micro": ((3, 19), (30.0, 300.0)),
    "small": ((20, 299), (300.0, 2000.0)),
    "medium": ((300, 999), (2000.0, 40000.0)),
    "large": ((1000, 6000), (40000.0, 400000.0)),
}
_SCALE_WEIGHTS = {
    "incubator": (("micro", 52), ("small", 40), ("medium", 8)),
    "geographic": (("micro", 12), ("small", 43), ("medium", 33), ("large", 12)),
}

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈彭吕苏卢蒋"
    "贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝白崔康毛邱秦江史顾侯邵孟龙万"
    "段钱汤尹黎易常武乔贺赖龚文"
)
_GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建晓宁文斌宇浩凯健俊帆"
    "帅旭鑫鹤琳晨瑶婷雪倩颖佳欣怡慧婧璐琦峰毅翔航博远彬楠松岩锋亮波春梅兰海燕丹"
)


# --------------------------------------------------------------------------- helpers


class _Names:
    """Unique synthetic Chinese names (never one of the annex's real names)."""

    def __init__(self, rng: random.Random, taken: Sequence[str]) -> None:
        self._rng = rng
        self._used = set(taken)

    def person(self) -> str:
        while True:
            given_length = 1 if self._rng.random() < 0.3 else 2
            name = self._rng.choice(_SURNAMES) + "".join(
                self._rng.choice(_GIVEN_CHARS) for _ in range(given_length)
            )
            if name not in self._used:
                self._used.add(name)
                return name


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _geo_tiles() -> list[tuple[str, tuple[float, float, float, float]]]:
    west, south, east, north = BBOX
    width, height = (east - west) / GEO_COLUMNS, (north - south) / GEO_ROWS
    tiles = []
    for row in range(GEO_ROWS):
        for col in range(GEO_COLUMNS):
            grid_id = f"GEO{row * GEO_COLUMNS + col + 1:02d}"
            # the outer edges use BBOX itself so the tiling covers it exactly
            box = (
                west if col == 0 else west + col * width,
                south if row == 0 else south + row * height,
                east if col == GEO_COLUMNS - 1 else west + (col + 1) * width,
                north if row == GEO_ROWS - 1 else south + (row + 1) * height,
            )
            tiles.append((grid_id, box))
    return tiles


def _inside(rng: random.Random, box: tuple[float, float, float, float]) -> tuple[float, float]:
    """A point well inside a box (5% margins), rounded to ~1 m."""
    w, s, e, n = box
    lon = rng.uniform(w + 0.05 * (e - w), e - 0.05 * (e - w))
    lat = rng.uniform(s + 0.05 * (n - s), n - 0.05 * (n - s))
    return round(lon, 5), round(lat, 5)


def _split(rng: random.Random, total: int, parts: int, minimum: int) -> list[int]:
    """``total`` split into ``parts`` uneven counts of at least ``minimum``."""
    weights = [rng.uniform(0.5, 2.0) for _ in range(parts)]
    spare = total - minimum * parts
    counts = [minimum + int(spare * w / sum(weights)) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % parts] += 1
    return counts


def _indicators(
    rng: random.Random, scale: str, division: str
) -> tuple[YearlyIndicators, ...]:
    (emp_low, emp_high), (rev_low, rev_high) = SCALE_RANGES[scale]
    revenue = _log_uniform(rng, rev_low, rev_high)
    employees = rng.randint(emp_low, emp_high)
    manufacturing = division.startswith("C")
    rd_share = (0.2, 0.4) if division == "M73" else (
        (0.04, 0.15) if division in _TECH_DIVISIONS else (0.005, 0.03))
    # an enterprise keeps roughly its tax burden and R&D intensity from year to year
    tax_rate = rng.uniform(0.02, 0.08)
    rd_rate = rng.uniform(*rd_share)
    rows = []
    for year in YEARS:
        if year != YEARS[0]:
            revenue = min(max(revenue * rng.uniform(0.88, 1.3), rev_low), rev_high)
            employees = min(max(round(employees * rng.uniform(0.92, 1.2)), emp_low), emp_high)
        output = revenue * (rng.uniform(0.92, 1.15) if manufacturing else rng.uniform(0.97, 1.03))
        rows.append(YearlyIndicators(
            year=year,
            output_value=round(output, 2),
            revenue=round(revenue, 2),
            tax=round(revenue * tax_rate * rng.uniform(0.85, 1.15), 2),
            employees=employees,
            rd_spend=round(revenue * rd_rate * rng.uniform(0.85, 1.15), 2),
        ))
    return tuple(rows)


# --------------------------------------------------------------------------- build


def build(
    seed: int = DEFAULT_SEED, enterprise_count: int = 1200, incubated_count: int = 800
) -> DemoData:
    """The demo dataset for ``seed``; the same seed always gives equal data."""
    if not 0 <= incubated_count <= enterprise_count:
        raise ValueError("need 0 <= incubated_count <= enterprise_count")
    rng = random.Random(seed)
    real_names = [_GROUP_LEADER[0], *(d[0] for d in _DEPUTIES), *(d[3] for d in _DEPARTMENTS)]
    names = _Names(rng, real_names)
    staff: list[StaffAccount] = []

    # 领导小组 and 分管领导
    leader_usernames = {p: f"leader.{p}" for _, p, _ in (_GROUP_LEADER, *_DEPUTIES)}
    members = [LeadingGroupMember(_GROUP_LEADER[0], "组长", _GROUP_LEADER[2],
                                  leader_usernames[_GROUP_LEADER[1]], None)]
    members += [LeadingGroupMember(n, "副组长", t, leader_usernames[p], None)
                for n, p, t in _DEPUTIES]
    for name, pinyin, title in (_GROUP_LEADER, *_DEPUTIES):
        staff.append(StaffAccount(leader_usernames[pinyin], name, "leader", None, (), title))

    # departments, heads, liaisons
    departments = []
    for code, name, kind, head, head_title in _DEPARTMENTS:
        handled = tuple(c for c, (_, dept) in CATEGORIES.items() if dept == code)
        head_username, liaison_username = f"head.{code}", f"liaison.{code}"
        departments.append(Department(
            code, name, kind, handled, head, head_title, head_username, liaison_username,
            leader_usernames[_LEADER_IN_CHARGE[code]],
        ))
        staff.append(StaffAccount(head_username, head, "department_head", code, (), head_title))
        staff.append(StaffAccount(liaison_username, names.person(), "liaison", code, (),
                                  f"{name}联络员"))
    heads = {d.code: d for d in departments}
    members += [LeadingGroupMember(heads[c].head_name, "成员", heads[c].head_title,
                                   heads[c].head_username, c) for c in _MEMBER_ORDER]
    leading_group = LeadingGroup(
        name="高新区企业服务工作领导小组", members=tuple(members),
        office_department=ECONOMY, office_director=heads[ECONOMY].head_username,
    )
    for code in (ECONOMY, SCIENCE, PARTY):
        staff.append(StaffAccount(f"coordinator.{code}", names.person(), "coordinator", code, (),
                                  f"{heads[code].name}网格化服务统筹"))
    staff.append(StaffAccount("admin", "平台管理员", "admin", ECONOMY, (), "企业服务平台运维"))

    # grids with their 网格长 and 网格员
    tiles = _geo_tiles()
    grids: list[Grid] = []

    def grid_team(grid_id: str, owner: str, label: str) -> tuple[str, tuple[str, ...]]:
        key = grid_id.lower()
        leader = StaffAccount(f"gridleader.{key}", names.person(), "grid_leader", owner,
                              (grid_id,), f"{label}网格长")
        workers = [StaffAccount(f"gridworker.{key}.{i}", names.person(), "grid_worker", owner,
                                (grid_id,), f"{label}网格员")
                   for i in range(1, rng.choice((2, 3)) + 1)]
        staff.extend([leader, *workers])
        return leader.username, tuple(w.username for w in workers)

    incubator_sites = []
    for i, name in enumerate(_INCUBATORS, start=1):
        grid_id = f"INC{i:02d}"
        tile = rng.randrange(len(tiles))
        location = _inside(rng, tiles[tile][1])
        address = f"山东省青岛市高新区{_ROADS[tile]}{rng.randint(1, 199)}号"
        leader, workers = grid_team(grid_id, SCIENCE, name)
        grids.append(Grid(grid_id, name, "incubator", SCIENCE, leader, workers, None,
                          location, address))
        incubator_sites.append((grid_id, location, address + name))
    for (grid_id, box), road in zip(tiles, _ROADS, strict=True):
        name = f"{road}片区网格"
        leader, workers = grid_team(grid_id, ECONOMY, name)
        grids.append(Grid(grid_id, name, "geographic", ECONOMY, leader, workers,
                          rectangle(*box), None, None))

    # enterprises
    used_codes: set[str] = set()
    used_names: set[str] = set()

    def new_code() -> str:
        while True:
            code = credit_code.generate(rng)
            if code not in used_codes:
                used_codes.add(code)
                return code

    def new_name(division: str) -> str:
        while True:
            brand = rng.choice(_BRAND_CHARS) + rng.choice(_BRAND_CHARS)
            form = "股份有限公司" if rng.random() < 0.08 else "有限公司"
            name = f"青岛{brand}{rng.choice(_NAME_WORDS[division])}{form}"
            if brand[0] != brand[1] and name not in used_names:
                used_names.add(name)
                return name

    def new_enterprise(where: str, grid_id: str, incubator_id: str | None,
                       lon: float, lat: float, address: str) -> Enterprise:
        division = _weighted(rng, _INDUSTRY_WEIGHTS)
        industry.parse(division)  # the table is the authority
        scale = _weighted(rng, _SCALE_WEIGHTS[where])
        return Enterprise(new_code(), new_name(division), address, lon, lat, division, scale,
                          grid_id, incubator_id, _indicators(rng, scale, division))

    enterprises: list[Enterprise] = []
    per_incubator = _split(rng, incubated_count, INCUBATOR_COUNT, incubated_count // 60)
    for (grid_id, (lon, lat), address), count in zip(incubator_sites, per_incubator,
                                                     strict=True):
        for _ in range(count):
            room = f"{rng.randint(1, 12)}号楼{rng.randint(1, 20)}{rng.randint(1, 30):02d}室"
            enterprises.append(new_enterprise("incubator", grid_id, grid_id, lon, lat,
                                              address + room))
    outside = enterprise_count - incubated_count
    index = GridIndex(GridArea(g.grid_id, g.polygon_geojson) for g in grids
                      if g.polygon_geojson is not None)
    per_tile = _split(rng, outside, len(tiles), outside // 40)
    for (grid_id, box), road, count in zip(tiles, _ROADS, per_tile, strict=True):
        for _ in range(count):
            lon, lat = _inside(rng, box)
            if index.covering(lon, lat) != [grid_id]:  # cannot happen: 5% margins
                raise RuntimeError(f"demo point {lon}, {lat} is not inside {grid_id} alone")
            address = f"山东省青岛市高新区{road}{rng.randint(1, 399)}号"
            enterprises.append(new_enterprise("geographic", grid_id, None, lon, lat, address))

    categories = tuple(Category(code, name, dept) for code, (name, dept) in CATEGORIES.items())
    return DemoData(seed, categories, tuple(departments), leading_group, tuple(staff),
                    tuple(grids), tuple(enterprises))
