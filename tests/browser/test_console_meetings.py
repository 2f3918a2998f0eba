"""The meetings pages (政企座谈, issue 18) in Chromium: a meeting from planning to feedback,
played by a coordinator and an invited enterprise, then read by the guest's grid leader from
the menu, read-only (issue 24, point 8)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import text

from common.calendar import SHANGHAI

COORDINATOR = "coordinator.economic_development"
UUID = r"[0-9a-f-]{36}"


def test_a_meeting_from_planning_to_feedback(screens, demo_enterprises, db):
    guest = demo_enterprises[0]
    theme = f"智能制造政企座谈-{uuid.uuid4().hex[:6]}"
    coordinator = screens("统筹")
    coordinator.sign_in(COORDINATOR)

    # plan: theme, time, place, organiser and one named enterprise as the audience
    coordinator.goto("/meetings")
    expect(coordinator.page.locator("[data-test=meeting-report]")).to_be_visible()
    coordinator.shot("meetings-list")
    coordinator.page.locator("[data-test=plan-meeting]").click()
    form = coordinator.page.locator("[data-test=meeting-form]")
    form.locator("input[name=theme]").fill(theme)
    starts = (datetime.now(UTC) + timedelta(days=2)).astimezone(SHANGHAI)
    picker = form.locator("[data-test=starts-at] input, input[name=starts_at]").first
    picker.click()
    picker.fill(starts.strftime("%Y-%m-%d 09:30"))
    picker.press("Enter")
    coordinator.page.keyboard.press("Escape")
    form.locator("input[name=place]").fill("高新区管委会302会议室")
    coordinator.choose("[data-test=organiser]", "经济发展部")
    form.locator("[data-test=audience-enterprises]").click()
    form.locator("[data-test=audience-enterprises] input").fill(guest.name[:6])
    coordinator.page.locator(".el-select-dropdown:visible .el-select-dropdown__item",
                             has_text=guest.name).first.click()
    coordinator.page.locator("h2", has_text="策划座谈").click()  # closes the dropdown
    coordinator.shot("meeting-plan")
    form.get_by_role("button", name="保存座谈计划").click()
    coordinator.page.wait_for_url(re.compile(rf".*/meetings/{UUID}$"))
    meeting_id = coordinator.page.url.rsplit("/", 1)[1]
    expect(coordinator.page.locator("[data-test=meeting-state]")).to_have_text("筹备中")

    # preview the audience, then invite
    coordinator.page.locator("[data-test=preview-audience]").click()
    expect(coordinator.page.locator("[data-test=audience-count]")).to_have_text("1")
    coordinator.page.locator("[data-test=send-invitations]").click()
    expect(coordinator.page.locator("[data-test=meeting-state]")).to_have_text("已发出邀请")
    invitations = coordinator.page.locator("[data-test=invitations]")
    expect(invitations).to_contain_text(guest.name)
    expect(invitations).to_contain_text("未答复")

    # the enterprise sees its invitation and registers
    enterprise = screens("企业", phone=True)
    enterprise.sign_in(guest.username)
    enterprise.goto("/e/meetings")
    card = enterprise.page.locator("[data-test=my-meetings] a", has_text=theme)
    expect(card).to_contain_text("待报名")
    enterprise.no_horizontal_scroll()
    card.click()
    registration = enterprise.page.locator("[data-test=registration-form]")
    registration.locator("input[name=attendee_name]").fill("张伟")
    registration.locator("input[name=attendee_title]").fill("总经理")
    registration.locator("input[name=attendee_phone]").fill("13812345678")
    registration.get_by_role("button", name="报名参加").click()
    expect(enterprise.page.locator("[data-test=my-response]")).to_contain_text("已报名（张伟）")
    enterprise.no_horizontal_scroll()
    enterprise.shot("enterprise-meeting-registered")

    # the day of the meeting comes (the test moves its start into the past)
    with db.begin() as conn:
        conn.execute(text("UPDATE enterprise.meetings SET starts_at = now() - interval "
                          "'1 hour' WHERE id = :id"), {"id": meeting_id})

    # the coordinator records attendance and the minutes: the meeting is held
    coordinator.page.reload()
    expect(invitations).to_contain_text("已报名")
    coordinator.page.locator(f"[data-test='attended-{guest.name}']").click()
    coordinator.page.fill("[data-test=attendance-form] textarea[name=minutes]",
                          "企业反映人才公寓需求，经济发展部牵头对接。")
    coordinator.page.locator("[data-test=record-attendance]").click()
    expect(coordinator.page.locator("[data-test=meeting-state]")).to_have_text("已召开")

    # the enterprise gives its feedback
    enterprise.page.reload()
    feedback = enterprise.page.locator("[data-test=feedback-form]")
    feedback.get_by_role("button", name="提交反馈").click()  # no rating yet: refused
    expect(feedback.locator(".el-form-item__error")).to_be_visible()
    feedback.locator("[data-test=feedback-rating] .el-rate__item").nth(3).click()
    feedback.locator("textarea[name=comment]").fill("对接很有帮助")
    feedback.get_by_role("button", name="提交反馈").click()
    expect(enterprise.page.locator("[data-test=feedback-given]")).to_contain_text("4 分")

    # staff see the rating next to the enterprise, and the year's progress counts it
    coordinator.page.reload()
    expect(invitations).to_contain_text("4 分 对接很有帮助")
    expect(coordinator.page.locator("[data-test=meeting-counts]")).to_contain_text("1 / 1 / 1 / 1")
    coordinator.shot("meeting-held")
    coordinator.goto("/meetings")
    expect(coordinator.page.locator("[data-test=meeting-list]")).to_contain_text(theme)
    expect(coordinator.page.locator("[data-test=report-held]")).to_contain_text("/ 12")

    # the guest's grid leader finds the meeting in the menu and reads it, read-only
    with db.connect() as conn:
        leader = conn.execute(text(
            "SELECT a.username FROM enterprise.grid_staff s "
            "JOIN enterprise.accounts a ON a.id = s.account_id "
            "WHERE s.grid_id = :grid AND s.duty = 'leader' ORDER BY a.username LIMIT 1"),
            {"grid": guest.grid_id}).scalar_one()
    grid = screens("网格长", phone=True)
    grid.sign_in(leader)
    grid.page.locator("[data-test='tab-/g/meetings']").click()
    grid.page.wait_for_url(re.compile(r".*/g/meetings$"))
    listed = grid.page.locator("[data-test=meeting-list]")
    expect(listed).to_contain_text(theme)
    expect(grid.page.locator("[data-test=plan-meeting]")).to_have_count(0)
    expect(grid.page.locator("[data-test=meeting-report]")).to_have_count(0)
    listed.get_by_role("link", name=theme).click()
    expect(grid.page.locator("[data-test=meeting-read-only]")).to_be_visible()
    expect(grid.page.locator("[data-test=invitations]")).to_contain_text(guest.name)
    expect(grid.page.get_by_role("button", name="取消座谈")).to_have_count(0)
    expect(grid.page.locator("[data-test=attendance-form]")).to_have_count(0)
    grid.page.wait_for_url(re.compile(rf".*/g/meetings/{meeting_id}$"))
    grid.no_horizontal_scroll()
    grid.shot("grid-leader-meeting")
