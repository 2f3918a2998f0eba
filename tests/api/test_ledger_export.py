"""The ledger's XLSX (台账导出) through the gateway: every step of a demand with the names of
the people and departments, at once and as a job with its progress; names next to ids in the
ledger's lists."""

from __future__ import annotations

import io
import re
import uuid

import openpyxl
import pytest
from helpers import bearer, demand_body, eventually, new_enterprise_id
from sqlalchemy import text
from test_demand_flow import escalation_levels, overdue_now

from common.auth import Role

pytestmark = pytest.mark.timeout(180)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def account(db, username: str) -> tuple[str, str]:
    """(id, name) of a demo account."""
    with db.connect() as conn:
        row = conn.execute(text("SELECT id::text, name FROM enterprise.accounts "
                                "WHERE username = :u"), {"u": username}).one()
    return row[0], row[1]


@pytest.fixture
def people(db, token):
    """Tokens of demo accounts (their names are in the registry) and their names."""
    found = {}
    for key, username, role, extra in (
        ("worker", "gridworker.inc01.1", Role.GRID_WORKER, {"grid_ids": ("INC01",)}),
        ("coordinator", "coordinator.economic_development", Role.COORDINATOR,
         {"department_id": "economic_development"}),
        ("fire", "liaison.fire_rescue", Role.LIAISON, {"department_id": "fire_rescue"}),
        ("tax", "liaison.taxation", Role.LIAISON, {"department_id": "taxation"}),
        ("build", "liaison.construction", Role.LIAISON, {"department_id": "construction"}),
    ):
        user_id, name = account(db, username)
        found[key] = (token(role, user_id=user_id, **extra), name)
    return found


def sheets(content: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def flat(rows: list[tuple]) -> str:
    return "\n".join(" | ".join("" if v is None else str(v) for v in row) for row in rows)


@pytest.fixture
def lived(client, token, db, people):
    """A demand that went through triage, return, reassignment, extension, escalation,
    notes, a dissatisfied rating, the written report and internal closure."""
    tag = uuid.uuid4().hex[:6]
    ent = new_enterprise_id(incubator_id="INC01", name=f"青岛导出{tag}科技有限公司")
    enterprise = token(Role.ENTERPRISE, enterprise_id=ent)
    worker, coordinator = people["worker"][0], people["coordinator"][0]
    fire, tax, build = people["fire"][0], people["tax"][0], people["build"][0]
    demand = client.post("/api/v1/demands", headers=bearer(worker), json=demand_body(
        channel="grid_worker", enterprise_id=ent, title=f"新厂房消防验收{tag}"))
    assert demand.status_code == 201, demand.text
    did = demand.json()["id"]
    triaged = client.post(f"/api/v1/demands/{did}/triage", headers=bearer(coordinator), json={
        "category": "fire", "difficulty": "hard", "proposed_opinion": f"分头办理拟办{tag}",
        "departments": [{"department_id": "fire_rescue", "opinion": "指导消防验收"},
                        {"department_id": "taxation", "opinion": "办理税务登记"}]})
    assert triaged.status_code == 200, triaged.text
    tasks = {t["department_id"]: t["id"] for t in triaged.json()["tasks"]}
    fire_task, tax_task = tasks["fire_rescue"], tasks["taxation"]
    assert client.post(f"/api/v1/tasks/{fire_task}/accept", headers=bearer(fire)).status_code \
        == 200
    returned = client.post(f"/api/v1/tasks/{tax_task}/return", headers=bearer(tax),
                           json={"reason": f"不属本局职责{tag}"})
    assert returned.status_code == 200, returned.text
    moved = client.post(f"/api/v1/tasks/{tax_task}/reassign", headers=bearer(coordinator),
                        json={"department_id": "construction", "reason": f"建设部牵头{tag}"})
    assert moved.status_code == 200, moved.text
    assert client.post(f"/api/v1/tasks/{tax_task}/accept", headers=bearer(build)).status_code \
        == 200
    for visibility, body in (("public", f"已安排现场检查{tag}"),
                             ("internal", f"内部协调设计院{tag}")):
        noted = client.post(f"/api/v1/tasks/{fire_task}/notes", headers=bearer(fire),
                            json={"body": body, "visibility": visibility})
        assert noted.status_code in (200, 201), noted.text
    ext = client.post(f"/api/v1/tasks/{fire_task}/extensions", headers=bearer(fire),
                      json={"workdays": 2, "reason": f"等待设计变更{tag}"})
    assert ext.status_code in (200, 201), ext.text
    decided = client.post(f"/api/v1/extensions/{ext.json()['id']}/decision",
                          headers=bearer(coordinator), json={"approve": True})
    assert decided.status_code == 200, decided.text
    overdue_now(db, fire_task, "handling")
    assert eventually(lambda: escalation_levels(db, fire_task) == [1], timeout=15)
    for task, tok in ((fire_task, fire), (tax_task, build)):
        done = client.post(f"/api/v1/tasks/{task}/complete", headers=bearer(tok),
                           json={"result": f"已办结{tag}"})
        assert done.status_code == 200, done.text
    unhappy = client.post(f"/api/v1/demands/{did}/rating", headers=bearer(enterprise),
                          json={"efficiency": 2, "attitude": 3, "quality": 2,
                                "comment": f"太慢了{tag}"})
    assert unhappy.status_code == 201, unhappy.text
    closed = client.post(f"/api/v1/demands/{did}/resolution", headers=bearer(coordinator),
                         json={"action": "close_internally", "report": f"书面汇报{tag}"})
    assert closed.status_code == 200, closed.text
    number = demand.json()["number"]
    return {"id": did, "number": number, "tag": tag, "enterprise": f"青岛导出{tag}科技有限公司"}


def steps_of(content: bytes, lived: dict) -> str:
    found = sheets(content)
    assert list(found) == ["问题清单", "办理过程"]
    listed = flat(found["问题清单"])
    assert lived["number"] in listed and lived["enterprise"] in listed
    assert "已销号" in listed  # labels, never the codes
    assert "closed" not in listed
    # times as people read them (Asia/Shanghai, no offset)
    assert all(row[2] is None or row[2].tzinfo is None for row in found["办理过程"][1:])
    return flat([row for row in found["办理过程"] if row[0] == lived["number"]])


def expect_every_step(content: bytes, lived: dict, people: dict) -> None:
    steps = steps_of(content, lived)
    tag = lived["tag"]
    for expected in (
        "网格员", people["worker"][1], "渠道",  # intake: who, channel
        f"分头办理拟办{tag}", "难度：复杂",  # triage: proposed opinion, difficulty
        "消防大队", "税务局", "建设部", "指导消防验收", "办理时限",  # tasks, deadlines
        f"不属本局职责{tag}", f"建设部牵头{tag}",  # return, reassignment
        f"等待设计变更{tag}", "延期 2 个工作日",  # extension asked and decided
        "督办级别：部门负责人",  # the escalation
        f"已办结{tag}", "不满意", f"太慢了{tag}",  # results, the rating
        f"书面汇报{tag}", "内部销号",  # the written report and the closure
        f"已安排现场检查{tag}", f"内部协调设计院{tag}",  # the notes
        people["coordinator"][1], people["fire"][1], people["tax"][1], people["build"][1],
    ):
        assert expected in steps, expected
    assert "fire_rescue" not in steps and "grid_worker" not in steps


def test_the_ledger_xlsx_holds_every_step_with_names(client, lived, people, token):
    coordinator = people["coordinator"][0]
    response = client.get("/api/v1/ledger/export.xlsx", headers=bearer(coordinator),
                          params={"view": "problems", "number": lived["number"]})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    expect_every_step(response.content, lived, people)
    # the builders' liaison: its department's part, without the fire brigade's internal note
    build = people["build"][0]
    mine = client.get("/api/v1/ledger/export.xlsx", headers=bearer(build),
                      params={"view": "problems", "number": lived["number"]})
    assert mine.status_code == 200, mine.text
    steps = steps_of(mine.content, lived)
    assert f"建设部牵头{lived['tag']}" in steps and people["build"][1] in steps
    assert f"内部协调设计院{lived['tag']}" not in steps
    assert f"已安排现场检查{lived['tag']}" not in steps  # another department's part


def test_the_ledger_export_as_a_job_with_its_progress(client, lived, people, token):
    coordinator = people["coordinator"][0]
    started = client.post("/api/v1/ledger/exports", headers=bearer(coordinator),
                          json={"view": "problems", "number": lived["number"]})
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    assert location == f"/api/v1/exports/{started.json()['id']}"
    assert started.json()["rows_total"] == 1

    def finished():
        state = client.get(location, headers=bearer(coordinator)).json()
        return state if state["status"] in ("done", "failed") else None

    state = eventually(finished, timeout=60, interval=0.3)
    assert state and state["status"] == "done" and state["progress"] == 100, state
    assert (state["rows_listed"], state["rows_done"]) == (1, 1)
    downloaded = client.get(state["file"], headers=bearer(coordinator))
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == XLSX
    expect_every_step(downloaded.content, lived, people)
    # someone else's export does not exist for them
    other = token(Role.COORDINATOR)
    assert client.get(location, headers=bearer(other)).status_code == 404
    assert client.get(state["file"], headers=bearer(other)).status_code == 404
    assert client.post("/api/v1/ledger/exports", headers=bearer(token(Role.ENTERPRISE,
                       enterprise_id=str(uuid.uuid4()))), json={}).status_code == 403
    refused = client.post("/api/v1/ledger/exports", headers=bearer(coordinator),
                          json={"view": "everything"})
    assert refused.status_code == 422 and "view" in refused.json()["errors"]
    for flag in ("overdue", "escalated", "awaiting_resolution"):  # JSON true/false, never 0
        refused = client.post("/api/v1/ledger/exports", headers=bearer(coordinator),
                              json={flag: 0})
        assert refused.status_code == 422 and flag in refused.json()["errors"], refused.text


def test_the_task_and_done_lists_export_names_labels_and_local_times(client, lived, people):
    """任务清单 and 落实清单 as the export writes them (their rows read undumped, times as
    datetimes): names and Chinese labels, never ids or codes, times in Asia/Shanghai; the
    closed demand's last rating in the done list."""
    coordinator = people["coordinator"][0]
    tag = lived["tag"]
    tasks = client.get("/api/v1/ledger/export.xlsx", headers=bearer(coordinator),
                       params={"view": "tasks", "number": lived["number"]})
    assert tasks.status_code == 200, tasks.text
    found = sheets(tasks.content)
    assert list(found) == ["任务清单", "办理过程"]
    header, *rows = found["任务清单"]
    assert rows and all(row[0] == lived["number"] for row in rows)
    listed = flat(rows)
    for expected in (lived["enterprise"], "消防大队", "建设部", people["fire"][1],
                     people["build"][1]):
        assert expected in listed, expected
    for code in ("fire_rescue", "construction", "completed", lived["id"]):
        assert code not in listed, code
    times = [i for i, name in enumerate(header) if name in ("收到时间", "受理时间", "办结时间")]
    assert len(times) == 3
    assert all(row[i] is not None and row[i].tzinfo is None for row in rows for i in times)

    done = client.get("/api/v1/ledger/export.xlsx", headers=bearer(coordinator),
                      params={"view": "done", "number": lived["number"]})
    assert done.status_code == 200, done.text
    found = sheets(done.content)
    assert list(found) == ["落实清单", "办理过程"]
    header, row = found["落实清单"]
    cell = dict(zip(header, row, strict=True))
    assert cell["诉求编号"] == lived["number"] and cell["企业"] == lived["enterprise"]
    assert cell["销号方式"] == "内部销号" and cell["满意"] == "否"
    assert (cell["办理效率"], cell["服务态度"], cell["办理结果"]) == (2, 3, 2)
    assert cell["评价意见"] == f"太慢了{tag}"
    assert "消防大队" in cell["责任部门"] and "fire_rescue" not in cell["责任部门"]
    assert cell["销号时间"].tzinfo is None and cell["收到时间"] <= cell["销号时间"]


def test_an_exports_progress_moves_while_its_list_is_written_and_then_its_steps(
        client, token, db):
    """The list sheet is about a fifth of an export's work, the steps the rest: a job half
    way through its list reads 10 %, one with its list written and half its steps 60 %."""
    user = f"export-progress-{uuid.uuid4().hex[:8]}"
    mine = bearer(token(Role.COORDINATOR, user_id=user))
    expected = {}
    with db.begin() as conn:
        for listed, done, progress in ((0, 0, 0), (500, 0, 10), (1000, 500, 60),
                                       (1000, 1000, 99)):
            export_id = str(uuid.uuid4())
            expected[export_id] = (listed, done, progress)
            conn.execute(text(
                "INSERT INTO ticketing.exports (id, owner, view, query, status, rows_total, "
                "rows_listed, rows_done, created_at, updated_at) VALUES (:id, :owner, "
                "'problems', '{}', 'running', 1000, :listed, :done, now(), now())"),
                {"id": export_id, "owner": user, "listed": listed, "done": done})
    for export_id, (listed, done, progress) in expected.items():
        state = client.get(f"/api/v1/exports/{export_id}", headers=mine).json()
        assert (state["rows_listed"], state["rows_done"], state["progress"]) == (
            listed, done, progress), state
    with db.begin() as conn:
        conn.execute(text("DELETE FROM ticketing.exports WHERE owner = :owner"), {"owner": user})


def test_an_account_has_at_most_two_exports_in_the_making(client, token, db):
    """Each export holds a worker of ticketing while it is built: a third one waits for one of
    the caller's to finish (409, coded), an export stalled for ten minutes no longer counts,
    and another account is not held back."""
    user = f"export-bound-{uuid.uuid4().hex[:8]}"
    mine = bearer(token(Role.COORDINATOR, user_id=user))
    with db.begin() as conn:
        for age in ("1 minute", "2 minutes", "11 minutes"):  # the last one has stalled
            conn.execute(text(
                "INSERT INTO ticketing.exports (id, owner, view, query, status, rows_total, "
                "rows_done, created_at, updated_at) VALUES (:id, :owner, 'problems', '{}', "
                "'running', 10, 1, now() - CAST(:age AS interval), "
                "now() - CAST(:age AS interval))"),
                {"id": str(uuid.uuid4()), "owner": user, "age": age})
    refused = client.post("/api/v1/ledger/exports", headers=mine | {"Accept-Language": "zh-CN"},
                          json={"view": "problems"})
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "export.too_many"
    assert re.search(r"[\u4e00-\u9fff]", refused.json()["detail"]), refused.json()
    other = bearer(token(Role.COORDINATOR, user_id=f"{user}-other"))
    assert client.post("/api/v1/ledger/exports", headers=other,
                       json={"view": "problems"}).status_code == 202
    with db.begin() as conn:  # one of mine finishes: I may start another
        conn.execute(text("UPDATE ticketing.exports SET status = 'done' WHERE owner = :owner "
                          "AND updated_at > now() - interval '90 seconds'"), {"owner": user})
    assert client.post("/api/v1/ledger/exports", headers=mine,
                       json={"view": "problems"}).status_code == 202


def test_lists_carry_names_next_to_ids(client, lived, people):
    coordinator = people["coordinator"][0]
    problems = client.get("/api/v1/ledger/problems", headers=bearer(coordinator),
                          params={"number": lived["number"]}).json()["items"]
    assert problems[0]["enterprise_name"] == lived["enterprise"]
    assert set(problems[0]["department_names"]) == {"消防大队", "建设部"}
    assert problems[0]["grid_name"]
    tasks = client.get("/api/v1/ledger/tasks", headers=bearer(coordinator),
                       params={"number": lived["number"]}).json()["items"]
    assert tasks and {t["enterprise_name"] for t in tasks} == {lived["enterprise"]}
    assert "消防大队" in {t["department_name"] for t in tasks}
    assert people["fire"][1] in {t["accepted_by_name"] for t in tasks}
    steps = client.get("/api/v1/ledger", headers=bearer(coordinator),
                       params={"demand_id": lived["id"], "per_page": 200}).json()["items"]
    assert people["fire"][1] in {s["actor_name"] for s in steps}
    assert "消防大队" in {s["department_name"] for s in steps}
    timeline = client.get(f"/api/v1/demands/{lived['id']}/timeline",
                          headers=bearer(coordinator)).json()
    assert "消防大队" in {e.get("department_name") for e in timeline["entries"]}
    # the enterprise's timeline names departments, never a staff member
    assert all("actor_name" not in e for e in timeline["entries"])
    demands = client.get("/api/v1/demands", headers=bearer(coordinator),
                         params={"number": lived["number"]}).json()["items"]
    assert demands[0]["enterprise_name"] == lived["enterprise"]
    assert demands[0]["recorded_by_name"] == people["worker"][1]
