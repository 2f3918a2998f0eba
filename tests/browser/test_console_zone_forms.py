"""The zone resources' forms (区域资源, issue 23) in Chromium, each played by the role that keeps
it, on records the test makes itself: 建设部's liaison adds a project (新建项目) and records its
milestones, one planned and missed (滞后), through 竣工备案 and 投产, and the investor enters
scope in the site's grid; a coordinator adds and edits a research institute; an admin edits a
chain (补链); a coordinator edits a carrier, a stale edit told in Chinese, and records a tenant's
迁出; 建设部's liaison edits a project, a refusal at its field and a stale edit told; a liaison
of another department sees no editing and the API refuses it (403)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import httpx
from helpers import bearer, new_enterprise_id
from playwright.sync_api import expect
from shapely.geometry import shape

from common.auth import Role
from common.calendar import SHANGHAI
from services.enterprise.demo_load import DEMO_PASSWORD

COORDINATOR = "coordinator.economic_development"
#: 建设部's liaison: keeps the projects of 建设部 (every project's default department)
CONSTRUCTION = "liaison.construction"
#: 招商部's liaison: keeps no carrier, institute or 建设部 project
OTHER_LIAISON = "liaison.investment_promotion"
UUID = r"[0-9a-f-]{36}"
OPTION = ".el-select-dropdown:visible .el-select-dropdown__item"


def _admin(token) -> dict[str, str]:
    return bearer(token(Role.ADMIN))


def _signed_in_as(client: httpx.Client, username: str) -> dict[str, str]:
    """The demo account's own token, signed in as the console does."""
    answer = client.post("/api/v1/auth/token",
                         json={"username": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    return bearer(answer.json()["access_token"])


def _inside(client, token, grid_id: str) -> tuple[float, float]:
    """A point inside the grid's boundary as it is now (whatever its shape)."""
    grid = client.get(f"/api/v1/grids/{grid_id}", headers=_admin(token)).json()
    point = shape(grid["boundary"]).representative_point()
    return round(point.x, 6), round(point.y, 6)


def _pick(screen, select, typed: str, option: str) -> None:
    """Search a remote Element Plus select by ``typed`` and choose ``option``."""
    select.click()
    select.locator("input").fill(typed)
    screen.page.locator(OPTION, has_text=option).first.click()


def _day(screen, wrapper: str, day: str) -> None:
    field = screen.page.locator(f"[data-test={wrapper}] input")
    field.fill(day)
    field.press("Enter")


def _type_in(screen, select, text: str) -> None:
    """Type a new entry into a select that creates its entries (tags, keywords) and press
    Enter once the list offers it, as a person typing does."""
    field = select.locator("input")
    field.press_sequentially(text)
    expect(screen.page.locator(OPTION, has_text=text)).to_be_visible()
    field.press("Enter")
    expect(select).to_contain_text(text)
    _close_dropdowns(screen)


def _close_dropdowns(screen) -> None:
    """Click the dialog's title, as a person does to close a select's list."""
    screen.page.locator(".el-dialog__title:visible").click()


def _row(table, text: str):
    return table.locator(".el-table__body-wrapper tr", has_text=text)


def test_the_construction_liaison_adds_a_project_and_records_its_milestones_to_production(
        signed_in, client, token):
    run = uuid.uuid4().hex[:6]
    investor_name = f"青岛表单投产{run}新材料有限公司"
    investor = new_enterprise_id(name=investor_name, operating=False, industry_code="C26",
                                 scale="medium")
    assert client.get(f"/api/v1/enterprises/{investor}",
                      headers=_admin(token)).json()["in_scope"] is False
    lon, lat = _inside(client, token, "GEO07")
    grid_name = client.get("/api/v1/grids/GEO07", headers=_admin(token)).json()["name"]
    today = datetime.now(SHANGHAI).date()
    name = f"表单新材料项目{run}"

    liaison = signed_in(CONSTRUCTION, "建设部联络员")
    liaison.goto("/zone/projects")
    liaison.page.locator("[data-test=project-new]").click()
    form = liaison.page.locator("[data-test=project-form]")
    form.locator("input[name=name]").fill(name)
    _pick(liaison, form.locator("[data-test=project-investor-select]"), f"表单投产{run}",
          investor_name)
    form.locator("input[name=site_address]").fill("高新区表单路8号地块")
    form.locator("input[name=lon]").fill(str(lon))
    form.locator("input[name=lat]").fill(str(lat))
    form.locator("input[name=planned_investment]").fill("20000")
    # a liaison adds projects for its own department only: 建设部, fixed
    expect(form.locator(".el-form-item", has_text="责任部门")).to_contain_text("建设部")
    liaison.page.locator("[data-test=project-save]").click()
    liaison.page.wait_for_url(re.compile(rf".*/zone/projects/{UUID}$"))
    project_id = liaison.page.url.rsplit("/", 1)[1]
    detail = liaison.page.locator("[data-test=project-detail]")
    expect(detail.locator("h2")).to_contain_text(name)
    expect(liaison.page.locator("[data-test=project-investor]")).to_have_text(investor_name)
    scope = liaison.page.locator("[data-test=project-scope]")
    expect(scope).to_have_text("尚未纳入（投产后纳入）")
    expect(liaison.page.locator("[data-test=project-stage]")).to_have_text("未开工")

    select = liaison.page.locator("[data-test=milestone-select]")
    save = liaison.page.locator("[data-test=milestone-save]")
    notice = liaison.page.locator("[data-test=milestone-notice]")
    milestones = liaison.page.locator("[data-test=milestone-table]")

    def record(label: str, day: int) -> None:
        expect(select).to_contain_text(label)  # the next milestone is offered
        _day(liaison, "milestone-done", (today - timedelta(days=day)).isoformat())
        save.click()
        expect(notice).to_contain_text(f"已记录“{label}”")
        expect(_row(milestones, label)).to_contain_text("已完成")

    record("土地", 200)
    # 规划和施工许可 planned 30 days ago and not done: flagged on the page and in the list
    expect(select).to_contain_text("规划和施工许可")
    _day(liaison, "milestone-planned", (today - timedelta(days=30)).isoformat())
    save.click()
    expect(notice).to_contain_text("已安排“规划和施工许可”")
    expect(_row(milestones, "规划和施工许可")).to_contain_text("滞后 30 天")
    expect(detail.locator("[data-test=project-delayed]")).to_have_text("滞后")
    liaison.shot("zone-project-delayed")
    late = client.get(f"/api/v1/zone/projects/{project_id}", headers=_admin(token)).json()
    assert late["delayed"] is True and late["stage"] == "land"
    assert [m["days_late"] for m in late["milestones"] if m["milestone"] == "permits"] == [30]
    liaison.goto(f"/zone/projects?q={name}")
    liaison.choose("[data-test=filter-delayed]", "已滞后")
    listed = _row(liaison.page.locator("[data-test=project-table]"), name)
    expect(listed.locator("[data-test=project-delayed]")).to_have_text("滞后")
    listed.locator("[data-test=project-name]").click()
    liaison.page.wait_for_url(re.compile(rf".*/zone/projects/{project_id}$"))

    record("规划和施工许可", 20)  # done late: no longer flagged
    expect(detail.locator("[data-test=project-delayed]")).to_have_count(0)
    # someone else records the investment meanwhile: 开工 is refused, the page reads it again
    assert client.patch(f"/api/v1/zone/projects/{project_id}", headers=_admin(token),
                        json={"completed_investment": 5000}).status_code == 200
    _day(liaison, "milestone-done", (today - timedelta(days=15)).isoformat())
    save.click()
    expect(liaison.page.locator("[data-test=milestone-problem]")).to_contain_text(
        "该项目已被他人修改")
    expect(detail).to_contain_text("5,000 万元（25%）")
    record("开工", 15)
    record("封顶", 10)
    record("竣工备案", 1)
    expect(scope).to_have_text("尚未纳入（投产后纳入）")  # completion alone is not production
    record("投产", 0)
    expect(notice).to_contain_text(f"投资方{investor_name}已纳入服务范围，划入{grid_name}")
    expect(scope).to_have_text(f"已纳入服务范围 · {grid_name}")
    expect(liaison.page.locator("[data-test=project-stage]")).to_have_text("投产")
    liaison.shot("zone-project-form-production")

    # the investor's page shows its grid, and the registry agrees
    liaison.page.locator("[data-test=project-investor] a").click()
    liaison.page.wait_for_url(re.compile(rf".*/registry/enterprises/{investor}"))
    expect(liaison.page.locator("main")).to_contain_text(grid_name)
    after = client.get(f"/api/v1/enterprises/{investor}", headers=_admin(token)).json()
    assert after["in_scope"] is True and after["grid_id"] == "GEO07"
    assert client.get(f"/api/v1/zone/projects/{project_id}", headers=_admin(token)
                      ).json()["department_id"] == "construction"


def test_a_coordinator_adds_and_edits_a_research_institute(signed_in, client, token):
    run = uuid.uuid4().hex[:6]
    host = f"青岛表单依托{run}电子有限公司"
    first, second = f"青岛表单合作{run}甲有限公司", f"青岛表单合作{run}乙有限公司"
    host_id = new_enterprise_id(name=host)
    first_id, second_id = new_enterprise_id(name=first), new_enterprise_id(name=second)
    name = f"表单智能传感研究院{run}"

    coordinator = signed_in(COORDINATOR, "统筹")
    coordinator.goto("/zone/institutes")
    coordinator.page.locator("[data-test=institute-new]").click()
    form = coordinator.page.locator("[data-test=institute-form]")
    form.locator("input[name=name]").fill(name)
    coordinator.choose("[data-test=institute-form] [data-test=institute-level]", "省级")
    coordinator.choose("[data-test=institute-form] [data-test=institute-host-kind]", "企业")
    _pick(coordinator, form.locator("[data-test=institute-host]"), f"表单依托{run}", host)
    fields = form.locator("[data-test=institute-fields]")
    _pick(coordinator, fields, "计算机", "计算机、通信和其他电子设备制造业")
    _close_dropdowns(coordinator)
    _type_in(coordinator, form.locator("[data-test=institute-tags]"), f"传感{run}")
    _type_in(coordinator, form.locator("[data-test=institute-platforms]"),
             "省级传感器工程技术研究中心")
    partners = form.locator("[data-test=institute-partners]")
    _pick(coordinator, partners, f"表单合作{run}甲", first)
    _close_dropdowns(coordinator)
    coordinator.page.locator("[data-test=institute-save]").click()
    expect(form).to_be_hidden()

    coordinator.page.fill("[data-test=institute-filters] input[name=q]", name)
    coordinator.page.keyboard.press("Enter")
    table = coordinator.page.locator("[data-test=institute-table]")
    row = _row(table, name)
    expect(row).to_have_count(1)
    for shown in ("省级", "计算机、通信和其他电子设备制造业", f"传感{run}", host, "1 个", "1 家"):
        expect(row).to_contain_text(shown)
    expect(row.get_by_role("link", name=host)).to_have_attribute(
        "href", re.compile(rf"/registry/enterprises/{host_id}$"))
    row.locator(".el-table__expand-icon").click()
    expect(table).to_contain_text(f"合作企业（1 家）：{first}")

    # 编辑: someone else gave the address meanwhile: the save is refused and the form reads the
    # institute again; then national, and a second partner by name
    row.locator("[data-test=institute-edit]").click()
    expect(form.locator("input[name=name]")).to_have_value(name)
    institute_id = client.get("/api/v1/zone/institutes", params={"q": name},
                              headers=_admin(token)).json()["items"][0]["id"]
    assert client.patch(f"/api/v1/zone/institutes/{institute_id}", headers=_admin(token),
                        json={"address": "高新区科研路6号"}).status_code == 200
    coordinator.page.locator("[data-test=institute-save]").click()
    expect(coordinator.page.locator("[data-test=institute-form-problem]")).to_contain_text(
        "该科研机构已被他人修改")
    expect(form.locator("input[name=address]")).to_have_value("高新区科研路6号")
    coordinator.choose("[data-test=institute-form] [data-test=institute-level]", "国家级")
    _pick(coordinator, partners, f"表单合作{run}乙", second)
    _close_dropdowns(coordinator)
    expect(partners).to_contain_text(first)
    coordinator.page.locator("[data-test=institute-save]").click()
    expect(form).to_be_hidden()
    row = _row(table, name).first
    expect(row).to_contain_text("国家级")
    expect(row).to_contain_text("2 家")
    partnered = table.locator(".detail", has_text="合作企业（2 家）")
    for partner, partner_id in ((first, first_id), (second, second_id)):
        expect(partnered.get_by_role("link", name=partner)).to_have_attribute(
            "href", re.compile(rf"/registry/enterprises/{partner_id}$"))
    coordinator.shot("zone-institute-edited")

    page = client.get("/api/v1/zone/institutes", params={"q": name}, headers=_admin(token))
    [saved] = page.json()["items"]
    assert saved["level"] == "national" and saved["host_enterprise_id"] == host_id
    assert saved["industry_codes"] == ["C39"] and saved["tags"] == [f"传感{run}"]
    assert {p["enterprise_id"] for p in saved["partners"]} == {first_id, second_id}
    assert saved["version"] == 3 and saved["address"] == "高新区科研路6号"


def test_an_admin_edits_the_chain_and_the_map_shows_the_gap(signed_in, client, token):
    run = uuid.uuid4().hex[:6]
    industry_id, tag = f"form_chain_{run}", f"表单链{run}"
    wafer, package, resist = f"晶圆{run}", f"封装{run}", f"光刻胶{run}"
    assert client.post("/api/v1/zone/industries", headers=_admin(token), json={
        "id": industry_id, "name": f"表单链产业{run}", "tags": [tag]}).status_code == 201
    links = [{"stage": "upstream", "name": f"晶圆制造{run}", "keywords": [wafer]},
             {"stage": "upstream", "name": f"封装测试{run}", "keywords": [package]},
             {"stage": "midstream", "name": f"芯片设计{run}", "keywords": [wafer]}]
    answer = client.put(f"/api/v1/zone/industries/{industry_id}/chain", headers=_admin(token),
                        json={"links": links})
    assert answer.status_code == 200, answer.text
    provider = f"青岛表单晶圆{run}有限公司"
    new_enterprise_id(name=provider, tags=[wafer])
    new_enterprise_id(name=f"青岛表单封装{run}有限公司", tags=[package])
    new_enterprise_id(name=f"青岛表单链成员{run}有限公司", tags=[tag])

    admin = signed_in("admin", "管理员")
    admin.goto(f"/zone/industries/{industry_id}?tab=chain")
    chain = admin.page.locator("[data-test=chain-map]")
    expect(chain).to_contain_text("共 3 个环节，园区已有 3 个，缺失 0 个（补链）")
    admin.page.locator("[data-test=chain-edit]").click()
    rows = admin.page.locator("[data-test=chain-form-link]")
    expect(rows).to_have_count(3)
    # another admin adds a link meanwhile: saving is refused, the form reads the chain again
    other = {"stage": "midstream", "name": f"晶圆切割{run}", "keywords": [wafer]}
    assert client.put(f"/api/v1/zone/industries/{industry_id}/chain", headers=_admin(token),
                      json={"links": [*links, other]}).status_code == 200
    admin.page.locator("[data-test=chain-save]").click()
    expect(admin.page.locator("[data-test=chain-form-problem]")).to_contain_text(
        "该产业链已被他人修改")
    expect(rows).to_have_count(4)
    names = [rows.nth(i).locator("[data-test=chain-link-name]").input_value()
             for i in range(4)]
    assert f"晶圆切割{run}" in names
    rows.nth(names.index(f"封装测试{run}")).get_by_role("button", name="删除").click()
    expect(rows).to_have_count(3)
    admin.page.locator("[data-test=chain-add-downstream]").click()
    added = rows.nth(3)
    added.locator("[data-test=chain-link-name]").fill(f"光刻材料{run}")
    # neither codes nor keywords: refused at its row, nothing saved
    admin.page.locator("[data-test=chain-save]").click()
    expect(added.locator("[data-test=chain-link-error]")).to_contain_text("关键词")
    _type_in(admin, added.locator("[data-test=chain-link-keywords]"), resist)
    admin.page.locator("[data-test=chain-save]").click()
    expect(admin.page.locator("[data-test=chain-notice]")).to_have_text("产业链已保存。")

    expect(chain).to_contain_text("共 4 个环节，园区已有 3 个，缺失 1 个（补链）")
    upstream = admin.page.locator("[data-test=chain-stage-upstream]")
    expect(upstream).not_to_contain_text(f"封装测试{run}")
    expect(upstream.locator("[data-test=chain-link]", has_text=f"晶圆制造{run}")).to_contain_text(
        f"园区已有 1 家：{provider}")
    gap = admin.page.locator("[data-test=chain-stage-downstream] [data-test=chain-link]",
                             has_text=f"光刻材料{run}")
    expect(gap.locator("[data-test=chain-gap]")).to_have_text("缺失 · 待补链")
    gaps = admin.page.locator("[data-test=chain-gaps]")
    expect(_row(gaps, f"光刻材料{run}")).to_contain_text("下游")
    expect(gaps).not_to_contain_text(f"封装测试{run}")
    admin.shot("zone-chain-edited")

    saved = client.get(f"/api/v1/zone/industries/{industry_id}/chain",
                       headers=_admin(token)).json()
    assert [g["name"] for g in saved["gaps"]] == [f"光刻材料{run}"]
    assert sorted(link["name"] for s in saved["stages"] for link in s["links"]) == sorted(
        [f"晶圆制造{run}", f"芯片设计{run}", f"晶圆切割{run}", f"光刻材料{run}"])


def _carrier_with_two_tenants(client, token, run: str) -> tuple[dict, str, str]:
    carrier = client.post("/api/v1/zone/carriers", headers=_admin(token), json={
        "name": f"表单编辑楼宇{run}", "kind": "office_building", "leasable_area": 2000,
        "operator": f"青岛表单运营{run}有限公司"})
    assert carrier.status_code == 201, carrier.text
    leaving, staying = f"青岛表单迁出{run}有限公司", f"青岛表单留驻{run}有限公司"
    for tenant, area in ((leaving, 500), (staying, 300)):
        answer = client.post(f"/api/v1/zone/carriers/{carrier.json()['id']}/tenancies",
                             headers=_admin(token), json={
                                 "enterprise_id": new_enterprise_id(name=tenant), "area": area})
        assert answer.status_code == 200, answer.text
    # as the page reads it (each tenancy counts in its version)
    return client.get(f"/api/v1/zone/carriers/{carrier.json()['id']}",
                      headers=_admin(token)).json(), leaving, staying


def test_a_coordinator_edits_a_carrier_a_stale_edit_is_told_and_a_tenant_moves_out(
        signed_in, client, token):
    run = uuid.uuid4().hex[:6]
    carrier, leaving, staying = _carrier_with_two_tenants(client, token, run)

    coordinator = signed_in(COORDINATOR, "统筹")
    coordinator.goto(f"/zone/carriers/{carrier['id']}")
    detail = coordinator.page.locator("[data-test=carrier-detail]")
    expect(detail.locator("[data-test=carrier-vacant]")).to_have_text("1,200 m²")
    expect(detail.locator("[data-test=carrier-rates]")).to_have_text("40% / 60%")

    # someone else changes the carrier after the page read it: the edit is refused in Chinese
    coordinator.page.locator("[data-test=carrier-edit]").click()
    form = coordinator.page.locator("[data-test=carrier-form]")
    other = client.patch(f"/api/v1/zone/carriers/{carrier['id']}", headers={
        **_admin(token), "If-Match": f'"{carrier["version"]}"'}, json={
            "operator": f"青岛表单新运营{run}有限公司"})
    assert other.status_code == 200, other.text
    form.locator("input[name=leasable_area]").fill("2500")
    coordinator.page.locator("[data-test=carrier-save]").click()
    conflict = coordinator.page.locator("[data-test=carrier-form-problem]")
    expect(conflict).to_contain_text("已被他人修改")
    expect(form.locator("input[name=operator]")).to_have_value(f"青岛表单新运营{run}有限公司")
    coordinator.shot("zone-carrier-stale")
    assert client.get(f"/api/v1/zone/carriers/{carrier['id']}", headers=_admin(token)
                      ).json()["leasable_area"] == 2000

    # read again: the edit goes through
    form.locator("input[name=leasable_area]").fill("2500")
    coordinator.choose("[data-test=carrier-form] [data-test=carrier-kind]", "产业园区")
    coordinator.page.locator("[data-test=carrier-save]").click()
    expect(coordinator.page.locator("[data-test=carrier-notice]")).to_have_text("载体信息已保存。")
    expect(detail).to_contain_text("产业园区")
    expect(detail).to_contain_text(f"青岛表单新运营{run}有限公司")
    expect(detail.locator("[data-test=carrier-vacant]")).to_have_text("1,700 m²")
    expect(detail.locator("[data-test=carrier-rates]")).to_have_text("32% / 68%")

    # 迁出: the tenant leaves the list and its area is vacant again
    tenants = coordinator.page.locator("[data-test=tenant-table]")
    _row(tenants, leaving).locator("[data-test=tenancy-end]").click()
    coordinator.page.locator("[data-test=tenancy-end-save]").click()
    expect(coordinator.page.locator("[data-test=carrier-notice]")).to_have_text(
        f"已记录{leaving}迁出。")
    expect(tenants).not_to_contain_text(leaving)
    expect(tenants).to_contain_text(staying)
    expect(coordinator.page.locator("[data-test=tenant-count]")).to_have_text("在驻企业（1 家）")
    expect(detail.locator("[data-test=carrier-vacant]")).to_have_text("2,200 m²")
    expect(detail.locator("[data-test=carrier-rates]")).to_have_text("12% / 88%")
    coordinator.shot("zone-carrier-moved-out")

    after = client.get(f"/api/v1/zone/carriers/{carrier['id']}", headers=_admin(token)).json()
    assert (after["kind"], after["leasable_area"], after["occupied_area"]) == (
        "industrial_park", 2500, 300)
    names = [t["enterprise_name"] for t in client.get(
        f"/api/v1/zone/carriers/{carrier['id']}/tenants", headers=_admin(token)).json()["items"]]
    assert names == [staying]


def test_the_construction_liaison_edits_a_project_a_refusal_at_its_field_a_stale_edit_told(
        signed_in, client, token):
    """编辑项目: more completed than planned is refused at its field and writes nothing; an
    edit after someone else's is refused in Chinese, the form reads the project again (their
    change shown), and the edit saved after it keeps both."""
    run = uuid.uuid4().hex[:6]
    lon, lat = _inside(client, token, "GEO07")
    name = f"表单编辑项目{run}"
    created = client.post("/api/v1/zone/projects", headers=_admin(token), json={
        "name": name, "site_address": "高新区编辑路1号地块", "planned_investment": 30000,
        "investor_name": f"青岛表单编辑{run}有限公司", "lon": lon, "lat": lat})
    assert created.status_code == 201, created.text
    project = created.json()

    liaison = signed_in(CONSTRUCTION, "建设部联络员")
    liaison.goto(f"/zone/projects/{project['id']}")
    detail = liaison.page.locator("[data-test=project-detail]")
    expect(detail.locator("h2")).to_contain_text(name)
    liaison.page.locator("[data-test=project-edit]").click()
    form = liaison.page.locator("[data-test=project-form]")
    expect(form.locator("input[name=name]")).to_have_value(name)
    expect(form.locator("input[name=planned_investment]")).to_have_value("30000")

    # more completed than planned: told at the field, nothing written
    form.locator("input[name=completed_investment]").fill("40000")
    liaison.page.locator("[data-test=project-save]").click()
    expect(form.locator(".el-form-item", has_text="已完成投资")).to_contain_text(
        "不得超过计划投资额")
    reread = client.get(f"/api/v1/zone/projects/{project['id']}", headers=_admin(token)).json()
    assert reread["version"] == project["version"]
    assert not reread["completed_investment"]

    # someone else adds a note meanwhile: the save is refused and the form reads it again
    other = client.patch(f"/api/v1/zone/projects/{project['id']}", headers={
        **_admin(token), "If-Match": f'"{project["version"]}"'}, json={"note": f"他人备注{run}"})
    assert other.status_code == 200, other.text
    form.locator("input[name=completed_investment]").fill("12000")
    liaison.page.locator("[data-test=project-save]").click()
    expect(liaison.page.locator("[data-test=project-form-problem]")).to_contain_text(
        "已被他人修改")
    expect(form.locator("textarea")).to_have_value(f"他人备注{run}")
    liaison.shot("zone-project-stale")

    # read again: the edit goes through and keeps the other's note
    form.locator("input[name=completed_investment]").fill("12000")
    form.locator("input[name=name]").fill(f"{name}二期")
    liaison.page.locator("[data-test=project-save]").click()
    expect(detail.locator("h2")).to_contain_text(f"{name}二期")
    expect(detail).to_contain_text("12,000 万元（40%）")
    after = client.get(f"/api/v1/zone/projects/{project['id']}", headers=_admin(token)).json()
    assert (after["name"], after["completed_investment"], after["note"]) == (
        f"{name}二期", 12000, f"他人备注{run}")


def test_a_liaison_of_another_department_sees_no_editing_and_the_api_refuses_it(
        signed_in, client, token):
    run = uuid.uuid4().hex[:6]
    carrier, tenant, _ = _carrier_with_two_tenants(client, token, run)
    tenant_id = next(t["enterprise_id"] for t in client.get(
        f"/api/v1/zone/carriers/{carrier['id']}/tenants", headers=_admin(token)).json()["items"]
        if t["enterprise_name"] == tenant)
    institute = client.post("/api/v1/zone/institutes", headers=_admin(token), json={
        "name": f"表单只读研究院{run}", "level": "municipal", "host_kind": "university",
        "host_name": "青岛大学"}).json()
    project = client.post("/api/v1/zone/projects", headers=_admin(token), json={
        "name": f"表单只读项目{run}", "site_address": "高新区只读路1号",
        "planned_investment": 5000, "investor_name": f"青岛表单只读投资{run}有限公司"}).json()
    assert project["department_id"] == "construction"

    liaison = signed_in(OTHER_LIAISON, "招商部联络员")
    liaison.goto(f"/zone/carriers/{carrier['id']}")
    expect(liaison.page.locator("[data-test=tenant-table]")).to_contain_text(tenant)
    for button in ("carrier-edit", "tenancy-new", "tenancy-end"):
        expect(liaison.page.locator(f"[data-test={button}]")).to_have_count(0)
    liaison.goto(f"/zone/institutes?q={institute['name']}")
    expect(liaison.page.locator("[data-test=institute-table]")).to_contain_text(
        institute["name"])
    for button in ("institute-new", "institute-edit"):
        expect(liaison.page.locator(f"[data-test={button}]")).to_have_count(0)
    liaison.goto(f"/zone/projects/{project['id']}")
    expect(liaison.page.locator("[data-test=project-detail] h2")).to_contain_text(
        project["name"])
    expect(liaison.page.locator("[data-test=project-edit]")).to_have_count(0)
    expect(liaison.page.locator("[data-test=milestone-form]")).to_have_count(0)

    # the API refuses each of them to this liaison's own token, in Chinese
    own = {**_signed_in_as(client, OTHER_LIAISON), "If-Match": "*"}
    refused = [
        client.patch(f"/api/v1/zone/carriers/{carrier['id']}", headers=own,
                     json={"leasable_area": 1}),
        client.post(f"/api/v1/zone/carriers/{carrier['id']}/tenancies/{tenant_id}/end",
                    headers=own, json={}),
        client.patch(f"/api/v1/zone/institutes/{institute['id']}", headers=own,
                     json={"level": "national"}),
        client.patch(f"/api/v1/zone/projects/{project['id']}", headers=own,
                     json={"name": "改名"}),
        client.put(f"/api/v1/zone/projects/{project['id']}/milestones/land", headers=own,
                   json={"done_on": datetime.now(SHANGHAI).date().isoformat()}),
    ]
    coordinator = {**_signed_in_as(client, COORDINATOR), "If-Match": "*"}
    industry = client.get("/api/v1/zone/industries", headers=_admin(token)).json()["items"][0]
    refused.append(client.put(f"/api/v1/zone/industries/{industry['id']}/chain",
                              headers=coordinator, json={"links": []}))
    for answer in refused:
        assert answer.status_code == 403, (answer.request.url, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["title"] == "无权操作", answer.text
    after = client.get(f"/api/v1/zone/carriers/{carrier['id']}", headers=_admin(token)).json()
    assert (after["leasable_area"], after["occupied_area"], after["version"]) == (
        2000, 800, carrier["version"])
