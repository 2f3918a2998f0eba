"""内部销号 in the plan's two steps: on a demand the enterprise rated dissatisfied, the handling
department's liaison files its written report (书面报告) on its task; a coordinator of the
department owning the demand's grid agrees (closed internally) or sends it back with a reason.
Each step is in the ledger; the enterprise is told the outcome."""

from __future__ import annotations

import uuid

from helpers import bearer, demand_body, eventually
from sqlalchemy import text

from common.auth import Role

LINK = {"name": "情况说明.pdf", "url": "https://files.example.com/report-1.pdf"}


def _enterprise_in_incubator(db) -> str:
    with db.connect() as conn:
        return str(conn.execute(text(
            "SELECT e.id FROM enterprise.enterprises e JOIN enterprise.grids g "
            "ON g.id = e.grid_id WHERE e.in_scope AND g.kind = 'incubator' "
            "ORDER BY e.id OFFSET 3 LIMIT 1")).scalar_one())


def test_a_liaison_reports_and_the_owning_coordinator_returns_then_agrees(client, token, db):
    enterprise = _enterprise_in_incubator(db)  # an incubator grid: 科技创新部 owns it
    owner = bearer(token(Role.ENTERPRISE, enterprise_id=enterprise))
    science = bearer(token(Role.COORDINATOR, department_id="science_innovation"))
    economy = bearer(token(Role.COORDINATOR, department_id="economic_development"))
    liaison = bearer(token(Role.LIAISON, department_id="natural_resources"))
    title = f"内部销号测试 {uuid.uuid4().hex[:6]}"
    demand = client.post("/api/v1/demands", headers=owner, json=demand_body(title=title)).json()
    triaged = client.post(f"/api/v1/demands/{demand['id']}/triage", headers=science, json={
        "category": "planning", "proposed_opinion": "请办理",
        "departments": [{"department_id": "natural_resources"}]})
    assert triaged.status_code == 200, triaged.text
    task = triaged.json()["tasks"][0]["id"]
    report = {"text": "已按程序办理：政策不适用，已当面解释并书面告知。", "attachments": [LINK]}
    assert client.post(f"/api/v1/tasks/{task}/accept", headers=liaison).status_code == 200
    # nothing to report before the enterprise is dissatisfied
    early = client.post(f"/api/v1/tasks/{task}/report", headers=liaison, json=report)
    assert early.status_code == 409 and early.json()["code"] == "task.report_not_due"
    done = client.post(f"/api/v1/tasks/{task}/complete", headers=liaison,
                       json={"result": "已解释政策口径"})
    assert done.status_code == 200, done.text
    rated = client.post(f"/api/v1/demands/{demand['id']}/rating", headers=owner,
                        json={"efficiency": 2, "attitude": 3, "quality": 1})
    assert rated.status_code in (200, 201), rated.text

    # step 1: only the handling department's liaison or head files the report
    other = bearer(token(Role.LIAISON, department_id="ecology_environment"))
    assert client.post(f"/api/v1/tasks/{task}/report", headers=other,
                       json=report).status_code == 404
    for refused in (owner, science):
        assert client.post(f"/api/v1/tasks/{task}/report", headers=refused,
                           json=report).status_code == 403
    bad = client.post(f"/api/v1/tasks/{task}/report", headers=liaison,
                      json={"text": "", "attachments": [{"name": "x", "url": "ftp://x"}]})
    assert bad.status_code == 422
    assert {"text", "attachments"} <= {k.split(".")[0] for k in bad.json()["errors"]}
    filed = client.post(f"/api/v1/tasks/{task}/report", headers=liaison, json=report)
    assert filed.status_code == 200, filed.text
    assert filed.json()["report_status"] == "filed"
    assert filed.json()["report_attachments"] == [LINK]

    resolution = f"/api/v1/demands/{demand['id']}/resolution"
    # step 2: a coordinator of the owning department answers; another department's may not
    assert client.post(resolution, headers=economy,
                       json={"action": "agree_report"}).status_code == 403
    no_reason = client.post(resolution, headers=science, json={"action": "return_report"})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["errors"]
    returned = client.post(resolution, headers=science,
                           json={"action": "return_report", "reason": "请补充当面解释的记录"})
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "awaiting_rating"
    seen = client.get(f"/api/v1/tasks/{task}", headers=liaison).json()
    assert (seen["report_status"], seen["report_return_reason"]) == (
        "returned", "请补充当面解释的记录")
    assert client.post(resolution, headers=science,
                       json={"action": "agree_report"}).status_code == 409  # none filed now

    again = client.post(f"/api/v1/tasks/{task}/report", headers=liaison,
                        json={**report, "text": report["text"] + "附当面解释记录。"})
    assert again.status_code == 200, again.text
    agreed = client.post(resolution, headers=science, json={"action": "agree_report"})
    assert agreed.status_code == 200, agreed.text
    assert (agreed.json()["status"], agreed.json()["closure"]) == ("closed", "internal")

    # the ledger has every step; the enterprise is told, and never reads the report
    ledger = client.get("/api/v1/ledger", params={"demand_id": demand["id"], "per_page": 100},
                        headers=science).json()["items"]
    steps = [line["action"] for line in reversed(ledger)]
    assert steps.count("report_filed") == 2
    assert steps.index("report_returned") < steps.index("report_agreed") < steps.index("close")
    returned_line = next(line for line in ledger if line["action"] == "report_returned")
    assert returned_line["reason"] == "请补充当面解释的记录"
    told = eventually(lambda: [m for m in client.get(
        "/api/v1/inbox", headers=owner, params={"per_page": 50}).json()["items"]
        if m["kind"] == "demand_closed" and demand["number"] in (m["title"] + m["body"])],
        timeout=10)
    assert told
    timeline = client.get(f"/api/v1/demands/{demand['id']}/timeline", headers=owner).json()
    assert all(t["internal_report"] is None for t in timeline["tasks"])
    assert "当面解释记录" not in str(timeline)
