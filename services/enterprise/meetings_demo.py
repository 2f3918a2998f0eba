"""The demo zone's 政企座谈 (``make run``): the year of the anchor with a theme every quarter and
a meeting every month, as the yearly plan (:mod:`services.enterprise.meeting_plan`) wants
them, so the meetings page and the plan's progress have content.

Months before the anchor: held (invitations, registrations, attendance, minutes, feedback);
one extra meeting cancelled; the next meeting invited; later ones planned. Each meeting's
audience is one or two grids, its invitees the audience's in-scope enterprises as
:func:`services.enterprise.audience.resolve` gives them (what ``invite`` stores); the
organiser is the grid's owning department. One meeting of the year does not follow its
quarter's theme (the quarter is still met by another).

Deterministic (seeded, uuid5 ids; the same on every machine for the same day) and
idempotent (a database that has the year's first demo meeting is left alone). Rows written
as the meetings' lifecycle leaves them; no events (nobody is told of the demo's past).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from common.calendar import SHANGHAI
from services.enterprise import audience
from services.enterprise.meetings import _audience_grids
from services.enterprise.models import (
    Enterprise,
    Grid,
    Meeting,
    MeetingAttendance,
    MeetingFeedback,
    MeetingInvitation,
    MeetingRegistration,
    MeetingTheme,
)

NAMESPACE = uuid.UUID("a3c8e3f4-51d2-4c1e-8b7e-2f6d0c9b1a77")
SEED = 2026
STAFF = "demo"
#: 季季有主题: the quarter's theme, and the meetings of its three months
THEMES = {
    1: ("惠企政策", ("惠企政策宣讲会", "惠企政策申报辅导会", "惠企政策兑现座谈会")),
    2: ("融资对接", ("银企融资对接会", "科技金融融资对接座谈", "知识产权质押融资对接会")),
    3: ("人才引育", ("高层次人才引育座谈会", "校企合作人才引育对接会", "技能人才引育交流会")),
    4: ("数字化转型", ("制造业数字化转型座谈会", "中小企业数字化转型诊断会",
                   "数字化转型成果交流会")),
}
#: one meeting of the year off its quarter's theme (the month, its theme)
OFF_THEME = (8, "安全生产工作座谈会")
PLACES = ("高新区管委会第一会议室", "创新大厦三楼报告厅", "蓝色生物谷会议中心",
          "智能制造产业园培训中心")
COMMENTS = ("政策讲解清楚，很有收获。", "对接效率高，希望多办。", "时间略紧，希望留足交流时间。",
            "问题现场得到回应，点赞。", "建议提前发送会议材料。")
NEEDS = ("希望了解申报流程", "关注贷款贴息", "有招聘需求", "希望对接高校资源")


def stable(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


@dataclass(frozen=True)
class DemoGrid:
    id: str
    owner_department: str


def _local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def build(grids: list[DemoGrid], invitees: dict[tuple[str, ...], list[str]] | None,
          anchor: datetime, seed: int = SEED,
          featured_grid: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table, by table name, for the anchor's year (Asia/Shanghai).
    ``invitees``: the audience's enterprises by the meeting's grids (None: only the meetings
    and their audiences, under ``audiences``, for the caller to resolve); ``featured_grid``:
    the grid of the enterprise ``make run`` prints, in the audience of every other month."""
    year = anchor.astimezone(SHANGHAI).year
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "themes", "meetings", "audiences", "invitations", "registrations", "attendance",
        "feedback")}
    for quarter, (theme, _titles) in THEMES.items():
        rows["themes"].append({"year": year, "quarter": quarter, "theme": theme,
                               "set_by": STAFF, "set_at": _local(year, 1, 5, 9)})
    ordered = sorted(grids, key=lambda g: g.id)
    upcoming_invited = False
    plan = [(month, 0) for month in range(1, 13)] + [(5, 1)]  # (month, extra: cancelled)
    for month, extra in plan:
        quarter = (month - 1) // 3 + 1
        theme = THEMES[quarter][1][(month - 1) % 3]
        if extra:
            theme = "企业开放日交流会"
        elif month == OFF_THEME[0]:
            theme = OFF_THEME[1]
        key = f"{year}-{month:02d}-{extra}"
        rng = random.Random(f"{seed}:{key}")  # one per meeting: the same with or without people
        meeting_id = stable("meeting", key)
        starts = _local(year, month, 10 + rng.randrange(15), 14 + rng.randrange(2),
                        30 * rng.randrange(2))
        chosen = rng.sample(ordered, 2 if rng.random() < 0.3 else 1)
        featured = next((g for g in ordered if g.id == featured_grid), None)
        if featured is not None and month % 2 == 0 and featured not in chosen:
            chosen[-1] = featured
        spec = {"grid_ids": sorted(g.id for g in chosen)}
        department = chosen[0].owner_department
        created = starts - timedelta(days=25)
        invited_at = starts - timedelta(days=14)
        if extra:
            state = "cancelled"
        elif starts < anchor - timedelta(hours=3):
            state = "held"
        elif invited_at <= anchor and not upcoming_invited:
            state, upcoming_invited = "invited", True
        else:
            state = "planned"
        meeting: dict[str, Any] = {
            "id": meeting_id, "theme": theme,
            "description": f"围绕“{THEMES[quarter][0]}”，听取企业意见建议，现场解答企业关切。",
            "topics": [THEMES[quarter][0]] if not (extra or month == OFF_THEME[0]) else [],
            "starts_at": starts, "ends_at": starts + timedelta(hours=2),
            "place": PLACES[rng.randrange(len(PLACES))], "organiser_department_id": department,
            "organiser_contact": "0532-8890" + f"{rng.randrange(10000):04d}",
            "capacity": 80, "audience": spec, "audience_grid_ids": _audience_grids(spec),
            "state": state, "invited_at": None, "held_at": None, "minutes": None,
            "cancelled_at": None, "cancel_reason": None, "created_by": STAFF,
            "created_at": created, "updated_at": created, "version": 1}
        if state == "cancelled":
            meeting.update(cancelled_at=created + timedelta(days=3),
                           cancel_reason="与区重点活动时间冲突，另行安排。",
                           updated_at=created + timedelta(days=3), version=2)
        rows["meetings"].append(meeting)
        rows["audiences"].append({"meeting_id": meeting_id, "grid_ids": spec["grid_ids"]})
        if state not in ("held", "invited") or invitees is None:
            continue
        ids = invitees.get(tuple(spec["grid_ids"]), [])
        if not ids:
            continue
        meeting.update(invited_at=invited_at, updated_at=invited_at, version=2)
        rows["invitations"] += [{"meeting_id": meeting_id, "enterprise_id": e,
                                 "grid_id": None, "invited_at": invited_at} for e in ids]
        rng = random.Random(f"{seed}:{key}:people")
        registered = set()
        for e in ids:
            draw = rng.random()
            if draw < 0.55:
                registered.add(e)
                rows["registrations"].append({
                    "meeting_id": meeting_id, "enterprise_id": e, "response": "registered",
                    "attendees": [{"name": "企业代表", "title": "总经理"}],
                    "note": NEEDS[rng.randrange(len(NEEDS))] if rng.random() < 0.3 else None,
                    "responded_by": STAFF,
                    "responded_at": invited_at + timedelta(hours=2 + rng.randrange(200))})
            elif draw < 0.65:
                rows["registrations"].append({
                    "meeting_id": meeting_id, "enterprise_id": e, "response": "declined",
                    "attendees": [], "note": "当日有生产安排", "responded_by": STAFF,
                    "responded_at": invited_at + timedelta(hours=2 + rng.randrange(200))})
        if state != "held":
            continue
        held_at = starts + timedelta(hours=2, minutes=30)
        meeting.update(held_at=held_at, updated_at=held_at, version=3,
                       minutes=f"会议围绕“{THEMES[quarter][0]}”听取了企业意见，"
                               "现场解答问题，会后形成问题清单交相关部门办理。")
        for e in ids:
            attended = (e in registered and rng.random() < 0.85) or rng.random() < 0.05
            rows["attendance"].append({"meeting_id": meeting_id, "enterprise_id": e,
                                       "attended": attended, "recorded_by": STAFF,
                                       "recorded_at": held_at})
            if attended and rng.random() < 0.6:
                rows["feedback"].append({
                    "meeting_id": meeting_id, "enterprise_id": e,
                    "rating": 3 + rng.randrange(3),
                    "comment": COMMENTS[rng.randrange(len(COMMENTS))],
                    "submitted_by": STAFF,
                    "submitted_at": held_at + timedelta(hours=3 + rng.randrange(72))})
    return rows


def load(session: Session, anchor: datetime | None = None, seed: int = SEED,
         featured: list[str] | None = None) -> dict[str, int]:
    """Insert the year's demo meetings unless its first one is there; counts by table.
    ``featured``: the enterprises of the demo logins (the first one's grid is invited every
    other month)."""
    moment = anchor or datetime.now(UTC)
    year = moment.astimezone(SHANGHAI).year
    if session.get(Meeting, stable("meeting", f"{year}-01-0")) is not None:
        return {}
    grids = [DemoGrid(g.id, g.owner_department_id) for g in session.scalars(select(Grid))]
    if not grids:
        return {}
    grid = session.execute(select(Enterprise.grid_id).where(
        Enterprise.id == featured[0])).scalar() if featured else None
    # each meeting's audience resolved as ``invite`` resolves it
    audiences = build(grids, None, moment, seed, grid)["audiences"]
    invitees = {tuple(a["grid_ids"]): audience.resolve(session, {"grid_ids": a["grid_ids"]})
                for a in audiences}
    rows = build(grids, invitees, moment, seed, grid)
    grid_of = dict(session.execute(select(Enterprise.id, Enterprise.grid_id)
                                   .where(Enterprise.id.in_(
                                       sorted({r["enterprise_id"]
                                               for r in rows["invitations"]})))).all())
    for row in rows["invitations"]:
        row["grid_id"] = grid_of.get(row["enterprise_id"])
    existing = {(t.year, t.quarter) for t in session.scalars(
        select(MeetingTheme).where(MeetingTheme.year == year))}
    rows["themes"] = [t for t in rows["themes"] if (t["year"], t["quarter"]) not in existing]
    for model, key in ((MeetingTheme, "themes"), (Meeting, "meetings"),
                       (MeetingInvitation, "invitations"),
                       (MeetingRegistration, "registrations"),
                       (MeetingAttendance, "attendance"), (MeetingFeedback, "feedback")):
        if rows[key]:
            session.execute(insert(model.__table__), rows[key])
    return {f"demo meeting {k}": len(v) for k, v in rows.items() if v and k != "audiences"}
