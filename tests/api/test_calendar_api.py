"""``/api/v1/calendar`` through the gateway: loading a year (调休), what it changes, the metric.

The test database is shared by the whole session: this module is the only one that commits
2027 (to the API), 2031 and 2032 (whose rejected loads must leave nothing behind); 2034 is only
previewed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest
from conftest import METRICS_PORTS
from helpers import bearer, eventually, reasons
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from common.auth import Role
from common.calendar import SHANGHAI, covered_years

SOURCE = "国办发明电〔2026〕N号 (test data, not the real notice)"
YEAR_2027 = {
    "holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10",
                 "2027-02-11", "2027-02-12"],
    "makeup_workdays": ["2027-02-20"],
    "source": SOURCE,
}


def deadline(client: httpx.Client, tok: str, received_at: str) -> dict:
    response = client.get("/api/v1/calendar/triage-deadline", params={"received_at": received_at},
                          headers=bearer(tok))
    assert response.status_code == 200, response.text
    return response.json()


def origins(client: httpx.Client, tok: str) -> dict[int, str]:
    response = client.get("/api/v1/calendar/years", headers=bearer(tok))
    assert response.status_code == 200, response.text
    return {item["year"]: item["origin"] for item in response.json()["items"]}


def missing_gauge() -> dict[int, float]:
    """``gridsvc_calendar_year_missing`` as the ticketing service's metrics port serves it."""
    body = httpx.get(f"http://127.0.0.1:{METRICS_PORTS['ticketing']}/metrics", timeout=5).text
    return {int(s.labels["year"]): s.value
            for family in text_string_to_metric_families(body) for s in family.samples
            if s.name == "gridsvc_calendar_year_missing"}


@pytest.mark.skipif(2027 in covered_years(), reason="chinesecalendar already covers 2027")
def test_next_year_is_provisional_until_an_admin_loads_it(client, token):
    anyone = token(Role.ENTERPRISE, enterprise_id="ent-cal")
    staff = token(Role.COORDINATOR)
    admin = token(Role.ADMIN, user_id="admin-cal")
    # Thursday 2026-12-31: the first day after it is in 2027, which nobody has published
    assert deadline(client, anyone, "2026-12-31T15:00:00+08:00") == {
        "deadline": "2027-01-01T10:00:00+08:00", "provisional": True}
    assert origins(client, staff)[2027] == "missing"
    watched = 2027 in missing_gauge()  # the current or the next year
    if watched:
        assert missing_gauge()[2027] == 1

    loaded = client.put("/api/v1/calendar/years/2027", json=YEAR_2027, headers=bearer(admin))

    assert loaded.status_code == 200, loaded.text
    body = loaded.json()
    assert body["year"] == 2027 and body["origin"] == "loaded"
    assert body["holidays"] == YEAR_2027["holidays"]
    assert body["makeup_workdays"] == ["2027-02-20"]
    assert (body["source"], body["loaded_by"]) == (SOURCE, "admin-cal")
    assert body["loaded_at"].endswith("+08:00")
    assert isinstance(body["demands_recomputed"], int)
    assert deadline(client, anyone, "2026-12-31T15:00:00+08:00") == {
        "deadline": "2027-01-04T10:00:00+08:00", "provisional": False}
    # 春节: received Thursday 02-04, the office reopens Monday 02-15
    assert deadline(client, anyone, "2027-02-04T09:00:00+08:00")["deadline"] == (
        "2027-02-15T10:00:00+08:00")
    assert origins(client, staff)[2027] == "loaded"
    shown = client.get("/api/v1/calendar/years/2027", headers=bearer(staff)).json()
    assert shown == {key: body[key] for key in shown}
    if watched:
        assert eventually(lambda: missing_gauge()[2027] == 0)


def test_loading_a_year_recomputes_provisional_demands(client, token, db):
    demand_id = str(uuid.uuid4())
    with db.begin() as conn:  # received Tuesday 2030-12-31; 2031 has no data yet
        conn.execute(text(
            "INSERT INTO ticketing.demands (id, number, enterprise_id, channel, title,"
            " description, urgency, attachments, status, received_at, triage_due_at,"
            " triage_due_provisional, recorded_by, recorded_role, version) VALUES (:id, :n,"
            " 'ent-cal', 'enterprise', '元旦前的诉求', 'calendar test', 'normal', '[]',"
            " 'received', '2030-12-31T15:00:00+08:00', '2031-01-01T10:00:00+08:00', true,"
            " 'test', 'enterprise', 1)"
        ), {"id": demand_id, "n": f"SQT-{uuid.uuid4().hex[:16]}"})
    admin = token(Role.ADMIN)
    coordinator = token(Role.COORDINATOR)
    year_2031 = {"holidays": ["2031-01-01"], "makeup_workdays": [], "source": SOURCE}

    first = client.put("/api/v1/calendar/years/2031", json=year_2031, headers=bearer(admin))
    assert first.status_code == 200, first.text
    assert first.json()["demands_recomputed"] >= 1
    demand = client.get(f"/api/v1/demands/{demand_id}", headers=bearer(coordinator)).json()
    assert demand["triage_due_at"] == "2031-01-02T10:00:00+08:00"
    assert demand["triage_due_provisional"] is False
    assert demand["version"] == 2
    # the same file again changes nothing, and announces nothing
    again = client.put("/api/v1/calendar/years/2031", json={"year": 2031, **year_2031},
                       headers=bearer(admin))
    assert again.status_code == 200, again.text
    with db.connect() as conn:
        changed = conn.execute(text(
            "SELECT payload->'data' FROM ticketing.outbox WHERE event_type ="
            " 'demand_deadline_changed' AND payload->'data'->>'demand_id' = :d"
        ), {"d": demand_id}).scalars().all()
    assert len(changed) == 1
    assert changed[0]["triage_due_at"] == "2031-01-02T10:00:00+08:00"
    assert changed[0]["previous_triage_due_provisional"] is True


def test_only_admins_load_and_only_staff_list_years(client, token):
    body = {"holidays": [], "makeup_workdays": [], "source": SOURCE}
    for role in (Role.COORDINATOR, Role.LEADER, Role.ENTERPRISE):
        denied = client.put("/api/v1/calendar/years/2032", json=body, headers=bearer(token(role)))
        assert denied.status_code == 403, role
    assert client.put("/api/v1/calendar/years/2032", json=body).status_code == 401
    enterprise = bearer(token(Role.ENTERPRISE, enterprise_id="ent-cal"))
    assert client.get("/api/v1/calendar/years", headers=enterprise).status_code == 403
    assert client.get("/api/v1/calendar/years/2025", headers=enterprise).status_code == 403
    staff = bearer(token(Role.GRID_WORKER))
    assert client.get("/api/v1/calendar/years/2032", headers=staff).status_code == 404


@pytest.mark.parametrize(("body", "field", "named"), [
    ({"holidays": ["2032-02-30"], "makeup_workdays": []}, "holidays", "2032-02-30"),
    ({"holidays": ["2031-12-31"], "makeup_workdays": []}, "holidays", "2031-12-31"),
    ({"holidays": [], "makeup_workdays": ["2032-01-05"]}, "makeup_workdays", "2032-01-05"),
    ({"holidays": ["2032-01-03"], "makeup_workdays": ["2032-01-03"]}, "holidays", "2032-01-03"),
    ({"year": 2033, "holidays": [], "makeup_workdays": []}, "year", "2033"),
])
def test_an_invalid_schedule_is_422_naming_field_and_date(client, token, body, field, named):
    admin = bearer(token(Role.ADMIN))
    response = client.put("/api/v1/calendar/years/2032", json={"source": SOURCE, **body},
                          headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(named in reason for reason in reasons(response.json(), field)), response.text
    staff = bearer(token(Role.COORDINATOR))
    assert client.get("/api/v1/calendar/years/2032", headers=staff).status_code == 404


def test_malformed_loads_are_named(client, token):
    admin = bearer(token(Role.ADMIN))
    shape = client.put("/api/v1/calendar/years/2032", json={"holidays": "2032-01-01",
                                                           "extra": 1}, headers=admin)
    assert shape.status_code == 422
    assert {"holidays", "makeup_workdays", "source", "extra"} <= set(shape.json()["errors"])
    year = client.put("/api/v1/calendar/years/20x2", headers=admin,
                      json={"holidays": [], "makeup_workdays": [], "source": SOURCE})
    assert year.status_code == 422
    assert "year" in year.json()["errors"]


def test_workdays_follow_the_makeup_schedule(client, token):
    tok = bearer(token(Role.ENTERPRISE, enterprise_id="ent-cal"))
    # 国庆+中秋 2025: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are working days (调休)
    response = client.get("/api/v1/calendar/workdays",
                          params={"from": "2025-09-26", "to": "2025-10-12"}, headers=tok)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "workdays": ["2025-09-26", "2025-09-28", "2025-09-29", "2025-09-30", "2025-10-09",
                     "2025-10-10", "2025-10-11"],
        "provisional": False,
    }
    far = client.get("/api/v1/calendar/workdays", params={"from": "2045-01-01",
                                                           "to": "2045-01-07"}, headers=tok)
    assert far.json() == {"workdays": ["2045-01-02", "2045-01-03", "2045-01-04", "2045-01-05",
                                       "2045-01-06"], "provisional": True}
    for params, field in (({"from": "2025-10-12", "to": "2025-09-26"}, "to"),
                          ({"from": "2020-01-01", "to": "2025-01-01"}, "to"),
                          ({"to": "2025-01-01"}, "from"),
                          ({"from": "2025-02-30", "to": "2025-03-01"}, "from")):
        bad = client.get("/api/v1/calendar/workdays", params=params, headers=tok)
        assert bad.status_code == 422, params
        assert field in bad.json()["errors"], params


def test_years_list_origins_and_show_the_schedule_in_force(client, token):
    staff = bearer(token(Role.LIAISON))
    listed = client.get("/api/v1/calendar/years", headers=staff).json()["items"]
    by_year = {item["year"]: item for item in listed}
    assert [item["year"] for item in listed] == sorted(by_year)
    now = datetime.now(SHANGHAI).year
    assert {now, now + 1} <= set(by_year)
    for year in covered_years():
        assert by_year[year]["origin"] in ("chinesecalendar", "loaded")
    assert by_year[2025]["source"].startswith("chinesecalendar")
    shown = client.get("/api/v1/calendar/years/2025", headers=staff)
    assert shown.status_code == 200
    body = shown.json()
    assert body["origin"] == "chinesecalendar" and body["loaded_at"] is None
    assert "2025-09-28" in body["makeup_workdays"] and "2025-10-01" in body["holidays"]
    assert client.get("/api/v1/calendar/years/2045", headers=staff).status_code == 404
    assert client.get("/api/v1/calendar/years/abc", headers=staff).status_code == 404


def test_metric_shows_which_of_this_and_next_year_are_missing(client, token):
    now = datetime.now(SHANGHAI).year
    known = origins(client, token(Role.COORDINATOR))
    expected = {year: 1 if known[year] == "missing" else 0 for year in (now, now + 1)}
    # bounded labels: the current and the next year, never more
    assert eventually(lambda: missing_gauge() == expected), (missing_gauge(), expected)


def test_a_preview_lists_the_deadlines_a_load_would_move_and_stores_nothing(client, token, db):
    demand_id, number = str(uuid.uuid4()), f"SQT-{uuid.uuid4().hex[:16]}"
    with db.begin() as conn:  # received Friday 2033-12-30; neither 2033 nor 2034 has data
        conn.execute(text(
            "INSERT INTO ticketing.demands (id, number, enterprise_id, channel, title,"
            " description, urgency, attachments, status, received_at, triage_due_at,"
            " triage_due_provisional, recorded_by, recorded_role, version) VALUES (:id, :n,"
            " 'ent-cal', 'enterprise', '元旦前的诉求', 'calendar preview test', 'normal', '[]',"
            " 'received', '2033-12-30T15:00:00+08:00', '2034-01-02T10:00:00+08:00', true,"
            " 'test', 'enterprise', 1)"
        ), {"id": demand_id, "n": number})
        # and a task of 财政金融部 accepted on Thursday 2033-12-29 with 2 working days: due
        # Monday 2034-01-02 (Monday to Friday standing in), its handling deadline pending
        task_id = str(uuid.uuid4())
        conn.execute(text(
            "INSERT INTO ticketing.tasks (id, demand_id, department_id, status, difficulty,"
            " handling_workdays, accept_due_at, due_at, due_provisional, accepted_at,"
            " reopen_count, escalation_level, version) VALUES (:id, :d, 'finance', 'accepted',"
            " 'normal', 2, '2033-12-29T18:00:00+08:00', '2034-01-02T18:00:00+08:00', true,"
            " '2033-12-29T10:00:00+08:00', 0, 0, 1)"), {"id": task_id, "d": demand_id})
        conn.execute(text(
            "INSERT INTO ticketing.deadlines (kind, subject_id, department_id, level, due_at,"
            " provisional) VALUES ('handling', :t, 'finance', 1, '2034-01-02T18:00:00+08:00',"
            " true)"), {"t": task_id})
    admin = bearer(token(Role.ADMIN))
    body = {"holidays": ["2034-01-02"], "makeup_workdays": [], "source": SOURCE}

    preview = client.post("/api/v1/calendar/years/2034/preview", json=body, headers=admin)

    assert preview.status_code == 200, preview.text
    result = preview.json()
    assert (result["year"], result["origin_now"]) == (2034, "missing")
    assert result["holidays_added"] == ["2034-01-02"]
    moved = {m["number"]: m for m in result["moved"]}
    assert result["demands_moved"] >= 1 and number in moved
    assert moved[number]["triage_due_at"] == "2034-01-02T10:00:00+08:00"
    assert moved[number]["new_triage_due_at"] == "2034-01-03T10:00:00+08:00"
    # the task's handling deadline too, its department by name
    [handling] = [r for r in result["replanned"] if r["task_id"] == task_id]
    assert (handling["kind"], handling["number"], handling["department_name"]) == (
        "handling", number, "财政金融部")
    assert (handling["due_at"], handling["provisional"]) == ("2034-01-02T18:00:00+08:00", True)
    assert handling["new_due_at"] == "2034-01-03T18:00:00+08:00"
    assert result["deadlines_moved"] >= 1
    # nothing stored: the year is still missing, the demand keeps its deadline
    coordinator = bearer(token(Role.COORDINATOR))
    assert client.get("/api/v1/calendar/years/2034", headers=coordinator).status_code == 404
    demand = client.get(f"/api/v1/demands/{demand_id}", headers=coordinator).json()
    assert (demand["triage_due_at"], demand["version"]) == ("2034-01-02T10:00:00+08:00", 1)
    with db.connect() as conn:
        kept = conn.execute(text(
            "SELECT t.due_at = d.due_at AND d.due_at = '2034-01-02T18:00:00+08:00'"
            " AND t.version = 1"
            " FROM ticketing.tasks t JOIN ticketing.deadlines d ON d.subject_id = t.id"
            " WHERE t.id = :t AND d.kind = 'handling'"), {"t": task_id}).scalar_one()
    assert kept

    # refused like the load: the field named; only admins
    bad = client.post("/api/v1/calendar/years/2034/preview", headers=admin,
                      json={**body, "holidays": ["2035-01-01"]})
    assert bad.status_code == 422 and "holidays" in bad.json()["errors"], bad.text
    for role in (Role.COORDINATOR, Role.LEADER, Role.ENTERPRISE):
        denied = client.post("/api/v1/calendar/years/2034/preview", json=body,
                             headers=bearer(token(role)))
        assert denied.status_code == 403, role
    assert client.post("/api/v1/calendar/years/2034/preview", json=body).status_code == 401
