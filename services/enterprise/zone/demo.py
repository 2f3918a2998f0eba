"""Deterministic demo data of the zone resources (区域资源演示数据), on top of the demo zone of
:mod:`services.enterprise.demo_data`.

``build(data, seed, anchor)`` gives a :class:`ZoneDemo` of frozen dataclasses; the same
``(data, seed, anchor)`` always gives equal data. ``anchor`` (default: today) is the day the
projects' milestones are dated from, so that one project is delayed and the others on time on
the day the demo is loaded. Its shape:

- carriers: the 24 incubators (linked to their incubator grids; a tenancy of every demo
  enterprise in them, so their occupancy comes from those enterprises) plus 3 industrial parks
  (polygons; tenancies of the demo enterprises located inside), 3 office buildings and 2
  factory buildings (tenancies of nearby enterprises of their geographic grid);
- 10 projects under construction, at every stage from not started to production, one with a
  milestone past its planned day; the investors in production are demo enterprises (already in
  scope), the others not yet registered (a name and a credit code);
- 8 research institutes at the three levels, hosted by universities, institutes or demo
  enterprises, with partner enterprises of their fields;
- 5 leading industries by GB/T 4754 code, each with its chain map (upstream, midstream,
  downstream links; some links nobody in the zone provides: the gaps), and the tags,
  strengths and upstream/downstream entries of their member enterprises' profiles;
- monthly figures for every demo enterprise for the 24 months of 2024 and 2025: the flows
  add up to the enterprise's yearly values of the demo profile to the cent, employees stand at
  the yearly headcount each December.

Every name is invented. :func:`load` writes it idempotently (``make run``; ``python -m
devtools.migrate zone-demo``).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shapely.geometry import Point, shape
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.calendar import zone_today
from services.enterprise import credit_code
from services.enterprise.demo_data import YEARS, DemoData
from services.enterprise.demo_data import Enterprise as DemoEnterprise
from services.enterprise.demo_load import stable_id
from services.enterprise.geo import rectangle
from services.enterprise.models import Enterprise
from services.enterprise.zone.models import (
    Carrier,
    ChainLink,
    IndicatorValue,
    Institute,
    InstitutePartner,
    LeadingIndustry,
    Project,
    ProjectMilestone,
    Tenancy,
)
from services.enterprise.zone.vocabulary import MILESTONES

SEED = 20200706
CENT = Decimal("0.01")
#: monthly shares of a year's flows before jitter (a slow start after the Spring Festival,
#: a strong close of each quarter and of the year)
SEASON = (0.065, 0.055, 0.085, 0.078, 0.080, 0.090, 0.078, 0.080, 0.090, 0.082, 0.090, 0.127)
AREA_BY_SCALE = {"micro": (40, 200), "small": (150, 900), "medium": (600, 2500),
                 "large": (2000, 8000)}


@dataclass(frozen=True)
class DemoCarrier:
    key: str
    name: str
    kind: str
    operator: str
    address: str
    geometry: dict[str, Any]
    lon: float
    lat: float
    floor_area: Decimal
    leasable_area: Decimal
    grid_id: str | None
    leasing_contact: str
    leasing_phone: str
    opened_on: date
    #: (credit code, area m², moved in)
    tenancies: tuple[tuple[str, Decimal, date], ...]


@dataclass(frozen=True)
class DemoMilestone:
    milestone: str
    planned_on: date | None
    done_on: date | None


@dataclass(frozen=True)
class DemoProject:
    key: str
    name: str
    investor_credit_code: str
    investor_name: str
    registered: bool
    site_address: str
    lon: float
    lat: float
    industry_code: str
    planned_investment: Decimal
    completed_investment: Decimal
    milestones: tuple[DemoMilestone, ...]


@dataclass(frozen=True)
class DemoInstitute:
    key: str
    name: str
    level: str
    industry_codes: tuple[str, ...]
    tags: tuple[str, ...]
    host_kind: str
    host_credit_code: str | None
    host_name: str | None
    platforms: tuple[str, ...]
    address: str
    recognized_on: date
    partners: tuple[str, ...]  # credit codes


@dataclass(frozen=True)
class DemoLink:
    stage: str
    name: str
    industry_codes: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class DemoIndustry:
    id: str
    name: str
    description: str
    industry_codes: tuple[str, ...]
    tags: tuple[str, ...]
    links: tuple[DemoLink, ...]
    #: what member profiles record: (tag, strength, upstream, downstream) choices
    strengths: tuple[str, ...]
    upstream: tuple[str, ...]
    downstream: tuple[str, ...]


@dataclass(frozen=True)
class DemoProfile:
    credit_code: str
    tags: tuple[str, ...]
    strengths: tuple[str, ...]
    upstream: tuple[str, ...]
    downstream: tuple[str, ...]


@dataclass(frozen=True)
class DemoFigures:
    credit_code: str
    year: int
    month: int
    output_value: Decimal
    revenue: Decimal
    tax: Decimal
    employees: int
    rd_spend: Decimal


@dataclass(frozen=True)
class ZoneDemo:
    anchor: date
    carriers: tuple[DemoCarrier, ...]
    projects: tuple[DemoProject, ...]
    institutes: tuple[DemoInstitute, ...]
    industries: tuple[DemoIndustry, ...]
    profiles: tuple[DemoProfile, ...]
    figures: tuple[DemoFigures, ...]


# --------------------------------------------------------------------------- vocabularies

INDUSTRIES: tuple[DemoIndustry, ...] = (
    DemoIndustry(
        "electronic_information", "电子信息", "集成电路、通信设备、智能终端与光电子。",
        ("C39",), ("集成电路",),
        (DemoLink("upstream", "半导体材料", ("C2613",), ("电子化学品", "光刻胶", "硅片")),
         DemoLink("upstream", "芯片设计", ("I6520",), ("芯片设计", "EDA")),
         DemoLink("upstream", "精密仪器", ("C40",), ("检测仪器",)),
         DemoLink("midstream", "电子器件制造", ("C39",), ("封装测试",)),
         DemoLink("midstream", "嵌入式软件", ("I65",), ("嵌入式软件",)),
         DemoLink("downstream", "智能终端", (), ("智能终端", "消费电子")),
         DemoLink("downstream", "通信网络服务", ("I63", "I64"), ("物联网",))),
        ("封装测试", "射频模组", "光电传感器"), ("晶圆", "光刻胶", "电子化学品", "芯片设计"),
        ("智能终端", "消费电子", "物联网")),
    DemoIndustry(
        "software_it", "软件和信息技术服务", "软件开发、工业互联网、数据服务与互联网平台。",
        ("I65", "I64"), ("工业互联网",),
        (DemoLink("upstream", "服务器与算力", ("C391",), ("算力", "服务器")),
         DemoLink("upstream", "基础软件", ("I6511",), ("操作系统", "数据库")),
         DemoLink("midstream", "应用软件开发", ("I65",), ("应用软件",)),
         DemoLink("midstream", "互联网平台", ("I64",), ("云计算",)),
         DemoLink("downstream", "智能制造应用", ("C34", "C35"), ("工业互联网",)),
         DemoLink("downstream", "智慧城市", (), ("智慧城市", "政务信息化"))),
        ("软件定制开发", "数据治理", "云计算"), ("服务器", "数据库", "操作系统"),
        ("智慧城市", "工业互联网", "政务信息化")),
    DemoIndustry(
        "biomedicine", "生物医药", "创新药、医疗器械与海洋生物医药。",
        ("C27",), ("生物医药", "医疗器械"),
        (DemoLink("upstream", "医药研发服务", ("M73",), ("CRO", "临床前研究")),
         DemoLink("upstream", "原料药", ("C271",), ("原料药",)),
         DemoLink("upstream", "海洋生物提取", (), ("海洋生物提取",)),
         DemoLink("midstream", "药品制造", ("C27",), ("制剂",)),
         DemoLink("midstream", "医疗器械制造", ("C358",), ("医疗器械",)),
         DemoLink("downstream", "医药流通", ("F515",), ("医药流通",)),
         DemoLink("downstream", "检验检测", ("M745",), ("第三方检测",))),
        ("创新药研发", "制剂生产", "医疗器械"), ("原料药", "CRO", "海洋生物提取"),
        ("医药流通", "医院", "第三方检测")),
    DemoIndustry(
        "intelligent_manufacturing", "智能制造与高端装备",
        "智能装备、海洋装备、仪器仪表与电气设备。",
        ("C34", "C35", "C38", "C40"), ("智能装备",),
        (DemoLink("upstream", "核心零部件", ("C345",), ("减速器", "伺服电机")),
         DemoLink("upstream", "工业软件", ("I65",), ("工业软件",)),
         DemoLink("upstream", "传感器", ("C40",), ("传感器",)),
         DemoLink("midstream", "整机装备制造", ("C35", "C34"), ("整机",)),
         DemoLink("downstream", "系统集成", (), ("系统集成",)),
         DemoLink("downstream", "运维服务", ("C43",), ("设备运维",))),
        ("智能装备", "自动化产线", "海洋装备"), ("伺服电机", "减速器", "传感器", "工业软件"),
        ("系统集成", "汽车制造", "船舶制造")),
    DemoIndustry(
        "technology_services", "科技服务", "研究和试验发展、专业技术服务与科技推广。",
        ("M73", "M74", "M75"), ("科技服务",),
        (DemoLink("upstream", "科研仪器共享", ("C40",), ("大型仪器共享",)),
         DemoLink("midstream", "研究开发", ("M73",), ("技术研发",)),
         DemoLink("midstream", "检验检测认证", ("M745",), ("检测认证",)),
         DemoLink("downstream", "技术转移", ("M75",), ("技术转移",)),
         DemoLink("downstream", "知识产权服务", ("L7250",), ("知识产权",))),
        ("技术研发", "检测认证", "技术转移"), ("大型仪器共享", "科研数据"),
        ("知识产权", "成果转化", "企业技术中心")),
)

_PARKS = (("青岛高新区智能制造产业园", "GEO07"), ("青岛高新区蓝色生物谷", "GEO03"),
          ("青岛高新区电子信息产业园", "GEO12"))
_BUILDINGS = (("青岛高新区创新大厦", "office_building", "GEO08"),
              ("汇智科技大厦", "office_building", "GEO02"),
              ("青岛高新区数字经济大厦", "office_building", "GEO14"),
              ("高新区标准厂房一期", "factory_building", "GEO06"),
              ("高新区标准厂房二期", "factory_building", "GEO11"))
_INSTITUTES = (
    ("青岛海洋生物医药研究院", "national", ("C27", "M73"), ("生物医药", "海洋"),
     "research_institute", None, "青岛市海洋科学研究中心", ("海洋药物重点实验室", "中试平台")),
    ("青岛集成电路创新研究院", "provincial", ("C39", "I65"), ("集成电路",), "university",
     None, "齐鲁滨海理工大学", ("芯片设计公共平台", "可靠性实验室")),
    ("青岛智能装备工程技术研究中心", "provincial", ("C35", "C34"), ("智能装备",), "enterprise",
     "C35", None, ("工程技术研究中心", "检测实验室")),
    ("青岛工业软件创新中心", "municipal", ("I65",), ("工业互联网", "工业软件"), "enterprise",
     "I65", None, ("工业软件适配验证中心",)),
    ("青岛先进仪器仪表研究所", "municipal", ("C40",), ("传感器",), "research_institute",
     None, "青岛市计量测试研究院", ("精密测量实验室",)),
    ("青岛蓝色健康产业研究院", "provincial", ("C27",), ("医疗器械",), "university",
     None, "青岛海滨医学院", ("医疗器械评价中心", "临床研究中心")),
    ("青岛数字经济研究院", "municipal", ("I64", "I65"), ("云计算", "数据治理"), "university",
     None, "齐鲁滨海理工大学", ("大数据实验室",)),
    ("青岛新能源电气技术中心", "municipal", ("C38",), ("新能源",), "enterprise",
     "C38", None, ("企业技术中心",)),
)
_PROJECTS = (  # (name, industry, stage, delayed)
    ("海洋智能装备研发制造基地", "C35", "production", False),
    ("生物医药产业化基地一期", "C27", "production", False),
    ("集成电路封装测试项目", "C39", "completion_acceptance", False),
    ("工业互联网创新中心大楼", "I65", "completion_acceptance", False),
    ("高端医疗器械产业园", "C35", "topping_out", False),
    ("新能源电气设备生产线", "C38", "construction_start", True),
    ("精密仪器研发中心", "C40", "construction_start", False),
    ("光电子器件制造项目", "C39", "permits", False),
    ("数字经济产业园二期", "I64", "land", False),
    ("海洋新材料中试基地", "C26", "not_started", False),
)
_INVESTOR_WORDS = ("科技发展", "智造", "产业投资", "实业", "生物科技", "电子", "新能源")
_BRANDS = "海蓝创智华鑫瑞博远达科信聚恒泰源微芯诺康明晟睿启航润宇越星辰云景"
_CONTACTS = "王李张刘陈杨赵黄周吴徐孙胡朱高林"


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _rng(seed: int, part: str) -> random.Random:
    return random.Random(f"{seed}:{part}")


# --------------------------------------------------------------------------- build


def build(data: DemoData, seed: int = SEED, anchor: date | None = None) -> ZoneDemo:
    anchor = anchor or zone_today()
    return ZoneDemo(
        anchor=anchor, carriers=_carriers(data, seed), projects=_projects(data, seed, anchor),
        institutes=_institutes(data, seed), industries=INDUSTRIES,
        profiles=_profiles(data, seed, INDUSTRIES),
        figures=tuple(f for e in data.enterprises for f in _figures(e, seed)),
    )


def _carriers(data: DemoData, seed: int) -> tuple[DemoCarrier, ...]:
    rng = _rng(seed, "carriers")
    opened = date(2012, 1, 1)
    carriers: list[DemoCarrier] = []
    in_incubator: dict[str, list[DemoEnterprise]] = {}
    for e in data.enterprises:
        if e.incubator_id:
            in_incubator.setdefault(e.incubator_id, []).append(e)

    def contact() -> tuple[str, str]:
        return (rng.choice(_CONTACTS) + "经理",
                f"0532-{rng.randint(80000000, 89999999)}")

    for grid in data.grids:
        if grid.kind != "incubator" or grid.location is None:
            continue
        tenants = []
        for e in sorted(in_incubator.get(grid.grid_id, []), key=lambda x: x.credit_code):
            low, high = AREA_BY_SCALE[e.scale]
            tenants.append((e.credit_code, _money(round(rng.uniform(low, high), -1)),
                            opened + timedelta(days=rng.randint(365, 4000))))
        occupied = sum(t[1] for t in tenants)
        leasable = _money(round(float(occupied) / rng.uniform(0.62, 0.95) + 500, -2))
        floor = _money(round(float(leasable) / rng.uniform(0.72, 0.86), -2))
        person, phone = contact()
        lon, lat = grid.location
        carriers.append(DemoCarrier(
            f"incubator:{grid.grid_id}", grid.name, "incubator", f"{grid.name}运营管理有限公司",
            grid.address or "", {"type": "Point", "coordinates": [lon, lat]}, lon, lat, floor,
            leasable, grid.grid_id, person, phone,
            opened + timedelta(days=rng.randint(0, 2500)), tuple(tenants)))
    geographic = {g.grid_id: g for g in data.grids if g.kind == "geographic"}
    outside = [e for e in data.enterprises if e.incubator_id is None]
    taken: set[str] = set()
    for name, grid_id in _PARKS:
        box = shape(geographic[grid_id].polygon_geojson).bounds
        west, south, east, north = box
        inner = (west + (east - west) * 0.15, south + (north - south) * 0.15,
                 west + (east - west) * 0.75, south + (north - south) * 0.8)
        polygon = rectangle(*inner)
        area = shape(polygon)
        tenants = []
        for e in sorted(outside, key=lambda x: x.credit_code):
            if e.credit_code not in taken and area.contains(Point(e.lon, e.lat)):
                taken.add(e.credit_code)
                low, high = AREA_BY_SCALE[e.scale]
                tenants.append((e.credit_code, _money(round(rng.uniform(low, high), -1)),
                                opened + timedelta(days=rng.randint(365, 4000))))
        occupied = sum((t[1] for t in tenants), Decimal(0))
        leasable = _money(round(float(occupied) / rng.uniform(0.7, 0.9) + 2000, -2))
        floor = _money(round(float(leasable) / rng.uniform(0.75, 0.88), -2))
        point = area.representative_point()
        person, phone = contact()
        carriers.append(DemoCarrier(
            f"park:{grid_id}", name, "industrial_park", f"{name}开发建设有限公司",
            f"山东省青岛市高新区{name}", polygon, round(point.x, 6), round(point.y, 6), floor,
            leasable, None, person, phone, opened + timedelta(days=rng.randint(0, 3000)),
            tuple(tenants)))
    for name, kind, grid_id in _BUILDINGS:
        west, south, east, north = shape(geographic[grid_id].polygon_geojson).bounds
        lon = round(west + (east - west) * rng.uniform(0.3, 0.7), 5)
        lat = round(south + (north - south) * rng.uniform(0.3, 0.7), 5)
        nearby = sorted((e for e in outside if e.grid_id == grid_id
                         and e.credit_code not in taken),
                        key=lambda e: (math.hypot(e.lon - lon, e.lat - lat), e.credit_code))
        tenants = []
        for e in nearby[:rng.randint(6, 14)]:
            taken.add(e.credit_code)
            low, high = AREA_BY_SCALE[e.scale]
            tenants.append((e.credit_code, _money(round(rng.uniform(low, high) * 0.6, -1)),
                            opened + timedelta(days=rng.randint(365, 4000))))
        occupied = sum((t[1] for t in tenants), Decimal(0))
        leasable = _money(round(float(occupied) / rng.uniform(0.55, 0.9) + 800, -2))
        floor = _money(round(float(leasable) / rng.uniform(0.78, 0.9), -2))
        person, phone = contact()
        carriers.append(DemoCarrier(
            f"building:{name}", name, kind, f"{name}物业管理有限公司",
            f"山东省青岛市高新区{name}", {"type": "Point", "coordinates": [lon, lat]}, lon, lat,
            floor, leasable, None, person, phone,
            opened + timedelta(days=rng.randint(0, 3000)), tuple(tenants)))
    return tuple(carriers)


def _projects(data: DemoData, seed: int, anchor: date) -> tuple[DemoProject, ...]:
    rng = _rng(seed, "projects")
    geographic = [e for e in data.enterprises if e.incubator_id is None]
    used: set[str] = {e.credit_code for e in data.enterprises}
    projects = []
    for index, (name, code, stage, delayed) in enumerate(_PROJECTS):
        done_count = 0 if stage == "not_started" else MILESTONES.index(stage) + 1
        if stage == "production":
            candidates = [e for e in geographic if e.industry_code == code[:3]
                          and e.scale in ("medium", "large")] or [
                e for e in geographic if e.industry_code == code[:3]] or geographic
            investor = sorted(candidates, key=lambda e: e.credit_code)[index % len(candidates)]
            investor_code, investor_name, registered = (investor.credit_code, investor.name,
                                                        True)
            lon, lat = investor.lon, investor.lat
            address = investor.address
        else:
            while True:
                investor_code = credit_code.generate(rng)
                if investor_code not in used:
                    used.add(investor_code)
                    break
            brand = rng.choice(_BRANDS) + rng.choice(_BRANDS)
            investor_name = f"青岛{brand}{rng.choice(_INVESTOR_WORDS)}有限公司"
            registered = False
            site = rng.choice(geographic)
            lon = round(site.lon + rng.uniform(-0.002, 0.002), 5)
            lat = round(site.lat + rng.uniform(-0.002, 0.002), 5)
            address = f"山东省青岛市高新区{name}项目地块"
        planned = _money(round(rng.uniform(20000, 300000), -2))
        share = {0: 0.0, 1: 0.05, 2: 0.1, 3: 0.3, 4: 0.6, 5: 0.95, 6: 1.0}[done_count]
        # done milestones 4-8 months apart, the last a month before the anchor; the pending
        # ones planned every two months from the anchor (the delayed project: its next one
        # was due 20 days before it)
        gaps = [rng.randint(120, 240) for _ in MILESTONES]
        milestones = []
        for position, milestone in enumerate(MILESTONES):
            if position < done_count:
                done_on = anchor - timedelta(days=30 + sum(gaps[position + 1:done_count]))
                planned_on = done_on + timedelta(days=rng.randint(-10, 10))
                milestones.append(DemoMilestone(milestone, planned_on, done_on))
            else:
                planned_on = anchor + timedelta(days=60 * (position - done_count + 1)
                                                + rng.randint(0, 20))
                if delayed and position == done_count:
                    planned_on = anchor - timedelta(days=20)
                milestones.append(DemoMilestone(milestone, planned_on, None))
        projects.append(DemoProject(
            f"project:{index}", name, investor_code, investor_name, registered, address, lon,
            lat, code, planned, _money(float(planned) * share), tuple(milestones)))
    return tuple(projects)


def _institutes(data: DemoData, seed: int) -> tuple[DemoInstitute, ...]:
    rng = _rng(seed, "institutes")
    found = []
    for index, (name, level, codes, tags, host_kind, host_code, host_name,
                platforms) in enumerate(_INSTITUTES):
        fitting = sorted((e for e in data.enterprises
                          if any(e.industry_code.startswith(c[:3]) for c in codes)),
                         key=lambda e: e.credit_code)
        host = None
        if host_kind == "enterprise":
            hosts = [e for e in fitting if e.industry_code == host_code and
                     e.scale in ("medium", "large")] or fitting
            host = hosts[index % len(hosts)]
        partners = rng.sample(fitting, min(len(fitting), rng.randint(3, 8)))
        found.append(DemoInstitute(
            f"institute:{index}", name, level, codes, tags, host_kind,
            host.credit_code if host else None, host_name, platforms,
            host.address if host else f"山东省青岛市高新区{name}",
            date(2015 + index % 8, 1 + index % 12, 1 + index),
            tuple(sorted({p.credit_code for p in partners}))))
    return tuple(found)


def _profiles(data: DemoData, seed: int, industries: Sequence[DemoIndustry]
              ) -> tuple[DemoProfile, ...]:
    """Tags, strengths and upstream/downstream entries of the leading industries' members."""
    rng = _rng(seed, "profiles")
    found = []
    for e in data.enterprises:
        mine = [i for i in industries if any(e.industry_code.startswith(c)
                                             for c in i.industry_codes)]
        if not mine:
            continue
        item = mine[0]
        if rng.random() < 0.35:
            continue  # not every profile records its chain
        found.append(DemoProfile(
            e.credit_code, tuple(sorted({item.tags[0]})),
            tuple(rng.sample(item.strengths, 1)),
            tuple(sorted(rng.sample(item.upstream, min(2, len(item.upstream))))),
            tuple(sorted(rng.sample(item.downstream, 1)))))
    return tuple(found)


def _split(rng: random.Random, total: Decimal) -> list[Decimal]:
    """A year's flow over its 12 months, to the cent, adding up to it exactly."""
    weights = [w * rng.uniform(0.85, 1.15) for w in SEASON]
    scale = sum(weights)
    cents = int(total * 100)
    months = [int(cents * w / scale) for w in weights[:11]]
    months.append(cents - sum(months))  # never negative: the parts are rounded down
    return [Decimal(m).scaleb(-2) for m in months]


def _figures(e: DemoEnterprise, seed: int) -> list[DemoFigures]:
    rng = _rng(seed, f"figures:{e.credit_code}")
    rows = []
    for yearly in e.indicators:
        if yearly.year not in YEARS:
            continue
        flows = {name: _split(rng, _money(getattr(yearly, name)))
                 for name in ("output_value", "revenue", "tax", "rd_spend")}
        for month in range(1, 13):
            employees = yearly.employees if month == 12 else max(
                1, round(yearly.employees * rng.uniform(0.96, 1.03)))
            rows.append(DemoFigures(e.credit_code, yearly.year, month,
                                    flows["output_value"][month - 1],
                                    flows["revenue"][month - 1], flows["tax"][month - 1],
                                    employees, flows["rd_spend"][month - 1]))
    return rows


# --------------------------------------------------------------------------- load


def load(session: Session, demo: ZoneDemo) -> dict[str, int]:
    """Insert what is missing (the demo zone must be loaded); how many rows of each kind."""
    added: dict[str, int] = {}
    ids = dict(session.execute(select(Enterprise.credit_code, Enterprise.id)).all())
    now = datetime.now(UTC)

    def put(model: Any, rows: list[dict[str, Any]]) -> None:
        """Many rows at once (executemany: one statement compiled), the existing ones kept."""
        table = model.__table__
        if rows:
            key = list(table.primary_key.columns)[0]
            result = session.execute(insert(table).on_conflict_do_nothing().returning(key),
                                     rows)
            added[table.name] = len(result.all())

    put(Carrier, [{
        "id": stable_id("carrier", c.key), "name": c.name, "kind": c.kind,
        "operator": c.operator, "address": c.address, "geometry": c.geometry, "lon": c.lon,
        "lat": c.lat, "floor_area": c.floor_area, "leasable_area": c.leasable_area,
        "grid_id": c.grid_id, "leasing_contact": c.leasing_contact,
        "leasing_phone": c.leasing_phone, "opened_on": c.opened_on, "created_by": "demo",
        "created_at": now, "updated_at": now, "version": 1} for c in demo.carriers])
    existing = set(session.execute(select(Tenancy.carrier_id, Tenancy.enterprise_id)).all())
    put(Tenancy, [{
        "carrier_id": stable_id("carrier", c.key), "enterprise_id": ids[code], "area": area,
        "moved_in_on": moved_in, "recorded_by": "demo", "recorded_at": now}
        for c in demo.carriers for code, area, moved_in in c.tenancies
        if code in ids and (stable_id("carrier", c.key), ids[code]) not in existing])
    put(Project, [{
        "id": stable_id("project", p.key), "name": p.name,
        "investor_enterprise_id": ids.get(p.investor_credit_code) if p.registered else None,
        "investor_name": p.investor_name, "investor_credit_code": p.investor_credit_code,
        "site_address": p.site_address, "lon": p.lon, "lat": p.lat,
        "industry_code": p.industry_code, "planned_investment": p.planned_investment,
        "completed_investment": p.completed_investment, "department_id": "construction",
        "scope_entered_at": now if p.milestones[-1].done_on else None, "created_by": "demo",
        "created_at": now, "updated_at": now, "version": 1} for p in demo.projects])
    put(ProjectMilestone, [{
        "project_id": stable_id("project", p.key), "milestone": m.milestone,
        "planned_on": m.planned_on, "done_on": m.done_on, "recorded_by": "demo",
        "recorded_at": now} for p in demo.projects for m in p.milestones])
    put(Institute, [{
        "id": stable_id("institute", i.key), "name": i.name, "level": i.level,
        "industry_codes": list(i.industry_codes), "tags": list(i.tags),
        "host_kind": i.host_kind, "host_enterprise_id": ids.get(i.host_credit_code or ""),
        "host_name": i.host_name, "platforms": list(i.platforms), "address": i.address,
        "recognized_on": i.recognized_on, "created_by": "demo", "created_at": now,
        "updated_at": now, "version": 1} for i in demo.institutes])
    put(InstitutePartner, [{
        "institute_id": stable_id("institute", i.key), "enterprise_id": ids[code],
        "recorded_by": "demo", "recorded_at": now}
        for i in demo.institutes for code in i.partners if code in ids])
    put(LeadingIndustry, [{
        "id": i.id, "name": i.name, "description": i.description,
        "industry_codes": list(i.industry_codes), "tags": list(i.tags), "position": n,
        "created_at": now, "updated_at": now, "version": 1}
        for n, i in enumerate(demo.industries)])
    with_links = set(session.execute(select(ChainLink.industry_id).distinct()).scalars())
    put(ChainLink, [{
        "industry_id": i.id, "stage": link.stage, "name": link.name,
        "industry_codes": list(link.industry_codes), "keywords": list(link.keywords),
        "position": n} for i in demo.industries if i.id not in with_links
        for n, link in enumerate(i.links)])
    profiles = [{"id": ids[p.credit_code], "tags": list(p.tags), "strengths": list(p.strengths),
                 "upstream": list(p.upstream), "downstream": list(p.downstream)}
                for p in demo.profiles if p.credit_code in ids]
    # one statement: only profiles that record none of these yet (a user's edits stay)
    result = session.execute(text("""
        UPDATE enterprises AS e
        SET tags = v.tags, strengths = v.strengths, upstream = v.upstream,
            downstream = v.downstream, version = e.version + 1, updated_at = now()
        FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(
            id uuid, tags varchar(40)[], strengths varchar(200)[], upstream varchar(200)[],
            downstream varchar(200)[])
        WHERE e.id = v.id AND e.tags = '{}' AND e.strengths = '{}' AND e.upstream = '{}'
          AND e.downstream = '{}'"""), {"rows": json.dumps(profiles, ensure_ascii=False)})
    added["profiles"] = result.rowcount
    loaded = session.execute(select(func.count()).select_from(IndicatorValue).where(
        IndicatorValue.source == "demo")).scalar_one()
    if loaded >= len(demo.figures):  # loaded before: skip 28,800 rows of conflicts
        added[IndicatorValue.__tablename__] = 0
        session.flush()
        return added
    put(IndicatorValue, [{
        "enterprise_id": ids[f.credit_code], "year": f.year, "period_kind": "month",
        "period": f.month, "output_value": f.output_value, "revenue": f.revenue,
        "tax": f.tax, "employees": f.employees, "rd_spend": f.rd_spend,
        "source": "demo", "imported_by": "demo", "imported_at": now, "version": 1}
        for f in demo.figures if f.credit_code in ids])
    session.flush()
    return added

