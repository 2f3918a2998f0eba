"""考评, 总览 and 评优 through the gateway against the running platform: who sees what (and the
denials), validation, settings, the veto, the awards' growth figures and the XLSX export.
The figures themselves are checked by hand in ``test_appraisal.py``."""

from __future__ import annotations

import io
import time
from datetime import datetime

import openpyxl
import pytest
from helpers import SENDS_IF_MATCH, bearer, demand_body, named_fields
from sqlalchemy import text

from common.auth import Role
from common.calendar import SHANGHAI

GRID_A, GRID_B = "GEO01", "GEO02"
DEPT_A, DEPT_B = "finance", "taxation"
TODAY = datetime.now(SHANGHAI).date().isoformat()  # the platform's day, not the machine's
YEAR = int(TODAY[:4])
PERIOD = {"from": TODAY, "to": TODAY}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _enterprise_in(db, grid: str) -> str:
    with db.connect() as conn:
        return str(conn.execute(text(
            "SELECT id FROM enterprise.enterprises WHERE grid_id = :g AND in_scope "
            "ORDER BY credit_code LIMIT 1"), {"g": grid}).scalar_one())


@pytest.fixture(scope="module")
def work(db, infrastructure, platform):
    """Two demands recorded today by grid workers of GEO01 and GEO02, triaged to finance and
    taxation; finance's liaison accepts its task."""
    import httpx

    from common.auth import Principal, mint_token
    from common.config import DEV_JWT_SECRET

    def tok(role: Role, user: str, **claims: object) -> dict[str, str]:
        return bearer(mint_token(Principal(user_id=user, role=role, **claims),  # type: ignore
                                 DEV_JWT_SECRET, 900))

    coordinator = tok(Role.COORDINATOR, "appraisal-coordinator")
    found = {}
    with httpx.Client(base_url=platform.gateway_url(), timeout=30, **SENDS_IF_MATCH) as client:
        for grid, dept, worker in ((GRID_A, DEPT_A, "appraisal-worker-a"),
                                   (GRID_B, DEPT_B, "appraisal-worker-b")):
            created = client.post("/api/v1/demands", headers=tok(
                Role.GRID_WORKER, worker, grid_ids=(grid,)), json=demand_body(
                channel="grid_worker", enterprise_id=_enterprise_in(db, grid)))
            assert created.status_code == 201, created.text
            triaged = client.post(f"/api/v1/demands/{created.json()['id']}/triage",
                                  headers=coordinator, json={
                                      "category": "finance", "proposed_opinion": "请办理",
                                      "departments": [{"department_id": dept}]})
            assert triaged.status_code == 200, triaged.text
            found[grid] = triaged.json()["tasks"][0]["id"]
        accepted = client.post(f"/api/v1/tasks/{found[GRID_A]}/accept",
                               headers=tok(Role.LIAISON, "appraisal-liaison-a",
                                           department_id=DEPT_A))
        assert accepted.status_code == 200, accepted.text
    return found


def subjects(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["subject_id"] for row in response.json()["items"]]


def test_each_reader_sees_their_part_and_others_are_denied(client, token, work):
    leader = bearer(token(Role.LEADER))
    grids = client.get("/api/v1/appraisal/grids", params=PERIOD, headers=leader)
    assert {GRID_A, GRID_B} <= set(subjects(grids))
    body = grids.json()
    assert (body["subject"], body["from"], body["to"]) == ("grids", TODAY, TODAY)
    row = next(r for r in body["items"] if r["subject_id"] == GRID_A)
    assert row["demands"] >= 1 and row["triage_on_time_rate"] == 1.0

    grid_leader = bearer(token(Role.GRID_LEADER, grid_ids=(GRID_A,)))
    assert subjects(client.get("/api/v1/appraisal/grids", params=PERIOD,
                               headers=grid_leader)) == [GRID_A]
    workers = subjects(client.get("/api/v1/appraisal/grid-workers", params=PERIOD,
                                  headers=grid_leader))
    assert "appraisal-worker-a" in workers and "appraisal-worker-b" not in workers

    head = bearer(token(Role.DEPARTMENT_HEAD, department_id=DEPT_A))
    assert subjects(client.get("/api/v1/appraisal/departments", params=PERIOD,
                               headers=head)) == [DEPT_A]
    liaisons = client.get("/api/v1/appraisal/liaisons", params=PERIOD, headers=head)
    assert subjects(liaisons) == ["appraisal-liaison-a"]
    assert liaisons.json()["items"][0]["response_rate"] == 1.0

    denied = [
        ("/api/v1/appraisal/grids", head), ("/api/v1/appraisal/departments", grid_leader),
        ("/api/v1/appraisal/grids", bearer(token(Role.GRID_WORKER, grid_ids=(GRID_A,)))),
        ("/api/v1/appraisal/liaisons", bearer(token(Role.LIAISON, department_id=DEPT_A))),
        ("/api/v1/overview", bearer(token(Role.ENTERPRISE, enterprise_id="x"))),
        ("/api/v1/awards", bearer(token(Role.LIAISON, department_id=DEPT_A))),
    ]
    for path, headers in denied:
        answer = client.get(path, params={**PERIOD, "year": 2025}, headers=headers)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    # the gateway lets a department head ask for yearly scores; the service keeps them to
    # departments and liaisons
    yearly = client.get("/api/v1/appraisal/yearly", params={"year": 2026, "subject": "grids"},
                        headers=head)
    assert yearly.status_code == 403, yearly.text
    assert client.get("/api/v1/appraisal/grids", params=PERIOD).status_code == 401


def test_bad_periods_are_422_naming_the_field(client, token):
    leader = bearer(token(Role.LEADER))
    cases = [({"to": TODAY}, "from"), ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
             ({"from": "1999-01-01", "to": "2026-01-01"}, "from"),
             ({"from": "2026-01-01", "to": "not-a-day"}, "to")]
    for params, field in cases:
        answer = client.get("/api/v1/appraisal/departments", params=params, headers=leader)
        assert answer.status_code == 422, answer.text
        assert field in answer.json()["errors"], answer.json()
    answer = client.get("/api/v1/appraisal/yearly", params={"year": 2026, "subject": "cats"},
                        headers=leader)
    assert answer.status_code == 422 and "subject" in answer.json()["errors"]
    answer = client.get("/api/v1/appraisal/grids", params={**PERIOD, "refresh": "maybe"},
                        headers=leader)
    assert answer.status_code == 422 and "refresh" in answer.json()["errors"], answer.text


def test_the_appraisal_says_when_it_was_computed_and_refresh_computes_it_now(client, token,
                                                                           work, db):
    """数据更新于: the period's and the year's answers carry ``as_of``. This small zone's
    appraisal is computed at each read; a kept one (as a province's is; here planted a minute
    old and empty) is answered as kept until 刷新 (``refresh``) computes it now."""
    leader = bearer(token(Role.LEADER))
    started = datetime.now(SHANGHAI).replace(microsecond=0)
    live = client.get("/api/v1/appraisal/grids", params=PERIOD, headers=leader)
    assert live.status_code == 200, live.text
    assert datetime.fromisoformat(live.json()["as_of"]) >= started
    assert GRID_A in [row["subject_id"] for row in live.json()["items"]]
    yearly = client.get("/api/v1/appraisal/yearly", params={"year": YEAR, "subject": "grids"},
                        headers=leader)
    assert yearly.status_code == 200, yearly.text
    assert datetime.fromisoformat(yearly.json()["as_of"]) >= started

    version = client.get("/api/v1/appraisal/settings", headers=leader).json()["version"]
    key = f"appraisal:grids:{version}"
    with db.begin() as conn:
        planted_at = conn.execute(text(
            "INSERT INTO ticketing.overview_snapshots (scope_key, \"from\", \"to\", answer, "
            "computed_at, read_at) VALUES (:key, :day, :day, "
            "jsonb_build_object('as_of', to_char(now() - interval '60 s', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.USOF:\"00\"'), 'items', '[]'::jsonb), "
            "now() - interval '60 s', now()) RETURNING computed_at"),
            {"key": key, "day": PERIOD["from"]}).scalar_one()
    try:
        kept = client.get("/api/v1/appraisal/grids", params=PERIOD, headers=leader)
        assert kept.status_code == 200, kept.text
        assert kept.json()["items"] == []
        assert datetime.fromisoformat(kept.json()["as_of"]) == planted_at
        refreshed = client.get("/api/v1/appraisal/grids", params={**PERIOD, "refresh": "true"},
                               headers=leader)
        assert refreshed.status_code == 200, refreshed.text
        assert GRID_A in [row["subject_id"] for row in refreshed.json()["items"]]
        assert datetime.fromisoformat(refreshed.json()["as_of"]) > planted_at
    finally:
        with db.begin() as conn:
            conn.execute(text("DELETE FROM ticketing.overview_snapshots WHERE scope_key = :key"),
                         {"key": key})


def test_yearly_scores_and_the_veto(client, token, work):
    admin = bearer(token(Role.ADMIN))
    leader = bearer(token(Role.LEADER))
    year = YEAR
    params = {"year": year, "subject": "grids"}
    before = client.get("/api/v1/appraisal/yearly", params=params, headers=leader)
    assert before.status_code == 200, before.text
    assert before.json()["items"][0]["rank"] == 1
    veto = {"subject": "grids", "subject_id": GRID_A, "year": year, "vetoed": True,
            "reason": "廉洁自律考核不合格"}
    assert client.put("/api/v1/appraisal/vetoes", json=veto,
                      headers=bearer(token(Role.COORDINATOR))).status_code == 403
    set_ = client.put("/api/v1/appraisal/vetoes", json=veto, headers=admin)
    assert set_.status_code == 200, set_.text
    assert set_.json()["active"] is True and set_.json()["recorded_by"]
    after = {r["subject_id"]: r for r in client.get(
        "/api/v1/appraisal/yearly", params=params, headers=leader).json()["items"]}
    assert after[GRID_A]["score"] == 0.0 and after[GRID_A]["vetoed"] is True
    assert after[GRID_A]["veto_reason"] == "廉洁自律考核不合格"
    listed = client.get("/api/v1/appraisal/vetoes", params={"year": year}, headers=leader)
    assert [(v["subject_id"], v["active"]) for v in listed.json()["items"]] == [(GRID_A, True)]
    unknown = client.put("/api/v1/appraisal/vetoes", headers=admin,
                         json={**veto, "subject_id": "NO-SUCH-GRID"})
    assert unknown.status_code == 422 and "subject_id" in unknown.json()["errors"]
    lifted = client.put("/api/v1/appraisal/vetoes", headers=admin,
                        json={**veto, "vetoed": False, "reason": "复核撤销"})
    assert lifted.status_code == 200 and lifted.json()["active"] is False
    assert lifted.json()["lift_reason"] == "复核撤销"
    never = client.put("/api/v1/appraisal/vetoes", headers=admin,
                       json={**veto, "subject_id": GRID_B, "vetoed": False})
    assert never.status_code == 404, never.text


def test_settings_are_read_by_readers_and_changed_by_admins(client, token):
    admin = bearer(token(Role.ADMIN))
    current = client.get("/api/v1/appraisal/settings", headers=bearer(token(Role.LEADER)))
    assert current.status_code == 200, current.text
    settings = current.json()
    assert set(settings["difficulty_points"]) == {"easy", "normal", "hard"}
    changed = {**settings, "weights": {"quantity": 1, "quality": 1, "difficulty": 0}}
    assert client.put("/api/v1/appraisal/settings", json=changed,
                      headers=bearer(token(Role.COORDINATOR))).status_code == 403
    try:
        saved = client.put("/api/v1/appraisal/settings", json=changed, headers=admin)
        assert saved.status_code == 200, saved.text
        yearly = client.get("/api/v1/appraisal/yearly", headers=admin,
                            params={"year": YEAR, "subject": "departments"})
        assert yearly.json()["weights"] == {"quantity": 1.0, "quality": 1.0, "difficulty": 0.0}
        for bad, field in (({**settings, "difficulty_points": {"easy": 1, "normal": 2}},
                            "difficulty_points"),
                           ({**settings, "weights": {"quantity": 0, "quality": 0,
                                                     "difficulty": 0}}, "weights"),
                           ({**settings, "awards": {**settings["awards"], "count": 0}},
                            "awards")):
            answer = client.put("/api/v1/appraisal/settings", json=bad, headers=admin)
            assert answer.status_code == 422, answer.text
            assert field in named_fields(answer.json()), answer.json()
    finally:
        client.put("/api/v1/appraisal/settings", json=settings, headers=admin)


def test_overview_through_the_gateway(client, token, work, db):
    with db.begin() as conn:  # no answer kept from an earlier run of the suite
        conn.execute(text("DELETE FROM ticketing.overview_snapshots"))
    leader = client.get("/api/v1/overview", params=PERIOD, headers=bearer(token(Role.LEADER)))
    assert leader.status_code == 200, leader.text
    everything = leader.json()
    assert everything["totals"]["received"] >= 2
    assert [m["month"] for m in everything["trend"]] == [TODAY[:7]]
    # the second read is the kept answer: computed at the same moment (数据更新于)
    again = client.get("/api/v1/overview", params=PERIOD, headers=bearer(token(Role.LEADER)))
    assert again.status_code == 200, again.text
    assert again.json() == everything
    forced = client.get("/api/v1/overview", params={**PERIOD, "refresh": "true"},
                        headers=bearer(token(Role.LEADER)))
    assert forced.status_code == 200, forced.text
    assert forced.json()["as_of"] == everything["as_of"]  # younger than 30 s: as it is
    head = client.get("/api/v1/overview", params=PERIOD,
                      headers=bearer(token(Role.DEPARTMENT_HEAD, department_id=DEPT_B)))
    assert head.status_code == 200, head.text
    assert [d["department_id"] for d in head.json()["by_department"]] == [DEPT_B]
    assert head.json()["totals"]["received"] < everything["totals"]["received"]


def test_the_running_timer_refreshes_a_snapshot_read_recently(client, token, work, db):
    """Ticketing's timer (every second in the tests) recomputes a snapshot read recently once it
    is 3 minutes old: here one made 200 s old and wrong by hand is replaced by the right
    figures well before it is 5 minutes old (when a read would recompute it itself)."""
    leader = bearer(token(Role.LEADER))
    right = client.get("/api/v1/overview", params=PERIOD, headers=leader).json()
    with db.begin() as conn:
        changed = conn.execute(text(
            "UPDATE ticketing.overview_snapshots SET computed_at = now() - interval '200 s', "
            "answer = jsonb_set(answer, '{totals,received}', '-1') WHERE scope_key = 'all' "
            "AND \"from\" = :start AND \"to\" = :end"),
            {"start": PERIOD["from"], "end": PERIOD["to"]}).rowcount
    assert changed == 1
    deadline = time.monotonic() + 60  # still younger than 5 minutes then
    while True:  # the timer's next ticks
        now = client.get("/api/v1/overview", params=PERIOD, headers=leader).json()
        if now["totals"]["received"] != -1 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert now["totals"]["received"] == right["totals"]["received"]
    assert now["as_of"] > right["as_of"]


def test_awards_use_the_registry_growth(client, token, db):
    year = 2025
    leader = client.get("/api/v1/awards", params={"year": year},
                        headers=bearer(token(Role.LEADER)))
    assert leader.status_code == 200, leader.text
    items = {row["grid_id"]: row for row in leader.json()["items"]}
    with db.connect() as conn:
        grids = conn.execute(text(
            "SELECT id, owner_department_id FROM enterprise.grids")).all()
        expected = conn.execute(text(
            "SELECT e.grid_id, y, sum(v.value) FROM enterprise.enterprises e "
            "JOIN LATERAL (SELECT DISTINCT ON (p.year) p.year AS y, p.value FROM "
            "enterprise.profile_values p WHERE p.enterprise_id = e.id "
            "AND p.indicator = 'output_value' AND p.year IN (:y, :y - 1) "
            "ORDER BY p.year, p.entered_at DESC, p.id DESC) v ON true "
            "WHERE e.in_scope AND e.grid_id = :g GROUP BY e.grid_id, y"),
            {"y": year, "g": GRID_A}).all()
    assert set(items) == {grid for grid, _ in grids}
    sums = {y: float(total) for _grid, y, total in expected}
    row = items[GRID_A]
    assert row["output_value"] == (pytest.approx(sums[year]) if year in sums else None)
    assert row["output_value_previous"] == (
        pytest.approx(sums[year - 1]) if year - 1 in sums else None)
    if sums.get(year - 1) and year in sums:
        assert row["output_growth"] == pytest.approx(
            (sums[year] - sums[year - 1]) / sums[year - 1], abs=1e-4)
    assert sorted(r["rank"] for r in items.values())[0] == 1
    assert sum(r["awarded"] for r in items.values()) <= leader.json()["criteria"]["count"]

    grid_leader = client.get("/api/v1/awards", params={"year": year},
                             headers=bearer(token(Role.GRID_LEADER, grid_ids=(GRID_A,))))
    assert [r["grid_id"] for r in grid_leader.json()["items"]] == [GRID_A]
    assert grid_leader.json()["items"][0]["rank"] == row["rank"]  # ranked among all grids
    owner = dict(grids)[GRID_A]
    head = client.get("/api/v1/awards", params={"year": year},
                      headers=bearer(token(Role.DEPARTMENT_HEAD, department_id=owner)))
    assert {r["grid_id"] for r in head.json()["items"]} == {
        grid for grid, department in grids if department == owner}
    assert client.get("/api/v1/awards", params={"year": 1900},
                      headers=bearer(token(Role.LEADER))).status_code == 422


def test_xlsx_export_matches_the_json(client, token, work):
    leader = bearer(token(Role.LEADER))
    rows = client.get("/api/v1/appraisal/departments", params=PERIOD, headers=leader).json()
    exported = client.get("/api/v1/appraisal/departments/export.xlsx", params=PERIOD,
                          headers=leader)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == XLSX
    assert "attachment" in exported.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
    table = list(sheet.iter_rows(values_only=True))
    header = table[0]
    assert header[:3] == ("部门", "所属部门", "网格") and "响应率" in header
    # named, never by id: 财政金融部, not finance
    assert [line[0] for line in table[1:]] == [r["name"] for r in rows["items"]]
    assert "财政金融部" in [line[0] for line in table[1:]]
    response = header.index("响应率")
    by_id = {r["name"]: r for r in rows["items"]}
    for line in table[1:]:
        expected = by_id[line[0]]["response_rate"]
        assert (line[response] or None) == expected or line[response] == expected
    head = bearer(token(Role.DEPARTMENT_HEAD, department_id=DEPT_A))
    mine = client.get("/api/v1/appraisal/liaisons/export.xlsx", params=PERIOD, headers=head)
    assert mine.status_code == 200
    lines = list(openpyxl.load_workbook(io.BytesIO(mine.content)).active.iter_rows(
        values_only=True))
    assert [line[0] for line in lines[1:]] == ["appraisal-liaison-a"]
    yearly = client.get("/api/v1/appraisal/yearly/export.xlsx", headers=leader,
                        params={"year": YEAR, "subject": "grids"})
    assert yearly.status_code == 200 and yearly.headers["content-type"] == XLSX
    assert client.get("/api/v1/appraisal/grids/export.xlsx", params=PERIOD,
                      headers=head).status_code == 403


def test_subjects_are_named_from_the_registry(client, token, db, work):
    """Grid workers and liaisons by the person's name, grids and departments by theirs, in
    the JSON and in the XLSX (an id the registry does not know keeps ``name: null``)."""
    with db.connect() as conn:
        worker_id, worker_name = conn.execute(text(
            "SELECT a.id, a.name FROM enterprise.grid_staff s JOIN enterprise.accounts a "
            "ON a.id = s.account_id WHERE s.grid_id = :g AND s.duty = 'worker' "
            "ORDER BY a.username LIMIT 1"), {"g": GRID_A}).one()
        grid_name = conn.execute(text("SELECT name FROM enterprise.grids WHERE id = :g"),
                                 {"g": GRID_A}).scalar_one()
    worker = bearer(token(Role.GRID_WORKER, user_id=str(worker_id), grid_ids=(GRID_A,)))
    created = client.post("/api/v1/demands", headers=worker, json=demand_body(
        channel="grid_worker", enterprise_id=_enterprise_in(db, GRID_A)))
    assert created.status_code == 201, created.text
    leader = bearer(token(Role.LEADER))
    workers = client.get("/api/v1/appraisal/grid-workers", params=PERIOD, headers=leader)
    assert workers.status_code == 200, workers.text
    names = {r["subject_id"]: r["name"] for r in workers.json()["items"]}
    assert names[str(worker_id)] == worker_name
    assert names["appraisal-worker-a"] is None  # not an account of the registry
    grids = client.get("/api/v1/appraisal/grids", params=PERIOD, headers=leader).json()
    assert {r["subject_id"]: r["name"] for r in grids["items"]}[GRID_A] == grid_name
    yearly = client.get("/api/v1/appraisal/yearly", headers=leader,
                        params={"year": YEAR, "subject": "departments"})
    assert {r["subject_id"]: r["name"] for r in yearly.json()["items"]}[DEPT_A] == "财政金融部"
    sheet = client.get("/api/v1/appraisal/grid-workers/export.xlsx", params=PERIOD,
                       headers=leader)
    lines = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(
        values_only=True))
    assert worker_name in [line[0] for line in lines[1:]]
    assert grid_name in [line[2] for line in lines[1:]]  # the grids column, named


def test_grid_growth_is_for_award_readers_only(db):
    from sqlalchemy.orm import Session

    from common.auth import Principal
    from common.errors import Forbidden
    from services.enterprise.growth import grid_growth

    with Session(db) as session:
        rows = grid_growth(session, Principal(user_id="s", role=Role.SERVICE), 2025)
        assert {row["grid_id"] for row in rows} >= {GRID_A, GRID_B}
        for role in (Role.GRID_WORKER, Role.ENTERPRISE):
            with pytest.raises(Forbidden):
                grid_growth(session, Principal(user_id="x", role=role), 2025)


def test_a_year_without_figures_is_no_data_never_a_fall_of_100_percent(client, token, db):
    """年终优秀奖励 for a year nobody reported figures for: every grid's output value and tax
    are null with the reason, never 0 and −100 %; a grid with figures only for the year
    before says the year has none."""
    year = 2061  # nobody reports this far ahead
    enterprise = _enterprise_in(db, GRID_A)
    with db.begin() as conn:
        conn.execute(text(
            "DELETE FROM enterprise.profile_values WHERE year IN (:y, :y - 1)"), {"y": year})
        conn.execute(text(
            "INSERT INTO enterprise.profile_values (enterprise_id, year, indicator, value, "
            "source, entered_by) VALUES (:e, :y - 1, 'output_value', 1200, 'registration', "
            "'test'), (:e, :y - 1, 'tax', 80, 'registration', 'test')"),
            {"e": enterprise, "y": year})
    try:
        for role, extra in ((Role.LEADER, {}), (Role.COORDINATOR, {}),
                            (Role.GRID_LEADER, {"grid_ids": (GRID_A,)})):
            answer = client.get("/api/v1/awards", params={"year": year},
                                headers=bearer(token(role, **extra)))
            assert answer.status_code == 200, answer.text
            rows = {row["grid_id"]: row for row in answer.json()["items"]}
            had = rows[GRID_A]
            assert (had["output_value"], had["output_value_previous"]) == (None, 1200)
            assert (had["output_growth"], had["output_growth_note"]) == (None, "no_data")
            assert (had["tax_growth"], had["tax_growth_note"]) == (None, "no_data")
            assert had["output_growth_score"] == 0
            for row in rows.values():
                assert row["output_value"] is None and row["tax"] is None
                assert row["output_growth"] is None and row["tax_growth"] is None
        labels = client.get("/api/v1/dictionaries", headers=bearer(token(Role.LEADER))).json()
        assert "growth_note" in str(labels)
    finally:
        with db.begin() as conn:
            conn.execute(text("DELETE FROM enterprise.profile_values WHERE year = :y - 1 "
                              "AND entered_by = 'test'"), {"y": year})
