"""The enterprise registry through the gateway: credit codes, grid assignment, scope, profile,
classification and who may do what."""

from __future__ import annotations

import json
import random

import pytest
from helpers import bearer
from sqlalchemy import text

from common.auth import Role
from services.enterprise import credit_code

RNG = random.Random(7)
G_BOX = (120.10, 36.10, 120.12, 36.12)  # a geographic grid of the test's own
G_ID = "TGEO1"
INC_ID = "TINC1"


def new_code() -> str:
    return credit_code.generate(RNG)


def body(**overrides: object) -> dict:
    data = {"credit_code": new_code(), "name": "青岛测试科技有限公司", "address": "高新区测试路1号",
            "industry_code": "C39", "scale": "small", "lon": 120.11, "lat": 36.11}
    data.update(overrides)
    return data


@pytest.fixture(scope="module")
def zone(db, infrastructure):
    """Departments and two grids of the test's own (no demo data needed)."""
    lo_lon, lo_lat, hi_lon, hi_lat = G_BOX
    ring = [[lo_lon, lo_lat], [hi_lon, lo_lat], [hi_lon, hi_lat], [lo_lon, hi_lat],
            [lo_lon, lo_lat]]
    with db.begin() as conn:
        for dept, name in (("economic_development", "经济发展部"),
                           ("science_innovation", "科技创新部")):
            conn.execute(text("INSERT INTO enterprise.departments (id, name, kind) "
                              "VALUES (:i, :n, 'management') ON CONFLICT DO NOTHING"),
                         {"i": dept, "n": name})
        conn.execute(text(
            "INSERT INTO enterprise.grids (id, name, kind, owner_department_id, boundary) "
            "VALUES (:i, '测试片区网格', 'geographic', 'economic_development', "
            "CAST(:b AS jsonb)) ON CONFLICT DO NOTHING"),
            {"i": G_ID, "b": json.dumps({"type": "Polygon", "coordinates": [ring]})})
        conn.execute(text(
            "INSERT INTO enterprise.grids (id, name, kind, owner_department_id, lon, lat) "
            "VALUES (:i, '测试孵化器', 'incubator', 'science_innovation', 120.2, 36.2) "
            "ON CONFLICT DO NOTHING"), {"i": INC_ID})
    return {"grid": G_ID, "incubator": INC_ID}


def register(client, tok, **overrides):
    return client.post("/api/v1/enterprises", json=body(**overrides), headers=bearer(tok))


def test_wrong_check_digit_is_422_naming_the_field(client, token, zone):
    admin = token(Role.ADMIN)
    good = new_code()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = register(client, admin, credit_code=bad)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    reason = response.json()["errors"]["credit_code"][0]
    assert reason["code"] == "enterprise.credit_code_check_digit"
    assert reason["message"].startswith("校验码错误：应为 ")
    ok = register(client, admin, credit_code=good)
    assert ok.status_code == 201, ok.text
    assert ok.json()["credit_code"] == good
    again = register(client, admin, credit_code=good)
    assert again.status_code == 409
    # full-width characters and lowercase are what people paste: normalised, same enterprise
    fullwidth = good.lower().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert register(client, admin, credit_code=fullwidth).status_code == 409


def test_location_inside_a_grid_assigns_it_else_unassigned(client, token, zone):
    admin = token(Role.ADMIN)
    inside = register(client, admin).json()
    assert (inside["grid_id"], inside["grid_source"]) == (G_ID, "location")
    incubated = register(client, admin, incubator_id=INC_ID).json()
    assert (incubated["grid_id"], incubated["grid_source"]) == (INC_ID, "incubator")
    outside = register(client, admin, lon=121.5, lat=37.5).json()
    assert (outside["grid_id"], outside["grid_source"]) == (None, "unassigned")
    report = client.get("/api/v1/coverage", headers=bearer(admin)).json()
    assert outside["id"] in {e["enterprise_id"] for e in report["unassigned_enterprises"]}
    assert report["covered"] is False
    unknown = register(client, admin, incubator_id="NOPE")
    assert unknown.status_code == 422 and "incubator_id" in unknown.json()["errors"]


def test_moving_an_enterprise_changes_its_grid(client, token, zone):
    admin = token(Role.ADMIN)
    e = register(client, admin, lon=121.5, lat=37.5).json()
    moved = client.patch(f"/api/v1/enterprises/{e['id']}",
                         json={"lon": 120.115, "lat": 36.105, "version": e["version"]},
                         headers=bearer(admin))
    assert moved.status_code == 200
    assert moved.json()["grid_id"] == G_ID and moved.json()["version"] == 2
    stale = client.patch(f"/api/v1/enterprises/{e['id']}", json={"name": "旧版本改名",
                         "version": 1}, headers=bearer(admin))
    assert stale.status_code == 412
    etag = client.get(f"/api/v1/enterprises/{e['id']}", headers=bearer(admin)).headers["ETag"]
    assert etag == '"2"'
    stale_header = client.patch(f"/api/v1/enterprises/{e['id']}", json={"name": "旧版本改名"},
                                headers={**bearer(admin), "If-Match": '"1"'})
    assert stale_header.status_code == 412
    current = client.patch(f"/api/v1/enterprises/{e['id']}", json={"name": "新版本改名"},
                           headers={**bearer(admin), "If-Match": etag})
    assert current.status_code == 200 and current.headers["ETag"] == '"3"'


def test_scope_rules_on_entry_and_leaving_scope_keeps_history(client, token, zone):
    admin = token(Role.ADMIN)
    no_tax = register(client, admin, pays_tax=False).json()
    assert no_tax["in_scope"] is False
    e = register(client, admin).json()
    assert e["in_scope"] is True
    wrong = client.post(f"/api/v1/enterprises/{e['id']}/scope", headers=bearer(admin),
                        json={"in_scope": False, "reason": "moved_in",
                              "effective_on": "2026-11-20"})
    assert wrong.status_code == 422 and "reason" in wrong.json()["errors"]
    out = client.post(f"/api/v1/enterprises/{e['id']}/scope", headers=bearer(admin),
                      json={"in_scope": False, "reason": "moved_out",
                            "effective_on": "2026-11-20", "note": "迁往城阳区"})
    assert out.status_code == 200
    assert client.get(f"/api/v1/enterprises/{e['id']}",
                      headers=bearer(admin)).json()["in_scope"] is False
    history = client.get(f"/api/v1/enterprises/{e['id']}/scope", headers=bearer(admin)).json()
    assert [(h["in_scope"], h["reason"]) for h in history["items"]] == [
        (True, "started_operating"), (False, "moved_out")]
    listed = client.get("/api/v1/enterprises", params={"in_scope": "false", "per_page": 200},
                        headers=bearer(admin)).json()
    assert e["id"] in {x["id"] for x in listed["items"]}


def test_enterprise_user_reads_own_edits_only_self_report_fields(client, token, zone):
    admin = token(Role.ADMIN)
    mine = register(client, admin, contacts=[{"name": "王经理", "phone": "13812345678"}]).json()
    other = register(client, admin, contacts=[{"name": "李经理", "phone": "13987654321"}]).json()
    me = token(Role.ENTERPRISE, enterprise_id=mine["id"])
    assert client.get(f"/api/v1/enterprises/{mine['id']}", headers=bearer(me)).status_code == 200
    assert client.get(f"/api/v1/enterprises/{other['id']}", headers=bearer(me)).status_code == 404
    listed = client.get("/api/v1/enterprises", headers=bearer(me)).json()
    assert [x["id"] for x in listed["items"]] == [mine["id"]]
    ok = client.patch(f"/api/v1/enterprises/{mine['id']}", headers=bearer(me),
                      json={"strengths": ["激光精密加工"], "downstream": ["汽车零部件"]})
    assert ok.status_code == 200 and ok.json()["strengths"] == ["激光精密加工"]
    denied = client.patch(f"/api/v1/enterprises/{mine['id']}", headers=bearer(me),
                          json={"name": "改个名字"})
    assert denied.status_code == 403
    assert client.post("/api/v1/enterprises", json=body(), headers=bearer(me)).status_code == 403
    # a leader reads every enterprise, with phone numbers masked
    leader = token(Role.LEADER)
    seen = client.get(f"/api/v1/enterprises/{other['id']}", headers=bearer(leader)).json()
    assert seen["contacts"][0]["phone"] == "139****4321"
    worker = token(Role.GRID_WORKER, grid_ids=(G_ID,))
    assert client.get(f"/api/v1/enterprises/{other['id']}",
                      headers=bearer(worker)).json()["contacts"][0]["phone"] == "13987654321"


def test_grid_worker_confined_to_their_grids(client, token, zone):
    admin = token(Role.ADMIN)
    elsewhere = register(client, admin, incubator_id=INC_ID).json()
    worker = token(Role.GRID_WORKER, grid_ids=(G_ID,))
    assert client.get(f"/api/v1/enterprises/{elsewhere['id']}",
                      headers=bearer(worker)).status_code == 404
    mine = register(client, worker)
    assert mine.status_code == 201 and mine.json()["grid_id"] == G_ID
    foreign = register(client, worker, incubator_id=INC_ID)
    assert foreign.status_code == 403
    listed = client.get("/api/v1/enterprises", params={"per_page": 200},
                        headers=bearer(worker)).json()
    assert listed["items"] and {x["grid_id"] for x in listed["items"]} == {G_ID}
    assert client.get("/api/v1/coverage", headers=bearer(worker)).status_code == 403


def test_grids_are_found_by_a_part_of_the_name_or_the_code(client, token, zone):
    """系统管理's 按网格名称搜索: the list answered only the whole list (q was refused: 422)."""
    staff = bearer(token(Role.COORDINATOR))

    def found(q: str) -> set[str]:
        answer = client.get("/api/v1/grids", params={"q": q, "per_page": 200}, headers=staff)
        assert answer.status_code == 200, answer.text
        return {grid["id"] for grid in answer.json()["items"]}

    assert found("测试片区") == {G_ID}
    assert found("tinc1") == {INC_ID}  # the code, as typed
    assert found("测试") >= {G_ID, INC_ID}
    assert found("没有这样的网格") == set()
    blank = client.get("/api/v1/grids", params={"q": "  "}, headers=staff)
    assert blank.status_code == 422 and "q" in blank.json()["errors"], blank.text


def test_profile_keeps_history_and_shows_latest(client, token, zone):
    admin = token(Role.ADMIN)
    e = register(client, admin).json()
    url = f"/api/v1/enterprises/{e['id']}/profile"
    for value, source in ((1200, "registration"), (1350.5, "grid_worker")):
        r = client.post(url, headers=bearer(admin), json={"year": 2025,
                        "indicator": "output_value", "value": value, "source": source})
        assert r.status_code == 201, r.text
    profile = client.get(url, headers=bearer(admin)).json()
    # the registration figure outranks the grid worker's newer one (profile_sources)
    assert [(v["value"], v["source"]) for v in profile["latest"]] == [(1200, "registration")]
    assert len(profile["history"]) == 2
    assert client.get(f"/api/v1/enterprises/{e['id']}",
                      headers=bearer(admin)).json()["latest_indicators"]["output_value"] == 1200
    me = token(Role.ENTERPRISE, enterprise_id=e["id"])
    not_self = client.post(url, headers=bearer(me), json={"year": 2025, "indicator": "tax",
                                                          "value": 10, "source": "third_party"})
    assert not_self.status_code == 422
    bad = client.post(url, headers=bearer(admin), json={"year": 2025, "indicator": "profit",
                                                        "value": -1, "source": "x"})
    assert bad.status_code == 422
    assert {"indicator", "value", "source"} <= set(bad.json()["errors"])


def test_classification_filters_sort_and_summary(client, token, zone):
    admin = token(Role.ADMIN)
    tag = f"专精特新-{RNG.randrange(10**9)}"  # the test database is shared: a tag of our own
    name = f"青岛排序{RNG.randrange(10**9)}软件有限公司"
    big = register(client, admin, industry_code="I65", scale="large", tags=[tag],
                   name=name).json()
    small = register(client, admin, industry_code="I65", scale="micro", name=name).json()
    for e, output in ((big, 50_000), (small, 50)):
        client.post(f"/api/v1/enterprises/{e['id']}/profile", headers=bearer(admin),
                    json={"year": 2093, "indicator": "output_value", "value": output,
                          "source": "registration"})
    page = client.get("/api/v1/enterprises", headers=bearer(admin),
                      params={"industry": "I65", "sort": "-output_value", "q": name}).json()
    assert [x["id"] for x in page["items"]] == [big["id"], small["id"]]
    ascending = client.get("/api/v1/enterprises", headers=bearer(admin),
                           params={"sort": "output_value", "q": name}).json()
    assert [x["id"] for x in ascending["items"]] == [small["id"], big["id"]]
    banded = client.get("/api/v1/enterprises", headers=bearer(admin),
                        params={"min_output": 10_000, "industry": "I"}).json()
    assert big["id"] in {x["id"] for x in banded["items"]}
    assert small["id"] not in {x["id"] for x in banded["items"]}
    tagged = client.get("/api/v1/enterprises", headers=bearer(admin),
                        params={"tag": tag}).json()
    assert [x["id"] for x in tagged["items"]] == [big["id"]]
    summary = client.get("/api/v1/enterprises/summary", headers=bearer(admin),
                         params={"by": "industry_division", "year": 2093}).json()
    i65 = next(r for r in summary["rows"] if r["key"] == "I65")
    assert i65["label"] == "软件和信息技术服务业"
    assert i65["output_value"] == 50_050  # nobody else records 2093 figures
    assert summary["year"] == 2093
    bad = client.get("/api/v1/enterprises", headers=bearer(admin), params={"sort": "random"})
    assert bad.status_code == 422
    me = token(Role.ENTERPRISE, enterprise_id=big["id"])
    assert client.get("/api/v1/enterprises/summary", headers=bearer(me)).status_code == 403


def test_departments_and_category_table_admin_edits(client, token, zone):
    admin = token(Role.ADMIN)
    created = client.post("/api/v1/categories", headers=bearer(admin),
                          json={"code": "test_cat", "name": "测试类别",
                                "department_id": "economic_development"})
    assert created.status_code in (201, 409)
    moved = client.put("/api/v1/categories/test_cat", headers=bearer(admin),
                       json={"department_id": "science_innovation"})
    assert moved.status_code == 200 and moved.json()["department_id"] == "science_innovation"
    depts = client.get("/api/v1/departments", headers=bearer(token(Role.LIAISON))).json()
    science = next(d for d in depts["items"] if d["id"] == "science_innovation")
    assert "test_cat" in science["categories"]
    coordinator = token(Role.COORDINATOR)
    assert client.put("/api/v1/categories/test_cat", headers=bearer(coordinator),
                      json={"department_id": "economic_development"}).status_code == 403
    unknown = client.put("/api/v1/categories/test_cat", headers=bearer(admin),
                         json={"department_id": "nowhere"})
    assert unknown.status_code == 422


@pytest.mark.parametrize(("moment", "day"), [
    ("2026-12-04T00:12:00+08:00", "2026-12-04"), ("2026-12-03T23:50:00+08:00", "2026-12-03")])
def test_an_enterprise_enters_scope_on_the_zone_day_not_the_utc_day(client, db, moment, day):
    """Registered at 00:12 in the zone (16:12 UTC the day before) or at 23:50, its scope
    change is dated the Asia/Shanghai day, with an injected clock."""
    from datetime import datetime

    from sqlalchemy.orm import Session

    from common.auth import Principal
    from common.validation import load
    from services.enterprise import registry
    from services.enterprise.models import ScopeChange
    from services.enterprise.schemas import EnterpriseCreateSchema

    data = load(EnterpriseCreateSchema(), {
        "credit_code": credit_code.generate(random.Random(moment)), "name": "青岛零点科技有限公司",
        "address": "高新区测试路1号", "industry_code": "C39", "scale": "small"})
    admin = Principal(user_id="test-admin", role=Role.ADMIN)
    with Session(db) as session:
        at = datetime.fromisoformat(moment)
        enterprise = registry.register(session, admin, data, now=at)
        change = session.query(ScopeChange).filter_by(enterprise_id=enterprise.id).one()
        assert change.effective_on.isoformat() == day
        session.rollback()


def test_the_profile_shows_the_value_of_the_highest_source_and_keeps_every_one(client, token):
    """企业画像 sources: an older business-registration figure beats a newer self-report; the
    history keeps both with their sources and dates; an admin reorders the precedence and the
    self-report is shown; within one source the newer value wins."""
    from helpers import new_enterprise_id

    admin = bearer(token(Role.ADMIN))
    enterprise = new_enterprise_id()
    url = f"/api/v1/enterprises/{enterprise}/profile"

    def add(source: str, value: int) -> None:
        added = client.post(url, headers=admin, json={
            "year": 2025, "indicator": "output_value", "value": value, "source": source})
        assert added.status_code in (200, 201), added.text

    def shown() -> tuple[float, list[tuple[str, float]]]:
        profile = client.get(url, headers=admin).json()
        latest = next(v for v in profile["latest"]
                      if (v["year"], v["indicator"]) == (2025, "output_value"))
        history = [(v["source"], v["value"]) for v in profile["history"]
                   if (v["year"], v["indicator"]) == (2025, "output_value")]
        return latest["value"], history

    add("registration", 500)
    add("self_report", 999)
    value, history = shown()
    assert value == 500  # registration outranks the newer self-report
    assert sorted(history) == [("registration", 500), ("self_report", 999)]
    add("registration", 520)
    assert shown()[0] == 520  # within one source the newer wins

    saved = client.get("/api/v1/profile-sources/precedence", headers=admin).json()
    assert saved["order"] == ["registration", "third_party", "joint_review",
                              "project_application", "grid_worker", "self_report", "import"]
    try:
        reordered = ["self_report"] + [s for s in saved["order"] if s != "self_report"]
        for role in (Role.COORDINATOR, Role.LEADER):
            assert client.put("/api/v1/profile-sources/precedence", json={"order": reordered},
                              headers=bearer(token(role))).status_code == 403
        incomplete = client.put("/api/v1/profile-sources/precedence", headers=admin,
                                json={"order": reordered[:-1]})
        assert incomplete.status_code == 422 and "order" in incomplete.json()["errors"]
        changed = client.put("/api/v1/profile-sources/precedence", headers=admin,
                             json={"order": reordered})
        assert changed.status_code == 200, changed.text
        assert shown()[0] == 999
    finally:
        client.put("/api/v1/profile-sources/precedence", headers=admin,
                   json={"order": saved["order"]})
    assert shown()[0] == 520
    assert client.get("/api/v1/profile-sources/precedence", headers=bearer(
        token(Role.ENTERPRISE, enterprise_id=enterprise))).status_code == 403
