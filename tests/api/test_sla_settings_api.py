"""The SLA settings (时限设置) and the handling-time table (办理时限) through the gateway:
who may read and change them, validation, the ``sla_settings_changed`` event, and that
:mod:`services.ticketing.sla` picks a change up. Every test restores the defaults."""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import ANY

import httpx
import pytest
from helpers import bearer
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from common.auth import Role
from services.ticketing import sla

CATEGORY = "sla_test_cat"
DEPARTMENT = "sla_test_dept"
DEFAULT_HANDLING = {"easy": 5, "normal": 10, "hard": 20}
SETTINGS = "/api/v1/sla/settings"
TIMES = "/api/v1/sla/handling-times"


@pytest.fixture(scope="module")
def category(db: Engine, infrastructure) -> str:
    """A category of the zone's table (enterprise service) for this module only."""
    with db.begin() as conn:
        conn.execute(text("INSERT INTO enterprise.departments (id, name, kind) "
                          "VALUES (:i, '时限测试部', 'management') ON CONFLICT DO NOTHING"),
                     {"i": DEPARTMENT})
        conn.execute(text("INSERT INTO enterprise.categories (code, name, department_id) "
                          "VALUES (:c, '时限测试', :d) ON CONFLICT DO NOTHING"),
                     {"c": CATEGORY, "d": DEPARTMENT})
    return CATEGORY


@pytest.fixture
def admin(token) -> dict[str, str]:
    return bearer(token(Role.ADMIN))


@pytest.fixture(autouse=True)
def restore_defaults(client: httpx.Client, admin: dict[str, str], db: Engine) -> Iterator[None]:
    """The test database is shared by the whole session: put the defaults back."""
    yield
    restored = client.put(SETTINGS, json=sla.DEFAULT_SETTINGS, headers=admin)
    assert restored.status_code == 200, restored.text
    for difficulty, workdays in DEFAULT_HANDLING.items():
        answer = client.put(f"{TIMES}/*/{difficulty}", json={"workdays": workdays},
                            headers=admin)
        assert answer.status_code == 200, answer.text
    with db.begin() as conn:
        conn.execute(text("DELETE FROM ticketing.handling_times WHERE category <> '*'"
                          " AND category LIKE 'sla_test%'"))


def handling_workdays(db: Engine, category: str | None, difficulty: str) -> int:
    with Session(db) as session:
        return sla.handling_workdays(session, category, difficulty)


def stored_settings(db: Engine) -> dict:
    with Session(db) as session:
        return sla.settings(session)


def last_events(db: Engine, count: int) -> list[dict]:
    with db.connect() as conn:
        rows = conn.execute(text(
            "SELECT payload->'data' FROM ticketing.outbox WHERE event_type = "
            "'sla_settings_changed' ORDER BY id DESC LIMIT :n"), {"n": count}).scalars().all()
    return list(reversed(rows))


def rows_of(client: httpx.Client, headers: dict[str, str]) -> dict[tuple[str, str], int]:
    answer = client.get(TIMES, headers=headers)
    assert answer.status_code == 200, answer.text
    return {(r["category"], r["difficulty"]): r["workdays"] for r in answer.json()["items"]}


def test_admin_sets_handling_times_and_the_table_applies(client, token, admin, db, category):
    reader = bearer(token(Role.LIAISON, department_id=DEPARTMENT))
    before = rows_of(client, reader)
    assert {k: v for k, v in before.items() if k[0] == "*"} == {
        ("*", d): w for d, w in DEFAULT_HANDLING.items()}
    assert handling_workdays(db, category, "hard") == 20  # the * row

    own = client.put(f"{TIMES}/{category}/hard", json={"workdays": 7}, headers=admin)
    assert own.status_code == 200, own.text
    assert own.json() == {"category": category, "difficulty": "hard", "workdays": 7}
    changed = client.put(f"{TIMES}/{category}/hard", json={"workdays": 8}, headers=admin)
    assert changed.status_code == 200, changed.text
    default = client.put(f"{TIMES}/*/easy", json={"workdays": 6}, headers=admin)
    assert default.status_code == 200, default.text

    listed = rows_of(client, reader)
    assert listed[(category, "hard")] == 8 and listed[("*", "easy")] == 6
    assert list(listed)[:3] == [("*", "easy"), ("*", "normal"), ("*", "hard")]
    assert handling_workdays(db, category, "hard") == 8
    assert handling_workdays(db, category, "normal") == 10  # no own row: the * row
    assert handling_workdays(db, category, "easy") == 6
    assert handling_workdays(db, None, "easy") == 6

    first, second, third = last_events(db, 3)
    assert first["what"] == "handling_time" and first["previous_workdays"] is None
    assert (second["workdays"], second["previous_workdays"]) == (8, 7)
    assert (third["category"], third["difficulty"], third["workdays"]) == ("*", "easy", 6)
    assert all(e["actor"].startswith("admin-") for e in (first, second, third))

    assert client.delete(f"{TIMES}/*", headers=admin).status_code == 409
    removed = client.delete(f"{TIMES}/{category}", headers=admin)
    assert removed.status_code == 204, removed.text
    [deleted] = last_events(db, 1)
    assert deleted == {"actor": deleted["actor"], "actor_role": "admin",
                       "what": "handling_time_deleted", "category": category,
                       "removed": {"hard": 8}}
    assert (category, "hard") not in rows_of(client, reader)
    assert handling_workdays(db, category, "hard") == 20
    assert client.delete(f"{TIMES}/{category}", headers=admin).status_code == 404


def test_admin_changes_the_settings(client, token, admin, db):
    reader = bearer(token(Role.GRID_WORKER, grid_ids=("INC01",)))
    shown = client.get(SETTINGS, headers=reader)
    assert shown.status_code == 200, shown.text
    assert shown.json() == {**sla.DEFAULT_SETTINGS, "version": ANY}

    new = {"acceptance_workdays": 0, "reminder_workdays_before": [3],
           "escalate_to_leader_workdays": 2, "escalate_to_group_workdays": 4,
           "rating_reminder_workdays": 5, "close_unrated_workdays": 15}
    changed = client.put(SETTINGS, json=new, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**new, "version": shown.json()["version"] + 1}
    assert client.get(SETTINGS, headers=reader).json() == changed.json()
    assert stored_settings(db) == new
    [event] = last_events(db, 1)
    assert event["what"] == "settings" and event["actor"].startswith("admin-")
    assert event["changed"] == sorted(new)  # every value differs from the defaults
    assert event["previous"]["close_unrated_workdays"] == 10 and event["settings"] == new

    none = client.put(SETTINGS, json={**new, "reminder_workdays_before": []}, headers=admin)
    assert none.status_code == 200 and none.json()["reminder_workdays_before"] == []


def test_roles(client, token, category):
    enterprise = bearer(token(Role.ENTERPRISE, enterprise_id="E-sla"))
    assert client.get(SETTINGS, headers=enterprise).status_code == 403
    assert client.get(TIMES, headers=enterprise).status_code == 403
    assert client.get(SETTINGS).status_code == 401
    for role in (Role.COORDINATOR, Role.LEADER, Role.GRID_WORKER):
        staff = bearer(token(role))
        assert client.get(SETTINGS, headers=staff).status_code == 200
        assert client.get(TIMES, headers=staff).status_code == 200
        assert client.put(SETTINGS, json=sla.DEFAULT_SETTINGS,
                          headers=staff).status_code == 403
        assert client.put(f"{TIMES}/{category}/easy", json={"workdays": 3},
                          headers=staff).status_code == 403
        assert client.delete(f"{TIMES}/{category}", headers=staff).status_code == 403


@pytest.mark.parametrize(("change", "field"), [
    ({"acceptance_workdays": 31}, "acceptance_workdays"),
    ({"acceptance_workdays": -1}, "acceptance_workdays"),
    ({"acceptance_workdays": "1"}, "acceptance_workdays"),
    ({"reminder_workdays_before": [2, 2]}, "reminder_workdays_before"),
    ({"reminder_workdays_before": [0]}, "reminder_workdays_before"),
    ({"reminder_workdays_before": [31]}, "reminder_workdays_before"),
    ({"reminder_workdays_before": list(range(1, 12))}, "reminder_workdays_before"),
    ({"escalate_to_leader_workdays": 0}, "escalate_to_leader_workdays"),
    ({"escalate_to_group_workdays": 61}, "escalate_to_group_workdays"),
    ({"rating_reminder_workdays": 31}, "rating_reminder_workdays"),
    ({"close_unrated_workdays": 3}, "close_unrated_workdays"),  # not more than the reminder
    ({"close_unrated_workdays": 61}, "close_unrated_workdays"),
    ({"close_unrated_workdays": None}, "close_unrated_workdays"),
])
def test_invalid_settings_are_422_naming_the_field(client, admin, db, change, field):
    answer = client.put(SETTINGS, json={**sla.DEFAULT_SETTINGS, **change}, headers=admin)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert {path.split(".")[0] for path in answer.json()["errors"]} == {field}
    assert stored_settings(db) == sla.DEFAULT_SETTINGS


def test_missing_setting_is_422(client, admin):
    partial = {k: v for k, v in sla.DEFAULT_SETTINGS.items() if k != "acceptance_workdays"}
    answer = client.put(SETTINGS, json=partial, headers=admin)
    assert answer.status_code == 422
    assert list(answer.json()["errors"]) == ["acceptance_workdays"]


@pytest.mark.parametrize(("path", "body", "field"), [
    (f"{CATEGORY}/normal", {"workdays": 0}, "workdays"),
    (f"{CATEGORY}/normal", {"workdays": 251}, "workdays"),
    (f"{CATEGORY}/normal", {}, "workdays"),
    (f"{CATEGORY}/extreme", {"workdays": 5}, "difficulty"),
    ("sla_test_no_such_category/normal", {"workdays": 5}, "category"),
    ("*/normal", {"workdays": "ten"}, "workdays"),
])
def test_invalid_handling_times_are_422_naming_the_field(client, admin, db, category,
                                                         path, body, field):
    answer = client.put(f"{TIMES}/{path}", json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert {path.split(".")[0] for path in answer.json()["errors"]} == {field}
    assert handling_workdays(db, category, "normal") == 10
