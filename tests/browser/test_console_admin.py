"""Administration (系统管理, issue 18) in Chromium: an admin loads a calendar year after a
preview that shows the deadlines it moves (分理, and a task's handling deadline)."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect
from sqlalchemy import text

#: a year no other test loads or expects missing; the demand below was received on its eve
#: (Monday 2046-12-31)
YEAR = 2047


def test_an_admin_loads_a_calendar_year_and_sees_the_moved_deadlines(screens, db):
    demand_id, number = str(uuid.uuid4()), f"SQ20461231-{uuid.uuid4().int % 100000:05d}"
    with db.begin() as conn:  # neither 2046 nor 2047 has data: Tuesday 01-01 assumed working
        conn.execute(text(
            "INSERT INTO ticketing.demands (id, number, enterprise_id, channel, title,"
            " description, urgency, attachments, status, received_at, triage_due_at,"
            " triage_due_provisional, recorded_by, recorded_role, version) VALUES (:id, :n,"
            " 'ent-cal', 'enterprise', '元旦前的诉求', 'calendar browser test', 'normal',"
            " '[]', 'received', '2046-12-31T15:00:00+08:00', '2047-01-01T10:00:00+08:00',"
            " true, 'test', 'enterprise', 1)"), {"id": demand_id, "n": number})
        # its task of 财政金融部, accepted Friday 2046-12-28 with 2 working days: due 01-01
        task_id = str(uuid.uuid4())
        conn.execute(text(
            "INSERT INTO ticketing.tasks (id, demand_id, department_id, status, difficulty,"
            " handling_workdays, accept_due_at, due_at, due_provisional, accepted_at,"
            " reopen_count, escalation_level, version) VALUES (:id, :d, 'finance', 'accepted',"
            " 'normal', 2, '2046-12-28T18:00:00+08:00', '2047-01-01T18:00:00+08:00', true,"
            " '2046-12-28T10:00:00+08:00', 0, 0, 1)"), {"id": task_id, "d": demand_id})
        conn.execute(text(
            "INSERT INTO ticketing.deadlines (kind, subject_id, department_id, level, due_at,"
            " provisional) VALUES ('handling', :t, 'finance', 1, '2047-01-01T18:00:00+08:00',"
            " true)"), {"t": task_id})
    admin = screens("管理员")
    admin.sign_in("admin")
    admin.goto("/admin/calendar")
    expect(admin.page.locator("[data-test=calendar-years]")).to_contain_text("2026")
    form = admin.page.locator("[data-test=calendar-form]")
    year = form.locator("[data-test=calendar-year] input")
    year.fill(str(YEAR))
    year.press("Tab")
    form.locator("input[name=source]").fill("国办发明电〔2046〕N号（测试数据）")

    # a date outside the year: refused, the error next to the field
    form.locator("textarea[name=holidays]").fill(f"{YEAR + 1}-01-01")
    form.locator("[data-test=calendar-preview]").click()
    error = form.locator(".el-form-item", has=admin.page.locator("textarea[name=holidays]")
                         ).locator(".el-form-item__error")
    expect(error).to_contain_text(f"{YEAR + 1}-01-01")

    # 元旦 off: the preview names the demand whose deadline moves, before and after
    form.locator("textarea[name=holidays]").fill(f"{YEAR}-01-01")
    form.locator("[data-test=calendar-preview]").click()
    result = admin.page.locator("[data-test=calendar-preview-result]")
    expect(result).to_contain_text(f"{YEAR}-01-01")
    row = result.locator("[data-test=moved-deadlines] .el-table__row", has_text=number)
    expect(row).to_contain_text(f"{YEAR}-01-01 10:00")
    expect(row).to_contain_text(f"{YEAR}-01-02 10:00")
    # and the task's handling deadline, by kind and department name, before and after
    task_row = result.locator("[data-test=replanned-deadlines] .el-table__row", has_text=number)
    expect(task_row).to_contain_text("办理时限")
    expect(task_row).to_contain_text("财政金融部")
    expect(task_row).to_contain_text(f"{YEAR}-01-01 18:00")
    expect(task_row).to_contain_text(f"{YEAR}-01-02 18:00")
    admin.shot("admin-calendar-preview")

    # the load re-plans it
    admin.page.locator("[data-test=calendar-load]").click()
    expect(admin.page.locator("[data-test=calendar-loaded]")).to_contain_text(f"已载入 {YEAR} 年")
    expect(admin.page.locator("[data-test=calendar-years] .el-table__row",
                              has_text=str(YEAR))).to_contain_text("运维导入")
    with db.connect() as conn:
        due = conn.execute(text("SELECT to_char(triage_due_at AT TIME ZONE 'Asia/Shanghai', "
                                "'YYYY-MM-DD HH24:MI') FROM ticketing.demands WHERE id = :id"),
                           {"id": demand_id}).scalar_one()
        handling = conn.execute(text("SELECT to_char(due_at AT TIME ZONE 'Asia/Shanghai', "
                                     "'YYYY-MM-DD HH24:MI') FROM ticketing.tasks WHERE id = :id"),
                                {"id": task_id}).scalar_one()
    assert (due, handling) == (f"{YEAR}-01-02 10:00", f"{YEAR}-01-02 18:00")
    admin.shot("admin-calendar-loaded")


def test_the_admin_pages_name_people_departments_and_settings(screens):
    admin = screens("管理员")
    admin.sign_in("admin")
    admin.goto("/admin/accounts")
    accounts = admin.page.locator("[data-test=accounts]")
    admin.choose("[data-test=role-filter]", "联络员")  # filtered on the server
    expect(accounts.locator(".el-table__row", has_text="liaison.finance")).to_contain_text(
        "财政金融部")
    expect(accounts).not_to_contain_text("coordinator.economic_development")
    admin.goto("/admin/directory")
    expect(admin.page.locator("[data-test=departments]")).to_contain_text("财政金融部")
    admin.page.get_by_role("tab", name="网格与人员").click()
    expect(admin.page.locator("[data-test=grids] .el-table__row").first).to_be_visible()
    admin.goto("/admin/settings")
    expect(admin.page.locator("[data-test=sla-settings]")).to_contain_text("受理确认时限")
    expect(admin.page.locator("[data-test=appraisal-settings]")).to_contain_text("服务数量权重")
    admin.goto("/admin/audit")
    expect(admin.page.locator("[data-test=audit-log]")).to_be_visible()
    admin.shot("admin-audit-log")


def test_an_admin_names_a_grids_staff_and_a_refusal_shows_at_the_field(screens, db):
    # schemathesis, earlier in the suite, may have renamed the demo grid as admin (to text a
    # search box refuses): the grid gets its demo name back first
    name = "青岛高新区科研成果转化中心"
    with db.begin() as conn:
        conn.execute(text("UPDATE enterprise.grids SET name = :n WHERE id = 'INC24'"),
                     {"n": name})
    admin = screens("管理员")
    admin.sign_in("admin")
    admin.goto("/admin/directory")
    admin.page.get_by_role("tab", name="网格与人员").click()
    admin.page.get_by_placeholder("按网格名称搜索").fill(name)
    admin.page.keyboard.press("Enter")
    row = admin.page.locator("[data-test=grids] .el-table__row", has_text=name)
    expect(row).to_have_count(1)
    workers_before = row.locator("td").nth(4).inner_text()

    # one grid worker only: refused, the reason next to 网格员, nothing changed
    row.locator("[data-test=edit-staff]").click()
    form = admin.page.locator("[data-test=staff-form]")
    tags = form.locator(".el-form-item", has_text="网格员").locator(".el-tag__close")
    expect(tags.first).to_be_visible()
    while tags.count() > 1:
        tags.first.click()
    admin.page.get_by_role("button", name="保存").click()
    error = form.locator(".el-form-item", has_text="网格员").locator(".el-form-item__error")
    expect(error).to_be_visible()
    assert re.search(r"[\u4e00-\u9fff]", error.inner_text()), error.inner_text()
    admin.shot("admin-grid-staff-refused")
    admin.page.get_by_role("button", name="取消").click()
    expect(row.locator("td").nth(4)).to_have_text(workers_before)

    # the same staff saved again: accepted, the row names them
    row.locator("[data-test=edit-staff]").click()
    expect(form.locator(".el-form-item", has_text="网格员").locator(".el-tag")).to_have_count(
        len(workers_before.split("、")))
    admin.page.get_by_role("button", name="保存").click()
    expect(form).to_be_hidden()
    expect(row.locator("td").nth(4)).to_have_text(workers_before)
