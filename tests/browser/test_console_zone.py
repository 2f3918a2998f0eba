"""The zone resources' pages (区域资源, issue 23) in Chromium: a coordinator records a project's
completion acceptance (竣工备案) and start of production (投产) and its investor enters scope with
a grid; the economic summary reads 未报送 for a month nobody reported and a year-on-year figure
for one reported, and a department below the threshold sees no single enterprise's figure; the
chain map shows a missing link (补链); an enterprise sees the carriers' vacancy and not the
economic figures; a coordinator adds a carrier and records a tenancy, one refused at its area."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from helpers import bearer, new_enterprise_id
from playwright.sync_api import expect
from shapely.geometry import shape

from common import xlsx
from common.auth import Role
from common.calendar import SHANGHAI

COORDINATOR = "coordinator.economic_development"
#: 招商部's liaison: not granted per-enterprise figures (default 经济发展部, 财政金融部, leaders)
NOT_GRANTED = "liaison.investment_promotion"
MILESTONES_BEFORE = ("land", "permits", "construction_start", "topping_out")


def _admin(token) -> dict[str, str]:
    return bearer(token(Role.ADMIN))


def _inside(client, token, grid_id: str) -> tuple[float, float]:
    grid = client.get(f"/api/v1/grids/{grid_id}", headers=_admin(token)).json()
    west, south, east, north = shape(grid["boundary"]).bounds
    return round(west + (east - west) * 0.3, 6), round(south + (north - south) * 0.4, 6)


def _pick_day(screen, day: str) -> None:
    field = screen.page.locator("[data-test=milestone-done] input")
    field.fill(day)
    field.press("Enter")


def test_a_coordinator_records_completion_and_production_and_the_investor_enters_scope(
        screens, client, token):
    run = uuid.uuid4().hex[:6]
    investor = new_enterprise_id(name=f"青岛浏览器投产{run}制造有限公司", operating=False,
                                 industry_code="C35", scale="medium")
    lon, lat = _inside(client, token, "GEO05")
    grid_name = client.get("/api/v1/grids/GEO05", headers=_admin(token)).json()["name"]
    credit = client.get(f"/api/v1/enterprises/{investor}", headers=_admin(token)).json()
    assert credit["in_scope"] is False
    today = datetime.now(SHANGHAI).date()
    start = today - timedelta(days=500)
    name = f"浏览器投产项目{run}"
    created = client.post("/api/v1/zone/projects", headers=_admin(token), json={
        "name": name, "site_address": "高新区浏览器地块", "planned_investment": 30000,
        "investor_name": "待登记", "investor_credit_code": credit["credit_code"],
        "lon": lon, "lat": lat, "industry_code": "C35",
        "milestones": [{"milestone": m, "done_on": (start + timedelta(days=90 * i)).isoformat()}
                       for i, m in enumerate(MILESTONES_BEFORE)]})
    assert created.status_code == 201, created.text

    coordinator = screens("统筹")
    coordinator.sign_in(COORDINATOR)
    coordinator.page.get_by_role("menuitem", name="区域资源").click()
    coordinator.page.get_by_role("link", name="在建项目").click()
    coordinator.page.fill("[data-test=project-filters] input[name=q]", name)
    coordinator.page.keyboard.press("Enter")
    coordinator.page.locator("[data-test=project-name]", has_text=name).click()
    scope = coordinator.page.locator("[data-test=project-scope]")
    expect(scope).to_contain_text("尚未纳入")
    expect(coordinator.page.locator("[data-test=project-stage]")).to_have_text("封顶")

    # 竣工备案: the form offers the next milestone; completion alone is not production
    expect(coordinator.page.locator("[data-test=milestone-select]")).to_contain_text("竣工备案")
    _pick_day(coordinator, (today - timedelta(days=1)).isoformat())
    coordinator.page.locator("[data-test=milestone-save]").click()
    notice = coordinator.page.locator("[data-test=milestone-notice]")
    expect(notice).to_contain_text("已记录“竣工备案”")
    expect(coordinator.page.locator("[data-test=project-stage]")).to_have_text("竣工备案")
    expect(scope).to_contain_text("尚未纳入")

    # 投产: the investor enters scope and gets the site's grid, told on the page by name
    expect(coordinator.page.locator("[data-test=milestone-select]")).to_contain_text("投产")
    _pick_day(coordinator, today.isoformat())
    coordinator.page.locator("[data-test=milestone-save]").click()
    expect(notice).to_contain_text("已记录“投产”")
    expect(notice).to_contain_text(f"已纳入服务范围，划入{grid_name}")
    expect(scope).to_have_text(f"已纳入服务范围 · {grid_name}")
    coordinator.shot("zone-project-production")

    # the registry agrees: in scope, in its grid
    coordinator.page.locator("[data-test=project-investor] a").click()
    coordinator.page.wait_for_url(re.compile(rf".*/registry/enterprises/{investor}"))
    expect(coordinator.page.locator("main")).to_contain_text(grid_name)
    after = client.get(f"/api/v1/enterprises/{investor}", headers=_admin(token)).json()
    assert after["in_scope"] is True and after["grid_id"] == "GEO05"


#: the statistics office's columns (the API's import reads them)
HEADER = ["统一社会信用代码", "企业名称", "报告期", "产值（万元）", "营业收入", "税收", "从业人员",
          "研发投入"]


def _months(year: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def test_the_economic_summary_reads_not_reported_and_growth_and_withholds_below_the_threshold(
        screens, client, token, tmp_path):
    """Six enterprises of one grid report 2014-2015 (periods no other test uses) but for
    November 2015; two of them are tenants of one carrier (below the threshold of five)."""
    run = uuid.uuid4().hex[:6]
    lon, lat = _inside(client, token, "GEO11")
    firms = [new_enterprise_id(name=f"青岛浏览器经济{run}{i}有限公司", industry_code="C40",
                               lon=lon, lat=lat) for i in range(6)]
    codes = [client.get(f"/api/v1/enterprises/{f}", headers=_admin(token)).json()["credit_code"]
             for f in firms]
    carrier_name = f"浏览器经济楼宇{run}"
    carrier = client.post("/api/v1/zone/carriers", headers=_admin(token), json={
        "name": carrier_name, "kind": "office_building", "leasable_area": 5000}).json()
    for tenant in firms[:2]:
        assert client.post(f"/api/v1/zone/carriers/{carrier['id']}/tenancies",
                           headers=_admin(token), json={"enterprise_id": tenant, "area": 200}
                           ).status_code == 200
    rows = [[code, "", month, 100 + 10 * n + int(month[5:]) + (30 if month[:4] == "2015" else 0),
             80 + n, 5 + n, 20 + n, 3] for n, code in enumerate(codes)
            for month in _months(2014) + _months(2015) if month != "2015-11"]
    rows.append(["91370200MA00000000", "", "2015-10", 1, 1, 1, 1, 1])  # no such enterprise
    path = tmp_path / "统计局报表.xlsx"
    path.write_bytes(xlsx.write_xlsx(HEADER, rows, "统计"))

    coordinator = screens("统筹")
    coordinator.sign_in(COORDINATOR)
    coordinator.goto("/zone/economy")
    coordinator.page.get_by_role("button", name="导入统计局报表").click()
    coordinator.page.locator("[data-test=import-file]").set_input_files(str(path))
    coordinator.page.locator("[data-test=dry-run]").click()
    summary = coordinator.page.locator("[data-test=import-summary]")
    expect(summary).to_contain_text("检查结果（尚未写入）")
    errors = coordinator.page.locator("[data-test=import-errors]")
    expect(errors).to_contain_text(str(len(rows) + 1))  # the sheet row of the bad line
    expect(coordinator.page.locator("[data-test=count-rejected]")).to_contain_text("1")
    coordinator.page.locator("[data-test=import]").click()
    expect(summary).to_contain_text("导入完成")
    expect(coordinator.page.locator("[data-test=import-progress]")).to_contain_text("完成")

    # October 2015 and a year before were reported: a figure and its growth
    coordinator.goto("/zone/economy?period=2015-10&by=zone")
    total = coordinator.page.locator("[data-test=economy-table] .el-table__body-wrapper tr").last
    expect(total.locator("[data-test=figure-output_value]")).to_have_attribute(
        "data-status", "reported")
    expect(total.locator("[data-test=yoy-output_value]")).to_have_text(
        re.compile(r"^\+\d+\.\d%$"))
    expect(coordinator.page.get_by_role("tab", name="企业明细")).to_be_visible()  # granted

    # November 2015: nobody reported it: 未报送, never 0, and no growth
    coordinator.goto("/zone/economy?period=2015-11&by=zone")
    total = coordinator.page.locator("[data-test=economy-table] .el-table__body-wrapper tr").last
    expect(total.locator("[data-test=figure-output_value]")).to_have_text("未报送")
    expect(total.locator("[data-test=yoy-output_value]")).to_have_text("—")
    total.locator("[data-test=economy-group]").click()  # the zone's twelve months up to it
    series = coordinator.page.locator("[data-test=series-table]")
    expect(series.locator("tr", has_text="2015年11月")).to_contain_text("未报送")
    expect(series.locator("tr", has_text="2015年10月")).not_to_contain_text("未报送")
    expect(coordinator.page.locator("[data-test=economy-chart][data-ready=yes] canvas")
           ).to_have_count(1)
    coordinator.shot("zone-economy")

    # 招商部 is below the threshold: the carrier of two is withheld, every figure released
    # stands for five or more, and no enterprise's own figures are offered
    department = screens("招商部")
    department.sign_in(NOT_GRANTED)
    department.goto("/zone/economy?period=2015-10&by=carrier")
    table = department.page.locator("[data-test=economy-table]")
    mine = table.locator(".el-table__body-wrapper tr", has_text=carrier_name)
    expect(mine.locator("[data-test=figure-output_value]")).to_have_text("不足5家不公开")
    expect(department.page.locator("[data-test=economy-note]")).to_contain_text("不予公开")
    for row in table.locator(".el-table__body-wrapper tr").all():
        if row.locator("[data-test=figure-output_value][data-status=reported]").count():
            reporting = int(re.search(r"(\d+) 家", row.inner_text()).group(1))
            assert reporting >= 5, row.inner_text()
    expect(department.page.get_by_role("tab", name="企业明细")).to_have_count(0)
    department.goto("/zone/economy?period=2015-10&tab=enterprises")
    expect(department.page.locator("[data-test=economy-ungranted]")).to_contain_text("未获授权")
    expect(department.page.locator("[data-test=economy-table]")).to_be_visible()
    expect(department.page.locator("[data-test=firm-table]")).to_have_count(0)
    department.shot("zone-economy-withheld")


def test_the_chain_map_shows_the_missing_link(screens, client, token):
    run = uuid.uuid4().hex[:6]
    tag, present, missing = f"浏览器链{run}", f"晶圆{run}", f"光刻胶{run}"
    industry = client.post("/api/v1/zone/industries", headers=_admin(token), json={
        "id": f"browser_chain_{run}", "name": f"浏览器链产业{run}", "tags": [tag]})
    assert industry.status_code == 201, industry.text
    answer = client.put(f"/api/v1/zone/industries/browser_chain_{run}/chain",
                        headers=_admin(token), json={"links": [
                            {"stage": "upstream", "name": f"晶圆制造{run}", "keywords": [present]},
                            {"stage": "upstream", "name": f"光刻材料{run}", "keywords": [missing]},
                        ]})
    assert answer.status_code == 200, answer.text
    provider = f"青岛浏览器晶圆{run}有限公司"
    new_enterprise_id(name=provider, tags=[present])
    new_enterprise_id(name=f"青岛浏览器链成员{run}有限公司", tags=[tag], upstream=[missing])

    promotion = screens("招商部")
    promotion.sign_in(NOT_GRANTED)
    promotion.goto("/zone/industries")
    promotion.page.fill("input[data-test=industry-search]", f"浏览器链产业{run}")
    promotion.page.locator("[data-test=industry-name]", has_text=run).click()
    promotion.page.get_by_role("tab", name="产业链图谱").click()
    upstream = promotion.page.locator("[data-test=chain-stage-upstream]")
    has = upstream.locator("[data-test=chain-link]", has_text=f"晶圆制造{run}")
    expect(has).to_contain_text(f"园区已有 1 家：{provider}")
    lacks = upstream.locator("[data-test=chain-link]", has_text=f"光刻材料{run}")
    expect(lacks.locator("[data-test=chain-gap]")).to_have_text("缺失 · 待补链")
    gaps = promotion.page.locator("[data-test=chain-gaps]")
    expect(gaps).to_contain_text(f"光刻材料{run}")
    expect(gaps).not_to_contain_text(f"晶圆制造{run}")
    expect(promotion.page.locator("[data-test=chain-edit]")).to_have_count(0)  # admins only
    promotion.shot("zone-chain-map")


def test_an_enterprise_sees_carrier_vacancy_but_not_the_economic_figures(
        screens, client, token, demo_enterprises):
    run = uuid.uuid4().hex[:6]
    name = f"浏览器孵化楼{run}"
    carrier = client.post("/api/v1/zone/carriers", headers=_admin(token), json={
        "name": name, "kind": "factory_building", "leasable_area": 3000,
        "operator": f"青岛浏览器运营{run}有限公司", "leasing_contact": "王经理",
        "leasing_phone": "0532-88880000"}).json()
    tenant = new_enterprise_id(name=f"青岛浏览器租户{run}有限公司")
    assert client.post(f"/api/v1/zone/carriers/{carrier['id']}/tenancies",
                       headers=_admin(token), json={"enterprise_id": tenant, "area": 1200}
                       ).status_code == 200
    industry = f"浏览器公开产业{run}"
    assert client.post("/api/v1/zone/industries", headers=_admin(token), json={
        "id": f"browser_public_{run}", "name": industry, "industry_codes": ["C39"]}
                       ).status_code == 201
    enterprise = screens("企业", phone=True)
    enterprise.sign_in(demo_enterprises[0].username)
    enterprise.page.locator("[data-test='tab-/e/zone']").click()
    enterprise.page.fill("[data-test=public-carrier-filters] input >> nth=0", run)
    enterprise.page.keyboard.press("Enter")
    card = enterprise.page.locator("[data-test=public-carrier]", has_text=name)
    expect(card.locator("[data-test=public-vacant]")).to_have_text("空置 1,800 m²")
    expect(card).to_contain_text("0532-88880000")
    expect(enterprise.page.locator("[data-test=public-carrier]")).to_have_count(1)
    # the public information only: neither tenants nor the operator
    expect(card).not_to_contain_text("青岛浏览器租户")
    expect(card).not_to_contain_text("青岛浏览器运营")
    enterprise.no_horizontal_scroll()
    enterprise.page.get_by_role("tab", name="主导产业").click()
    listed = enterprise.page.locator("[data-test=public-industries] .gs-card", has_text=industry)
    expect(listed).to_contain_text("计算机、通信和其他电子设备制造业")
    enterprise.shot("zone-enterprise")
    # the economic figures are not theirs: the page sends them home, the menu has no entry
    for path in ("/zone/economy", "/zone/carriers"):
        enterprise.goto(path)
        enterprise.page.wait_for_url(re.compile(r".*/e/demands$"))
    expect(enterprise.page.locator("nav.phone-tabs")).not_to_contain_text("经济")


def test_a_coordinator_adds_a_carrier_and_records_a_tenancy_and_sees_the_occupancy(
        screens, client, token):
    """新建载体 and 入驻 through the console: a tenancy larger than the leasable area is refused
    at its area field; a fitting one lists the tenant by name and lowers the vacant area."""
    run = uuid.uuid4().hex[:6]
    tenant = f"青岛浏览器入驻{run}有限公司"
    new_enterprise_id(name=tenant)
    name = f"浏览器新建楼宇{run}"

    coordinator = screens("统筹")
    coordinator.sign_in(COORDINATOR)
    coordinator.goto("/zone/carriers")
    coordinator.page.locator("[data-test=carrier-new]").click()
    form = coordinator.page.locator("[data-test=carrier-form]")
    form.locator("input[name=name]").fill(name)
    form.locator("[data-test=carrier-kind]").click()
    coordinator.page.locator(".el-select-dropdown:visible .el-select-dropdown__item",
                             has_text="楼宇").first.click()
    form.locator("input[name=leasable_area]").fill("1000")
    coordinator.page.locator("[data-test=carrier-save]").click()
    detail = coordinator.page.locator("[data-test=carrier-detail]")
    expect(detail.locator("h2")).to_contain_text(name)
    expect(detail.locator("[data-test=carrier-vacant]")).to_have_text("1,000 m²")

    coordinator.page.locator("[data-test=tenancy-new]").click()
    tenancy = coordinator.page.locator("[data-test=tenancy-form]")
    tenancy.locator("[data-test=tenancy-enterprise]").click()
    tenancy.locator("[data-test=tenancy-enterprise] input").fill(tenant[:8])
    coordinator.page.locator(".el-select-dropdown:visible .el-select-dropdown__item",
                             has_text=tenant).first.click()
    tenancy.locator("input[name=area]").fill("1500")
    coordinator.page.locator("[data-test=tenancy-save]").click()
    refused = tenancy.locator(".el-form-item", has_text="面积").locator(".el-form-item__error")
    expect(refused).to_be_visible()
    coordinator.shot("tenancy-refused")

    tenancy.locator("input[name=area]").fill("600")
    coordinator.page.locator("[data-test=tenancy-save]").click()
    expect(coordinator.page.locator("[data-test=carrier-notice]")).to_contain_text(tenant)
    expect(detail.locator("[data-test=carrier-vacant]")).to_have_text("400 m²")
    expect(coordinator.page.locator("[data-test=tenant-table]")).to_contain_text(tenant)
