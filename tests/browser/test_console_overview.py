"""The leaders' overview (领导驾驶舱, issue 18) in Chromium: its charts render with the year's
data, and a click on a chart or a figure opens the list behind it (the ledger, filtered)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

LEADER = "leader.wangzhen"
CHARTS = ("trend", "status", "department", "category", "grid")


def test_the_overview_draws_its_charts_and_a_click_opens_the_list_behind_it(
        screens, served_demand):
    leader = screens("领导")
    leader.sign_in(LEADER)
    leader.goto("/overview")
    overview = leader.page.locator("[data-test=overview][data-charts-ready=yes]")
    expect(overview).to_be_visible()
    for chart in CHARTS:  # each drew on its canvas
        canvas = leader.page.locator(f"[data-test=chart-{chart}] canvas")
        expect(canvas).to_have_count(1)
        assert canvas.bounding_box()["height"] > 100
    received = int(leader.page.locator("[data-test=kpi-received] b").inner_text())
    assert received >= 1
    # the figures are kept and refreshed every few minutes: the page says when they were
    # computed, and 刷新 asks for them again
    as_of = leader.page.locator("[data-test=overview-as-of]")
    expect(as_of).to_have_text(re.compile(r"^数据更新于 (\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}$"))
    leader.page.locator("[data-test=overview-refresh]").click()
    expect(as_of).to_have_text(re.compile(r"^数据更新于 "))
    # the year's appraisal at a glance: up to five departments with their scores, each a
    # link to the appraisal (their names are the appraisal page's test; other tests add
    # departments of their own that may lead here)
    glance = leader.page.locator("[data-test=appraisal-glance]")
    expect(glance.locator("li").first).to_contain_text("得分")
    assert 1 <= glance.locator("li").count() <= 5
    expect(glance.locator("a[href='/appraisal']").first).to_be_visible()
    leader.shot("overview")

    # a slice of the states' pie opens the problem list of that state
    pie = leader.page.locator("[data-test=chart-status]")
    box = pie.bounding_box()
    radius = min(box["width"], box["height"]) / 2 * 0.5  # the middle of the ring
    leader.page.mouse.click(box["x"] + box["width"] / 2 + 8,
                            box["y"] + box["height"] * 0.45 - radius)
    leader.page.wait_for_url(re.compile(r".*/ledger\?.*state=[a-z_]+"))
    state = re.search(r"state=([a-z_]+)", leader.page.url).group(1)
    assert "received_from=" in leader.page.url
    expect(leader.page.locator("[data-test=ledger-table]")).to_be_visible()
    statuses = leader.page.locator("[data-test=ledger-table] .el-table__row .el-tag")
    expect(statuses.first).to_be_visible()
    names = set(statuses.all_inner_texts())
    assert len(names) == 1 and not re.search(r"[a-z]", names.pop()), (state, names)
    leader.shot("overview-to-ledger")

    # a figure: the year's demands received, with the served demand among them
    leader.page.go_back()
    expect(overview).to_be_visible()
    leader.page.locator("[data-test=kpi-received]").click()
    leader.page.wait_for_url(re.compile(r".*/ledger\?.*received_from=\d{4}-01-01"))
    leader.page.fill("input[data-test=ledger-number]", served_demand.number)
    leader.page.keyboard.press("Enter")
    expect(leader.page.locator("[data-test=ledger-table]")).to_contain_text(
        served_demand.number)

    # a department's bar opens its task list: the address carries the filters
    leader.goto("/ledger?view=tasks&department_id=finance")
    expect(leader.page.get_by_role("tab", name="任务清单")).to_have_attribute(
        "aria-selected", "true")
    expect(leader.page.locator("[data-test=department-filter]")).to_contain_text("财政金融部")
