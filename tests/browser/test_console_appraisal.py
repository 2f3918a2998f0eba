"""The appraisal page (考评, issue 18) in Chromium: a leader sees this year's rankings with
people's and departments' names and the three rates (响应率, 解决率, 满意率)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

LEADER = "leader.wangzhen"


def test_the_appraisal_shows_names_and_the_three_rates_for_the_year(screens, served_demand):
    leader = screens("领导")
    leader.sign_in(LEADER)
    leader.goto("/appraisal")
    table = leader.page.locator("[data-test=appraisal-table]")
    for header in ("响应率", "解决率", "满意率", "年度得分"):
        expect(table.locator("th", has_text=header)).to_be_visible()

    # grid workers: the worker who recorded the demand, by name, with the three rates
    worker = table.locator(".el-table__row", has_text=served_demand.worker_name)
    expect(worker).to_be_visible()
    expect(worker).to_contain_text("%")
    # 数据更新于: when the figures were computed; 刷新 computes them now
    updated = leader.page.locator("[data-test=appraisal-as-of]")
    expect(updated).to_contain_text(re.compile(r"数据更新于 \d{2}:\d{2}"))
    with leader.page.expect_response(
            lambda r: "/api/v1/appraisal/grid-workers" in r.url and "refresh=true" in r.url
            and r.status == 200):
        leader.page.locator("[data-test=appraisal-refresh]").click()
    expect(worker).to_contain_text("%")
    leader.shot("appraisal-grid-workers")

    # liaisons: 财政金融部's liaison accepted in time, so a response rate is measured
    leader.page.get_by_role("tab", name="联络员").click()
    liaison = table.locator(".el-table__row", has_text=served_demand.liaison_name)
    expect(liaison).to_contain_text("财政金融部")
    expect(liaison).to_contain_text("100%")

    # departments by their names, never their codes
    leader.page.get_by_role("tab", name="责任部门").click()
    department = table.locator(".el-table__row", has_text="财政金融部")
    expect(department).to_be_visible()
    expect(department).to_contain_text("%")
    expect(table).not_to_contain_text("finance")
    leader.shot("appraisal-departments")

    # the awards of the grids and the vetoes open from the same page
    leader.page.get_by_role("tab", name="评优").click()
    expect(leader.page.locator("[data-test=awards-table]")).to_be_visible()
    leader.page.get_by_role("tab", name="一票否决").click()
    expect(leader.page.locator("[data-test=veto-table]")).to_be_visible()

    # the XLSX export downloads with its progress shown
    leader.page.get_by_role("tab", name="责任部门").click()
    with leader.page.expect_download() as download:
        leader.page.locator("[data-test=export-yearly]").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    expect(leader.page.locator("[data-test=export-note]")).to_contain_text("已导出")
