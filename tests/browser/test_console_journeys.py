"""The console's journeys, one test each, in Chromium against the test platform: the whole
demand flow across five roles (issue 17's acceptance), an enterprise that cannot open another
enterprise's demand, a grid worker on a 375 px phone, a refused form with its field error in
Chinese, signing in, out and back after the token expired, and 督办 with the two-step internal
closure (书面报告, agreed or sent back)."""

from __future__ import annotations

import io
import re
import uuid

import openpyxl
from helpers import bearer
from playwright.sync_api import expect

from browser.conftest import Screen
from common.auth import Role
from services.enterprise.demo_load import DEMO_PASSWORD

COORDINATOR = "coordinator.economic_development"
LIAISON_ACCEPTS = "liaison.finance"  # 财政金融部 accepts its task
LIAISON_RETURNS = "liaison.construction"  # 建设部 returns its task
LIAISON_REASSIGNED = "liaison.approval_service"  # 行政审批服务部 gets it from the coordinator
LEADER = "leader.wangzhen"
UUID = r"[0-9a-f-]{36}"


def unique(title: str) -> str:
    return f"{title}-{uuid.uuid4().hex[:6]}"


def open_task(screen: Screen, number: str) -> str:
    """From the department's inbox (待受理), open the task of demand ``number``; its id."""
    screen.goto("/tasks")
    link = screen.page.locator("[data-test=task-inbox] a", has_text=number)
    expect(link).to_be_visible()
    link.click()
    screen.page.wait_for_url(re.compile(rf".*/tasks/{UUID}$"))
    return screen.page.url.rsplit("/", 1)[1]


def complete(screen: Screen, task_id: str, result: str) -> None:
    screen.goto(f"/tasks/{task_id}")
    screen.page.fill("[data-test=complete-form] textarea[name=result]", result)
    screen.page.get_by_role("button", name="办结").click()
    expect(screen.page.locator("[data-test=task-status]")).to_contain_text("已办结")


def rate(screen: Screen, demand_id: str, stars: tuple[int, int, int], comment: str) -> None:
    screen.goto(f"/e/demands/{demand_id}")
    form = screen.page.locator("[data-test=rating-form]")
    expect(form).to_be_visible()
    for name, value in zip(("efficiency", "attitude", "quality"), stars, strict=True):
        form.locator(f"[data-test=rate-{name}] .el-rate__item").nth(value - 1).click()
    form.locator("textarea[name=comment]").fill(comment)
    form.get_by_role("button", name="提交评价").click()
    expect(form).to_be_hidden()


def test_the_whole_demand_flow_across_five_roles(screens, demo_enterprises):
    enterprise = screens("企业", phone=True)
    enterprise.sign_in(demo_enterprises[0].username)
    expect(enterprise.page).to_have_url(re.compile(r".*/e/demands$"))
    enterprise.shot("enterprise-my-demands")
    # 企业吹哨、网格员报到: its grid and a call link to its grid staff's work phones
    card = enterprise.page.locator("[data-test=grid-contact]")
    expect(card).to_contain_text("我的网格")
    expect(card.locator("a[href^='tel:0532-']").first).to_be_visible()

    # 1. the enterprise submits a demand
    title = unique("浏览器测试：申请研发补贴")
    enterprise.goto("/e/submit")
    enterprise.page.fill("input[name=title]", title)
    enterprise.page.fill("textarea[name=description]",
                         "公司今年研发投入较大，希望了解区级研发补贴的申请条件。")
    enterprise.shot("enterprise-submit")
    enterprise.page.get_by_role("button", name="提交诉求").click()
    enterprise.page.wait_for_url(re.compile(rf".*/e/demands/{UUID}$"))
    demand_id = enterprise.page.url.rsplit("/", 1)[1]
    number = enterprise.page.locator("[data-test=demand-number]").inner_text()
    assert re.fullmatch(r"SQ\d{8}-\d{5}", number), number
    expect(enterprise.page.get_by_text("待分理").first).to_be_visible()
    enterprise.no_horizontal_scroll()
    enterprise.shot("enterprise-demand")

    # 2. a coordinator triages it into two departments
    coordinator = screens("统筹")
    coordinator.sign_in(COORDINATOR)
    expect(coordinator.page).to_have_url(re.compile(r".*/triage$"))
    queue = coordinator.page.locator("[data-test=triage-queue] .el-table__row")
    expect(queue.first).to_be_visible()
    coordinator.shot("coordinator-triage-queue")
    coordinator.goto(f"/triage/{demand_id}")
    form = coordinator.page.locator("[data-test=triage-form]")
    form.locator("textarea[name=proposed_opinion]").fill(
        "请财政金融部解读研发补贴政策，建设部核实厂房情况。")
    coordinator.choose("[data-test=category]", "资金扶持")
    expect(form.locator("[data-test=assignment]")).to_have_count(1)
    coordinator.page.locator("input[data-test=opinion-0]").fill("解读补贴政策")
    coordinator.page.locator("[data-test=add-department]").click()
    coordinator.choose("[data-test=department-1]", "建设部")
    coordinator.page.locator("input[data-test=opinion-1]").fill("核实厂房建设情况")
    coordinator.shot("coordinator-triage-form")
    coordinator.page.get_by_role("button", name="完成分理并交办").click()
    coordinator.page.wait_for_url(re.compile(r".*/triage$"))

    # 3. one liaison accepts; the other returns it, and the coordinator reassigns it
    finance = screens("财政金融部联络员")
    finance.sign_in(LIAISON_ACCEPTS)
    expect(finance.page).to_have_url(re.compile(r".*/tasks$"))
    finance.shot("liaison-inbox")
    finance_task = open_task(finance, number)
    finance.page.locator("[data-test=accept]").click()
    expect(finance.page.locator("[data-test=task-status]")).to_contain_text("办理中")
    finance.page.locator("[data-test=note-form] textarea[name=note_body]").fill(
        "已与企业电话沟通，正在准备材料清单。")
    finance.page.get_by_role("button", name="记录公开进展").click()
    expect(finance.page.locator("[data-test=note]", has_text="正在准备材料清单")).to_be_visible()
    finance.shot("liaison-task")

    construction = screens("建设部联络员")
    construction.sign_in(LIAISON_RETURNS)
    construction_task = open_task(construction, number)
    construction.page.locator("[data-test=return]").click()
    construction.page.fill("[data-test=return-form] textarea[name=reason]",
                           "厂房事项不属本部门职责。")
    construction.page.get_by_role("button", name="确认退回").click()
    expect(construction.page.locator("[data-test=task-status]")).to_contain_text("待协调")

    coordinator.goto("/coordination")
    coordinator.shot("coordinator-coordination")
    coordinator.goto(f"/tasks/{construction_task}")
    coordinator.choose("[data-test=reassign-department]", "行政审批服务部")
    coordinator.page.fill("textarea[name=reassign_reason]", "涉及审批事项，由行政审批服务部承办。")
    coordinator.page.get_by_role("button", name="确认交办").click()
    expect(coordinator.page.locator("[data-test=task-status]")).to_contain_text("待受理")

    # 4. both complete
    approval = screens("行政审批服务部联络员")
    approval.sign_in(LIAISON_REASSIGNED)
    approval_task = open_task(approval, number)
    approval.page.locator("[data-test=accept]").click()
    expect(approval.page.locator("[data-test=task-status]")).to_contain_text("办理中")
    complete(approval, approval_task, "已告知企业审批材料清单。")
    complete(finance, finance_task, "已解读补贴政策。")

    # 5. the enterprise rates dissatisfied; the coordinator reopens
    rate(enterprise, demand_id, (2, 3, 1), "补贴政策没讲清楚。")
    expect(enterprise.page.get_by_text("您的评价已收到")).to_be_visible()
    coordinator.goto("/dissatisfied")
    row = coordinator.page.locator("[data-test=dissatisfied-list] .el-table__row", has_text=number)
    row.locator("[data-test=resolve]").click()
    dialog = coordinator.page.locator("[data-test=resolution-form]")
    coordinator.choose("[data-test=reopen-task]", "财政金融部")
    coordinator.shot("coordinator-dissatisfied")
    dialog.get_by_role("button", name="交回重新办理").click()
    expect(row).to_be_hidden()

    # 6. the department completes again; the enterprise rates satisfied: 已销号
    complete(finance, finance_task, "已上门讲解补贴申请条件并协助准备材料。")
    rate(enterprise, demand_id, (5, 5, 4), "讲解很细致。")
    expect(enterprise.page.locator("[data-test=closed-banner]")).to_contain_text("已销号")
    enterprise.shot("enterprise-closed")

    # 7. the ledger lists every step
    leader = screens("分管领导")
    leader.sign_in(LEADER)
    expect(leader.page).to_have_url(re.compile(r".*/ledger$"))
    # found by its number (诉求编号), whatever else the suite has put in the ledger
    leader.page.fill("input[data-test=ledger-number], [data-test=ledger-number] input", number)
    leader.page.keyboard.press("Enter")
    expect(leader.page).to_have_url(re.compile(rf".*/ledger\?number={number}$"))
    row = leader.page.locator("[data-test=ledger-table] .el-table__row", has_text=number)
    expect(leader.page.locator("[data-test=ledger-table] .el-table__row")).to_have_count(1)
    row.locator("[data-test=steps]").click()
    steps = leader.page.locator("[data-test=ledger-steps]")
    for step in ("分理", "交办", "受理确认", "退回", "重新交办", "办结", "评价", "重新办理",
                 "销号"):
        expect(steps.get_by_text(step, exact=True).first).to_be_visible()
    leader.shot("leader-ledger-steps")
    leader.page.keyboard.press("Escape")

    # 8. the leader exports the list as filtered: the workbook, built as a job with its
    # progress, holds the demand and every step, with names and reasons, never an id
    with leader.page.expect_download() as exported:
        leader.page.locator("[data-test=export]").click()
    assert exported.value.suggested_filename.endswith(".xlsx")
    expect(leader.page.locator("[data-test=export-note]")).to_contain_text("已导出")
    book = openpyxl.load_workbook(io.BytesIO(exported.value.path().read_bytes()))
    assert book.sheetnames == ["问题清单", "办理过程"]
    listed = [list(r) for r in book["问题清单"].iter_rows(values_only=True)]
    assert listed[0][:3] == ["诉求编号", "企业", "标题"]
    assert [row[0] for row in listed[1:]] == [number]
    lines = [list(r) for r in book["办理过程"].iter_rows(values_only=True)]
    assert lines[0][:5] == ["诉求编号", "标题", "时间", "环节", "办理人"]
    text = "\n".join("\t".join(str(v) for v in line if v is not None) for line in lines[1:])
    for said in ("退回原因：厂房事项不属本部门职责。", "涉及审批事项，由行政审批服务部承办。",
                 "已上门讲解补贴申请条件并协助准备材料。", "评价意见：讲解很细致。",
                 "财政金融部", "建设部", "行政审批服务部"):
        assert said in text, said
    assert not re.search(UUID, text)


def test_an_enterprise_never_sees_another_enterprises_demand(screens, demo_enterprises):
    owner = screens("企业甲", phone=True)
    owner.sign_in(demo_enterprises[0].username)
    owner.goto("/e/submit")
    owner.page.fill("input[name=title]", unique("仅本企业可见的诉求"))
    owner.page.fill("textarea[name=description]", "这条诉求只属于企业甲。")
    owner.page.get_by_role("button", name="提交诉求").click()
    owner.page.wait_for_url(re.compile(rf".*/e/demands/{UUID}$"))
    path = owner.page.url.removeprefix(owner.base)

    other = screens("企业乙", phone=True)
    other.sign_in(demo_enterprises[1].username, then=path)  # straight back to the link
    expect(other.page).to_have_url(re.compile(rf".*{re.escape(path)}$"))
    expect(other.page.locator("[data-test=not-found]")).to_contain_text("未找到该诉求")
    expect(other.page.get_by_text("仅本企业可见的诉求")).to_have_count(0)
    other.shot("enterprise-not-found")


def test_a_grid_worker_records_a_demand_and_a_visit_on_a_phone(screens, demo_enterprises,
                                                               grid_worker_of, client, token):
    target = demo_enterprises[2]
    worker = screens("网格员", phone=True)
    worker.sign_in(grid_worker_of(target.grid_id))
    expect(worker.page).to_have_url(re.compile(r".*/g/enterprises$"))
    worker.no_horizontal_scroll()
    worker.shot("grid-enterprises")
    worker.page.fill("input[name=q]", target.name[:6])
    worker.page.get_by_role("button", name="搜索").click()
    worker.page.locator("[data-test=enterprise-card]", has_text=target.name).click()
    expect(worker.page.locator("[data-test=enterprise-name]")).to_have_text(target.name)
    worker.no_horizontal_scroll()

    title = unique("走访中了解到用电增容需求")
    worker.page.fill("input[name=title]", title)
    worker.page.fill("textarea[name=description]",
                     "企业扩产，需要增加用电容量，希望协调供电部门。")
    worker.shot("grid-enterprise-demand")
    worker.page.get_by_role("button", name="提交诉求").click()
    worker.page.wait_for_url(re.compile(rf".*/g/demands/{UUID}$"))
    expect(worker.page.get_by_text(title)).to_be_visible()
    expect(worker.page.get_by_text("网格员").first).to_be_visible()  # the channel, by name
    worker.no_horizontal_scroll()

    worker.page.go_back()
    worker.page.locator("[data-test=enterprise-tabs]").get_by_text("记录走访").click()
    worker.page.fill("input[name=topics]", "安全生产，用电")
    worker.page.fill("textarea[name=demands_raised]", "用电增容")
    worker.page.get_by_role("button", name="保存走访记录").click()
    expect(worker.page.locator("[data-test=visit-saved]")).to_be_visible()
    worker.no_horizontal_scroll()
    worker.shot("grid-enterprise-visit")

    worker.goto("/g/not-visited")
    expect(worker.page.locator("[data-test=not-visited-list]")).to_be_visible()
    worker.no_horizontal_scroll()
    worker.shot("grid-not-visited")
    worker.goto("/g/demands")
    expect(worker.page.locator("[data-test=grid-demands]").get_by_text(title)).to_be_visible()
    worker.no_horizontal_scroll()
    worker.shot("grid-demands")

    # 督办, from the console menu: the demand waits for its triage (10:00 of the next working
    # day), listed once that is within a working day (until this time of day on the next
    # working day): recorded from 10:00 on a working day it is; in the night or on a rest day
    # not yet. The page must say what the API says at whatever hour the test runs.
    listed = client.get("/api/v1/supervision", params={"q": title}, headers=bearer(
        token(Role.GRID_WORKER, grid_ids=(target.grid_id,)))).json()["items"]
    worker.goto("/supervision")
    worker.page.get_by_placeholder("编号或标题").fill(title)
    worker.page.keyboard.press("Enter")
    rows = worker.page.locator("[data-test=supervision-list]")
    if listed:
        assert listed[0]["due_soon"] and listed[0]["stage"] == "triage", listed
        waiting = rows.locator("tr", has_text=title)
        expect(waiting).to_contain_text(target.name)
        expect(waiting).to_contain_text("临期")
        waiting.get_by_role("link").click()  # to the grid's own demand page, not a task page
        worker.page.wait_for_url(re.compile(rf".*/g/demands/{UUID}$"))
    else:
        expect(worker.page.get_by_text("没有需要督办的诉求或任务。")).to_be_visible()
        expect(rows.locator("tr", has_text=title)).to_have_count(0)


def test_a_refused_form_shows_the_fields_error_in_chinese_next_to_it(screens):
    worker = screens("网格员", phone=True)
    worker.sign_in("gridworker.geo01.1")
    worker.goto("/g/enterprises")
    worker.page.locator("[data-test=enterprise-card]").first.click()
    worker.page.locator("[data-test=enterprise-tabs]").get_by_text("记录走访").click()
    # a visit dated in the future: the API refuses the field `visited_on`
    worker.page.locator("input[name=visited_on]").click()
    worker.page.locator(".el-picker-panel__icon-btn.d-arrow-right:visible").click()  # next year
    worker.page.locator(".el-date-table td.available:visible").first.click()
    worker.page.get_by_role("button", name="保存走访记录").click()
    item = worker.page.locator("[data-test=visit-form] .el-form-item", has_text="走访日期")
    error = item.locator(".el-form-item__error")
    expect(error).to_be_visible()
    assert re.search(r"[\u4e00-\u9fff]", error.inner_text()), error.inner_text()
    worker.shot("form-field-error")


def test_sign_in_out_and_back_after_the_token_expired(screens):
    person = screens("联络员")
    person.goto("/tasks")
    expect(person.page).to_have_url(re.compile(r".*/login\?redirect=(%2F|/)tasks$"))
    person.page.fill("input[name=username]", LIAISON_ACCEPTS)
    person.page.fill("input[name=password]", "not-the-password")
    person.page.get_by_role("button", name="登录").click()
    expect(person.page.locator(".gs-problem")).to_contain_text(re.compile(r"[\u4e00-\u9fff]"))
    person.shot("login-refused")
    person.sign_in(LIAISON_ACCEPTS, then="/tasks?tab=accepted")
    expect(person.page).to_have_url(re.compile(r".*/tasks\?tab=accepted$"))
    # navigation follows the role: a liaison has no triage queue
    expect(person.page.locator(".el-menu")).not_to_contain_text("待分理")
    person.goto("/triage")
    expect(person.page).to_have_url(re.compile(r".*/tasks$"))

    # the API stops accepting the token (here: it is no longer a valid token)
    person.page.evaluate("""() => {
        const s = JSON.parse(sessionStorage.getItem('gridsvc.session'));
        s.token = s.token.slice(0, -4) + 'AAAA';
        sessionStorage.setItem('gridsvc.session', JSON.stringify(s));
    }""")
    person.goto("/ledger")
    expect(person.page).to_have_url(re.compile(r".*/login\?redirect=(%2F|/)ledger$"))
    expect(person.page.get_by_text("登录已过期")).to_be_visible()
    person.page.fill("input[name=username]", LIAISON_ACCEPTS)
    person.page.fill("input[name=password]", DEMO_PASSWORD)
    person.page.get_by_role("button", name="登录").click()
    expect(person.page).to_have_url(re.compile(r".*/ledger$"))
    person.shot("ledger")

    person.page.get_by_role("button", name="退出登录").click()
    expect(person.page).to_have_url(re.compile(r".*/login$"))
    person.goto("/tasks")
    expect(person.page).to_have_url(re.compile(r".*/login\?redirect=(%2F|/)tasks$"))


def test_supervision_and_the_two_step_internal_closure(screens, client, token, db,
                                                       demo_enterprises):
    """督办 and 内部销号 in two steps (issue 24, points 2 and 3): the liaison of 财政金融部
    finds its overdue task on the supervision page and files its written report (书面报告)
    on a dissatisfied demand; the coordinator of the department owning the enterprise's grid
    (科技创新部 for an incubator, 经济发展部 for a geographic grid) sends it back with a reason
    in the dialog, the liaison files again, the coordinator agrees and the demand is closed
    internally."""
    from sqlalchemy import text

    from common.auth import Role

    with db.connect() as conn:
        liaison_id = str(conn.execute(text(
            "SELECT id FROM enterprise.accounts WHERE username = :u"),
            {"u": LIAISON_ACCEPTS}).scalar_one())
        guest = demo_enterprises[3]
        kind = conn.execute(text("SELECT kind FROM enterprise.grids WHERE id = :g"),
                            {"g": guest.grid_id}).scalar_one()
    owning = "science_innovation" if kind == "incubator" else "economic_development"

    def bearer(tok: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tok}"}

    owner = bearer(token(Role.ENTERPRISE, enterprise_id=str(guest.enterprise_id)))
    owner_office = bearer(token(Role.COORDINATOR, department_id=owning))
    liaison = bearer(token(Role.LIAISON, user_id=liaison_id, department_id="finance"))

    def handled(title: str) -> tuple[dict, str]:
        """A demand of the guest triaged to 财政金融部 and accepted there."""
        created = client.post("/api/v1/demands", headers=owner, json={
            "channel": "enterprise", "title": title,
            "description": "请协助了解贴息政策的申报条件。"})
        assert created.status_code == 201, created.text
        demand = created.json()
        triaged = client.post(f"/api/v1/demands/{demand['id']}/triage", headers=owner_office, json={
            "category": "funding", "proposed_opinion": "请财政金融部办理",
            "departments": [{"department_id": "finance"}]})
        assert triaged.status_code == 200, triaged.text
        task_id = triaged.json()["tasks"][0]["id"]
        accepted = client.post(f"/api/v1/tasks/{task_id}/accept", headers=liaison)
        assert accepted.status_code == 200, accepted.text
        return demand, task_id

    # one task overdue (its handling deadline moved into the past), one rated dissatisfied
    late, late_task = handled(unique("贴息申报逾期"))
    with db.begin() as conn:
        conn.execute(text("UPDATE ticketing.tasks SET due_at = now() - interval '2 hours' "
                          "WHERE id = :id"), {"id": late_task})
    unhappy, task_id = handled(unique("贴息申报不满意"))
    done = client.post(f"/api/v1/tasks/{task_id}/complete", headers=liaison,
                       json={"result": "政策不适用，已当面解释。"})
    assert done.status_code == 200, done.text
    rated = client.post(f"/api/v1/demands/{unhappy['id']}/rating", headers=owner,
                        json={"efficiency": 2, "attitude": 3, "quality": 1})
    assert rated.status_code == 201, rated.text

    # 督办: the liaison finds the overdue task by its number, with the department's counts
    department = screens("联络员")
    department.sign_in(LIAISON_ACCEPTS)
    department.goto("/supervision")
    expect(department.page.locator("[data-test=supervision-totals]")).to_contain_text("已超期")
    expect(department.page.locator("[data-test=by-department]").first).to_contain_text(
        "财政金融部")
    search = department.page.get_by_placeholder("编号或标题")
    search.fill(late["number"])
    search.press("Enter")
    row = department.page.locator("[data-test=supervision-list] tr", has_text=late["number"])
    expect(row).to_contain_text("已超期")
    expect(row).to_contain_text("办理中")  # the stage by its label, never its code
    expect(row).to_contain_text(guest.name)
    department.shot("supervision")

    # step 1: the written report, with an attachment link
    def file_report(text_: str) -> None:
        department.goto(f"/tasks/{task_id}")
        form = department.page.locator("[data-test=report-form]")
        form.locator("textarea[name=report_text]").fill(text_)
        form.get_by_placeholder("附件名称").fill("情况说明.pdf")
        form.get_by_placeholder("https://…").fill("https://files.example.com/report-1.pdf")
        form.get_by_role("button", name="提交书面报告").click()
        expect(department.page.locator("[data-test=report-status]")).to_contain_text("待统筹部门审核")

    file_report("已按程序办理：政策不适用，已当面解释并书面告知。")
    department.shot("task-report-filed")

    # step 2: the owning department's coordinator sends it back with a reason ...
    coordinator = screens("统筹")
    coordinator.sign_in(f"coordinator.{owning}")

    def resolve(action: str, reason: str | None = None) -> None:
        coordinator.goto("/dissatisfied")
        listed = coordinator.page.locator("[data-test=dissatisfied-list] tr",
                                          has_text=unhappy["number"])
        listed.locator("[data-test=resolve]").click()
        dialog = coordinator.page.locator("[data-test=resolution-form]")
        expect(dialog.locator("[data-test=filed-report]")).to_contain_text("财政金融部的书面报告")
        dialog.get_by_text(action).click()
        if reason is not None:
            dialog.locator("textarea[name=reason]").fill(reason)
        button = {"退回书面报告": "退回报告", "同意书面报告，内部销号": "同意并内部销号"}[action]
        dialog.get_by_role("button", name=button).click()
        expect(dialog).to_be_hidden()

    resolve("退回书面报告", "请补充当面解释的记录")
    department.goto(f"/tasks/{task_id}")
    status = department.page.locator("[data-test=report-status]")
    expect(status).to_contain_text("退回")
    expect(status).to_contain_text("请补充当面解释的记录")

    # ... the department files again, and the coordinator agrees: closed internally
    file_report("已补充：附当面解释记录，企业已签收书面告知。")
    resolve("同意书面报告，内部销号")
    coordinator.shot("dissatisfied-agreed")
    expect(coordinator.page.locator("[data-test=dissatisfied-list]")).not_to_contain_text(
        unhappy["number"])
    shown = client.get(f"/api/v1/demands/{unhappy['id']}", headers=owner).json()
    assert (shown["status"], shown["closure"]) == ("closed", "internal")
    department.page.reload()
    expect(department.page.locator("[data-test=report-status]")).to_contain_text("已同意")
