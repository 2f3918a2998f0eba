"""政企座谈: themed government-enterprise meetings, their invitations, registrations (报名),
attendance (签到) and feedback (反馈), and the yearly report against the plan ("全年不少于12次",
"月月有活动、季季有主题").

Lifecycle: ``planned`` → ``invited`` → ``held``; ``planned`` or ``invited`` → ``cancelled``.

- planning: theme, time (in the future), place, organiser department and an audience
  (目标企业, :mod:`services.enterprise.audience`: grid, industry direction, scale, incubator,
  tags for stage or core demand, strengths, named enterprises). Every field may change while
  planned; once invited only the description and the contact (cancel and plan again to move
  a meeting).
- invitations: the audience is resolved at that moment against the registry (in-scope
  enterprises only) and the invitees are stored as a snapshot (with their grid); the event
  ``meeting_invited`` {meeting_id, theme, starts_at (+08:00), place, enterprise_ids} goes
  through the outbox in the same transaction. Later registry changes do not change the
  invitees.
- registration: an invited enterprise registers or declines, and may change its mind, until
  the meeting starts; ``capacity`` caps the registered enterprises.
- attendance: once the meeting has started, the organiser records which invitees attended
  (the others are absent); this makes the meeting ``held`` and may be corrected later.
- feedback: an enterprise that attended a held meeting rates it 1-5 with a comment, once.
- cancelling (with a reason) before it is held; ``meeting_cancelled`` {meeting_id, theme,
  starts_at, place, reason, enterprise_ids} tells the invitees if any.

Every change bumps ``version``; a write naming a stale version is refused (412).

Who sees and does what:

- coordinators, leaders and admins: plan and manage every meeting, see all, set the quarterly
  themes, read the report;
- a department head: plans and manages the meetings their department organises, sees those,
  reads their department's report;
- a grid leader: sees (read only) the meetings whose audience names one of their grids, whose
  invitees include an enterprise of their grids, or, before invitations, whose audience names
  no grid at all; of the invitees only their grids';
- an enterprise: the meetings it is invited to (registration, attendance and feedback of its
  own); anything else is "not found";
- other roles: nothing.

Plain functions over a SQLAlchemy session; no broker in here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, exists, false, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common import settings_row
from common.auth import Principal, Role
from common.calendar import SHANGHAI
from common.concurrency import stale
from common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    field_error,
    invalid_fields,
)
from common.fields import normalized
from common.i18n import N_, label
from common.pagination import paginate
from common.validation import is_uuid
from services.enterprise import audience, events, meeting_plan
from services.enterprise.contracts import locked_setting, setting_version
from services.enterprise.models import (
    Department,
    Enterprise,
    Grid,
    Meeting,
    MeetingAttendance,
    MeetingFeedback,
    MeetingInvitation,
    MeetingRegistration,
    MeetingTheme,
    Setting,
)

#: roles that plan, manage and see every meeting
MANAGE_ALL = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})
#: roles that see every meeting
READ_ALL = MANAGE_ALL | {Role.SERVICE}
#: roles that read the yearly report (department heads: their department's)
REPORT_ROLES = MANAGE_ALL | {Role.DEPARTMENT_HEAD}
#: staff roles that see meetings at all (each within its scope)
STAFF_VIEWERS = MANAGE_ALL | {Role.DEPARTMENT_HEAD, Role.GRID_LEADER, Role.GRID_WORKER,
                                Role.SERVICE}
#: grid staff see their grids' meetings and invitees, read-only (they follow up)
GRID_STAFF = frozenset({Role.GRID_LEADER, Role.GRID_WORKER})

SETTINGS_KEY = "meetings"
#: "全年不少于12次"
DEFAULT_YEARLY_MINIMUM = 12
#: fields that may still change after invitations went out
AFTER_INVITATION = frozenset({"description", "organiser_contact"})


def utcnow() -> datetime:
    return datetime.now(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


def quarter_of(moment: datetime) -> tuple[int, int]:
    """(year, quarter) of a moment in Asia/Shanghai."""
    day = local(moment)
    return day.year, (day.month - 1) // 3 + 1


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=SHANGHAI), datetime(year + 1, 1, 1, tzinfo=SHANGHAI)


def _fold(value: str) -> str:
    return normalized(value).casefold()


def follows_theme(quarter_theme: str | None, theme: str, topics: Iterable[str]) -> bool | None:
    """季季有主题: a meeting follows its quarter's theme when that theme occurs (NFKC, any case)
    in the meeting's theme or in one of its topics; None when the quarter has no theme."""
    if not quarter_theme:
        return None
    key = _fold(quarter_theme)
    return key in _fold(theme) or any(key in _fold(t) for t in topics)


# --------------------------------------------------------------------------- who sees what


def visible(query: Select, principal: Principal) -> Select:
    """Restrict a query over Meeting to the meetings the caller may see."""
    role = principal.role
    if role in READ_ALL:
        return query
    if role == Role.DEPARTMENT_HEAD and principal.department_id:
        return query.where(Meeting.organiser_department_id == principal.department_id)
    if role in GRID_STAFF and principal.grid_ids:
        grids = list(principal.grid_ids)
        invitee_in_grid = exists().where(MeetingInvitation.meeting_id == Meeting.id,
                                         MeetingInvitation.grid_id.in_(grids))
        zone_wide = and_(Meeting.invited_at.is_(None),
                         func.cardinality(Meeting.audience_grid_ids) == 0)
        return query.where(or_(Meeting.audience_grid_ids.overlap(grids), invitee_in_grid,
                               zone_wide))
    if role == Role.ENTERPRISE and principal.enterprise_id:
        return query.where(exists().where(
            MeetingInvitation.meeting_id == Meeting.id,
            MeetingInvitation.enterprise_id == principal.enterprise_id))
    return query.where(false())


def _not_found(principal: Principal) -> NotFound:
    if principal.role == Role.ENTERPRISE:
        return NotFound("no such meeting among those your enterprise is invited to",
                        code="meeting.not_found")
    return NotFound("no such meeting", code="meeting.not_found")


def get_visible(session: Session, principal: Principal, meeting_id: str,
                lock: bool = False) -> Meeting:
    """The meeting, or NotFound when it does not exist or may not be seen. ``lock`` takes the
    row lock every write of the meeting holds (writes of one meeting happen one at a time)."""
    if not is_uuid(meeting_id):
        raise _not_found(principal)
    meeting = session.execute(
        visible(select(Meeting).where(Meeting.id == meeting_id), principal)
    ).scalar_one_or_none()
    if meeting is None:
        raise _not_found(principal)
    if lock:
        session.refresh(meeting, with_for_update=True)
    return meeting


def check_manage(principal: Principal, department_id: str) -> None:
    """Forbidden unless the caller may plan and manage meetings organised by this department."""
    if principal.role in MANAGE_ALL:
        return
    if principal.role == Role.DEPARTMENT_HEAD:
        if principal.department_id and principal.department_id == department_id:
            return
        raise Forbidden("a department head manages only meetings organised by their own "
                        "department", code="meeting.other_department")
    raise Forbidden("{role} may not plan or manage meetings", code="meeting.manage_forbidden",
                    params={"role": principal.role_label})


def _check_version(meeting: Meeting, expected: int | None) -> None:
    if expected is not None and expected != meeting.version:
        raise stale("meeting", expected, meeting.version)


def _touch(meeting: Meeting, now: datetime) -> None:
    meeting.version += 1
    meeting.updated_at = now


# --------------------------------------------------------------------------- planning


def _audience_grids(spec: dict[str, Any]) -> list[str]:
    return sorted(set(spec.get("grid_ids") or []) | set(spec.get("incubator_ids") or []))


def _check_audience(session: Session, spec: dict[str, Any]) -> None:
    """The grids and incubators an audience names must exist (a typo would invite nobody)."""
    errors: dict[str, list[Any]] = {}
    for key in ("grid_ids", "incubator_ids"):
        wanted = set(spec.get(key) or [])
        if not wanted:
            continue
        query = select(Grid.id).where(Grid.id.in_(wanted))
        if key == "incubator_ids":
            query = query.where(Grid.kind == "incubator")
        unknown = wanted - set(session.execute(query).scalars())
        if unknown:
            if key == "grid_ids":
                errors[key] = [field_error("meeting.unknown_grid", "no such grid: {ids}",
                                           ids=sorted(unknown))]
            else:
                errors[key] = [field_error("meeting.unknown_incubator",
                                           "no such incubator: {ids}", ids=sorted(unknown))]
    if errors:
        raise invalid_fields({"audience": errors})


def _check_department(session: Session, department_id: str) -> None:
    if session.get(Department, department_id) is None:
        raise invalid_fields({"organiser_department_id": [field_error(
            "department.not_found", "no department {department}", department=department_id)]})


def _check_times(starts_at: datetime, ends_at: datetime | None, now: datetime) -> None:
    if starts_at <= now:
        raise invalid_fields({"starts_at": [field_error(
            "meeting.starts_in_past", "a meeting is planned for the future")]})
    if ends_at is not None and ends_at <= starts_at:
        raise invalid_fields({"ends_at": [field_error("meeting.ends_before_start",
                                                     "not after starts_at")]})


def plan(session: Session, principal: Principal, data: dict[str, Any],
         now: datetime | None = None) -> Meeting:
    """Plan a meeting (state ``planned``)."""
    now = now or utcnow()
    check_manage(principal, data["organiser_department_id"])
    _check_department(session, data["organiser_department_id"])
    _check_times(data["starts_at"], data.get("ends_at"), now)
    spec = dict(data.get("audience") or {})
    _check_audience(session, spec)
    meeting = Meeting(
        id=str(uuid.uuid4()), theme=data["theme"], description=data.get("description"),
        topics=list(data.get("topics") or []), starts_at=data["starts_at"],
        ends_at=data.get("ends_at"), place=data["place"],
        organiser_department_id=data["organiser_department_id"],
        organiser_contact=data.get("organiser_contact"), capacity=data.get("capacity"),
        audience=spec, audience_grid_ids=_audience_grids(spec), state="planned",
        created_by=principal.user_id, created_at=now, updated_at=now, version=1,
    )
    session.add(meeting)
    session.flush()
    return meeting


def update(session: Session, principal: Principal, meeting_id: str, data: dict[str, Any],
           expected_version: int | None = None, now: datetime | None = None) -> Meeting:
    """Change a planned meeting (once invited: description and contact only)."""
    now = now or utcnow()
    data = dict(data)
    body_version = data.pop("version", None)
    expected = expected_version if expected_version is not None else body_version
    meeting = get_visible(session, principal, meeting_id, lock=True)
    check_manage(principal, meeting.organiser_department_id)
    _check_version(meeting, expected)
    if meeting.state not in ("planned", "invited"):
        raise Conflict("a meeting in state {state} can no longer be changed",
                       code="meeting.not_changeable",
                       params={"state": label("meeting_state", meeting.state)})
    if meeting.state == "invited" and set(data) - AFTER_INVITATION:
        raise Conflict("invitations were sent: {fields} can no longer change (cancel the "
                       "meeting and plan a new one)", code="meeting.invited_fields_fixed",
                       params={"fields": sorted(set(data) - AFTER_INVITATION)})
    if "organiser_department_id" in data:
        check_manage(principal, data["organiser_department_id"])
        _check_department(session, data["organiser_department_id"])
    if "starts_at" in data or "ends_at" in data:
        _check_times(data.get("starts_at", meeting.starts_at),
                     data.get("ends_at", meeting.ends_at), now)
    if "audience" in data:
        data["audience"] = dict(data["audience"])
        _check_audience(session, data["audience"])
        data["audience_grid_ids"] = _audience_grids(data["audience"])
    changed = {k for k, v in data.items() if getattr(meeting, k) != v}
    for key in changed:
        setattr(meeting, key, data[key])
    if changed:
        _touch(meeting, now)
        session.flush()
    return meeting


def preview_audience(session: Session, principal: Principal, meeting_id: str) -> list[str]:
    """The in-scope enterprises the audience names right now (who would be invited)."""
    meeting = get_visible(session, principal, meeting_id)
    check_manage(principal, meeting.organiser_department_id)
    if meeting.state != "planned":
        return list(session.execute(
            select(MeetingInvitation.enterprise_id)
            .where(MeetingInvitation.meeting_id == meeting.id)
            .order_by(MeetingInvitation.enterprise_id)).scalars())
    return audience.resolve(session, meeting.audience or {})


def invite(session: Session, principal: Principal, meeting_id: str,
           expected_version: int | None = None, now: datetime | None = None,
           call_id: str | None = None) -> tuple[Meeting, list[str]]:
    """Send the invitations: resolve the audience now, store the invitees, publish
    ``meeting_invited``. Once only, and before the meeting starts."""
    now = now or utcnow()
    meeting = get_visible(session, principal, meeting_id, lock=True)
    check_manage(principal, meeting.organiser_department_id)
    _check_version(meeting, expected_version)
    if meeting.state == "invited":
        raise Conflict("the invitations of this meeting were already sent",
                       code="meeting.already_invited")
    if meeting.state != "planned":
        raise Conflict("a meeting in state {state} cannot invite anyone",
                       code="meeting.not_invitable",
                       params={"state": label("meeting_state", meeting.state)})
    if meeting.starts_at <= now:
        raise Conflict("the meeting has started: invitations can no longer be sent",
                       code="meeting.started")
    # the audience's enterprises with their grid, stored in one INSERT ... SELECT
    members = audience.audience_query(meeting.audience or {}).subquery()
    ids = sorted(session.execute(
        insert(MeetingInvitation).from_select(
            ["meeting_id", "enterprise_id", "grid_id", "invited_at"],
            select(literal(meeting.id, MeetingInvitation.meeting_id.type), Enterprise.id,
                   Enterprise.grid_id, literal(now, MeetingInvitation.invited_at.type))
            .join(members, members.c.id == Enterprise.id))
        .returning(MeetingInvitation.enterprise_id)).scalars())
    if not ids:
        raise invalid_fields({"audience": [field_error("meeting.audience_empty",
                                                      "matches no in-scope enterprise")]})
    meeting.state = "invited"
    meeting.invited_at = now
    _touch(meeting, now)
    events.publish(session, "meeting_invited", {
        "meeting_id": meeting.id, "theme": meeting.theme,
        "starts_at": local(meeting.starts_at).isoformat(), "place": meeting.place,
        "enterprise_ids": ids,
    }, call_id)
    session.flush()
    return meeting, ids


def cancel(session: Session, principal: Principal, meeting_id: str, reason: str,
           expected_version: int | None = None, now: datetime | None = None,
           call_id: str | None = None) -> Meeting:
    """Cancel a meeting not yet held; invitees (if any) hear of it (``meeting_cancelled``)."""
    now = now or utcnow()
    meeting = get_visible(session, principal, meeting_id, lock=True)
    check_manage(principal, meeting.organiser_department_id)
    _check_version(meeting, expected_version)
    if meeting.state not in ("planned", "invited"):
        raise Conflict("a meeting in state {state} cannot be cancelled",
                       code="meeting.not_cancellable",
                       params={"state": label("meeting_state", meeting.state)})
    was_invited = meeting.state == "invited"
    meeting.state = "cancelled"
    meeting.cancelled_at = now
    meeting.cancel_reason = reason
    _touch(meeting, now)
    if was_invited:
        invitees = list(session.execute(
            select(MeetingInvitation.enterprise_id)
            .where(MeetingInvitation.meeting_id == meeting.id)
            .order_by(MeetingInvitation.enterprise_id)).scalars())
        events.publish(session, "meeting_cancelled", {
            "meeting_id": meeting.id, "theme": meeting.theme,
            "starts_at": local(meeting.starts_at).isoformat(), "place": meeting.place,
            "reason": reason, "enterprise_ids": invitees,
        }, call_id)
    session.flush()
    return meeting


# --------------------------------------------------------------------------- enterprises


def _own_enterprise(principal: Principal, what: str) -> str:
    """``what``: the message id of the refusal to any other caller."""
    if principal.role != Role.ENTERPRISE or not principal.enterprise_id:
        raise Forbidden(what, code="meeting.enterprise_only")
    return principal.enterprise_id


def register(session: Session, principal: Principal, meeting_id: str, data: dict[str, Any],
             now: datetime | None = None) -> MeetingRegistration:
    """报名 or decline, until the meeting starts."""
    now = now or utcnow()
    enterprise_id = _own_enterprise(
        principal, N_("only an invited enterprise registers for a meeting"))
    meeting = get_visible(session, principal, meeting_id, lock=True)
    if meeting.state == "cancelled":
        raise Conflict("the meeting was cancelled: {reason}", code="meeting.cancelled",
                       params={"reason": meeting.cancel_reason})
    if meeting.state != "invited" or meeting.starts_at <= now:
        raise Conflict("registration is closed: the meeting started at {starts_at}",
                       code="meeting.registration_closed",
                       params={"starts_at": local(meeting.starts_at).isoformat()})
    current = session.get(MeetingRegistration, (meeting.id, enterprise_id))
    if (data["response"] == "registered" and meeting.capacity is not None
            and (current is None or current.response != "registered")):
        taken = session.execute(
            select(func.count()).where(MeetingRegistration.meeting_id == meeting.id,
                                       MeetingRegistration.response == "registered")
        ).scalar_one()
        if taken >= meeting.capacity:
            raise Conflict("the meeting is full ({capacity} enterprises registered)",
                           code="meeting.full", params={"capacity": meeting.capacity})
    values = {"response": data["response"], "attendees": list(data.get("attendees") or []),
              "note": data.get("note"), "responded_by": principal.user_id,
              "responded_at": now}
    if current is None:
        current = MeetingRegistration(meeting_id=meeting.id, enterprise_id=enterprise_id,
                                      **values)
        session.add(current)
    else:
        for key, value in values.items():
            setattr(current, key, value)
    _touch(meeting, now)
    session.flush()
    return current


def give_feedback(session: Session, principal: Principal, meeting_id: str,
                  data: dict[str, Any], now: datetime | None = None) -> MeetingFeedback:
    """反馈: an enterprise that attended a held meeting rates it, once."""
    now = now or utcnow()
    enterprise_id = _own_enterprise(principal,
                                    N_("only an invited enterprise gives feedback on a meeting"))
    meeting = get_visible(session, principal, meeting_id, lock=True)
    if meeting.state != "held":
        raise Conflict("feedback opens once the meeting is held (attendance recorded)",
                       code="meeting.not_held")
    attendance = session.get(MeetingAttendance, (meeting.id, enterprise_id))
    if attendance is None or not attendance.attended:
        raise Forbidden("only enterprises that attended the meeting give feedback",
                        code="meeting.not_attended")
    if session.get(MeetingFeedback, (meeting.id, enterprise_id)) is not None:
        raise Conflict("your enterprise already gave feedback on this meeting",
                       code="meeting.feedback_given")
    feedback = MeetingFeedback(meeting_id=meeting.id, enterprise_id=enterprise_id,
                               rating=data["rating"], comment=data.get("comment"),
                               submitted_by=principal.user_id, submitted_at=now)
    session.add(feedback)
    _touch(meeting, now)
    session.flush()
    return feedback


# --------------------------------------------------------------------------- attendance


def record_attendance(session: Session, principal: Principal, meeting_id: str,
                      data: dict[str, Any], expected_version: int | None = None,
                      now: datetime | None = None) -> Meeting:
    """签到: which invitees attended (the others did not); the meeting is then ``held``.
    Only once it has started; recording again replaces the list."""
    now = now or utcnow()
    meeting = get_visible(session, principal, meeting_id, lock=True)
    check_manage(principal, meeting.organiser_department_id)
    _check_version(meeting, expected_version)
    if meeting.state == "planned":
        raise Conflict("send the invitations first: only invitees attend",
                       code="meeting.not_invited_yet")
    if meeting.state == "cancelled":
        raise Conflict("a cancelled meeting has no attendance", code="meeting.cancelled")
    if meeting.starts_at > now:
        raise Conflict("the meeting has not started yet (starts at {starts_at})",
                       code="meeting.not_started",
                       params={"starts_at": local(meeting.starts_at).isoformat()})
    invitees = set(session.execute(
        select(MeetingInvitation.enterprise_id)
        .where(MeetingInvitation.meeting_id == meeting.id)).scalars())
    attended = set(data["attended"])
    strangers = sorted(attended - invitees)
    if strangers:
        raise invalid_fields({"attended": [field_error(
            "meeting.not_invited", "not invited: {enterprises}", enterprises=strangers[:20])]})
    rows = [{"meeting_id": meeting.id, "enterprise_id": e, "attended": e in attended,
             "recorded_by": principal.user_id, "recorded_at": now} for e in sorted(invitees)]
    stmt = insert(MeetingAttendance)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[MeetingAttendance.meeting_id, MeetingAttendance.enterprise_id],
        set_={"attended": stmt.excluded.attended, "recorded_by": stmt.excluded.recorded_by,
              "recorded_at": stmt.excluded.recorded_at}), rows)
    if data.get("minutes") is not None:
        meeting.minutes = data["minutes"]
    meeting.state = "held"
    meeting.held_at = meeting.held_at or now
    _touch(meeting, now)
    session.flush()
    return meeting


# --------------------------------------------------------------------------- reading


def _counts(session: Session, meeting_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Invited, registered, declined, attended, feedback and the average rating per meeting."""
    counts: dict[str, dict[str, Any]] = {
        m: {"invited": 0, "registered": 0, "declined": 0, "attended": 0, "feedback": 0,
            "average_rating": None} for m in meeting_ids}
    if not meeting_ids:
        return counts
    for m, n in session.execute(
            select(MeetingInvitation.meeting_id, func.count())
            .where(MeetingInvitation.meeting_id.in_(meeting_ids))
            .group_by(MeetingInvitation.meeting_id)):
        counts[m]["invited"] = n
    for m, registered, declined in session.execute(
            select(MeetingRegistration.meeting_id,
                   func.count().filter(MeetingRegistration.response == "registered"),
                   func.count().filter(MeetingRegistration.response == "declined"))
            .where(MeetingRegistration.meeting_id.in_(meeting_ids))
            .group_by(MeetingRegistration.meeting_id)):
        counts[m]["registered"], counts[m]["declined"] = registered, declined
    for m, n in session.execute(
            select(MeetingAttendance.meeting_id, func.count())
            .where(MeetingAttendance.meeting_id.in_(meeting_ids),
                   MeetingAttendance.attended.is_(True))
            .group_by(MeetingAttendance.meeting_id)):
        counts[m]["attended"] = n
    for m, n, avg in session.execute(
            select(MeetingFeedback.meeting_id, func.count(), func.avg(MeetingFeedback.rating))
            .where(MeetingFeedback.meeting_id.in_(meeting_ids))
            .group_by(MeetingFeedback.meeting_id)):
        counts[m]["feedback"] = n
        counts[m]["average_rating"] = round(float(avg), 2)
    return counts


def themes_of(session: Session, years: Iterable[int]) -> dict[tuple[int, int], str]:
    wanted = sorted(set(years))
    if not wanted:
        return {}
    return {(t.year, t.quarter): t.theme for t in session.execute(
        select(MeetingTheme).where(MeetingTheme.year.in_(wanted))).scalars()}


def _my_invitations(session: Session, enterprise_id: str, meeting_ids: list[str]
                    ) -> dict[str, dict[str, Any]]:
    rows = session.execute(
        select(MeetingInvitation, MeetingRegistration, MeetingAttendance, MeetingFeedback)
        .outerjoin(MeetingRegistration, and_(
            MeetingRegistration.meeting_id == MeetingInvitation.meeting_id,
            MeetingRegistration.enterprise_id == MeetingInvitation.enterprise_id))
        .outerjoin(MeetingAttendance, and_(
            MeetingAttendance.meeting_id == MeetingInvitation.meeting_id,
            MeetingAttendance.enterprise_id == MeetingInvitation.enterprise_id))
        .outerjoin(MeetingFeedback, and_(
            MeetingFeedback.meeting_id == MeetingInvitation.meeting_id,
            MeetingFeedback.enterprise_id == MeetingInvitation.enterprise_id))
        .where(MeetingInvitation.enterprise_id == enterprise_id,
               MeetingInvitation.meeting_id.in_(meeting_ids))
    ).all()
    return {
        inv.meeting_id: {
            "invited_at": inv.invited_at,
            "response": reg.response if reg else None,
            "attendees": list(reg.attendees or []) if reg else [],
            "attended": att.attended if att else None,
            "feedback": fb,
        } for inv, reg, att, fb in rows}


def views(session: Session, principal: Principal, meetings: list[Meeting]
          ) -> list[dict[str, Any]]:
    """What the caller sees of these meetings: staff the audience and the counts, an
    enterprise its own invitation."""
    ids = [m.id for m in meetings]
    themes = themes_of(session, (quarter_of(m.starts_at)[0] for m in meetings))
    is_enterprise = principal.role == Role.ENTERPRISE
    counts = {} if is_enterprise else _counts(session, ids)
    mine = (_my_invitations(session, principal.enterprise_id or "", ids)
            if is_enterprise and ids else {})
    result = []
    for m in meetings:
        quarter_theme = themes.get(quarter_of(m.starts_at))
        result.append({
            "id": m.id, "theme": m.theme, "description": m.description,
            "topics": list(m.topics or []), "starts_at": m.starts_at, "ends_at": m.ends_at,
            "place": m.place, "organiser_department_id": m.organiser_department_id,
            "organiser_contact": m.organiser_contact, "capacity": m.capacity,
            "audience": None if is_enterprise else dict(m.audience or {}),
            "state": m.state, "quarter_theme": quarter_theme,
            "on_quarter_theme": follows_theme(quarter_theme, m.theme, m.topics or []),
            "invited_at": m.invited_at, "held_at": m.held_at, "minutes": m.minutes,
            "cancelled_at": m.cancelled_at, "cancel_reason": m.cancel_reason,
            "counts": counts.get(m.id), "my_invitation": mine.get(m.id),
            "created_by": m.created_by, "created_at": m.created_at,
            "updated_at": m.updated_at, "version": m.version,
        })
    return result


def list_visible(session: Session, principal: Principal, filters: dict[str, Any]
                 ) -> tuple[list[Meeting], int]:
    """Meetings the caller may see, latest start first; filters year, state, department_id."""
    if principal.role not in STAFF_VIEWERS | {Role.ENTERPRISE}:
        raise Forbidden("{role} does not see meetings", code="meeting.read_forbidden",
                        params={"role": principal.role_label})
    query = visible(select(Meeting), principal)
    if filters.get("year"):
        start, end = year_bounds(filters["year"])
        query = query.where(Meeting.starts_at >= start, Meeting.starts_at < end)
    if filters.get("state"):
        query = query.where(Meeting.state == filters["state"])
    if filters.get("department_id"):
        query = query.where(Meeting.organiser_department_id == filters["department_id"])
    found = paginate(session, query, filters, order_by=[Meeting.starts_at.desc(), Meeting.id],
                     scalars=True)
    return found.items, found.total


def invitations(session: Session, principal: Principal, meeting_id: str,
                filters: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The invitees with their registration, attendance and feedback (grid leaders: their
    grids' invitees only), by enterprise name."""
    if principal.role not in STAFF_VIEWERS:
        raise Forbidden("{role} may not see a meeting's invitees",
                        code="meeting.invitees_forbidden",
                        params={"role": principal.role_label})
    meeting = get_visible(session, principal, meeting_id)
    query = (
        select(MeetingInvitation, Enterprise.name, MeetingRegistration, MeetingAttendance,
               MeetingFeedback)
        .join(Enterprise, Enterprise.id == MeetingInvitation.enterprise_id)
        .outerjoin(MeetingRegistration, and_(
            MeetingRegistration.meeting_id == MeetingInvitation.meeting_id,
            MeetingRegistration.enterprise_id == MeetingInvitation.enterprise_id))
        .outerjoin(MeetingAttendance, and_(
            MeetingAttendance.meeting_id == MeetingInvitation.meeting_id,
            MeetingAttendance.enterprise_id == MeetingInvitation.enterprise_id))
        .outerjoin(MeetingFeedback, and_(
            MeetingFeedback.meeting_id == MeetingInvitation.meeting_id,
            MeetingFeedback.enterprise_id == MeetingInvitation.enterprise_id))
        .where(MeetingInvitation.meeting_id == meeting.id)
    )
    if principal.role in GRID_STAFF:
        query = query.where(MeetingInvitation.grid_id.in_(list(principal.grid_ids) or [""]))
    response = filters.get("response")
    if response == "none":
        query = query.where(MeetingRegistration.enterprise_id.is_(None))
    elif response:
        query = query.where(MeetingRegistration.response == response)
    if filters.get("attended") is not None:
        attended = MeetingAttendance.attended.is_(True)
        query = query.where(attended if filters["attended"] else
                            or_(MeetingAttendance.attended.is_(None),
                                MeetingAttendance.attended.is_(False)))
    found = paginate(session, query, filters,
                     order_by=[Enterprise.name, MeetingInvitation.enterprise_id])
    items = [{
        "enterprise_id": inv.enterprise_id, "enterprise_name": name, "grid_id": inv.grid_id,
        "invited_at": inv.invited_at, "response": reg.response if reg else None,
        "attendees": list(reg.attendees or []) if reg else [],
        "responded_at": reg.responded_at if reg else None,
        "attended": att.attended if att else None,
        "rating": fb.rating if fb else None, "comment": fb.comment if fb else None,
    } for inv, name, reg, att, fb in found.items]
    return items, found.total


# --------------------------------------------------------------------------- themes, settings


def this_year(now: datetime | None = None) -> int:
    return local(now or utcnow()).year


def list_themes(session: Session, principal: Principal, year: int) -> list[MeetingTheme]:
    if principal.role not in STAFF_VIEWERS:
        raise Forbidden("{role} does not see the quarterly themes",
                        code="meeting.themes_forbidden",
                        params={"role": principal.role_label})
    return list(session.execute(
        select(MeetingTheme).where(MeetingTheme.year == year).order_by(MeetingTheme.quarter)
    ).scalars())


def set_theme(session: Session, principal: Principal, data: dict[str, Any],
              now: datetime | None = None) -> MeetingTheme:
    """季季有主题: coordinators, leaders and admins set a quarter's theme (again: replaced)."""
    if principal.role not in MANAGE_ALL:
        raise Forbidden("{role} may not set the quarterly themes",
                        code="meeting.themes_forbidden",
                        params={"role": principal.role_label})
    now = now or utcnow()
    stmt = insert(MeetingTheme).values(year=data["year"], quarter=data["quarter"],
                                       theme=data["theme"], set_by=principal.user_id,
                                       set_at=now)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[MeetingTheme.year, MeetingTheme.quarter],
        set_={"theme": stmt.excluded.theme, "set_by": stmt.excluded.set_by,
              "set_at": stmt.excluded.set_at}))
    theme = session.get(MeetingTheme, (data["year"], data["quarter"]),
                        populate_existing=True)
    assert theme is not None
    return theme


def yearly_minimum(session: Session) -> int:
    value = settings_row.stored(session, Setting, SETTINGS_KEY).get("yearly_minimum")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return DEFAULT_YEARLY_MINIMUM


def settings(session: Session, principal: Principal) -> dict[str, Any]:
    if principal.role not in STAFF_VIEWERS:
        raise Forbidden("{role} does not see the meeting settings",
                        code="meeting.settings_forbidden",
                        params={"role": principal.role_label})
    return {"yearly_minimum": yearly_minimum(session)}


def settings_version(session: Session) -> int:
    """The version of the meeting settings (their row of ``settings``; 1 until changed)."""
    return setting_version(session, SETTINGS_KEY)


def update_settings(session: Session, principal: Principal, data: dict[str, Any],
                    expected: int | None = None) -> dict[str, Any]:
    """Admins set the yearly minimum; refused (412) unless the settings are still at version
    ``expected`` (when given). A change bumps their version."""
    principal.require(Role.ADMIN)
    row = locked_setting(session, SETTINGS_KEY, expected, "meeting_settings")
    value = {"yearly_minimum": data["yearly_minimum"]}
    if yearly_minimum(session) != value["yearly_minimum"]:
        row.value = value
        row.version += 1
        session.flush()
    return value


# --------------------------------------------------------------------------- yearly report


def report(session: Session, principal: Principal, filters: dict[str, Any],
           now: datetime | None = None) -> dict[str, Any]:
    """The year against the plan, from held meetings starting in the year (Asia/Shanghai):

    - ``held`` vs ``minimum`` (setting, default 12): ``meets_minimum``, ``shortfall``;
    - 月月有活动: per month the held meetings; a month that has ended without one is
      ``missed`` (listed in ``months_without_meeting``), one not ended yet without one
      ``open``;
    - 季季有主题: per quarter its theme and the held meetings that follow it; ``ok`` needs a
      theme and at least one; an ended quarter that is not ok is ``missed`` (listed in
      ``quarters_off_theme``);
    - ``attendance_rate`` = attended / invited and ``show_up_rate`` = registered enterprises
      that attended / registered, over held meetings; ``average_rating`` over their feedback.

    Department heads see their own department's meetings; others may name a department.
    The plan's rule is :mod:`services.enterprise.meeting_plan`.
    """
    department_id = _report_department(principal, filters.get("department_id"))
    now = now or utcnow()
    today = local(now).date()
    year = filters.get("year") or today.year
    meetings = _meetings_of(session, year, department_id)
    held = [m for m in meetings if m.state == "held"]
    themes = themes_of(session, [year])
    counts = _counts(session, [m.id for m in held])
    minimum = yearly_minimum(session)

    rows = []
    judged = []
    for m in held:
        moment = local(m.starts_at)
        quarter = meeting_plan.quarter_of_month(moment.month)
        follows = follows_theme(themes.get((year, quarter)), m.theme, m.topics or [])
        judged.append(meeting_plan.Held(moment.month, follows))
        c = counts[m.id]
        rows.append({"id": m.id, "theme": m.theme, "starts_at": m.starts_at,
                     "organiser_department_id": m.organiser_department_id,
                     "quarter": quarter, "on_quarter_theme": follows,
                     "invited": c["invited"], "registered": c["registered"],
                     "attended": c["attended"], "feedback": c["feedback"],
                     "average_rating": c["average_rating"]})
    progress = meeting_plan.progress(year, today, judged,
                                     {q: themes.get((year, q)) for q in range(1, 5)})
    invited = sum(c["invited"] for c in counts.values())
    attended = sum(c["attended"] for c in counts.values())
    registered = sum(c["registered"] for c in counts.values())
    showed_up, ratings = _turnout(session, [m.id for m in held])
    return {
        "year": year, "department_id": department_id, "as_of": today,
        "minimum": minimum, "held": len(held), "meets_minimum": len(held) >= minimum,
        "shortfall": max(0, minimum - len(held)),
        "upcoming": sum(1 for m in meetings if m.state in ("planned", "invited")),
        "cancelled": sum(1 for m in meetings if m.state == "cancelled"),
        "months": progress.months,
        "months_without_meeting": progress.months_without_meeting,
        "quarters": progress.quarters,
        "quarters_off_theme": progress.quarters_off_theme,
        "invited": invited, "registered": registered, "attended": attended,
        "attendance_rate": meeting_plan.rate(attended, invited),
        "show_up_rate": meeting_plan.rate(showed_up, registered),
        "feedback": ratings[0], "average_rating": ratings[1],
        "meetings": rows,
    }


def _report_department(principal: Principal, department_id: str | None) -> str | None:
    """Who may read the report, and of which department: a department head only their own."""
    if principal.role not in REPORT_ROLES | {Role.SERVICE}:
        raise Forbidden("{role} may not read the meeting report",
                        code="meeting.report_forbidden",
                        params={"role": principal.role_label})
    if principal.role == Role.DEPARTMENT_HEAD:
        if not principal.department_id or (department_id
                                           and department_id != principal.department_id):
            raise Forbidden("a department head reads only their own department's report",
                            code="meeting.other_department")
        return principal.department_id
    return department_id


def _meetings_of(session: Session, year: int, department_id: str | None) -> list[Meeting]:
    """The meetings starting in ``year`` (Asia/Shanghai), of one department or all."""
    start, end = year_bounds(year)
    query = select(Meeting).where(Meeting.starts_at >= start, Meeting.starts_at < end)
    if department_id:
        query = query.where(Meeting.organiser_department_id == department_id)
    return list(session.execute(query.order_by(Meeting.starts_at, Meeting.id)).scalars())


def _turnout(session: Session, held_ids: list[str]) -> tuple[int, tuple[int, float | None]]:
    """Registered enterprises that attended the held meetings, and their feedback (count,
    average rating)."""
    if not held_ids:
        return 0, (0, None)
    showed_up = session.execute(
        select(func.count()).select_from(MeetingRegistration).join(MeetingAttendance, and_(
            MeetingAttendance.meeting_id == MeetingRegistration.meeting_id,
            MeetingAttendance.enterprise_id == MeetingRegistration.enterprise_id))
        .where(MeetingRegistration.meeting_id.in_(held_ids),
               MeetingRegistration.response == "registered",
               MeetingAttendance.attended.is_(True))).scalar_one()
    n, avg = session.execute(
        select(func.count(), func.avg(MeetingFeedback.rating))
        .where(MeetingFeedback.meeting_id.in_(held_ids))).one()
    return int(showed_up), (int(n), round(float(avg), 2) if avg is not None else None)
