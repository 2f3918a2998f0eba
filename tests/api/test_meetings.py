"""政企座谈 rules against a PostgreSQL database of this module's own, without the broker: the
audience resolved when invitations go out, registration before the start, attendance after it,
feedback by attendees, versions, who sees what, and the yearly report against the plan
("全年不少于12次", "月月有活动、季季有主题"). Times are passed in, so the rules are checked at
any moment of a year (2031) without waiting for a clock.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from conftest import fresh_database
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from services.enterprise import credit_code, meetings
from services.enterprise.models import Department, Enterprise, Grid, Meeting, outbox

RNG = random.Random(8)
COORDINATOR = Principal(user_id="coordinator-1", role=Role.COORDINATOR,
                        department_id="economic_development")
ADMIN = Principal(user_id="admin-1", role=Role.ADMIN)


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:30:00+08:00")


@dataclass(frozen=True)
class Zone:
    d1: str
    d2: str
    g1: str
    g2: str
    g3: str
    inc: str
    a1: str  # G1, C3911, in scope, 初创期
    a2: str  # G2, C39, in scope
    a3: str  # G1, C3911, out of scope
    a4: str  # G1, I65, in scope
    a5: str  # G3, C39, in scope
    a6: str  # incubator, C39, in scope, 成长期


@pytest.fixture(scope="module")
def db(infrastructure: dict[str, str]) -> Iterator[Engine]:
    """A database of this module's own: every in-scope enterprise in it is one of ours, so a
    zone-wide audience is known exactly."""
    engine = create_engine(fresh_database("meetings"))
    yield engine
    engine.dispose()


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with Session(db, expire_on_commit=False) as s:
        yield s
        s.rollback()


def _enterprise(session: Session, grid: str, industry: str, in_scope: bool = True,
                tags: tuple[str, ...] = (), incubator: str | None = None) -> str:
    ent_id = str(uuid.uuid4())
    session.add(Enterprise(
        id=ent_id, credit_code=credit_code.generate(RNG), name=f"企业{ent_id[:6]}",
        address="高新区测试路1号", industry_code=industry, scale="small", grid_id=grid,
        incubator_id=incubator, grid_source="incubator" if incubator else "location",
        in_scope=in_scope, contacts=[], tags=list(tags), strengths=[], upstream=[],
        downstream=[], version=1))
    return ent_id


@pytest.fixture(scope="module")
def zone(db: Engine) -> Zone:
    sfx = uuid.uuid4().hex[:6].upper()
    with Session(db) as s, s.begin():
        depts = (f"md1-{sfx}", f"md2-{sfx}")
        for d in depts:
            s.add(Department(id=d, name=f"部门{d}", kind="management"))
        s.flush()
        grids = (f"M1{sfx}", f"M2{sfx}", f"M3{sfx}", f"MI{sfx}")
        for g in grids:
            s.add(Grid(id=g, name=f"网格{g}", kind="incubator" if g.startswith("MI")
                       else "geographic", owner_department_id=depts[0]))
        s.flush()
        ids = [
            _enterprise(s, grids[0], "C3911", tags=("初创期",)),
            _enterprise(s, grids[1], "C39"),
            _enterprise(s, grids[0], "C3911", in_scope=False),
            _enterprise(s, grids[0], "I65"),
            _enterprise(s, grids[2], "C39"),
            _enterprise(s, grids[3], "C39", tags=("成长期",), incubator=grids[3]),
        ]
    return Zone(*depts, *grids, *ids)


def enterprise(ent_id: str) -> Principal:
    return Principal(user_id=f"user-{ent_id[:8]}", role=Role.ENTERPRISE, enterprise_id=ent_id)


def plan(session: Session, zone: Zone, starts_at: datetime, now: datetime,
         principal: Principal = COORDINATOR, **overrides: Any) -> Meeting:
    data: dict[str, Any] = {"theme": "智能制造政企座谈", "starts_at": starts_at,
                            "place": "高新区管委会302会议室",
                            "organiser_department_id": zone.d1, "audience": {}}
    data.update(overrides)
    return meetings.plan(session, principal, data, now=now)


def test_follows_theme_matches_the_quarter_theme_in_theme_or_topics() -> None:
    assert meetings.follows_theme(None, "融资对接会", []) is None
    assert meetings.follows_theme("融资", "2031年一季度融资对接会", []) is True
    assert meetings.follows_theme("ＡＩ应用", "座谈", ["企业ai应用场景"]) is True
    assert meetings.follows_theme("人才", "融资对接会", ["融资", "上市"]) is False


def test_invitations_resolve_one_industry_in_two_grids_at_that_moment(session, zone):
    now = at("2031-03-01")
    meeting = plan(session, zone, at("2031-03-10"), now, audience={
        "grid_ids": [zone.g1, zone.g2], "industry_codes": ["C39"]})
    assert meeting.state == "planned" and meeting.version == 1
    expected = sorted([zone.a1, zone.a2])  # not a3 (out of scope), a4 (I65), a5 (G3)
    assert meetings.preview_audience(session, COORDINATOR, meeting.id) == expected

    invited, ids = meetings.invite(session, COORDINATOR, meeting.id, now=now, call_id="c-1")
    assert ids == expected
    assert (invited.state, invited.version, invited.invited_at) == ("invited", 2, now)
    event = session.execute(
        select(outbox.c.payload, outbox.c.call_id).where(outbox.c.event_type == "meeting_invited")
        .where(outbox.c.payload["data"]["meeting_id"].astext == meeting.id)).one()
    assert event.call_id == "c-1"
    assert event.payload["data"] == {
        "meeting_id": meeting.id, "theme": "智能制造政企座谈",
        "starts_at": "2031-03-10T09:30:00+08:00", "place": "高新区管委会302会议室",
        "enterprise_ids": expected}

    # the invitees are a snapshot: an enterprise entering the audience later is not invited
    late = _enterprise(session, zone.g1, "C39")
    session.flush()
    assert meetings.preview_audience(session, COORDINATOR, meeting.id) == expected
    assert late not in ids
    with pytest.raises(Conflict, match="already sent"):
        meetings.invite(session, COORDINATOR, meeting.id, now=now)


def test_stage_tags_incubators_and_an_audience_matching_nobody(session, zone):
    now = at("2031-03-01")
    by_stage = plan(session, zone, at("2031-03-12"), now, audience={"tags": ["初创期", "成长期"]})
    assert meetings.preview_audience(session, COORDINATOR, by_stage.id) == sorted(
        [zone.a1, zone.a6])
    by_incubator = plan(session, zone, at("2031-03-12"), now,
                        audience={"incubator_ids": [zone.inc]})
    assert meetings.preview_audience(session, COORDINATOR, by_incubator.id) == [zone.a6]
    nobody = plan(session, zone, at("2031-03-12"), now,
                  audience={"grid_ids": [zone.g3], "industry_codes": ["I65"]})
    with pytest.raises(ValidationFailed) as exc:
        meetings.invite(session, COORDINATOR, nobody.id, now=now)
    assert exc.value.errors == {"audience": [
        {"code": "meeting.audience_empty", "message": "matches no in-scope enterprise"}]}
    with pytest.raises(ValidationFailed) as exc:
        plan(session, zone, at("2031-03-12"), now, audience={"grid_ids": ["NOPE"]})
    assert exc.value.errors == {"audience": {"grid_ids": [
        {"code": "meeting.unknown_grid", "message": "no such grid: {ids}",
         "params": {"ids": ["NOPE"]}}]}}


def test_planning_rules_edits_and_versions(session, zone):
    now = at("2031-04-01")
    with pytest.raises(ValidationFailed) as exc:
        plan(session, zone, at("2031-03-31"), now)
    assert list(exc.value.errors) == ["starts_at"]
    with pytest.raises(ValidationFailed) as exc:
        plan(session, zone, at("2031-04-10", 9), now, ends_at=at("2031-04-10", 8))
    assert list(exc.value.errors) == ["ends_at"]
    with pytest.raises(ValidationFailed) as exc:
        plan(session, zone, at("2031-04-10"), now, organiser_department_id="nope")
    assert list(exc.value.errors) == ["organiser_department_id"]
    head_d2 = Principal(user_id="head-2", role=Role.DEPARTMENT_HEAD, department_id=zone.d2)
    with pytest.raises(Forbidden):
        plan(session, zone, at("2031-04-10"), now, principal=head_d2)
    for role in (Role.LIAISON, Role.GRID_LEADER, Role.GRID_WORKER, Role.ENTERPRISE):
        with pytest.raises(Forbidden):
            plan(session, zone, at("2031-04-10"), now, principal=Principal(user_id="x",
                                                                           role=role))

    meeting = plan(session, zone, at("2031-04-10"), now, principal=head_d2,
                   organiser_department_id=zone.d2, audience={"grid_ids": [zone.g1]})
    changed = meetings.update(session, head_d2, meeting.id,
                              {"place": "创新中心报告厅", "version": 1}, now=now)
    assert (changed.place, changed.version) == ("创新中心报告厅", 2)
    with pytest.raises(PreconditionFailed):
        meetings.update(session, head_d2, meeting.id, {"place": "别处"}, expected_version=1,
                        now=now)
    with pytest.raises(Forbidden):  # not to another department
        meetings.update(session, head_d2, meeting.id, {"organiser_department_id": zone.d1},
                        now=now)
    unchanged = meetings.update(session, head_d2, meeting.id, {"place": "创新中心报告厅"},
                                now=now)
    assert unchanged.version == 2
    meetings.invite(session, head_d2, meeting.id, expected_version=2, now=now)
    with pytest.raises(Conflict, match="starts_at"):
        meetings.update(session, head_d2, meeting.id, {"starts_at": at("2031-04-11")},
                        now=now)
    edited = meetings.update(session, head_d2, meeting.id, {"description": "请带上需求清单"},
                             now=now)
    assert (edited.description, edited.version) == ("请带上需求清单", 4)


def test_registration_until_the_start_by_invitees_only(session, zone):
    now = at("2031-05-01")
    meeting = plan(session, zone, at("2031-05-10"), now, capacity=1,
                   audience={"industry_codes": ["C39"], "grid_ids": [zone.g1, zone.g2]})
    with pytest.raises(NotFound):  # not invited yet
        meetings.register(session, enterprise(zone.a1), meeting.id,
                          {"response": "registered"}, now=now)
    meetings.invite(session, COORDINATOR, meeting.id, now=now)

    reg = meetings.register(session, enterprise(zone.a1), meeting.id, {
        "response": "registered", "attendees": [{"name": "张三", "title": "总经理",
                                                 "phone": None, "email": None}]}, now=now)
    assert (reg.response, reg.attendees[0]["name"]) == ("registered", "张三")
    with pytest.raises(Conflict, match="full"):
        meetings.register(session, enterprise(zone.a2), meeting.id,
                          {"response": "registered"}, now=now)
    # registering again, or declining, is not refused by the capacity
    meetings.register(session, enterprise(zone.a1), meeting.id, {"response": "registered"},
                      now=now)
    meetings.register(session, enterprise(zone.a2), meeting.id, {"response": "declined"},
                      now=now)
    meetings.register(session, enterprise(zone.a1), meeting.id, {"response": "declined"},
                      now=now)
    assert meetings.register(session, enterprise(zone.a2), meeting.id,
                             {"response": "registered"}, now=now).response == "registered"

    for outsider in (zone.a3, zone.a4, zone.a5):  # out of scope, other industry, other grid
        with pytest.raises(NotFound, match="invited"):
            meetings.register(session, enterprise(outsider), meeting.id,
                              {"response": "registered"}, now=now)
    with pytest.raises(Conflict, match="closed"):
        meetings.register(session, enterprise(zone.a1), meeting.id,
                          {"response": "registered"}, now=at("2031-05-10", 9))
    with pytest.raises(Forbidden):
        meetings.register(session, COORDINATOR, meeting.id, {"response": "registered"},
                          now=now)

    view = meetings.views(session, COORDINATOR, [meeting])[0]
    assert view["counts"] == {"invited": 2, "registered": 1, "declined": 1, "attended": 0,
                              "feedback": 0, "average_rating": None}
    mine = meetings.views(session, enterprise(zone.a2), [meeting])[0]
    assert mine["audience"] is None and mine["counts"] is None
    assert mine["my_invitation"]["response"] == "registered"


def test_attendance_after_the_start_then_feedback_by_attendees(session, zone):
    now = at("2031-06-01")
    start = at("2031-06-10")
    meeting = plan(session, zone, start, now, audience={"industry_codes": ["C39"],
                                                        "grid_ids": [zone.g1, zone.g2]})
    with pytest.raises(Conflict, match="invitations"):
        meetings.record_attendance(session, COORDINATOR, meeting.id, {"attended": []},
                                   now=start)
    meetings.invite(session, COORDINATOR, meeting.id, now=now)
    with pytest.raises(Conflict, match="not started"):
        meetings.record_attendance(session, COORDINATOR, meeting.id,
                                   {"attended": [zone.a1]}, now=now)
    with pytest.raises(Conflict, match="held"):
        meetings.give_feedback(session, enterprise(zone.a1), meeting.id, {"rating": 5},
                               now=start)
    with pytest.raises(ValidationFailed) as exc:
        meetings.record_attendance(session, COORDINATOR, meeting.id,
                                   {"attended": [zone.a1, zone.a5]}, now=start)
    assert exc.value.errors == {"attended": [
        {"code": "meeting.not_invited", "message": "not invited: {enterprises}",
         "params": {"enterprises": [zone.a5]}}]}
    version = session.get(Meeting, meeting.id).version
    with pytest.raises(PreconditionFailed):
        meetings.record_attendance(session, COORDINATOR, meeting.id, {"attended": [zone.a1]},
                                   expected_version=version - 1, now=start)
    held = meetings.record_attendance(session, COORDINATOR, meeting.id, {
        "attended": [zone.a1], "minutes": "企业反映用地和融资问题"}, expected_version=version,
        now=start + timedelta(hours=2))
    assert (held.state, held.minutes) == ("held", "企业反映用地和融资问题")

    fb = meetings.give_feedback(session, enterprise(zone.a1), meeting.id,
                                {"rating": 4, "comment": "很有收获"}, now=start)
    assert (fb.rating, fb.comment) == (4, "很有收获")
    with pytest.raises(Conflict, match="already"):
        meetings.give_feedback(session, enterprise(zone.a1), meeting.id, {"rating": 5},
                               now=start)
    with pytest.raises(Forbidden, match="attended"):
        meetings.give_feedback(session, enterprise(zone.a2), meeting.id, {"rating": 5},
                               now=start)
    with pytest.raises(NotFound):
        meetings.give_feedback(session, enterprise(zone.a5), meeting.id, {"rating": 5},
                               now=start)
    with pytest.raises(Conflict):
        meetings.cancel(session, COORDINATOR, meeting.id, "下雨", now=start)
    rows, total = meetings.invitations(session, COORDINATOR, meeting.id,
                                       {"page": 1, "per_page": 50, "attended": True})
    assert total == 1 and rows[0]["enterprise_id"] == zone.a1 and rows[0]["rating"] == 4


def test_cancel_tells_the_invitees_only_when_there_are_some(session, zone):
    now = at("2031-07-01")
    planned = plan(session, zone, at("2031-07-10"), now)
    meetings.cancel(session, COORDINATOR, planned.id, "领导另有安排", now=now)
    invited = plan(session, zone, at("2031-07-11"), now, audience={"grid_ids": [zone.g2]})
    meetings.invite(session, COORDINATOR, invited.id, now=now)
    cancelled = meetings.cancel(session, COORDINATOR, invited.id, "场地冲突", now=now)
    assert (cancelled.state, cancelled.cancel_reason) == ("cancelled", "场地冲突")
    datas = [p["data"] for p in session.execute(
        select(outbox.c.payload).where(outbox.c.event_type == "meeting_cancelled")).scalars()]
    ours = [d for d in datas if d["meeting_id"] in (planned.id, invited.id)]
    assert [(d["meeting_id"], d["reason"], d["enterprise_ids"]) for d in ours] == [
        (invited.id, "场地冲突", [zone.a2])]
    with pytest.raises(Conflict, match="cancelled"):
        meetings.register(session, enterprise(zone.a2), invited.id, {"response": "declined"},
                          now=now)
    with pytest.raises(Conflict):
        meetings.cancel(session, COORDINATOR, invited.id, "again", now=now)


def test_who_sees_which_meeting(session, zone):
    now = at("2031-08-01")
    in_g1 = plan(session, zone, at("2031-08-10"), now, audience={"grid_ids": [zone.g1]})
    by_industry = plan(session, zone, at("2031-08-11"), now,
                       organiser_department_id=zone.d2, audience={"industry_codes": ["C39"]})
    by_tags = plan(session, zone, at("2031-08-12"), now, audience={"tags": ["成长期"]})
    meetings.invite(session, COORDINATOR, by_tags.id, now=now)  # invites a6 (incubator grid)
    ours = {in_g1.id, by_industry.id, by_tags.id}

    def seen(principal: Principal) -> set[str]:
        rows, _ = meetings.list_visible(session, principal, {"page": 1, "per_page": 200,
                                                             "year": 2031})
        return {m.id for m in rows} & ours

    assert seen(COORDINATOR) == ours
    assert seen(Principal(user_id="l", role=Role.LEADER)) == ours
    assert seen(Principal(user_id="h1", role=Role.DEPARTMENT_HEAD,
                          department_id=zone.d1)) == {in_g1.id, by_tags.id}
    assert seen(Principal(user_id="h2", role=Role.DEPARTMENT_HEAD,
                          department_id=zone.d2)) == {by_industry.id}
    # grid leaders: named grid; no grid named and not invited yet; an invitee in their grid
    assert seen(Principal(user_id="gl1", role=Role.GRID_LEADER,
                          grid_ids=(zone.g1,))) == {in_g1.id, by_industry.id}
    assert seen(Principal(user_id="gl3", role=Role.GRID_LEADER,
                          grid_ids=(zone.g3,))) == {by_industry.id}
    assert seen(Principal(user_id="gli", role=Role.GRID_LEADER,
                          grid_ids=(zone.inc,))) == {by_industry.id, by_tags.id}
    assert seen(enterprise(zone.a6)) == {by_tags.id}
    assert seen(enterprise(zone.a1)) == set()
    with pytest.raises(NotFound):
        meetings.get_visible(session, enterprise(zone.a1), by_tags.id)
    assert seen(Principal(user_id="gwi", role=Role.GRID_WORKER,
                          grid_ids=(zone.inc,))) == {by_industry.id, by_tags.id}
    with pytest.raises(Forbidden):
        meetings.list_visible(session, Principal(user_id="x", role=Role.LIAISON),
                              {"page": 1, "per_page": 20})
    leader_g1 = Principal(user_id="gl1", role=Role.GRID_LEADER, grid_ids=(zone.g1,))
    with pytest.raises(Forbidden):
        meetings.invite(session, leader_g1, in_g1.id, now=now)


def hold(session: Session, zone: Zone, start: datetime, dept: str, theme: str,
         attended: list[str], registered: list[str], ratings: dict[str, int],
         topics: tuple[str, ...] = ()) -> Meeting:
    """A held meeting of ``dept`` inviting a1, a2 (C39 in G1 and G2)."""
    meeting = plan(session, zone, start, start - timedelta(days=10), theme=theme,
                   topics=list(topics), organiser_department_id=dept,
                   audience={"industry_codes": ["C39"], "grid_ids": [zone.g1, zone.g2]})
    meetings.invite(session, COORDINATOR, meeting.id, now=start - timedelta(days=5))
    for ent in registered:
        meetings.register(session, enterprise(ent), meeting.id, {"response": "registered"},
                          now=start - timedelta(days=1))
    meetings.record_attendance(session, COORDINATOR, meeting.id, {"attended": attended},
                               now=start + timedelta(hours=2))
    for ent, rating in ratings.items():
        meetings.give_feedback(session, enterprise(ent), meeting.id, {"rating": rating},
                               now=start + timedelta(days=1))
    return meeting


def test_yearly_report_counts_months_quarters_attendance_and_feedback(session, zone):
    dept = f"rep-{uuid.uuid4().hex[:8]}"
    session.add(Department(id=dept, name=f"部门{dept}", kind="management"))
    session.flush()
    for quarter, theme in ((1, "融资"), (2, "人才"), (3, "数字化")):
        meetings.set_theme(session, COORDINATOR, {"year": 2032, "quarter": quarter,
                                                  "theme": theme})
    a1, a2 = zone.a1, zone.a2
    hold(session, zone, at("2032-01-15"), dept, "一季度融资对接会", [a1, a2], [a1, a2],
         {a1: 5, a2: 4})
    hold(session, zone, at("2032-02-20"), dept, "政策宣讲", [a1], [a1, a2], {a1: 3})
    hold(session, zone, at("2032-04-08"), dept, "用工座谈", [], [a2], {},
         topics=("高层次人才",))
    hold(session, zone, at("2032-05-08"), dept, "安全生产", [a2], [], {})
    upcoming = plan(session, zone, at("2032-09-01"), at("2032-06-01"),
                    organiser_department_id=dept)
    cancelled = plan(session, zone, at("2032-09-02"), at("2032-06-01"),
                     organiser_department_id=dept)
    meetings.cancel(session, COORDINATOR, cancelled.id, "改期", now=at("2032-06-01"))

    report = meetings.report(session, COORDINATOR, {"year": 2032, "department_id": dept},
                             now=at("2032-07-15"))
    assert (report["year"], report["department_id"], str(report["as_of"])) == (
        2032, dept, "2032-07-15")
    assert (report["minimum"], report["held"], report["meets_minimum"],
            report["shortfall"]) == (12, 4, False, 8)
    assert (report["upcoming"], report["cancelled"]) == (1, 1)
    assert [m["held"] for m in report["months"]] == [1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert [m["status"] for m in report["months"]][:8] == [
        "ok", "ok", "missed", "ok", "ok", "missed", "open", "open"]
    assert report["months_without_meeting"] == [3, 6]
    assert [(q["quarter"], q["theme"], q["held"], q["on_theme"], q["status"])
            for q in report["quarters"]] == [
        (1, "融资", 2, 1, "ok"), (2, "人才", 2, 1, "ok"), (3, "数字化", 0, 0, "open"),
        (4, None, 0, 0, "open")]
    assert report["quarters_off_theme"] == []
    # invited 2 x 4; attended 2 + 1 + 0 + 1; registered 2 + 2 + 1 + 0, of whom 2 + 1 + 0 came
    assert (report["invited"], report["attended"], report["registered"]) == (8, 4, 5)
    assert report["attendance_rate"] == 0.5
    assert report["show_up_rate"] == 0.6
    assert (report["feedback"], report["average_rating"]) == (3, 4.0)
    assert [r["on_quarter_theme"] for r in report["meetings"]] == [True, False, True, False]
    assert upcoming.id not in {r["id"] for r in report["meetings"]}

    # a year later, every month without a meeting has ended; quarter 3 ended off theme
    later = meetings.report(session, COORDINATOR, {"year": 2032, "department_id": dept},
                            now=at("2033-01-05"))
    assert later["months_without_meeting"] == [3, 6, 7, 8, 9, 10, 11, 12]
    assert later["quarters_off_theme"] == [3, 4]

    meetings.update_settings(session, ADMIN, {"yearly_minimum": 4})
    assert meetings.report(session, COORDINATOR, {"year": 2032, "department_id": dept},
                           now=at("2032-07-15"))["meets_minimum"] is True
    with pytest.raises(Forbidden):
        meetings.update_settings(session, COORDINATOR, {"yearly_minimum": 1})

    head = Principal(user_id="h", role=Role.DEPARTMENT_HEAD, department_id=dept)
    assert meetings.report(session, head, {"year": 2032}, now=at("2032-07-15"))["held"] == 4
    with pytest.raises(Forbidden):
        meetings.report(session, head, {"year": 2032, "department_id": zone.d1})
    with pytest.raises(Forbidden):  # a department head without a department sees nothing
        meetings.report(session, Principal(user_id="h0", role=Role.DEPARTMENT_HEAD),
                        {"year": 2032})
    with pytest.raises(Forbidden):
        meetings.report(session, Principal(user_id="g", role=Role.GRID_LEADER,
                                           grid_ids=(zone.g1,)), {"year": 2032})


def test_the_migration_keeps_ratings_between_1_and_5(db):
    with db.connect() as conn:
        checks = set(conn.execute(text(
            "SELECT conname FROM pg_constraint WHERE conname LIKE 'ck_meeting%'")).scalars())
    assert {"ck_meeting_feedback_rating", "ck_meeting_themes_quarter",
            "ck_meetings_state", "ck_meeting_registrations_response"} <= checks
