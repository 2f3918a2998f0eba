"""政企座谈 through the gateway: a meeting targeted at one industry in two grids invites exactly
the matching in-scope enterprises (and tells the notification service through the outbox);
each role sees only its meetings; registration, attendance, feedback and the yearly report."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from unittest.mock import ANY

import httpx
import pytest
from helpers import SENDS_IF_MATCH, bearer, eventually, named_fields, new_enterprise_id
from sqlalchemy import text
from sqlalchemy.engine import Engine

from common.auth import Role
from common.calendar import SHANGHAI


@dataclass(frozen=True)
class Zone:
    d1: str
    d2: str
    i1: str
    i2: str
    i3: str
    m1: str  # I1, C3911: invited
    m2: str  # I2, C39: invited
    m3: str  # I2, C3912: invited
    out_of_scope: str  # I1, C39, not operating
    other_industry: str  # I1, I65
    other_grid: str  # I3, C39


@pytest.fixture(scope="module")
def zone(db: Engine, platform) -> Zone:
    """Two departments and three incubator grids of the test's own, and enterprises registered
    through the gateway: three match the audience, three must never be invited."""
    sfx = uuid.uuid4().hex[:6].upper()
    depts = (f"mtg-a-{sfx}", f"mtg-b-{sfx}")
    grids = (f"MA{sfx}", f"MB{sfx}", f"MC{sfx}")
    with db.begin() as conn:
        for dept in depts:
            conn.execute(text("INSERT INTO enterprise.departments (id, name, kind) "
                              "VALUES (:i, :n, 'management')"), {"i": dept, "n": f"部门{dept}"})
        for grid in grids:
            conn.execute(text(
                "INSERT INTO enterprise.grids (id, name, kind, owner_department_id, lon, lat) "
                "VALUES (:i, :n, 'incubator', :d, 120.3, 36.3)"),
                {"i": grid, "n": f"孵化器{grid}", "d": depts[0]})
    i1, i2, i3 = grids
    return Zone(
        *depts, *grids,
        m1=new_enterprise_id(incubator_id=i1, industry_code="C3911", name="甲智能装备有限公司"),
        m2=new_enterprise_id(incubator_id=i2, industry_code="C39", name="乙电子科技有限公司"),
        m3=new_enterprise_id(incubator_id=i2, industry_code="C3912", name="丙计算机有限公司"),
        out_of_scope=new_enterprise_id(incubator_id=i1, industry_code="C39", operating=False),
        other_industry=new_enterprise_id(incubator_id=i1, industry_code="I65"),
        other_grid=new_enterprise_id(incubator_id=i3, industry_code="C39"),
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def meeting_body(zone: Zone, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "theme": "智能制造政企座谈", "starts_at": iso(datetime.now(UTC) + timedelta(days=3)),
        "place": "高新区管委会302会议室", "organiser_department_id": zone.d1,
        "organiser_contact": "经济发展部 王科长",
        "audience": {"grid_ids": [zone.i1, zone.i2], "industry_codes": ["C39"]},
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="module")
def staff(infrastructure) -> dict[str, dict[str, str]]:
    from common.auth import Principal, mint_token
    from common.config import DEV_JWT_SECRET

    def as_(role: Role, **claims: object) -> dict[str, str]:
        principal = Principal(user_id=f"{role}-{uuid.uuid4().hex[:6]}", role=role,
                              **claims)  # type: ignore[arg-type]
        return bearer(mint_token(principal, DEV_JWT_SECRET, 3600))

    return {"coordinator": as_(Role.COORDINATOR, department_id="economic_development"),
            "admin": as_(Role.ADMIN), "leader": as_(Role.LEADER)}


@pytest.fixture(scope="module")
def invited(zone: Zone, staff, platform) -> dict[str, object]:
    """A meeting for industry C39 in grids I1 and I2, planned and invited by a coordinator."""
    with httpx.Client(base_url=platform.gateway_url(), timeout=30, **SENDS_IF_MATCH) as client:
        planned = client.post("/api/v1/meetings", json=meeting_body(zone),
                              headers=staff["coordinator"])
        assert planned.status_code == 201, planned.text
        meeting = planned.json()
        assert planned.headers["location"] == f"/api/v1/meetings/{meeting['id']}"
        sent = client.post(f"/api/v1/meetings/{meeting['id']}/invite",
                           headers={**staff["coordinator"], "If-Match": '"1"'})
        assert sent.status_code == 200, sent.text
        return sent.json()


def test_one_industry_in_two_grids_invites_exactly_the_matching_in_scope_enterprises(
        client, db, zone, staff, invited):
    expected = sorted([zone.m1, zone.m2, zone.m3])
    assert (invited["state"], invited["version"]) == ("invited", 2)
    assert invited["counts"]["invited"] == 3
    audience = client.get(f"/api/v1/meetings/{invited['id']}/audience",
                          headers=staff["coordinator"])
    assert audience.status_code == 200, audience.text
    assert audience.json() == {"enterprise_ids": expected, "count": 3}

    listed = client.get(f"/api/v1/meetings/{invited['id']}/invitations",
                        headers=staff["coordinator"])
    assert listed.status_code == 200, listed.text
    rows = listed.json()["items"]
    assert sorted(r["enterprise_id"] for r in rows) == expected
    assert {r["enterprise_id"]: r["grid_id"] for r in rows} == {
        zone.m1: zone.i1, zone.m2: zone.i2, zone.m3: zone.i2}
    assert all(r["response"] is None and r["attended"] is None for r in rows)

    # the event the notification service consumes, in the outbox, then published
    with db.connect() as conn:
        event = conn.execute(text(
            "SELECT payload FROM enterprise.outbox WHERE event_type = 'meeting_invited' "
            "AND payload->'data'->>'meeting_id' = :m"), {"m": invited["id"]}).scalar_one()
    assert event["data"] == {
        "meeting_id": invited["id"], "theme": "智能制造政企座谈",
        "starts_at": invited["starts_at"], "place": "高新区管委会302会议室",
        "enterprise_ids": expected}
    assert event["data"]["starts_at"].endswith("+08:00")

    def published() -> bool:
        with db.connect() as conn:
            return conn.execute(text(
                "SELECT published_at IS NOT NULL FROM enterprise.outbox WHERE event_type = "
                "'meeting_invited' AND payload->'data'->>'meeting_id' = :m"),
                {"m": invited["id"]}).scalar_one()
    assert eventually(published, timeout=15)

    again = client.post(f"/api/v1/meetings/{invited['id']}/invite",
                        headers=staff["coordinator"])
    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == "application/problem+json"


def test_each_role_sees_only_its_meetings(client, token, zone, staff, invited):
    url = f"/api/v1/meetings/{invited['id']}"

    def get(headers: dict[str, str]) -> int:
        return client.get(url, headers=headers).status_code

    def listed(headers: dict[str, str]) -> bool:
        answer = client.get("/api/v1/meetings", headers=headers, params={"per_page": 200})
        assert answer.status_code == 200, answer.text
        return invited["id"] in {m["id"] for m in answer.json()["items"]}

    for who in ("coordinator", "leader", "admin"):
        assert get(staff[who]) == 200 and listed(staff[who])
    head_1 = bearer(token(Role.DEPARTMENT_HEAD, department_id=zone.d1))
    head_2 = bearer(token(Role.DEPARTMENT_HEAD, department_id=zone.d2))
    assert get(head_1) == 200 and listed(head_1)
    assert get(head_2) == 404 and not listed(head_2)
    leader_1 = bearer(token(Role.GRID_LEADER, grid_ids=(zone.i1,)))
    leader_3 = bearer(token(Role.GRID_LEADER, grid_ids=(zone.i3,)))
    assert get(leader_1) == 200 and listed(leader_1)
    assert get(leader_3) == 404 and not listed(leader_3)
    # a grid leader sees the invitees of their own grids only
    mine = client.get(f"{url}/invitations", headers=leader_1)
    assert [r["enterprise_id"] for r in mine.json()["items"]] == [zone.m1]
    # so does a grid worker, who follows the grid's enterprises up, read-only
    worker_1 = bearer(token(Role.GRID_WORKER, grid_ids=(zone.i1,)))
    worker_3 = bearer(token(Role.GRID_WORKER, grid_ids=(zone.i3,)))
    assert get(worker_1) == 200 and listed(worker_1)
    assert get(worker_3) == 404 and not listed(worker_3)
    followed = client.get(f"{url}/invitations", headers=worker_1)
    assert [r["enterprise_id"] for r in followed.json()["items"]] == [zone.m1]
    assert client.post(f"{url}/invite", headers=worker_1).status_code == 403
    assert client.post(f"{url}/cancel", json={"reason": "网格员不能取消"},
                       headers=worker_1).status_code == 403
    assert client.post("/api/v1/meetings", json=meeting_body(zone),
                       headers=worker_1).status_code == 403

    invitee = bearer(token(Role.ENTERPRISE, enterprise_id=zone.m1))
    seen = client.get(url, headers=invitee)
    assert seen.status_code == 200 and listed(invitee)
    assert seen.json()["audience"] is None and seen.json()["counts"] is None
    assert seen.json()["my_invitation"]["response"] is None
    for outsider in (zone.out_of_scope, zone.other_industry, zone.other_grid):
        headers = bearer(token(Role.ENTERPRISE, enterprise_id=outsider))
        assert get(headers) == 404 and not listed(headers)
        registering = client.put(f"{url}/registration", json={"response": "registered"},
                                 headers=headers)
        assert registering.status_code == 404, registering.text
        assert registering.json()["code"] == "meeting.not_found"
        assert "未受邀" in registering.json()["detail"]

    # roles not listed for a route: 403 from the gateway
    assert get(bearer(token(Role.LIAISON))) == 403
    for role, claims in ((Role.ENTERPRISE, {"enterprise_id": zone.m1}),
                         (Role.GRID_LEADER, {"grid_ids": (zone.i1,)}),
                         (Role.LIAISON, {"department_id": zone.d1})):
        headers = bearer(token(role, **claims))
        denied = client.post("/api/v1/meetings", json=meeting_body(zone), headers=headers)
        assert denied.status_code == 403, (role, denied.text)
        denied = client.post(f"{url}/invite", headers=headers)
        assert denied.status_code == 403, (role, denied.text)
        assert client.get(f"{url}/audience", headers=headers).status_code == 403
    assert client.get("/api/v1/meetings/report", headers=leader_1).status_code == 403
    assert client.get("/api/v1/meetings/report", headers=invitee).status_code == 403
    assert client.get(f"{url}/invitations", headers=invitee).status_code == 403
    theme = {"year": 2026, "quarter": 1, "theme": "融资"}
    assert client.put("/api/v1/meetings/themes", json=theme, headers=head_1).status_code == 403
    assert client.put("/api/v1/meetings/settings", json={"yearly_minimum": 6},
                      headers=staff["coordinator"]).status_code == 403

    # department heads plan and manage their own department's meetings only
    other = client.post("/api/v1/meetings", json=meeting_body(zone), headers=head_2)
    assert other.status_code == 403, other.text
    own = client.post("/api/v1/meetings", json=meeting_body(zone, organiser_department_id=zone.d2),
                      headers=head_2)
    assert own.status_code == 201, own.text
    assert client.patch(f"/api/v1/meetings/{own.json()['id']}", json={"place": "会议中心"},
                        headers=head_1).status_code == 404


def test_bad_input_and_stale_versions(client, zone, staff):
    coordinator = staff["coordinator"]
    past = client.post("/api/v1/meetings", headers=coordinator, json=meeting_body(
        zone, starts_at=iso(datetime.now(UTC) - timedelta(hours=1))))
    assert past.status_code == 422 and "starts_at" in past.json()["errors"]
    naive = client.post("/api/v1/meetings", headers=coordinator, json=meeting_body(
        zone, starts_at="2030-01-01T09:00:00"))
    assert naive.status_code == 422 and "starts_at" in naive.json()["errors"]
    typo = client.post("/api/v1/meetings", headers=coordinator, json=meeting_body(
        zone, audience={"grid_ids": ["NO-SUCH"], "industry_codes": ["X99"]}))
    assert typo.status_code == 422
    assert "audience.industry_codes" in named_fields(typo.json())
    assert typo.json()["errors"]["audience.industry_codes.0"][0]["code"] == \
        "enterprise.industry_code_section"
    unknown = client.post("/api/v1/meetings", headers=coordinator, json=meeting_body(
        zone, audience={"grid_ids": ["NO-SUCH"]}))
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == {"audience.grid_ids": [
        {"code": "meeting.unknown_grid", "message": "网格不存在：NO-SUCH"}]}
    assert client.get("/api/v1/meetings/not-an-id", headers=coordinator).status_code == 404

    created = client.post("/api/v1/meetings", headers=coordinator, json=meeting_body(zone))
    url = f"/api/v1/meetings/{created.json()['id']}"
    assert created.headers["etag"] == '"1"'
    changed = client.patch(url, json={"place": "创新中心"}, headers={**coordinator,
                                                                 "If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["etag"] == '"2"'
    stale = client.patch(url, json={"place": "别处"}, headers={**coordinator, "If-Match": '"1"'})
    assert stale.status_code == 412, stale.text
    stale = client.patch(url, json={"place": "别处", "version": 1}, headers=coordinator)
    assert stale.status_code == 412, stale.text
    clash = client.patch(url, json={"place": "别处", "version": 1},
                         headers={**coordinator, "If-Match": '"2"'})
    assert clash.status_code == 412  # the body names a stale version
    assert client.post(f"{url}/invite", headers={**coordinator, "If-Match": '"1"'}
                       ).status_code == 412
    assert client.get(url, headers={**coordinator, "If-None-Match": '"2"'}).status_code == 304

    cancelled = client.post(f"{url}/cancel", json={"reason": ""}, headers=coordinator)
    assert cancelled.status_code == 422 and "reason" in cancelled.json()["errors"]
    cancelled = client.post(f"{url}/cancel", json={"reason": "领导另有安排"},
                            headers=coordinator)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert client.post(f"{url}/cancel", json={"reason": "再次"},
                       headers=coordinator).status_code == 409
    assert client.patch(url, json={"place": "别处"}, headers=coordinator).status_code == 409


def test_registration_attendance_feedback_and_the_yearly_report(client, db, token, zone,
                                                                staff):
    coordinator = staff["coordinator"]
    dept = f"mtg-r-{uuid.uuid4().hex[:6]}"
    with db.begin() as conn:
        conn.execute(text("INSERT INTO enterprise.departments (id, name, kind) "
                          "VALUES (:i, :n, 'management')"), {"i": dept, "n": f"部门{dept}"})
    starts = datetime.now(UTC) + timedelta(seconds=8)
    local_start = starts.astimezone(SHANGHAI)
    quarter = (local_start.month - 1) // 3 + 1
    themed = client.put("/api/v1/meetings/themes", headers=coordinator, json={
        "year": local_start.year, "quarter": quarter, "theme": "智能制造"})
    assert themed.status_code == 200, themed.text
    created = client.post("/api/v1/meetings", headers=coordinator, json=meeting_body(
        zone, organiser_department_id=dept, starts_at=iso(starts), capacity=5,
        audience={"enterprise_ids": [zone.m1, zone.m2, zone.out_of_scope]}))
    assert created.status_code == 201, created.text
    assert created.json()["on_quarter_theme"] is True
    url = f"/api/v1/meetings/{created.json()['id']}"
    sent = client.post(f"{url}/invite", headers=coordinator)
    assert sent.status_code == 200 and sent.json()["counts"]["invited"] == 2  # in scope only

    m1 = bearer(token(Role.ENTERPRISE, enterprise_id=zone.m1))
    m2 = bearer(token(Role.ENTERPRISE, enterprise_id=zone.m2))
    registered = client.put(f"{url}/registration", headers=m1, json={
        "response": "registered", "attendees": [{"name": "张伟", "title": "总经理",
                                                 "phone": "13812345678"}]})
    assert registered.status_code == 200, registered.text
    assert registered.json()["attendees"][0]["name"] == "张伟"
    assert client.put(f"{url}/registration", headers=m2,
                      json={"response": "registered"}).status_code == 200
    assert client.put(f"{url}/registration", headers=m2,
                      json={"response": "maybe"}).status_code == 422

    # once it has started: registration is closed, attendance can be recorded
    attendance = {"attended": [zone.m1], "minutes": "企业反映人才公寓需求"}

    def record() -> httpx.Response | None:
        answer = client.put(f"{url}/attendance", json=attendance, headers=coordinator)
        if answer.status_code == 409:  # not started yet
            return None
        assert answer.status_code == 200, answer.text
        return answer

    recorded = eventually(record, timeout=30, interval=0.5)
    assert recorded, "attendance could not be recorded after the start"
    assert recorded.json()["state"] == "held"
    late = client.put(f"{url}/registration", headers=m2, json={"response": "declined"})
    assert late.status_code == 409 and late.json()["code"] == "meeting.registration_closed"
    assert "报名已截止" in late.json()["detail"]
    stranger = client.put(f"{url}/attendance", headers=coordinator,
                          json={"attended": [zone.other_grid]})
    assert stranger.status_code == 422 and "attended" in stranger.json()["errors"]

    feedback = client.post(f"{url}/feedback", headers=m1,
                           json={"rating": 4, "comment": "对接很有帮助"})
    assert feedback.status_code == 201, feedback.text
    assert client.post(f"{url}/feedback", headers=m1, json={"rating": 5}).status_code == 409
    assert client.post(f"{url}/feedback", headers=m2, json={"rating": 5}).status_code == 403
    assert client.post(f"{url}/feedback", headers=m1, json={"rating": 6}).status_code == 422
    mine = client.get(url, headers=m1).json()["my_invitation"]
    assert (mine["response"], mine["attended"], mine["feedback"]["rating"]) == (
        "registered", True, 4)

    report = client.get("/api/v1/meetings/report", headers=coordinator,
                        params={"year": local_start.year, "department_id": dept})
    assert report.status_code == 200, report.text
    r = report.json()
    as_of = datetime.fromisoformat(r["as_of"]).date()
    assert (r["minimum"], r["held"], r["meets_minimum"], r["shortfall"]) == (12, 1, False, 11)
    held_month = local_start.month
    assert [m["held"] for m in r["months"]] == [int(m == held_month) for m in range(1, 13)]
    assert r["months_without_meeting"] == [
        m for m in range(1, 13) if m != held_month and (local_start.year, m) < (
            as_of.year, as_of.month)]
    row = r["quarters"][quarter - 1]
    assert (row["theme"], row["held"], row["on_theme"], row["status"]) == (
        "智能制造", 1, 1, "ok")
    assert (r["invited"], r["registered"], r["attended"]) == (2, 2, 1)
    assert (r["attendance_rate"], r["show_up_rate"]) == (0.5, 0.5)
    assert (r["feedback"], r["average_rating"]) == (1, 4.0)
    assert [m["id"] for m in r["meetings"]] == [created.json()["id"]]

    head = bearer(token(Role.DEPARTMENT_HEAD, department_id=dept))
    own = client.get("/api/v1/meetings/report", headers=head,
                     params={"year": local_start.year})
    assert own.status_code == 200 and own.json()["held"] == 1
    assert client.get("/api/v1/meetings/report", headers=head, params={
        "year": local_start.year, "department_id": zone.d1}).status_code == 403

    themes = client.get("/api/v1/meetings/themes", headers=coordinator,
                        params={"year": local_start.year})
    assert {(t["quarter"], t["theme"]) for t in themes.json()["items"]} >= {
        (quarter, "智能制造")}
    settings = client.get("/api/v1/meetings/settings", headers=coordinator)
    assert settings.json() == {"yearly_minimum": 12, "version": ANY}
