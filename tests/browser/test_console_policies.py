"""Policies and notices (政策发布) in Chromium: a coordinator publishes a policy to one grid and
one industry; the live count before publishing equals the recipients; the enterprise's badge
shows it unread on every page, then read; the reach shows the read receipt; withdrawn with a
reason, which the enterprise reading it is shown."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect
from sqlalchemy import text

from browser.conftest import Screen
from services.enterprise import industry


def badge(screen: Screen) -> int:
    found = screen.page.locator("[data-test=unread-badge]")
    return int(found.inner_text()) if found.count() else 0


def test_a_policy_to_one_grid_and_one_industry_is_read(screens, demo_enterprises, db,
                                                         grid_worker_of):
    with db.connect() as conn:
        target = demo_enterprises[0]
        code, grid_name = conn.execute(text(
            "SELECT e.industry_code, g.name FROM enterprise.enterprises e "
            "JOIN enterprise.grids g ON g.id = e.grid_id WHERE e.id = :id"),
            {"id": target.enterprise_id}).one()
        division = code[:3]
        recipients = conn.execute(text(
            "SELECT count(*) FROM enterprise.enterprises WHERE in_scope AND grid_id = :grid "
            "AND industry_code LIKE :division"),
            {"grid": target.grid_id, "division": f"{division}%"}).scalar_one()
    division_name = industry.DIVISIONS[division[1:]].name
    assert recipients >= 1

    enterprise = screens("企业", phone=True)
    enterprise.sign_in(target.username)
    enterprise.goto("/e/demands")
    expect(enterprise.page.locator("[data-test='tab-/e/inbox']")).to_be_visible()
    enterprise.page.wait_for_load_state("networkidle")
    before = badge(enterprise)

    coordinator = screens("统筹")
    coordinator.sign_in("coordinator.economic_development")
    coordinator.goto("/policies/new")
    title = f"关于开展研发费用加计扣除政策辅导的通知{uuid.uuid4().hex[:6]}"
    form = coordinator.page.locator("[data-test=policy-form]")
    form.locator("input[name=title]").fill(title)
    form.locator("textarea[name=body]").fill("请各企业财务负责人参加本月的政策辅导，地点另行通知。")
    everyone = coordinator.page.locator("[data-test=audience-count]")
    expect(everyone).to_be_visible()
    total = int(everyone.inner_text())
    coordinator.choose("[data-test=audience-grids]", grid_name)
    coordinator.page.keyboard.press("Escape")
    coordinator.page.locator("[data-test=audience-industries] input").fill(division_name[:4])
    coordinator.page.locator(".el-select-dropdown:visible .el-select-dropdown__item",
                             has_text=division_name).first.click()
    coordinator.page.keyboard.press("Escape")
    # the live count follows the audience: exactly the enterprises of that grid and industry
    expect(everyone).to_have_text(str(recipients))
    assert recipients < total
    coordinator.shot("policy-compose")
    coordinator.page.locator("[data-test=publish]").click()
    coordinator.page.wait_for_url(re.compile(r".*/policies/[0-9a-f-]{36}$"))
    expect(coordinator.page.locator("[data-test=policy-status]")).to_have_text("已发布")
    expect(coordinator.page.locator("[data-test=reach-targeted]")).to_contain_text(str(recipients))
    receipts = coordinator.page.locator("[data-test=receipts]")
    expect(receipts).to_contain_text(target.name)  # not read yet
    coordinator.shot("policy-reach")
    policy_id = coordinator.page.url.rsplit("/", 1)[1]

    # the grid's worker sees who in the grid has not read it yet
    worker = screens("网格员", phone=True)
    worker.sign_in(grid_worker_of(target.grid_id))
    worker.goto(f"/g/policies/{policy_id}")
    unread_here = worker.page.locator("[data-test=grid-receipts]")
    expect(unread_here).to_contain_text(target.name)
    worker.no_horizontal_scroll()
    worker.shot("grid-policy-unread")

    # the enterprise's badge shows it unread, on any of its pages
    enterprise.goto("/e/submit")
    expect(enterprise.page.locator("[data-test=unread-badge]")).to_have_text(str(before + 1))
    enterprise.goto("/e/inbox")
    message = enterprise.page.locator("[data-test=inbox-message]", has_text=title)
    expect(message.locator("[data-test=message-state]")).to_have_text("未读")
    enterprise.shot("enterprise-inbox")
    enterprise.no_horizontal_scroll()
    message.click()
    enterprise.page.wait_for_url(re.compile(r".*/e/policies/[0-9a-f-]{36}$"))
    expect(enterprise.page.locator("[data-test=policy-title]")).to_have_text(title)
    if before:
        expect(enterprise.page.locator("[data-test=unread-badge]")).to_have_text(str(before))
    else:
        expect(enterprise.page.locator("[data-test=unread-badge]")).to_have_count(0)
    enterprise.goto("/e/inbox")
    expect(enterprise.page.locator("[data-test=inbox-message]", has_text=title)
           .locator("[data-test=message-state]")).to_have_text("已读")

    # the receipt: read, by grid; no longer among the grid's unread
    worker.page.reload()
    expect(worker.page.locator("[data-test=grid-receipts]")).not_to_contain_text(target.name)
    coordinator.page.reload()
    expect(coordinator.page.locator("[data-test=reach-read]")).to_contain_text("1")
    expect(coordinator.page.locator("[data-test=receipts]")).not_to_contain_text(target.name)

    # withdrawn with a reason: its status says so, and the enterprise reading it is told why
    coordinator.page.locator("[data-test=withdraw]").click()
    dialog = coordinator.page.get_by_role("dialog", name="撤回政策")
    dialog.locator("textarea[name=reason]").fill("辅导时间调整为下月")
    dialog.get_by_role("button", name="撤回").click()
    expect(coordinator.page.locator("[data-test=policy-status]")).to_have_text("已撤回")
    expect(coordinator.page.locator("[data-test=withdraw]")).to_have_count(0)
    expect(coordinator.page.get_by_text("辅导时间调整为下月")).to_be_visible()
    enterprise.goto(f"/e/policies/{policy_id}")
    expect(enterprise.page.get_by_text("已撤回：辅导时间调整为下月")).to_be_visible()
