"""The enterprise registry's tables, all in the ``enterprise`` schema."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.events import processed_events_table
from common.outbox import outbox_table

SCHEMA = "enterprise"
metadata = MetaData(schema=SCHEMA)


class Base(DeclarativeBase):
    metadata = metadata


def now_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Department(Base):
    """部门 / 派驻机构 of the management committee; one liaison (联络员) each."""

    __tablename__ = "departments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # management | stationed
    head_name: Mapped[str | None] = mapped_column(String(50))
    head_title: Mapped[str | None] = mapped_column(String(100))
    head_account_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    liaison_account_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    leader_account_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))  # 分管领导
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class Category(Base):
    """诉求类别 → the department that handles it; admins edit this table (triage uses it)."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    updated_at: Mapped[datetime] = now_column()
    updated_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class LeadingGroupMember(Base):
    """领导小组 member; the office (办公室) sits in 经济发展部."""

    __tablename__ = "leading_group_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50))
    group_role: Mapped[str] = mapped_column(String(10))  # 组长 | 副组长 | 成员
    title: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    is_office_director: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Account(Base):
    """A person who logs in: staff of any role, or a user of one enterprise."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    enterprise_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = now_column()
    created_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    #: tokens issued before this moment are refused (disabled, password changed)
    tokens_valid_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: the grid staff member agreed to publish name and work phone in the public grid
    #: service contacts (公开网格化服务联系方式); off by default
    publish_contact: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=text("false"))


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_user_time", "username", "attempted_at"),
        Index("ix_login_attempts_client_time", "client", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    attempted_at: Mapped[datetime] = now_column()


class Grid(Base):
    """网格: an incubator (孵化器, owner 科技创新部) or a geographic area (owner 经济发展部)."""

    __tablename__ = "grids"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # incubator | geographic
    owner_department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    boundary: Mapped[dict | None] = mapped_column(JSONB)  # GeoJSON (geographic grids)
    address: Mapped[str | None] = mapped_column(String(200))  # incubators
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    opened_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class GridStaff(Base):
    """网格长 (leader) and 网格员 (workers) of a grid."""

    __tablename__ = "grid_staff"

    grid_id: Mapped[str] = mapped_column(ForeignKey("grids.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    duty: Mapped[str] = mapped_column(String(10))  # leader | worker


class Enterprise(Base):
    """企业: one enterprise of the zone, its grid and its scope (服务范围)."""

    __tablename__ = "enterprises"
    __table_args__ = (Index("ix_enterprises_search", "search", postgresql_using="gin"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str] = mapped_column(String(300))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    industry_code: Mapped[str] = mapped_column(String(6), index=True)
    scale: Mapped[str] = mapped_column(String(10), index=True)
    incubator_id: Mapped[str | None] = mapped_column(ForeignKey("grids.id"))
    grid_id: Mapped[str | None] = mapped_column(ForeignKey("grids.id"), index=True)
    grid_source: Mapped[str] = mapped_column(String(20))  # incubator | location | unassigned
    in_scope: Mapped[bool] = mapped_column(Boolean, index=True)
    operating: Mapped[bool] = mapped_column(Boolean, default=True)
    has_revenue: Mapped[bool] = mapped_column(Boolean, default=True)
    pays_tax: Mapped[bool] = mapped_column(Boolean, default=True)
    contacts: Mapped[list] = mapped_column(JSONB, default=list)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    strengths: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list)
    upstream: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list)
    downstream: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    # 全文检索: jieba's words of the name and tags (A), strengths and products (upstream,
    # downstream: B); kept current by registry.refresh_search
    search: Mapped[str] = mapped_column(TSVECTOR, server_default=text("''::tsvector"))


class ScopeChange(Base):
    """History of an enterprise entering or leaving scope (纳入 / 迁出 / 注销)."""

    __tablename__ = "scope_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    in_scope: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(30))
    effective_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = now_column()


class ProfileValue(Base):
    """企业画像: one yearly indicator value with its source; history kept, latest wins."""

    __tablename__ = "profile_values"
    __table_args__ = (
        Index("ix_profile_latest", "enterprise_id", "indicator", "year", "entered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"))
    year: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    source: Mapped[str] = mapped_column(String(20))
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = now_column()


class Contract(Base):
    """协议合同 between the committee and an enterprise."""

    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[date] = mapped_column(Date)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = now_column()
    version: Mapped[int] = mapped_column(Integer, default=1)


class Obligation(Base):
    """One obligation of a contract; committee obligations are watched (预先消除违约事项)."""

    __tablename__ = "obligations"
    __table_args__ = (
        # what the obligation sweep scans: committee obligations not yet reminded / breached
        Index("ix_obligations_to_remind", "remind_on", postgresql_where=text(
            "party = 'committee' AND fulfilled_at IS NULL AND reminded_at IS NULL")),
        Index("ix_obligations_to_breach", "due_on", postgresql_where=text(
            "party = 'committee' AND fulfilled_at IS NULL AND overdue_at IS NULL")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    party: Mapped[str] = mapped_column(String(20))  # committee | enterprise
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    fulfilled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    remind_on: Mapped[date | None] = mapped_column(Date)
    #: the reminder day was counted across a year without a loaded working-day table (暂定);
    #: re-planned when that year is loaded (``calendar_year_loaded``)
    remind_on_provisional: Mapped[bool] = mapped_column(Boolean, default=False,
                                                        server_default=text("false"))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Visit(Base):
    """走访: a grid worker's visit to an enterprise."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_enterprise_date", "enterprise_id", "visited_on"),
        Index("ix_visits_grid_date", "grid_id", "visited_on"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"))
    grid_id: Mapped[str | None] = mapped_column(ForeignKey("grids.id"))
    visited_on: Mapped[date] = mapped_column(Date)
    visitor_account_id: Mapped[str] = mapped_column(String(64))
    topics: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    demands_raised: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = now_column()


class CalendarYear(Base):
    """A working-day schedule loaded by an operator in ticketing (``calendar_year_loaded``),
    kept here so obligation reminders fall on the same working days (调休 included)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[date]] = mapped_column(ARRAY(Date))
    makeup_workdays: Mapped[list[date]] = mapped_column(ARRAY(Date))
    source: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = now_column()


class Setting(Base):
    """Admin-editable settings of the registry (e.g. reminder lead time in working days)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


# --- meetings (政企座谈) ---------------------------------------------------------------------


class Meeting(Base):
    """政企座谈: a themed government-enterprise meeting, planned by a department for an audience.

    state: planned → invited (audience resolved, invitees stored) → held (attendance recorded);
    planned or invited → cancelled (with a reason)."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("state IN ('planned', 'invited', 'held', 'cancelled')",
                        name="ck_meetings_state"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    theme: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(ARRAY(String(50)), default=list)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    place: Mapped[str] = mapped_column(String(200))
    organiser_department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"),
                                                         index=True)
    organiser_contact: Mapped[str | None] = mapped_column(String(100))
    capacity: Mapped[int | None] = mapped_column(Integer)
    audience: Mapped[dict] = mapped_column(JSONB, default=dict)
    #: the grids (grid_ids and incubator_ids) the audience names, for grid leaders' scope
    audience_grid_ids: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    state: Mapped[str] = mapped_column(String(20), index=True)
    invited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    minutes: Mapped[str | None] = mapped_column(Text)  # 会议纪要
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    version: Mapped[int] = mapped_column(Integer, default=1)


class MeetingInvitation(Base):
    """邀请: an in-scope enterprise of the audience when invitations went out (a snapshot)."""

    __tablename__ = "meeting_invitations"

    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), primary_key=True,
                                               index=True)
    grid_id: Mapped[str | None] = mapped_column(String(20), index=True)  # at invitation time
    invited_at: Mapped[datetime] = now_column()


class MeetingRegistration(Base):
    """报名: an invited enterprise registers (registered) or declines (declined)."""

    __tablename__ = "meeting_registrations"
    __table_args__ = (
        ForeignKeyConstraint(["meeting_id", "enterprise_id"],
                             ["meeting_invitations.meeting_id",
                              "meeting_invitations.enterprise_id"]),
        CheckConstraint("response IN ('registered', 'declined')",
                        name="ck_meeting_registrations_response"),
    )

    meeting_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    response: Mapped[str] = mapped_column(String(10))
    attendees: Mapped[list] = mapped_column(JSONB, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    responded_by: Mapped[str] = mapped_column(String(64))
    responded_at: Mapped[datetime] = now_column()


class MeetingAttendance(Base):
    """签到: whether an invited enterprise attended, recorded by staff after the start."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (
        ForeignKeyConstraint(["meeting_id", "enterprise_id"],
                             ["meeting_invitations.meeting_id",
                              "meeting_invitations.enterprise_id"]),
    )

    meeting_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    attended: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = now_column()


class MeetingFeedback(Base):
    """反馈: an attending enterprise rates the meeting (1-5) with a comment, once."""

    __tablename__ = "meeting_feedback"
    __table_args__ = (
        ForeignKeyConstraint(["meeting_id", "enterprise_id"],
                             ["meeting_invitations.meeting_id",
                              "meeting_invitations.enterprise_id"]),
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_meeting_feedback_rating"),
    )

    meeting_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = now_column()


class MeetingTheme(Base):
    """季度主题 (季季有主题): the theme of a quarter that meetings of the quarter follow."""

    __tablename__ = "meeting_themes"
    __table_args__ = (
        CheckConstraint("quarter BETWEEN 1 AND 4", name="ck_meeting_themes_quarter"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    theme: Mapped[str] = mapped_column(String(100))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = now_column()


outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)


class AuditEntry(Base):
    """One privileged write, once per gateway call id."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor_at", "actor_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                         index=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(20))
    call_id: Mapped[str] = mapped_column(String(200), unique=True)
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(500))
    action: Mapped[str] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer)
    subject_ids: Mapped[dict] = mapped_column(JSONB, default=dict)
    fields_changed: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)


# the zone resources (区域资源) keep their tables in the same schema and metadata
from services.enterprise.zone import models as _zone_models  # noqa: E402,F401


class ImportJob(Base):
    """导入任务: an XLSX/CSV file imported in batches by the service's import runner
    (:mod:`services.enterprise.import_jobs`); its progress and row errors readable while it
    runs, by the account that started it only."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_open", "status", "heartbeat_at"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    dry_run: Mapped[bool] = mapped_column(Boolean)
    format: Mapped[str] = mapped_column(String(10))
    #: the uploaded file, dropped once the job is done or failed
    content: Mapped[bytes | None] = mapped_column(BYTEA)
    call_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))  # pending | running | done | failed
    #: data rows of the file (None until it is read)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    #: data rows handled so far, in the file's order: the batches committed
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    #: why a failed job stopped: a coded reason (code, message id, params)
    failure: Mapped[dict | None] = mapped_column(JSONB)
    #: which runner holds it, and how many runs it took (a crash mid-import resumes it)
    runner: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportJobError(Base):
    """One problem of one row of an import job (as :class:`importer.RowError`), the column
    named by the file's own header."""

    __tablename__ = "import_job_errors"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey("import_jobs.id", ondelete="CASCADE"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    params: Mapped[dict] = mapped_column(JSONB, default=dict)
