"""The registry's pages (企业库) in Chromium: an admin imports an XLSX with one bad row (the dry
run shows it, the import skips it, the list shows the rest) and marks an obligation of an
imported enterprise fulfilled (标记履行, its provisional reminder day tagged 暂定), the grids
with their drawing and the coverage report, and a grid worker whose registry holds only their
grid."""

from __future__ import annotations

import io
import random
import re
import uuid

import openpyxl
from playwright.sync_api import expect
from sqlalchemy import text

from services.enterprise import credit_code

HEADER = ["统一社会信用代码", "企业名称", "地址", "经度", "纬度", "行业代码", "规模", "孵化器",
          "是否在营", "是否有营业收入", "是否纳税", "联系人", "联系电话", "标签"]


def workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_admin_imports_a_file_with_one_bad_row(screens, db, tmp_path, client, token):
    with db.connect() as conn:
        incubator = conn.execute(text(
            # a demo incubator (INC01-INC24): the contract tests create incubator grids with
            # generated names, control characters included, that a worksheet cannot hold
            "SELECT name FROM enterprise.grids WHERE kind = 'incubator' AND id LIKE 'INC%' "
            "ORDER BY id LIMIT 1")
        ).scalar_one()
    mark = uuid.uuid4().hex[:6]
    rng = random.Random(mark)
    codes = list(dict.fromkeys(credit_code.generate(rng, "370212") for _ in range(10)))[:5]
    names = [f"浏览器导入{mark}第{i}号科技有限公司" for i in range(5)]
    rows = [[code, name, f"青岛市高新区火炬路{i}号", None, None, "C39", "小型", incubator,
             "是", "是", "是", "张三", f"1380000{i:04d}", "专精特新"]
            for i, (code, name) in enumerate(zip(codes, names, strict=True))]
    rows[2][5] = "Z99"  # sheet row 4: no such industry
    path = tmp_path / "企业名单.xlsx"
    path.write_bytes(workbook(rows))

    admin = screens("管理员")
    admin.sign_in("admin")
    admin.goto("/registry/import")
    with admin.page.expect_download() as template:
        admin.page.locator("[data-test=template]").click()
    assert template.value.suggested_filename.endswith(".xlsx")
    admin.page.locator("[data-test=import-file]").set_input_files(str(path))

    # the dry run names the bad row and writes nothing
    admin.page.locator("[data-test=dry-run]").click()
    summary = admin.page.locator("[data-test=import-summary]")
    expect(summary).to_contain_text("检查结果（尚未写入）")
    errors = admin.page.locator("[data-test=import-errors] .el-table__body tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("4")
    expect(errors.first).to_contain_text("行业代码")
    expect(admin.page.locator("[data-test=count-created]")).to_contain_text("4")
    expect(admin.page.locator("[data-test=count-rejected]")).to_contain_text("1")
    admin.shot("registry-import-dry-run")
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM enterprise.enterprises WHERE name LIKE :n"),
                            {"n": f"浏览器导入{mark}%"}).scalar_one() == 0

    # the import skips it: a job whose progress the page polls, then its summary
    with admin.page.expect_response(lambda r: "/api/v1/imports/" in r.url) as polled:
        admin.page.locator("[data-test=import]").click()
    assert polled.value.status == 200
    assert polled.value.json()["dry_run"] is False
    expect(summary).to_contain_text("导入完成")
    expect(admin.page.locator("[data-test=import-progress] [role=progressbar]")).to_have_attribute(
        "aria-valuenow", "100")
    expect(admin.page.locator("[data-test=import-progress]")).to_contain_text("完成")
    expect(admin.page.locator("[data-test=count-created]")).to_contain_text("4")
    expect(admin.page.locator("[data-test=count-rejected]")).to_contain_text("1")
    admin.shot("registry-import-done")

    # the list shows the rest
    admin.page.get_by_role("button", name="查看企业库").click()
    admin.page.wait_for_url(re.compile(r".*/registry$"))
    admin.page.fill("[data-test=registry-filters] input[name=q]", f"浏览器导入{mark}")
    admin.page.get_by_role("button", name="搜索").click()
    listed = admin.page.locator("[data-test=registry-name]")
    expect(listed).to_have_count(4)
    assert sorted(listed.all_inner_texts()) == sorted(n for i, n in enumerate(names) if i != 2)
    expect(admin.page.locator("[data-test=registry-grid]").first).to_have_text(incubator)
    admin.shot("registry-list")
    with admin.page.expect_download() as exported:  # the filtered list, with its progress
        admin.page.locator("[data-test=export]").click()
    assert exported.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(exported.value.path().read_bytes())).active
    assert sheet.max_row == 1 + 4  # the header and the four imported
    expect(admin.page.locator("[data-test=export-progress]")).to_contain_text("已导出")

    # an enterprise's page: its record and profile tabs
    listed.first.click()
    admin.page.wait_for_url(re.compile(r".*/registry/enterprises/.+"))
    expect(admin.page.locator("[data-test=enterprise-name]")).to_contain_text(f"浏览器导入{mark}")
    expect(admin.page.locator("[data-test=enterprise-tabs]")).to_contain_text("约定事项")
    admin.shot("registry-enterprise")

    # a contract's committee obligation in a year without a calendar: its reminder day is
    # tagged 暂定; the admin marks it fulfilled (标记履行)
    from common.auth import Role

    enterprise_id = admin.page.url.rsplit("/", 1)[1]
    recorded = client.post("/api/v1/contracts", headers={
        "Authorization": f"Bearer {token(Role.ADMIN)}"}, json={
        "enterprise_id": enterprise_id, "title": "入驻协议", "signed_on": "2026-11-01",
        "department_id": "economic_development",
        "obligations": [{"party": "committee", "description": f"兑现租金补贴{mark}",
                         "due_on": "2058-03-14"}]})  # no test loads 2058
    assert recorded.status_code == 201, recorded.text
    admin.page.reload()
    admin.page.get_by_role("tab", name=re.compile("约定事项")).click()
    row = admin.page.locator("[data-test=obligations-table] tr", has_text=f"兑现租金补贴{mark}")
    expect(row.locator("[data-test=provisional]")).to_be_visible()
    expect(row).to_contain_text("未到期")
    row.get_by_role("button", name="标记履行").click()
    expect(row).to_contain_text("已履行")
    expect(row.get_by_role("button", name="标记履行")).to_have_count(0)
    admin.shot("registry-obligation-fulfilled")


def test_the_grids_and_the_coverage_report(screens):
    coordinator = screens("统筹")
    coordinator.sign_in("coordinator.economic_development")
    coordinator.goto("/registry/grids")
    expect(coordinator.page.locator("[data-test=coverage]")).to_contain_text("覆盖情况")
    shapes = coordinator.page.locator("[data-test=grid-map] path")
    expect(shapes.first).to_be_visible()
    assert shapes.count() >= 10  # the demo zone's geographic grids
    table = coordinator.page.locator("[data-test=grid-table]")
    expect(table).to_contain_text("孵化器网格")
    # every demo incubator grid has its leader and workers (grids other tests made may not)
    demo = table.locator(".el-table__row", has_text="青岛高新区")
    expect(demo.first).to_be_visible()
    assert demo.count() >= 10
    expect(demo.filter(has_text="未设置")).to_have_count(0)
    coordinator.shot("registry-grids")


def test_a_grid_workers_registry_holds_only_their_grid(screens, demo_enterprises, grid_worker_of,
                                                       db):
    mine = demo_enterprises[0]
    with db.connect() as conn:
        other_id, other_name = conn.execute(text(
            "SELECT id, name FROM enterprise.enterprises WHERE grid_id <> :id ORDER BY name "
            "LIMIT 1"), {"id": mine.grid_id}).one()
        grid_name = conn.execute(text("SELECT name FROM enterprise.grids WHERE id = :id"),
                                 {"id": mine.grid_id}).scalar_one()
        in_grid = conn.execute(text(
            "SELECT count(*) FROM enterprise.enterprises WHERE grid_id = :id"),
            {"id": mine.grid_id}).scalar_one()
    worker = screens("网格员")
    worker.sign_in(grid_worker_of(mine.grid_id))
    worker.goto("/registry")
    names = worker.page.locator("[data-test=registry-name]")
    expect(names.first).to_be_visible()
    expect(worker.page.locator("[data-test=registry-total]")).to_have_text(f"共 {in_grid} 家企业")
    grids = set(worker.page.locator("[data-test=registry-grid]").all_inner_texts())
    assert grids == {grid_name}, grids
    worker.page.fill("[data-test=registry-filters] input[name=q]", other_name)
    worker.page.get_by_role("button", name="搜索").click()
    expect(worker.page.locator("[data-test=registry-table]")).to_contain_text("没有符合条件的企业")
    worker.shot("registry-grid-worker")
    # another grid's enterprise, by its address: not found
    worker.goto(f"/registry/enterprises/{other_id}")
    expect(worker.page.locator("[data-test=not-found]")).to_be_visible()
