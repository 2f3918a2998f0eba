"""A year an operator loads in ticketing reaches the registry: obligation reminders move to
that year's real working days, lose their provisional flag, with one event and one audit line
each."""

from __future__ import annotations

from helpers import bearer, eventually, new_enterprise_id
from sqlalchemy import text

from common.auth import Role

YEAR = 2051  # nobody else loads it
# made up for the test: Thursday 03-09 and Friday 03-10 off, no makeup day
SCHEDULE = {"holidays": ["2051-03-09", "2051-03-10"], "makeup_workdays": [],
            "source": "test schedule"}


def test_loaded_year_replans_committee_reminders(client, token, db):
    admin = token(Role.ADMIN)
    ent = new_enterprise_id()
    contract = client.post("/api/v1/contracts", headers=bearer(admin), json={
        "enterprise_id": ent, "title": "入驻协议", "signed_on": "2026-11-01",
        "department_id": "economic_development",
        "obligations": [{"party": "committee", "description": "兑现租金补贴",
                         "due_on": "2051-03-14"}]})
    assert contract.status_code == 201, contract.text
    ob = contract.json()["obligations"][0]
    # without data 2051 is Monday-Friday: 5 working days before Tuesday 03-14 is Tuesday 03-07
    assert ob["remind_on"] == "2051-03-07"
    assert ob["remind_on_provisional"] is True  # 2051 has no table yet
    loaded = client.put(f"/api/v1/calendar/years/{YEAR}", json=SCHEDULE, headers=bearer(admin))
    assert loaded.status_code == 200, loaded.text

    def remind_on() -> str:
        with db.connect() as conn:
            return str(conn.execute(text("SELECT remind_on FROM enterprise.obligations "
                                         "WHERE id = :i"), {"i": ob["id"]}).scalar_one())

    # counting back from Tuesday 03-14: 13, (10 and 09 off), 08, 07, 06, 03
    assert eventually(lambda: remind_on() == "2051-03-03", timeout=5)
    with db.connect() as conn:
        stored = conn.execute(text("SELECT holidays FROM enterprise.calendar_years "
                                   "WHERE year = :y"), {"y": YEAR}).scalar_one_or_none()
    assert [str(d) for d in stored or []] == ["2051-03-09", "2051-03-10"]

    shown = client.get(f"/api/v1/contracts/{contract.json()['id']}", headers=bearer(admin))
    [after] = shown.json()["obligations"]
    assert (after["remind_on"], after["remind_on_provisional"]) == ("2051-03-03", False)
    with db.connect() as conn:
        changed = conn.execute(text(
            "SELECT payload->'data' FROM enterprise.outbox WHERE event_type = "
            "'obligation_deadline_changed' AND payload->'data'->>'obligation_id' = :i"),
            {"i": ob["id"]}).scalars().all()
        lines = conn.execute(text(
            "SELECT actor_id, action, fields_changed FROM enterprise.audit_log "
            "WHERE subject_ids->>'obligation_id' = :i"), {"i": ob["id"]}).all()
    assert len(changed) == 1
    assert changed[0]["previous_remind_on"] == "2051-03-07"
    assert changed[0]["previous_remind_on_provisional"] is True
    assert (changed[0]["remind_on"], changed[0]["remind_on_provisional"]) == ("2051-03-03",
                                                                               False)
    assert changed[0]["calendar_year"] == YEAR
    assert [tuple(line) for line in lines] == [
        ("platform", "obligation_deadline_replanned", ["remind_on", "remind_on_provisional"])]
