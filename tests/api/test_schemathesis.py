"""The API keeps its contract under generated input (issue 10): schemathesis runs against the
test platform's ``/openapi.json`` once per role, with a token for that role that reaches real
data (a demo enterprise, a demo grid, a department), through all four phases: examples,
coverage (positive and negative boundary values), fuzzing and stateful sequences along the
document's links. Any failed check fails the test: a 5xx, an undocumented status, a body or
header that does not match the document, schema-valid input refused or schema-violating input
accepted, a 405 without ``Allow``.

What runs, and what is excluded and why, is in ``schemathesis.toml`` at the repository root;
this module only picks the roles, their tokens and the time budget (about four minutes in all:
the administrator, who may call nearly everything, gets the most).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import bearer, demand_body, named_fields, new_enterprise_id
from sqlalchemy import text

from common.auth import Role

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "schemathesis.toml"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")

#: the demo grid and department the scoped roles work in
GRID = "GEO03"
DEPARTMENT = "ecology_environment"

#: role -> (seconds of budget, examples per operation and phase)
RUNS: dict[Role, tuple[int, int]] = {
    Role.ADMIN: (75, 10),
    Role.COORDINATOR: (33, 5),
    Role.ENTERPRISE: (32, 5),  # the supply/demand board, meeting registration and feedback
    Role.GRID_WORKER: (20, 3),
    Role.GRID_LEADER: (12, 3),
    Role.LIAISON: (15, 3),
    Role.DEPARTMENT_HEAD: (12, 3),
    Role.LEADER: (12, 3),
}


def _enterprise_in(db, grid: str) -> str:
    with db.connect() as conn:
        return str(conn.execute(text(
            "SELECT id FROM enterprise.enterprises WHERE grid_id = :g AND in_scope "
            "ORDER BY credit_code DESC LIMIT 1"), {"g": grid}).scalar_one())


def _claims(role: Role, db) -> dict[str, object]:
    if role == Role.ENTERPRISE:
        return {"enterprise_id": _enterprise_in(db, GRID)}
    if role in (Role.GRID_WORKER, Role.GRID_LEADER):
        return {"grid_ids": (GRID,)}
    if role in (Role.LIAISON, Role.DEPARTMENT_HEAD):
        return {"department_id": DEPARTMENT}
    if role == Role.COORDINATOR:
        return {"department_id": "economic_development"}
    return {}


def _report(output: str) -> str:
    """The failures and the summary of a run, without the progress lines and warnings."""
    failures = re.search(r"^=+ (FAILURES|ERRORS) =+$.*?(?=^=+ (WARNINGS|SUMMARY) =+$)", output,
                         re.MULTILINE | re.DOTALL)
    summary = output[output.find("= SUMMARY ="):]
    return (failures.group(0) if failures else "") + summary


@pytest.mark.timeout(300)
@pytest.mark.parametrize("role", list(RUNS), ids=str)
def test_api_keeps_its_contract_for_every_role(client, token, db, tmp_path, role: Role) -> None:
    budget, examples = RUNS[role]
    env = {**os.environ, "GRIDSVC_TOKEN": token(role, ttl=3600, **_claims(role, db)),
           "NO_COLOR": "1"}
    run = subprocess.run(
        [str(SCHEMATHESIS), "--config-file", str(CONFIG), "run",
         f"{client.base_url}/openapi.json", "--max-time", str(budget),
         "--max-examples", str(examples), "--no-color"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=budget + 180,
    )
    (tmp_path / "schemathesis.txt").write_text(run.stdout + run.stderr)
    summary = re.findall(r"^=+ (.+) in [\d.]+s =+$", run.stdout, re.MULTILINE)
    assert run.returncode == 0, (f"schemathesis as {role}: {summary}, the whole output in "
                                 f"{tmp_path}\n{_report(run.stdout)}\n{run.stderr[-3000:]}")
    assert "Runtime Error" not in run.stdout, _report(run.stdout)


# --- what the runs found, pinned ---------------------------------------------------------------

def test_a_method_the_path_lacks_is_405_with_every_method_in_allow(client, token):
    admin = bearer(token(Role.ADMIN))
    refused = client.request("OPTIONS", "/api/v1/sla/settings", headers=admin)
    assert refused.status_code == 405
    assert refused.headers["content-type"] == "application/problem+json"
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT"}
    other = client.delete("/api/v1/enterprises/00000000-0000-4000-8000-000000000000",
                          headers=admin)
    assert other.status_code == 405
    assert set(other.headers["allow"].split(", ")) == {"GET", "HEAD", "PATCH"}


def test_text_postgresql_cannot_store_is_a_named_422_not_a_500(client, token):
    admin = bearer(token(Role.ADMIN))
    body = client.post("/api/v1/demands", headers=admin, json=demand_body(
        channel="service_window", enterprise_id="00000000-0000-4000-8000-000000000000",
        title="申请\x00人才公寓"))
    assert body.status_code == 422, body.text
    assert "title" in body.json()["errors"]
    lone = client.post("/api/v1/categories", headers={**admin, "content-type": "application/json"},
                       content=b'{"code": "x1", "name": "\\ud800", "department_id": "finance"}')
    assert lone.status_code == 422 and "name" in lone.json()["errors"]
    query = client.get("/api/v1/enterprises", params={"q": "青岛\x00"}, headers=admin)
    assert query.status_code == 422 and "q" in query.json()["errors"]
    path = client.get("/api/v1/grids/INC01%00", headers=admin)
    assert path.status_code == 404


def test_times_and_ids_outside_what_the_document_says_are_422(client, token):
    admin = bearer(token(Role.ADMIN))
    for received_at in ("0249-08-26T13:25:43Z", "2026-11-26T10:00:00-19:24", "2026-11-26",
                        "2026-11-26T10:00+08:00"):
        answer = client.get("/api/v1/calendar/triage-deadline",
                            params={"received_at": received_at}, headers=admin)
        assert answer.status_code == 422, (received_at, answer.text)
        assert "received_at" in answer.json()["errors"]
    ledger = client.get("/api/v1/ledger", params={"demand_id": "party_people"}, headers=admin)
    assert ledger.status_code == 422 and "demand_id" in ledger.json()["errors"]
    urn = client.get("/api/v1/ledger", headers=admin, params={
        "demand_id": "urn:uuid:7217349c-1f59-4aad-b23e-0d4c5da28e37"})
    assert urn.status_code == 422
    fine = client.get("/api/v1/calendar/triage-deadline",
                      params={"received_at": "2026-11-26T10:00:00.5Z"}, headers=admin)
    assert fine.status_code == 200 and fine.json()["deadline"].endswith("+08:00")


def test_integral_numbers_are_integers_and_fractions_are_not(client, token):
    admin = bearer(token(Role.ADMIN))
    current = client.get("/api/v1/obligations/settings", headers=admin).json()
    fraction = client.put("/api/v1/obligations/settings", headers=admin,
                          json={"reminder_workdays": 2.5})
    assert fraction.status_code == 422 and "reminder_workdays" in fraction.json()["errors"]
    text_number = client.put("/api/v1/obligations/settings", headers=admin,
                             json={"reminder_workdays": "3"})
    assert text_number.status_code == 422
    same = client.put("/api/v1/obligations/settings", headers=admin,
                      json={"reminder_workdays": float(current["reminder_workdays"])})
    assert same.status_code == 200 and same.json() == current


def test_lists_answer_exactly_what_the_document_says(client, token):
    admin = bearer(token(Role.ADMIN))
    spec = client.get("/openapi.json").json()["components"]["schemas"]
    for path, name in (("/api/v1/departments", "DepartmentList"),
                       ("/api/v1/categories", "CategoryList")):
        assert spec[name]["required"] == ["items"], name
        assert set(client.get(path, headers=admin).json()) == {"items"}


def test_export_survives_control_characters_in_stored_text(client, token):
    admin = bearer(token(Role.ADMIN))
    enterprise = new_enterprise_id(tags=["铃\x07声", "=cmd"])
    assert client.get(f"/api/v1/enterprises/{enterprise}", headers=admin).status_code == 200
    export = client.get("/api/v1/enterprises/export.xlsx", headers=admin,
                        params={"q": "青岛测试科技"})
    assert export.status_code == 200, export.text


def test_if_match_and_a_different_body_version_is_412(client, token):
    admin = bearer(token(Role.ADMIN))
    enterprise = new_enterprise_id()
    answer = client.patch(f"/api/v1/enterprises/{enterprise}",
                          headers={**admin, "If-Match": '"1"'},
                          json={"scale": "large", "version": 2})
    assert answer.status_code == 412
    assert "version" in answer.json()["errors"]


def _pattern(schema: dict) -> re.Pattern[str]:
    return re.compile(schema["pattern"])


def test_appraisal_days_are_of_the_years_the_document_states(client, token):
    leader = bearer(token(Role.LEADER))
    spec = client.get("/openapi.json").json()
    query = {p["name"]: p["schema"]
             for p in spec["paths"]["/api/v1/overview"]["get"]["parameters"]}
    for day, documented in (("2026-11-27", True), ("1999-12-31", False), ("2101-01-01", False),
                            ("20261127", False)):
        assert bool(_pattern(query["from"]).fullmatch(day)) is documented, day
        answer = client.get("/api/v1/overview", headers=leader,
                            params={"from": day, "to": "2026-11-27"})
        assert (answer.status_code == 200) is documented, (day, answer.text)
        if not documented:
            assert answer.status_code == 422 and "from" in answer.json()["errors"]
    backwards = client.get("/api/v1/overview", headers=leader,
                           params={"from": "2026-11-27", "to": "2026-11-01"})
    assert backwards.status_code == 422 and "to" in backwards.json()["errors"]


def test_audiences_take_what_the_document_says(client, token):
    admin = bearer(token(Role.ADMIN))
    audience = client.get("/openapi.json").json()["components"]["schemas"]["Audience"]
    industry = _pattern(audience["properties"]["industry_codes"]["items"])
    for code, valid in (("C39", True), ("c3911", True), ("A39", False), ("C", False),
                        ("C39111", False)):
        assert bool(industry.fullmatch(code)) is valid, code
        answer = client.post("/api/v1/policies/audience/preview", headers=admin,
                             json={"industry_codes": [code]})
        assert answer.status_code == (200 if valid else 422), (code, answer.text)
    assert client.post("/api/v1/policies/audience/preview", headers=admin,
                       json={"listed": 0}).status_code == 422
    # a criterion's length is that of the text as sent (½ is 1⁄2 once NFKC-normalised)
    assert client.post("/api/v1/policies/audience/preview", headers=admin,
                       json={"tags": ["½" * 40]}).status_code == 200


def test_new_bodies_take_json_types_and_documented_forms(client, token):
    admin = bearer(token(Role.ADMIN))
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    url = _pattern(schemas["PolicyAttachment"]["properties"]["url"])
    assert url.fullmatch("https://example.org/guide.pdf") and not url.fullmatch("ftp://x/a")
    policy = {"kind": "notice", "title": "通知", "body": "正文", "department_id": "finance",
              "attachments": [{"name": "a.pdf", "url": "ftp://x/a", "size": 1,
                               "media_type": "application/pdf"}]}
    refused = client.post("/api/v1/policies", headers=admin, json=policy)
    assert refused.status_code == 422 and "attachments" in named_fields(refused.json())
    assert schemas["DifficultyPoints"]["required"] == ["easy", "hard", "normal"]
    points = schemas["AppraisalSettings"]["properties"]["category_points"]
    assert points["maxProperties"] == 200 and points["propertyNames"]["minLength"] == 1
    enterprise = bearer(token(Role.ENTERPRISE, enterprise_id=new_enterprise_id()))
    listing = {"side": "supply", "title": "激光切割加工", "category": "processing",
               "valid_until": "2100-12-31", "quantity": "5", "unit": "件"}
    text_number = client.post("/api/v1/listings", headers=enterprise, json=listing)
    assert text_number.status_code == 422 and "quantity" in text_number.json()["errors"]
