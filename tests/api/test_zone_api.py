"""The zone resources module (区域资源) through the gateway, against the running platform:
carriers and their occupancy, a project whose completion acceptance and production bring its
investor into scope, delays told to the department, institutes, chain maps and their gaps, the
statistics office's import, aggregates equal to sums computed here from the imported rows (with
year-on-year growth and months not reported), who sees per-enterprise figures, that a department
below the threshold cannot single out an enterprise, the audit of every read, and the business
environment with the appraisal's definitions.

Each test uses periods no other test imports (2019-2020, 2018, 2017, 2016), and its own grids'
enterprises, industries and carriers, so that the shared platform's other data never enter its
sums.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import combinations
from typing import Any

import httpx
import pytest
from helpers import SENDS_IF_MATCH, bearer, demand_body, eventually, new_enterprise_id
from shapely.geometry import shape
from sqlalchemy import text

from common import xlsx
from common.auth import Principal, Role, mint_token
from common.calendar import SHANGHAI
from common.config import DEV_JWT_SECRET

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INDICATORS = ("output_value", "revenue", "tax", "employees", "rd_spend")
CENT = Decimal("0.01")


def today() -> date:
    """The zone's calendar day (Asia/Shanghai), as the services count it."""
    return datetime.now(SHANGHAI).date()


def mint(role: Role, **claims: Any) -> str:
    """A token for module fixtures (the ``token`` fixture is per test)."""
    claims.setdefault("user_id", f"zone-{role}-{uuid.uuid4().hex[:6]}")
    return mint_token(Principal(role=role, **claims), DEV_JWT_SECRET, 3600)


def headers(token, role: Role, **claims: Any) -> dict[str, str]:
    return bearer(token(role, **claims))


def admin(token) -> dict[str, str]:
    return headers(token, Role.ADMIN)


def leader(token) -> dict[str, str]:
    return headers(token, Role.LEADER)


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def inside(client: httpx.Client, token, grid_id: str, offset: float = 0.0) -> tuple[float, float]:
    """A point well inside a geographic grid."""
    grid = ok(client.get(f"/api/v1/grids/{grid_id}", headers=admin(token)))
    area = shape(grid["boundary"])
    west, south, east, north = area.bounds
    return (round(west + (east - west) * (0.3 + offset), 6),
            round(south + (north - south) * (0.4 + offset / 2), 6))


def account_id(db, username: str) -> str:
    with db.connect() as conn:
        return str(conn.execute(text("SELECT id FROM enterprise.accounts WHERE username = :u"),
                                {"u": username}).scalar_one())


def credit_code_of(client: httpx.Client, token, enterprise_id: str) -> str:
    return ok(client.get(f"/api/v1/enterprises/{enterprise_id}",
                         headers=admin(token)))["credit_code"]


def workbook(header: list[str], rows: list[list[Any]]) -> bytes:
    return xlsx.write_xlsx(header, rows, "统计")


def import_file(client: httpx.Client, token, content: bytes, dry_run: bool = False,
                role: Role = Role.COORDINATOR) -> dict[str, Any]:
    answer = client.post("/api/v1/zone/economy/import", params={"dry_run": str(dry_run).lower()},
                         content=content, headers={**headers(token, role, department_id=
                                                             "economic_development"),
                                                   "Content-Type": XLSX_MIME}, timeout=60)
    return ok(answer)


def months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    found = []
    while (year, month) <= (int(last[:4]), int(last[5:])):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


# =========================================================================== carriers


def test_carriers_occupancy_tenants_and_the_public_vacancy(client, token):
    editor = headers(token, Role.COORDINATOR, department_id="science_innovation")
    run = uuid.uuid4().hex[:6]
    grid = ok(client.post("/api/v1/grids", headers=admin(token), json={
        "id": f"ZI{run}".upper()[:20], "name": f"测试孵化器{run}", "kind": "incubator",
        "owner_department_id": "science_innovation", "address": "高新区测试路8号",
        "lon": 120.3, "lat": 36.3}), 201)
    members = [new_enterprise_id(incubator_id=grid["id"], name=f"青岛孵化测试{run}{i}有限公司")
               for i in range(3)]
    carrier = ok(client.post("/api/v1/zone/carriers", headers=editor, json={
        "name": f"测试孵化器载体{run}", "kind": "incubator", "grid_id": grid["id"],
        "floor_area": 5000, "leasable_area": 4000, "leasing_contact": "张经理",
        "leasing_phone": "0532-88886666"}), 201)
    assert carrier["address"] == "高新区测试路8号" and carrier["lon"] == 120.3  # the grid's
    assert carrier["grid_name"] == grid["name"]
    assert carrier["tenants"] == 3 and carrier["tenants_without_area"] == 3
    assert carrier["occupied_area"] == 0 and carrier["vacant_area"] == 4000
    url = f"/api/v1/zone/carriers/{carrier['id']}"
    outsider = new_enterprise_id(name=f"青岛外部入驻{run}有限公司")
    for enterprise, area in ((members[0], 1200), (members[1], 800), (outsider, 1000)):
        ok(client.post(f"{url}/tenancies", headers=editor,
                       json={"enterprise_id": enterprise, "area": area}))
    shown = ok(client.get(url, headers=leader(token)))
    assert shown["tenants"] == 4 and shown["tenants_without_area"] == 1
    assert shown["occupied_area"] == 3000 and shown["vacant_area"] == 1000
    assert shown["occupancy_rate"] == 0.75 and shown["vacancy_rate"] == 0.25
    too_much = client.post(f"{url}/tenancies", headers=editor,
                           json={"enterprise_id": members[2], "area": 1500})
    assert too_much.status_code == 422 and "area" in too_much.json()["errors"]
    tenants = ok(client.get(f"{url}/tenants", headers=headers(token, Role.LIAISON,
                                                              department_id="finance")))
    assert {t["enterprise_id"] for t in tenants["items"]} == {*members, outsider}
    assert {t["source"] for t in tenants["items"] if t["enterprise_id"] == outsider} == \
        {"tenancy"}
    # a tenant that leaves scope is no tenant; an ended tenancy frees its area
    ok(client.post(f"/api/v1/enterprises/{members[0]}/scope", headers=admin(token), json={
        "in_scope": False, "reason": "moved_out", "effective_on": today().isoformat()}),
       200)
    ok(client.post(f"{url}/tenancies/{outsider}/end", headers=editor, json={}))
    shown = ok(client.get(url, headers=leader(token)))
    assert shown["tenants"] == 2 and shown["occupied_area"] == 800
    # an enterprise sees the public vacancy information, nothing more
    public = ok(client.get(url, headers=headers(token, Role.ENTERPRISE,
                                                enterprise_id=members[1])))
    assert public["vacant_area"] == 3200 and public["leasing_phone"] == "0532-88886666"
    assert not {"tenants", "occupied_area", "operator", "note", "grid_id", "version"} & set(
        public)
    listed = ok(client.get("/api/v1/zone/carriers", params={"q": run, "has_vacancy": "true"},
                           headers=headers(token, Role.ENTERPRISE, enterprise_id=members[1])))
    assert [c["id"] for c in listed["items"]] == [carrier["id"]]
    assert "tenants" not in listed["items"][0]
    # filters: vacant area (everyone), operator (staff; not public, so ignored for enterprises)
    ok(client.patch(url, headers=editor, json={"operator": f"青岛运营{run}公司",
                                               "version": shown["version"]}))
    for params, found in (({"min_vacant_area": 3200}, [carrier["id"]]),
                          ({"min_vacant_area": 3201}, []),
                          ({"operator": f"运营{run}"}, [carrier["id"]]),
                          ({"operator": "没有这个运营方"}, [])):
        listed = ok(client.get("/api/v1/zone/carriers", params={"q": run, **params},
                               headers=leader(token)))
        assert [c["id"] for c in listed["items"]] == found, params
    public_list = ok(client.get("/api/v1/zone/carriers", params={
        "q": run, "operator": "没有这个运营方"}, headers=headers(
            token, Role.ENTERPRISE, enterprise_id=members[1])))
    assert [c["id"] for c in public_list["items"]] == [carrier["id"]]
    shown = ok(client.get(url, headers=leader(token)))
    assert client.get(f"{url}/tenants", headers=headers(
        token, Role.ENTERPRISE, enterprise_id=members[1])).status_code == 403
    # writes: editors only, versions guard them
    assert client.patch(url, headers=headers(token, Role.LIAISON, department_id="finance"),
                        json={"note": "x"}).status_code == 403
    stale = client.patch(url, headers={**editor, "If-Match": '"1"'}, json={"note": "改"})
    assert stale.status_code == 412
    below = client.patch(url, headers=editor, json={"leasable_area": 500})
    assert below.status_code == 422 and "leasable_area" in below.json()["errors"]
    taken = client.post("/api/v1/zone/carriers", headers=editor, json={
        "name": f"重复孵化器{run}", "kind": "incubator", "grid_id": grid["id"]})
    assert taken.status_code == 409


def test_a_polygon_carrier_and_invalid_geometry(client, token):
    editor = admin(token)
    run = uuid.uuid4().hex[:6]
    lon, lat = inside(client, token, "GEO08")
    ring = [[lon, lat], [lon + 0.002, lat], [lon + 0.002, lat + 0.002], [lon, lat + 0.002],
            [lon, lat]]
    park = ok(client.post("/api/v1/zone/carriers", headers=editor, json={
        "name": f"测试产业园{run}", "kind": "industrial_park",
        "geometry": {"type": "Polygon", "coordinates": [ring]}, "leasable_area": 20000}), 201)
    assert lon < park["lon"] < lon + 0.002 and lat < park["lat"] < lat + 0.002
    bad = client.post("/api/v1/zone/carriers", headers=editor, json={
        "name": f"坏几何{run}", "kind": "office_building",
        "geometry": {"type": "Polygon", "coordinates": [[[1, 1], [2, 2], [1, 1]]]}})
    assert bad.status_code == 422 and "geometry" in bad.json()["errors"]
    wrong = client.post("/api/v1/zone/carriers", headers=editor, json={
        "name": f"错配网格{run}", "kind": "office_building", "grid_id": "INC01"})
    assert wrong.status_code == 422 and "grid_id" in wrong.json()["errors"]


# =========================================================================== projects


def _project_body(name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "site_address": "高新区项目地块", "planned_investment":
                            50000}
    body.update(overrides)
    return body


def test_completion_acceptance_and_production_bring_the_investor_into_scope(client, token, db):
    """The plan: a new land-occupying enterprise enters scope once its project passed
    completion acceptance and started production: scope_changed, a grid, the board."""
    run = uuid.uuid4().hex[:6]
    investor = new_enterprise_id(name=f"青岛投产测试{run}制造有限公司", operating=False,
                                 industry_code="C35", scale="medium")
    before = ok(client.get(f"/api/v1/enterprises/{investor}", headers=admin(token)))
    assert before["in_scope"] is False and before["grid_id"] is None
    lon, lat = inside(client, token, "GEO05")
    construction = headers(token, Role.LIAISON, department_id="construction")
    project = ok(client.post("/api/v1/zone/projects", headers=construction, json=_project_body(
        f"投产测试项目{run}", investor_name="待登记", lon=lon, lat=lat,
        investor_credit_code=before["credit_code"], industry_code="C35")), 201)
    assert project["investor"]["enterprise_id"] == investor  # linked by its credit code
    assert project["department_id"] == "construction" and project["stage"] == "not_started"
    url = f"/api/v1/zone/projects/{project['id']}/milestones"
    early = client.put(f"{url}/production", headers=construction,
                       json={"done_on": today().isoformat()})
    assert early.status_code == 422 and "done_on" in early.json()["errors"]
    other_department = headers(token, Role.LIAISON, department_id="finance")
    assert client.put(f"{url}/land", headers=other_department,
                      json={"done_on": today().isoformat()}).status_code == 403
    start = today() - timedelta(days=400)
    for i, milestone in enumerate(("land", "permits", "construction_start", "topping_out",
                                   "completion_acceptance")):
        ok(client.put(f"{url}/{milestone}", headers=construction,
                      json={"done_on": (start + timedelta(days=70 * i)).isoformat()}))
    still = ok(client.get(f"/api/v1/enterprises/{investor}", headers=admin(token)))
    assert still["in_scope"] is False  # completion acceptance alone is not production
    produced = ok(client.put(f"{url}/production", headers=construction,
                             json={"done_on": today().isoformat()}))
    assert produced["stage"] == "production" and produced["scope_entered_at"]
    assert produced["investor"]["in_scope"] is True
    after = ok(client.get(f"/api/v1/enterprises/{investor}", headers=admin(token)))
    assert after["in_scope"] is True and after["operating"] is True
    assert after["grid_id"] == "GEO05" and after["grid_source"] == "location"
    history = ok(client.get(f"/api/v1/enterprises/{investor}/scope", headers=admin(token)))
    assert history["items"][-1]["reason"] == "completion_accepted"
    assert history["items"][-1]["in_scope"] is True
    with db.connect() as conn:
        events = conn.execute(text(
            "SELECT event_type, payload->'data' FROM enterprise.outbox "
            "WHERE payload->'data'->>'enterprise_id' = :e ORDER BY id"), {"e": investor}).all()
    kinds = [kind for kind, _ in events]
    assert "scope_changed" in kinds and "grid_changed" in kinds
    assert "project_in_production" in kinds
    scope = next(data for kind, data in events if kind == "scope_changed")
    assert scope["in_scope"] is True and scope["reason"] == "completion_accepted"
    # the board takes it in: it publishes, and another enterprise finds it
    word = f"精密海工装备{run}"
    owner = headers(token, Role.ENTERPRISE, enterprise_id=investor)
    listing = ok(client.post("/api/v1/listings", headers=owner, json={
        "side": "supply", "title": f"提供{word}", "category": "processing",
        "valid_until": (today() + timedelta(days=30)).isoformat()}), 201)
    seeker = headers(token, Role.ENTERPRISE,
                     enterprise_id=new_enterprise_id(name=f"青岛寻源{run}有限公司"))

    def found() -> bool:
        page = client.get("/api/v1/listings/search", headers=seeker, params={"q": word}).json()
        return listing["id"] in [i["listing"]["id"] for i in page["items"]]

    assert eventually(found, timeout=10)
    # the grid's workers are told (企业吹哨、网格员报到)
    worker = headers(token, Role.GRID_WORKER, user_id=account_id(db, "gridworker.geo05.1"),
                     grid_ids=("GEO05",))

    def told() -> list[dict]:
        page = client.get("/api/v1/inbox", headers=worker, params={"per_page": 100}).json()
        return [m for m in page["items"] if m["kind"] == "project_in_production"
                and investor in m["link"]]

    messages = eventually(told, timeout=20)
    assert messages and f"投产测试项目{run}" in messages[0]["body"]
    # production stays recorded, and the investor stays
    assert client.put(f"{url}/production", headers=construction,
                      json={"done_on": None}).status_code == 409
    assert client.patch(f"/api/v1/zone/projects/{project['id']}", headers=construction,
                        json={"investor_name": "别人"}).status_code == 409


def test_production_needs_a_registered_investor(client, token):
    run = uuid.uuid4().hex[:6]
    editor = admin(token)
    project = ok(client.post("/api/v1/zone/projects", headers=editor, json=_project_body(
        f"未登记投资方项目{run}", investor_name=f"青岛尚未登记{run}有限公司")), 201)
    assert project["investor"]["registered"] is False
    url = f"/api/v1/zone/projects/{project['id']}/milestones"
    day = today() - timedelta(days=30)
    for milestone in ("land", "permits", "construction_start", "topping_out",
                      "completion_acceptance"):
        ok(client.put(f"{url}/{milestone}", headers=editor, json={"done_on": day.isoformat()}))
    refused = client.put(f"{url}/production", headers=editor,
                         json={"done_on": today().isoformat()})
    assert refused.status_code == 422
    assert refused.json()["errors"]["done_on"][0]["code"] == "zone.investor_unregistered"
    assert ok(client.get(f"/api/v1/zone/projects/{project['id']}",
                         headers=editor))["stage"] == "completion_acceptance"
    future = client.put(f"{url}/production", headers=editor,
                        json={"done_on": (today() + timedelta(days=2)).isoformat()})
    assert future.status_code == 422


def test_a_delayed_milestone_is_flagged_and_tells_the_department(client, token, db):
    run = uuid.uuid4().hex[:6]
    editor = admin(token)
    yesterday = today() - timedelta(days=1)
    project = ok(client.post("/api/v1/zone/projects", headers=editor, json=_project_body(
        f"延误测试项目{run}", investor_name=f"青岛延误{run}有限公司", milestones=[
            {"milestone": "land", "done_on": (yesterday - timedelta(days=60)).isoformat()},
            {"milestone": "permits", "planned_on": yesterday.isoformat()}])), 201)
    assert project["delayed"] is True
    permits = next(m for m in project["milestones"] if m["milestone"] == "permits")
    assert permits["delayed"] is True and permits["days_late"] == 1
    delayed = ok(client.get("/api/v1/zone/projects", headers=leader(token),
                            params={"delayed": "true", "q": run}))
    assert [p["id"] for p in delayed["items"]] == [project["id"]]
    sweep = ok(client.post("/api/v1/zone/projects/sweep", headers=editor))
    assert sweep["flagged"] >= 0  # the timer may have told it already
    liaison = headers(token, Role.LIAISON, user_id=account_id(db, "liaison.construction"),
                      department_id="construction")

    def told() -> list[dict]:
        page = client.get("/api/v1/inbox", headers=liaison, params={"per_page": 200}).json()
        return [m for m in page["items"] if m["kind"] == "project_milestone_delayed"
                and project["id"] in m["link"]]

    assert eventually(told, timeout=20)
    ok(client.post("/api/v1/zone/projects/sweep", headers=editor))
    assert len(told()) == 1  # told once per planned day
    assert client.post("/api/v1/zone/projects/sweep",
                       headers=headers(token, Role.COORDINATOR)).status_code == 403


# =========================================================================== institutes, chains


def test_institutes_with_hosts_fields_and_partners(client, token):
    run = uuid.uuid4().hex[:6]
    host = new_enterprise_id(name=f"青岛研发主体{run}有限公司", industry_code="M73")
    partner = new_enterprise_id(name=f"青岛合作企业{run}有限公司", industry_code="C3971")
    institute = ok(client.post("/api/v1/zone/institutes", headers=admin(token), json={
        "name": f"测试工程技术研究中心{run}", "level": "provincial",
        "industry_codes": ["C3971", "M73"], "tags": ["集成电路"], "host_kind": "enterprise",
        "host_enterprise_id": host, "platforms": ["可靠性实验室"],
        "partner_enterprise_ids": [partner]}), 201)
    assert institute["host_name"] == f"青岛研发主体{run}有限公司"
    assert institute["fields"][0]["code"] == "C3971"
    assert [p["enterprise_id"] for p in institute["partners"]] == [partner]
    staff = headers(token, Role.GRID_WORKER, grid_ids=("GEO01",))
    found = ok(client.get("/api/v1/zone/institutes", headers=staff,
                          params={"industry": "C39", "enterprise_id": partner}))
    assert [i["id"] for i in found["items"]] == [institute["id"]]
    assert client.get("/api/v1/zone/institutes", headers=headers(
        token, Role.ENTERPRISE, enterprise_id=partner)).status_code == 403
    missing_host = client.post("/api/v1/zone/institutes", headers=admin(token), json={
        "name": f"无主研究院{run}", "level": "national", "host_kind": "university"})
    assert missing_host.status_code == 422 and "host_name" in missing_host.json()["errors"]


def test_the_chain_map_shows_the_missing_upstream_link(client, token):
    run = uuid.uuid4().hex[:6]
    tag, kw_a, kw_b, kw_m = (f"{word}{run}" for word in ("链测试", "晶圆", "光刻胶", "封测"))
    industry = ok(client.post("/api/v1/zone/industries", headers=admin(token), json={
        "id": f"chain_{run}", "name": f"链测试产业{run}", "tags": [tag]}), 201)
    url = f"/api/v1/zone/industries/{industry['id']}/chain"
    chain = ok(client.put(url, headers=admin(token), json={"links": [
        {"stage": "upstream", "name": f"晶圆制造{run}", "keywords": [kw_a]},
        {"stage": "upstream", "name": f"光刻材料{run}", "keywords": [kw_b]},
        {"stage": "midstream", "name": f"封装测试{run}", "keywords": [kw_m]},
    ]}))
    assert chain["gaps"] and chain["present"] == 0
    new_enterprise_id(name=f"青岛晶圆{run}有限公司", tags=[kw_a])
    new_enterprise_id(name=f"青岛封测{run}有限公司", strengths=[f"先进{kw_m}能力"])
    member = new_enterprise_id(name=f"青岛链成员{run}有限公司", tags=[tag],
                               upstream=[kw_b, f"特种气体{run}"], downstream=["消费电子"])
    shown = ok(client.get(url, headers=headers(token, Role.LIAISON,
                                               department_id="investment_promotion")))
    links = {link["name"]: link for stage in shown["stages"] for link in stage["links"]}
    assert links[f"晶圆制造{run}"]["present"] is True
    assert links[f"封装测试{run}"]["present"] is True
    assert links[f"光刻材料{run}"]["present"] is False  # the gap: nobody provides it
    assert [g["name"] for g in shown["gaps"]] == [f"光刻材料{run}"]
    assert shown["gaps"][0]["stage"] == "upstream" and shown["gaps"][0]["mentioned_by"] == 1
    assert shown["members"] == 1 and shown["present"] == 2 and shown["links"] == 3
    entries = {(e["term"], e["side"]): e for e in shown["profile_entries"]}
    assert entries[(f"特种气体{run}", "upstream")]["providers"] == 0
    assert (kw_b, "upstream") not in entries  # a link covers it
    members = ok(client.get(f"/api/v1/zone/industries/{industry['id']}/enterprises",
                            headers=leader(token)))
    assert [m["enterprise_id"] for m in members["items"]] == [member]
    assert members["items"][0]["matched_by"] == "tag"
    # enterprises see the list of leading industries, nothing more
    ent = headers(token, Role.ENTERPRISE, enterprise_id=member)
    listed = ok(client.get("/api/v1/zone/industries", headers=ent))
    item = next(i for i in listed["items"] if i["id"] == industry["id"])
    assert "enterprises" not in item and "version" not in item
    for path in (url, f"/api/v1/zone/industries/{industry['id']}/enterprises",
                 "/api/v1/zone/projects", "/api/v1/zone/institutes", "/api/v1/zone",
                 "/api/v1/zone/economy/summary?period=2025"):
        assert client.get(path, headers=ent).status_code == 403, path
    assert client.put(url, headers=headers(token, Role.COORDINATOR),
                      json={"links": []}).status_code == 403


# =========================================================================== economic figures

HEADER = ["统一社会信用代码", "企业名称", "报告期", "产值（万元）", "营业收入", "税收", "从业人员",
          "研发投入"]


@pytest.fixture(scope="module")
def economy_world(platform) -> dict[str, Any]:
    with httpx.Client(base_url=platform.gateway_url(), timeout=60, **SENDS_IF_MATCH) as client:
        return _economy_world(client, mint)


def _economy_world(client: httpx.Client, token) -> dict[str, Any]:
    """Enterprises of two grids, an industry, a carrier; 24 months of 2019-2020 imported, with
    one month missing for one enterprise, a month nobody reported, and a quarterly reporter."""
    run = uuid.uuid4().hex[:6]
    tag = f"聚合{run}"
    grid_a, grid_b = "GEO09", "GEO13"
    plan = [(grid_a, "C40"), (grid_a, "C40"), (grid_a, "I65"), (grid_a, "I65"),
            (grid_a, "C27"), (grid_b, "C40"), (grid_b, "C40"), (grid_b, "I65"),
            (grid_b, "C27"), (grid_b, "F51")]
    enterprises = []
    for i, (grid, code) in enumerate(plan):
        lon, lat = inside(client, token, grid, offset=0.02 * i)
        tags = [tag] if code == "F51" else []
        eid = new_enterprise_id(name=f"青岛聚合{run}{i:02d}有限公司", industry_code=code,
                                lon=lon, lat=lat, tags=tags)
        enterprises.append({"id": eid, "grid": grid, "division": code, "tagged": bool(tags),
                            "code": credit_code_of(client, token, eid)})
    quarterly = dict(enterprises[0])
    lon, lat = inside(client, token, grid_b, offset=0.25)
    quarterly["id"] = new_enterprise_id(name=f"青岛季报{run}有限公司", industry_code="C40",
                                        lon=lon, lat=lat)
    quarterly.update(grid=grid_b, division="C40", tagged=False,
                     code=credit_code_of(client, token, quarterly["id"]))
    industry = ok(client.post("/api/v1/zone/industries", headers=admin(token), json={
        "id": f"agg_{run}", "name": f"聚合测试产业{run}", "industry_codes": ["C40"],
        "tags": [tag]}), 201)
    carrier = ok(client.post("/api/v1/zone/carriers", headers=admin(token), json={
        "name": f"聚合测试楼宇{run}", "kind": "office_building", "leasable_area": 100000}), 201)
    tenants = [enterprises[i]["id"] for i in (0, 2, 5, 9)]
    for tenant in tenants:
        ok(client.post(f"/api/v1/zone/carriers/{carrier['id']}/tenancies",
                       headers=admin(token), json={"enterprise_id": tenant, "area": 100}))
    rows: list[dict[str, Any]] = []  # what the file says, kept to compute the sums here
    for n, e in enumerate(enterprises):
        for month in months("2019-01", "2020-12"):
            if month == "2020-11" or (n == 1 and month == "2020-05"):
                continue  # nobody reported 2020-11; enterprise 1 skipped 2020-05
            base = 100 + 37 * n + int(month[5:]) + (20 if month.startswith("2020") else 0)
            figures = {"output_value": Decimal(base * 3) + Decimal("0.45"),
                       "revenue": Decimal(base * 2) + Decimal("0.10"),
                       "tax": Decimal(base) / 10, "employees": 10 + n,
                       "rd_spend": None if n == 3 else Decimal(base) / 20}
            rows.append({"id": e["id"], "code": e["code"], "period": month, **figures})
    for year in (2019, 2020):
        for q in range(1, 5):
            base = 900 + q + (50 if year == 2020 else 0)
            rows.append({"id": quarterly["id"], "code": quarterly["code"],
                         "period": f"{year}-Q{q}", "output_value": Decimal(base * 3),
                         "revenue": Decimal(base * 2), "tax": Decimal(base) / 10,
                         "employees": 77, "rd_spend": Decimal(base) / 20})
    enterprises.append(quarterly)
    content = workbook(HEADER, [[r["code"], "", r["period"], r["output_value"], r["revenue"],
                                 r["tax"], r["employees"], r["rd_spend"]] for r in rows])
    return {"run": run, "enterprises": enterprises, "industry": industry["id"],
            "carrier": carrier["id"], "tenants": tenants, "rows": rows, "content": content,
            "grids": (grid_a, grid_b)}


def test_the_import_has_a_dry_run_and_names_each_bad_row(client, token, economy_world):
    world = economy_world
    dry = import_file(client, token, world["content"], dry_run=True)
    assert dry["dry_run"] is True and dry["created"] == len(world["rows"])
    assert dry["rejected"] == 0
    summary = ok(client.get("/api/v1/zone/economy/summary", headers=leader(token),
                            params={"period": "2020-06"}))
    assert summary["total"]["figures"]["revenue"]["status"] == "not_reported"  # nothing stayed
    done = import_file(client, token, world["content"])
    assert (done["created"], done["updated"], done["rejected"]) == (len(world["rows"]), 0, 0)
    again = import_file(client, token, world["content"])
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, len(world["rows"]))
    first = world["enterprises"][0]
    future = today().replace(day=1) + timedelta(days=40)
    bad = workbook(HEADER, [
        [first["code"], "", "2019-13", 1, 1, 1, 1, 1],                       # 2: no such month
        ["91370212MA00000000", "", "2019-01", 1, 1, 1, 1, 1],                # 3: check digit
        [first["code"], "", f"{future:%Y-%m}", 1, 1, 1, 1, 1],               # 4: future
        [first["code"], "", "2019-02", -5, 1, 1, 1, 1],                      # 5: negative
        [first["code"], "", "2019-03", "", "", "", "", ""],                  # 6: no figure
        [first["code"], "", "2019-Q1", 1, 1, 1, 1, 1],                       # 7: months exist
        [first["code"], "", "2019年4月", 1, 1, 1, "十", 1],                   # 8: employees
        [world["enterprises"][1]["code"], "", "2019-04", 9, 9, 9, 9, 9],     # 9: fine (update)
        [world["enterprises"][1]["code"], "", "2019-04", 9, 9, 9, 9, 9],     # 10: duplicate
    ])
    result = import_file(client, token, bad, dry_run=True)
    by_row = defaultdict(set)
    for error in result["errors"]:
        by_row[error["row"]].add(error["field"])
    assert by_row == {2: {"报告期"}, 3: {"统一社会信用代码"}, 4: {"报告期"}, 5: {"产值（万元）"},
                      6: {"产值（万元）"}, 7: {"报告期"}, 8: {"从业人员"}, 10: {"统一社会信用代码"}}
    assert result["updated"] == 1 and result["rejected"] == 8
    codes = {e["row"]: e["code"] for e in result["errors"]}
    assert codes == {2: "zone.period_unreadable", 3: "enterprise.credit_code_check_digit",
                     4: "zone.period_not_begun", 5: "zone.figure_negative",
                     6: "zone.figures_missing", 7: "zone.quarter_reported_both_ways",
                     8: "zone.figure_not_number", 10: "import.duplicate_row"}
    reasons = {e["row"]: e["reason"] for e in result["errors"]}
    assert reasons[10] == "重复：同一企业同一报告期已在第 9 行填写"  # in Chinese by default
    assert reasons[7] == ("报告期 2019-Q1：该企业 2019 年第 1 季度已按月度报送，"
                          "同一季度只能采用一种报送方式"), reasons[7]  # the other way by label
    english = client.post("/api/v1/zone/economy/import", params={"dry_run": "true"},
                          content=bad, headers={**admin(token), "Content-Type": XLSX_MIME,
                                                "Accept-Language": "en"})
    in_english = {e["row"]: e for e in english.json()["errors"]}
    assert {row: e["code"] for row, e in in_english.items()} == codes
    assert "duplicate" in in_english[10]["reason"]
    assert in_english[7]["reason"] == ("2019-Q1: this enterprise reports the quarter 2019-Q1 by "
                                       "Month; one way per quarter")
    header = client.post("/api/v1/zone/economy/import", content=workbook(
        ["企业名称", "产值"], [["x", 1]]), headers={**admin(token), "Content-Type": XLSX_MIME})
    assert header.status_code == 422 and header.json()["code"] == "import.header_unusable"
    assert [e["code"] for e in header.json()["errors"]["header"]] == [
        "import.columns_missing", "zone.period_column_missing"]
    assert "统一社会信用代码" in header.json()["detail"]
    assert client.post("/api/v1/zone/economy/import", content=world["content"], headers={
        **headers(token, Role.LIAISON, department_id="economic_development"),
        "Content-Type": XLSX_MIME}).status_code == 403


def _expected(world: dict[str, Any], period: str) -> dict[str, dict[str, tuple[Decimal, int]]]:
    """Per group key of every dimension: indicator -> (sum, reporting), computed here from the
    imported rows by the definitions (a quarter needs its three months, a year its four
    quarters; employees at the period's end)."""
    rows = world["rows"]
    by_enterprise: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        by_enterprise[r["id"]][r["period"]] = r

    def value(eid: str, name: str, label: str) -> Any:
        mine = by_enterprise[eid]
        if len(label) == 7 and "Q" not in label:  # a month
            return (mine.get(label) or {}).get(name)
        if "Q" in label:
            year, q = label[:4], int(label[-1])
            if label in mine:
                return mine[label].get(name)
            parts = [(mine.get(f"{year}-{m:02d}") or {}).get(name) for m in
                     range(3 * q - 2, 3 * q + 1)]
            if name == "employees":
                return parts[-1]
            return None if any(p is None for p in parts) else sum(parts)
        parts = [value(eid, name, f"{label}-Q{q}") for q in range(1, 5)]
        if name == "employees":
            return parts[-1]
        return None if any(p is None for p in parts) else sum(parts)

    groups: dict[str, list[str]] = defaultdict(list)
    for e in world["enterprises"]:
        keys = ["zone", f"grid:{e['grid']}", f"division:{e['division']}"]
        if e["division"] == "C40" or e["tagged"]:
            keys.append(f"leading_industry:{world['industry']}")
        if e["id"] in world["tenants"]:
            keys.append(f"carrier:{world['carrier']}")
        for key in keys:
            groups[key].append(e["id"])
    expected: dict[str, dict[str, tuple[Decimal, int]]] = {}
    for key, ids in groups.items():
        expected[key] = {}
        for name in INDICATORS:
            values = [v for v in (value(i, name, period) for i in ids) if v is not None]
            expected[key][name] = (sum(values, Decimal(0)), len(values))
    return expected


def _check(figure: dict[str, Any], now: tuple[Decimal, int], before: tuple[Decimal, int],
           where: str) -> None:
    (value, count), (earlier, earlier_count) = now, before
    assert figure["reporting"] == count, where
    if count == 0:
        assert figure["status"] == "not_reported" and figure["value"] is None, where
    else:
        assert figure["status"] == "reported", where
        assert Decimal(str(figure["value"])) == Decimal(value).quantize(CENT), where
    assert figure["previous_reporting"] == earlier_count, where
    if count and earlier_count and earlier > 0:
        growth = (Decimal(value) - Decimal(earlier)) / Decimal(earlier)
        assert figure["yoy"] == pytest.approx(float(growth), abs=1e-4), where
    else:
        assert figure["yoy"] is None, where


@pytest.mark.parametrize("period, previous", [("2020-06", "2019-06"), ("2020-05", "2019-05"),
                                              ("2020-Q2", "2019-Q2"), ("2020-Q1", "2019-Q1"),
                                              ("2020", "2019"), ("2020-11", "2019-11")])
def test_aggregates_equal_the_sums_of_the_imported_rows(client, token, economy_world, period,
                                                        previous):
    world = economy_world
    import_file(client, token, world["content"])  # idempotent: already there, or now
    now, before = _expected(world, period), _expected(world, previous)
    for dimension in ("zone", "grid", "industry_division", "leading_industry", "carrier"):
        summary = ok(client.get("/api/v1/zone/economy/summary", headers=leader(token),
                                params={"period": period, "by": dimension}))
        assert summary["restricted"] is False and summary["previous_period"] == previous
        rows = {row["key"]: row for row in summary["rows"]}
        for key in now:
            kind, _, group = key.partition(":")
            if kind != dimension and not (dimension == "zone" and key == "zone"):
                continue
            row = rows[group or "zone"]
            for name in INDICATORS:
                _check(row["figures"][name], now[key][name], before[key][name],
                       f"{period} {key} {name}")
        for name in INDICATORS:
            _check(summary["total"]["figures"][name], now["zone"][name],
                   before["zone"][name], f"{period} total {name}")
    labels = {r["key"]: r["label"] for r in ok(client.get(
        "/api/v1/zone/economy/summary", headers=leader(token),
        params={"period": period, "by": "industry_division"}))["rows"]}
    assert labels["C40"] == "仪器仪表制造业"


def test_months_not_reported_are_shown_so_never_as_zero(client, token, economy_world):
    world = economy_world
    import_file(client, token, world["content"])
    grid_a = world["grids"][0]
    series = ok(client.get("/api/v1/zone/economy/series", headers=leader(token), params={
        "by": "grid", "key": grid_a, "from": "2020-09", "to": "2021-02"}))
    status = {i["period"]: i["figures"]["revenue"]["status"] for i in series["items"]}
    assert status == {"2020-09": "reported", "2020-10": "reported",
                      "2020-11": "not_reported", "2020-12": "reported",
                      "2021-01": "not_reported", "2021-02": "not_reported"}
    gap = next(i for i in series["items"] if i["period"] == "2020-11")["figures"]["revenue"]
    assert gap["value"] is None and gap["reporting"] == 0 and gap["yoy"] is None
    assert gap["previous_status"] == "reported"  # 2019-11 was reported
    after = next(i for i in series["items"] if i["period"] == "2021-01")["figures"]["tax"]
    assert after["previous_status"] == "reported" and after["value"] is None
    expected = _expected(world, "2020-10")[f"grid:{grid_a}"]["revenue"]
    october = next(i for i in series["items"] if i["period"] == "2020-10")["figures"]
    assert Decimal(str(october["revenue"]["value"])) == expected[0]
    one = world["enterprises"][1]
    mine = ok(client.get(f"/api/v1/zone/economy/enterprises/{one['id']}", headers=leader(token),
                         params={"from": "2020-04", "to": "2020-06"}))
    assert [i["figures"]["revenue"]["status"] for i in mine["items"]] == [
        "reported", "not_reported", "reported"]
    bad = client.get("/api/v1/zone/economy/series", headers=leader(token),
                     params={"from": "2020-06", "to": "2020-Q3"})
    assert bad.status_code == 422


# =========================================================================== permissions


def test_per_enterprise_figures_only_for_granted_roles_and_departments(client, token,
                                                                       economy_world, db):
    world = economy_world
    import_file(client, token, world["content"])
    enterprise = world["enterprises"][2]  # in GEO09
    one = f"/api/v1/zone/economy/enterprises/{enterprise['id']}"
    page = "/api/v1/zone/economy/enterprises"
    params = {"period": "2020-06", "q": world["run"], "per_page": 50}
    series = {"from": "2020-01", "to": "2020-06"}
    granted = {
        "leader": headers(token, Role.LEADER),
        "经济发展部 coordinator": headers(token, Role.COORDINATOR,
                                     department_id="economic_development"),
        "财政金融部 liaison": headers(token, Role.LIAISON, department_id="finance"),
        "财政金融部 head": headers(token, Role.DEPARTMENT_HEAD, department_id="finance"),
        "经济发展部 grid worker": headers(token, Role.GRID_WORKER, grid_ids=("GEO09",),
                                      department_id="economic_development"),
    }
    refused = {
        "招商部 liaison": headers(token, Role.LIAISON, department_id="investment_promotion"),
        "建设部 head": headers(token, Role.DEPARTMENT_HEAD, department_id="construction"),
        "科技创新部 coordinator": headers(token, Role.COORDINATOR,
                                     department_id="science_innovation"),
        "科技创新部 grid leader": headers(token, Role.GRID_LEADER, grid_ids=("GEO09",),
                                      department_id="science_innovation"),
        "grid worker without a department": headers(token, Role.GRID_WORKER,
                                                    grid_ids=("GEO09",)),
        "admin (grants, is not granted)": admin(token),
    }
    def told_granted(caller: dict[str, str]) -> bool:
        return ok(client.get("/api/v1/zone/economy/summary", headers=caller,
                             params={"period": "2020-06"}))["granted"]

    for who, caller in granted.items():
        assert told_granted(caller) is True, who  # the console shows the figures' page
        assert client.get(one, headers=caller, params=series).status_code == 200, who
        listed = client.get(page, headers=caller, params=params)
        assert listed.status_code == 200, who
        assert listed.json()["items"], who
    for who, caller in refused.items():
        assert told_granted(caller) is False, who
        for path, query in ((one, series), (page, params)):
            answer = client.get(path, headers=caller, params=query)
            assert answer.status_code == 403, (who, path, answer.text)
            assert answer.json()["code"] == "zone.figures_not_granted", who
    enterprise_user = headers(token, Role.ENTERPRISE, enterprise_id=enterprise["id"])
    assert client.get(one, headers=enterprise_user, params=series).status_code == 403
    assert client.get("/api/v1/zone/economy/summary", headers=enterprise_user,
                      params={"period": "2020-06"}).status_code == 403
    # granted grid staff: their grid's enterprises only
    worker = granted["经济发展部 grid worker"]
    elsewhere = world["enterprises"][5]  # in GEO13
    assert client.get(f"/api/v1/zone/economy/enterprises/{elsewhere['id']}", headers=worker,
                      params=series).status_code == 404
    theirs = client.get(page, headers=worker, params=params).json()["items"]
    assert {i["enterprise_id"] for i in theirs} <= {e["id"] for e in world["enterprises"]
                                                    if e["grid"] == "GEO09"}
    # the admin grants 招商部, and takes it back
    grant = ok(client.get("/api/v1/zone/economy/access", headers=admin(token)))
    assert grant["departments"] == ["economic_development", "finance"]
    assert grant["roles"] == ["leader"]
    changed = ok(client.put("/api/v1/zone/economy/access", headers={
        **admin(token), "If-Match": f'"{grant["version"]}"'}, json={
        "departments": ["economic_development", "finance", "investment_promotion"],
        "roles": ["leader"]}))
    try:
        assert client.get(one, headers=refused["招商部 liaison"],
                          params=series).status_code == 200
        stale = client.put("/api/v1/zone/economy/access", headers={
            **admin(token), "If-Match": f'"{grant["version"]}"'}, json={
            "departments": [], "roles": []})
        assert stale.status_code == 412
    finally:
        ok(client.put("/api/v1/zone/economy/access", headers=admin(token), json={
            "departments": ["economic_development", "finance"], "roles": ["leader"],
            "version": changed["version"]}))
    assert client.get(one, headers=refused["招商部 liaison"], params=series).status_code == 403
    assert client.get("/api/v1/zone/economy/access", headers=headers(
        token, Role.COORDINATOR, department_id="economic_development")).status_code == 403


def test_every_read_of_per_enterprise_figures_is_audited(client, token, economy_world, db):
    world = economy_world
    import_file(client, token, world["content"])
    reader = token(Role.LEADER, user_id=f"auditee-{world['run']}")
    enterprise = world["enterprises"][3]
    one = client.get(f"/api/v1/zone/economy/enterprises/{enterprise['id']}",
                     headers=bearer(reader), params={"from": "2020-01", "to": "2020-03"})
    assert one.status_code == 200
    page = client.get("/api/v1/zone/economy/enterprises", headers=bearer(reader),
                      params={"period": "2020-06", "q": world["run"]})
    assert page.status_code == 200
    listed_ids = {i["enterprise_id"] for i in page.json()["items"]}
    entries = ok(client.get("/api/v1/audit-log", headers=admin(token),
                            params={"actor_id": f"auditee-{world['run']}"}))["items"]
    routes = {e["route"]: e for e in entries}
    assert set(routes) == {"zone.enterprise_series", "zone.enterprise_figures"}
    assert routes["zone.enterprise_series"]["subject_ids"]["enterprise_ids"] == enterprise["id"]
    read = routes["zone.enterprise_figures"]["subject_ids"]
    assert set(read["enterprise_ids"].split(",")) == listed_ids
    assert read["enterprises"] == str(len(listed_ids))
    assert all(e["actor_role"] == "leader" for e in entries)
    assert all(e["call_id"] == one.headers["X-Request-ID"] or
               e["call_id"] == page.headers["X-Request-ID"] for e in entries)
    refused = client.get("/api/v1/zone/economy/enterprises", headers=headers(
        token, Role.LIAISON, user_id=f"refused-{world['run']}",
        department_id="investment_promotion"), params={"period": "2020-06"})
    assert refused.status_code == 403
    assert ok(client.get("/api/v1/audit-log", headers=admin(token),
                         params={"actor_id": f"refused-{world['run']}"}))["items"] == []


# --------------------------------------------------------------------------- singling out

THRESHOLD_PERIOD = "2018-03"


@pytest.fixture(scope="module")
def threshold_world(platform) -> dict[str, Any]:
    with httpx.Client(base_url=platform.gateway_url(), timeout=60, **SENDS_IF_MATCH) as client:
        return _threshold_world(client, mint)


def _threshold_world(client: httpx.Client, token) -> dict[str, Any]:
    """2018-03: grid GEO10 holds division M74 (6) and one tagged enterprise T (F51); GEO11
    holds one enterprise S (C34); GEO12 five C34 enterprises. Leading industry L = M74 + the
    tag (7 = M74 + T); carrier K = GEO12's five + S."""
    run = uuid.uuid4().hex[:6]
    tag = f"阈值{run}"
    layout = ([("GEO10", "M74", False)] * 6 + [("GEO10", "F51", True)]
              + [("GEO11", "C34", False)] + [("GEO12", "C34", False)] * 5)
    people = []
    for i, (grid, code, tagged) in enumerate(layout):
        lon, lat = inside(client, token, grid, offset=0.02 * (i % 7))
        eid = new_enterprise_id(name=f"青岛阈值{run}{i:02d}有限公司", industry_code=code,
                                lon=lon, lat=lat, tags=[tag] if tagged else [])
        people.append({"id": eid, "grid": grid, "division": code, "tagged": tagged,
                       "code": credit_code_of(client, token, eid)})
    industry = ok(client.post("/api/v1/zone/industries", headers=admin(token), json={
        "id": f"thr_{run}", "name": f"阈值测试产业{run}", "industry_codes": ["M74"],
        "tags": [tag]}), 201)
    carrier = ok(client.post("/api/v1/zone/carriers", headers=admin(token), json={
        "name": f"阈值测试楼宇{run}", "kind": "office_building"}), 201)
    k_members = [p["id"] for p in people if p["grid"] in ("GEO11", "GEO12")]
    for member in k_members:
        ok(client.post(f"/api/v1/zone/carriers/{carrier['id']}/tenancies",
                       headers=admin(token), json={"enterprise_id": member}))
    taxes = {}
    rows = []
    for i, p in enumerate(people):
        tax = Decimal(1000 + 97 * i) + Decimal("0.13") * i
        taxes[p["id"]] = tax
        rows.append([p["code"], "", THRESHOLD_PERIOD, tax * 5, tax * 3, tax, 10 + i, tax / 4])
    result = import_file(client, token, workbook(HEADER, rows))
    assert result["created"] == len(rows) and result["rejected"] == 0
    return {"people": people, "industry": industry["id"], "carrier": carrier["id"],
            "k_members": k_members, "taxes": taxes}


def _released(client, token, caller) -> dict[tuple[str, str], dict[str, Any]]:
    cells = {}
    for dimension in ("zone", "grid", "industry_division", "leading_industry", "carrier"):
        summary = ok(client.get("/api/v1/zone/economy/summary", headers=caller,
                                params={"period": THRESHOLD_PERIOD, "by": dimension}))
        for row in summary["rows"]:
            cells[(dimension, row["key"])] = row["figures"]["tax"]
    return cells


def test_a_department_below_the_threshold_cannot_single_out_an_enterprise(client, token,
                                                                        threshold_world):
    world = threshold_world
    people, taxes = world["people"], world["taxes"]
    single = next(p for p in people if p["grid"] == "GEO11")
    tagged = next(p for p in people if p["tagged"])
    liaison = headers(token, Role.LIAISON, department_id="investment_promotion")
    cells = _released(client, token, liaison)
    summary = ok(client.get("/api/v1/zone/economy/summary", headers=liaison,
                            params={"period": THRESHOLD_PERIOD, "by": "grid"}))
    assert summary["restricted"] is True
    # the lone enterprise's grid is withheld, and so is another grid beside it
    assert cells[("grid", "GEO11")]["status"] == "suppressed"
    assert cells[("grid", "GEO11")]["value"] is None
    assert cells[("grid", "GEO12")]["status"] == "suppressed"
    assert cells[("grid", "GEO10")]["status"] == "reported"
    # the carrier = GEO12 + the lone enterprise, the industry = M74 + the tagged one
    assert cells[("industry_division", "F51")]["status"] == "suppressed"
    # every released figure stands for at least 5 enterprises
    released = {k: v["value"] for k, v in cells.items() if v["status"] == "reported"}
    assert all(cells[k]["reporting"] >= 5 for k in released)
    values = {Decimal(str(v)).quantize(CENT) for v in taxes.values()}

    def singles_out(amount: float | Decimal) -> bool:
        return Decimal(str(amount)).quantize(CENT) in values

    assert not any(singles_out(v) for v in released.values())
    for (a, va), (b, vb) in combinations(released.items(), 2):  # one figure less another
        assert not singles_out(abs(Decimal(str(va)) - Decimal(str(vb)))), (a, b)
    members = _members(world)
    zone = Decimal(str(released[("zone", "zone")]))
    for dimension in ("grid", "industry_division", "leading_industry", "carrier"):
        rest = zone - sum((Decimal(str(v)) for (d, _), v in released.items() if d == dimension),
                          Decimal(0))
        assert not singles_out(rest), dimension  # the zone less a dimension's released groups
    for container, value in released.items():  # a group less the groups released inside it
        for dimension in ("grid", "industry_division", "leading_industry", "carrier"):
            inside_it = [k for k in released if k[0] == dimension and k != container
                         and members.get(k, set()) <= members.get(container, set())
                         and members.get(k)]
            rest = Decimal(str(value)) - sum((Decimal(str(released[k])) for k in inside_it),
                                             Decimal(0))
            if inside_it:
                assert not singles_out(rest), (container, inside_it)
    # the granted see them all, the lone enterprise's grid too
    granted = _released(client, token, leader(token))
    assert granted[("grid", "GEO11")]["value"] == float(taxes[single["id"]])
    assert granted[("leading_industry", world["industry"])]["status"] == "reported"
    assert tagged["id"] in taxes
    # a series is held to the same rules
    series = ok(client.get("/api/v1/zone/economy/series", headers=liaison, params={
        "by": "grid", "key": "GEO11", "from": THRESHOLD_PERIOD, "to": THRESHOLD_PERIOD}))
    assert series["items"][0]["figures"]["tax"]["status"] == "suppressed"


FOLLOW_PERIOD = "2017-06"


def test_what_is_withheld_follows_an_import_and_a_tenancy_on_the_next_request(client, token):
    """The release check's answer is kept between requests while what it was decided from
    stays the same (zone/disclosure.py): an import that brings new reporters, and a new
    tenancy, change what the next request withholds."""
    run = uuid.uuid4().hex[:6]
    liaison = headers(token, Role.LIAISON, department_id="investment_promotion")
    people = []
    for i, grid in enumerate(["GEO10"] * 6 + ["GEO11"] * 5):
        lon, lat = inside(client, token, grid, offset=0.02 * (i % 6))
        eid = new_enterprise_id(name=f"青岛跟随{run}{i:02d}有限公司", industry_code="C34",
                                lon=lon, lat=lat)
        people.append({"id": eid, "grid": grid, "code": credit_code_of(client, token, eid)})

    def imported(who: list[dict[str, Any]]) -> None:
        rows = [[p["code"], "", FOLLOW_PERIOD, 500 + i, 300 + i, 100 + i, 10, 20]
                for i, p in enumerate(who)]
        assert import_file(client, token, workbook(HEADER, rows))["rejected"] == 0

    def status(by: str) -> dict[str, str]:
        summary = ok(client.get("/api/v1/zone/economy/summary", headers=liaison,
                                params={"period": FOLLOW_PERIOD, "by": by}))
        return {row["key"]: row["figures"]["tax"]["status"] for row in summary["rows"]}

    geo11 = [p for p in people if p["grid"] == "GEO11"]
    imported([p for p in people if p["grid"] == "GEO10"] + geo11[:1])
    # GEO11 is one enterprise, and the zone less GEO10 is that one: both grids withheld
    assert (status("grid")["GEO10"], status("grid")["GEO11"]) == ("suppressed", "suppressed")
    imported(geo11[1:])  # GEO11 now five: nothing to subtract down to fewer
    assert (status("grid")["GEO10"], status("grid")["GEO11"]) == ("reported", "reported")
    carrier = ok(client.post("/api/v1/zone/carriers", headers=admin(token), json={
        "name": f"跟随测试楼宇{run}", "kind": "office_building"}), 201)
    assert status("carrier").get(carrier["id"]) in (None, "not_reported")
    for member in [*geo11, people[0]]:
        ok(client.post(f"/api/v1/zone/carriers/{carrier['id']}/tenancies",
                       headers=admin(token), json={"enterprise_id": member["id"]}))
    # the carrier less GEO11 is the one GEO10 tenant: the carrier is withheld at once
    assert status("carrier")[carrier["id"]] == "suppressed"
    assert status("grid")["GEO10"] == "reported"


def _members(world: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in world["people"]:
        found[("zone", "zone")].add(p["id"])
        found[("grid", p["grid"])].add(p["id"])
        found[("industry_division", p["division"])].add(p["id"])
        if p["division"] == "M74" or p["tagged"]:
            found[("leading_industry", world["industry"])].add(p["id"])
        if p["id"] in world["k_members"]:
            found[("carrier", world["carrier"])].add(p["id"])
    return found


# =========================================================================== business environment


OFFICE = "general_office"


def test_the_business_environment_has_the_appraisals_figures(client, token, db):
    day = today()
    month = f"{day:%Y-%m}"
    coordinator = headers(token, Role.COORDINATOR, department_id="economic_development")

    # 综合部: a department no other module's tests count the liaisons of
    def office_row() -> dict[str, Any]:
        answer = ok(client.get("/api/v1/zone/business-environment", headers=coordinator,
                               params={"from": month, "to": month}))
        return next(r for r in answer["items"][0]["departments"]
                    if r["department_id"] == OFFICE)

    before = office_row()
    assert before["department_name"] == "综合部"
    enterprise = new_enterprise_id(name=f"青岛营商{uuid.uuid4().hex[:6]}有限公司")
    demand = ok(client.post("/api/v1/demands", headers=coordinator, json=demand_body(
        channel="service_window", enterprise_id=enterprise)), 201)
    task = ok(client.post(f"/api/v1/demands/{demand['id']}/triage", headers=coordinator, json={
        "category": "general", "proposed_opinion": "请办理",
        "departments": [{"department_id": OFFICE, "opinion": "请办理"}]}))["tasks"][0]
    liaison = headers(token, Role.LIAISON, department_id=OFFICE)
    ok(client.post(f"/api/v1/tasks/{task['id']}/accept", headers=liaison))
    ok(client.post(f"/api/v1/tasks/{task['id']}/complete", headers=liaison,
                   json={"result": "已办结"}))
    after = office_row()
    assert after["demands"] == before["demands"] + 1
    assert after["completed_tasks"] == before["completed_tasks"] + 1
    # completed the day it was accepted: 0 working days, so the mean is diluted by one task
    old_total = (before["avg_handling_workdays"] or 0) * before["completed_tasks"]
    assert after["avg_handling_workdays"] == pytest.approx(
        round(old_total / after["completed_tasks"], 2), abs=0.011)
    # the same definitions as the appraisal: its figures for the same month
    first = day.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    appraisal = ok(client.get("/api/v1/appraisal/departments", headers=coordinator,
                              params={"from": first.isoformat(), "to": last.isoformat()}))
    rows = {r["subject_id"]: r for r in appraisal["items"]}
    environment = ok(client.get("/api/v1/zone/business-environment", headers=coordinator,
                                params={"from": month, "to": month}))["items"][0]
    for row in environment["departments"]:
        theirs = rows.get(row["department_id"])
        if theirs is None:
            assert row["tasks"] == 0
            continue
        for name in ("response_rate", "resolution_rate", "satisfaction_rate", "ratings",
                     "accepted_on_time", "acceptance_due", "tasks"):
            assert row[name] == theirs[name], (row["department_id"], name)
    zone = environment["zone"]
    assert zone["demands"] >= after["demands"]
    # who sees which rows
    mine = ok(client.get("/api/v1/zone/business-environment", headers=liaison,
                         params={"from": month, "to": month}))["items"][0]
    assert [r["department_id"] for r in mine["departments"]] == [OFFICE]
    assert mine["zone"] == zone
    worker = ok(client.get("/api/v1/zone/business-environment", headers=headers(
        token, Role.GRID_WORKER, grid_ids=("GEO01",)), params={"from": month, "to": month}))
    assert worker["items"][0]["departments"] == []
    assert client.get("/api/v1/zone/business-environment", headers=headers(
        token, Role.ENTERPRISE, enterprise_id=enterprise),
        params={"from": month, "to": month}).status_code == 403
    too_long = client.get("/api/v1/zone/business-environment", headers=coordinator,
                          params={"from": "2020-01", "to": "2022-12"})
    assert too_long.status_code == 422 and "to" in too_long.json()["errors"]


def test_the_overview_counts_the_module(client, token):
    overview = ok(client.get("/api/v1/zone", headers=headers(token, Role.GRID_WORKER,
                                                             grid_ids=("GEO01",))))
    assert set(overview) == {"carriers", "projects", "institutes", "leading_industries",
                             "latest_period"}
    assert overview["projects"]["total"] >= 0
    assert sum(overview["projects"]["by_stage"].values()) == overview["projects"]["total"]
    assert sum(overview["carriers"]["by_kind"].values()) == overview["carriers"]["total"]
