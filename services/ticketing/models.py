"""Ticketing's tables, all in the ``ticketing`` schema."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.events import processed_events_table
from common.outbox import outbox_table

SCHEMA = "ticketing"
metadata = MetaData(schema=SCHEMA)


class Base(DeclarativeBase):
    metadata = metadata


class Demand(Base):
    """诉求: one demand of one enterprise, as recorded at intake (信息收集)."""

    __tablename__ = "demands"
    __table_args__ = (
        UniqueConstraint("recorded_by", "idempotency_key", name="uq_demands_idempotency"),
        Index("ix_demands_search", "search", postgresql_using="gin"),
        Index("ix_demands_received_at", "received_at"),
        # the ledger's lists filtered by category over a date range: at 1,000,000 demands the
        # problem list's page went from p50 296 ms to 61 ms with it (docs/performance.md)
        Index("ix_demands_category_received_at", "category", "received_at"),
        # the last days' closures, which the appraisal rollup's catch-up looks at
        Index("ix_demands_closed_at", "closed_at", postgresql_where=text("closed_at IS NOT NULL")),
        # the open demands (appraisal.OPEN_STATES) with every column the appraisal counts: a
        # period of whole months counts them directly (the closed ones come from the rollup),
        # from this index alone; at 1,000,000 demands a fetch of the 81,666 open ones went
        # from 70-100 ms (19,747 heap pages) to 12-30 ms (docs/performance.md)
        Index("ix_demands_open_figures", "received_at",
              postgresql_include=["id", "status", "grid_id", "recorded_by", "recorded_role",
                                  "triaged_at", "triage_due_at", "closure", "difficulty",
                                  "category"],
              postgresql_where=text("status IN ('received', 'triaged', 'in_progress', "
                                    "'awaiting_rating')")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    enterprise_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(10))
    attachments: Mapped[list] = mapped_column(JSONB, default=list)
    status: Mapped[str] = mapped_column(String(20), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    triage_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    triage_due_provisional: Mapped[bool] = mapped_column(default=False)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_role: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # 分理 (triage)
    grid_id: Mapped[str | None] = mapped_column(String(20), index=True)
    difficulty: Mapped[str | None] = mapped_column(String(10))
    proposed_opinion: Mapped[str | None] = mapped_column(Text)  # 拟办意见
    triaged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    triaged_by: Mapped[str | None] = mapped_column(String(64))
    # 销号 (closure)
    closure: Mapped[str | None] = mapped_column(String(10))  # rated | internal | unrated
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # 全文检索: jieba's words of the title (A), description (B), the tasks' results and the
    # public notes (C), kept current by services/ticketing/search.py; deferred: searched in
    # SQL, never read in Python (loaded with every demand, it was most of a page's bytes)
    search: Mapped[str] = mapped_column(TSVECTOR, server_default=text("''::tsvector"),
                                        deferred=True)


class Task(Base):
    """任务: the part of a demand one department handles (分解任务)."""

    __tablename__ = "tasks"
    __table_args__ = (
        # the few reopened tasks' demands (重新办理), which every appraisal looks up: each
        # lookup read all 1,000,000 tasks at a province's scale (docs/performance.md)
        Index("ix_tasks_reopened", "demand_id", postgresql_where=text("reopen_count > 0")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    demand_id: Mapped[str] = mapped_column(ForeignKey("demands.id"), index=True)
    department_id: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    opinion: Mapped[str | None] = mapped_column(Text)  # 拟办意见 for this department
    difficulty: Mapped[str] = mapped_column(String(10))
    handling_workdays: Mapped[int] = mapped_column(Integer)
    accept_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: the acceptance deadline was counted across a year without a loaded calendar (暂定)
    accept_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False,
                                                         server_default=false())
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # 办理时限
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by: Mapped[str | None] = mapped_column(String(64))
    returned_reason: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    internal_report: Mapped[str | None] = mapped_column(Text)  # 书面汇报材料 (内部销号)
    #: the written report's attachment links and its course: filed by the department, then
    #: agreed (the demand closes internally) or returned with a reason by a coordinator
    report_attachments: Mapped[list] = mapped_column(JSONB, default=list,
                                                     server_default=text("'[]'::jsonb"))
    report_status: Mapped[str | None] = mapped_column(String(10))  # filed | agreed | returned
    report_filed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    report_filed_by: Mapped[str | None] = mapped_column(String(64))
    report_return_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Deadline(Base):
    """A moment the platform must act on (SLA timer): swept by a nameko @timer in every
    replica, each row claimed with FOR UPDATE SKIP LOCKED and fired exactly once."""

    __tablename__ = "deadlines"
    __table_args__ = (
        Index("ix_deadlines_pending", "due_at", postgresql_where=text(
            "fired_at IS NULL AND cancelled_at IS NULL")),
        Index("ix_deadlines_subject", "subject_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30))  # triage | acceptance | handling | reminder...
    subject_id: Mapped[str] = mapped_column(UUID(as_uuid=False))  # demand or task
    department_id: Mapped[str | None] = mapped_column(String(40))
    level: Mapped[int] = mapped_column(Integer, default=0)  # escalation level it leads to
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: counted in, or across, a year without a loaded working-day table (暂定): re-planned
    #: when that year is loaded (services/ticketing/replan.py)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Breach(Base):
    """超时: a deadline that passed before its subject moved on. One per deadline."""

    __tablename__ = "breaches"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    subject_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    department_id: Mapped[str | None] = mapped_column(String(40), index=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Escalation(Base):
    """督办升级: level 1 department head, 2 leader in charge, 3 leading group office."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("task_id", "level", "cause", name="uq_escalation"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    cause: Mapped[str] = mapped_column(String(20))  # overdue | reopened
    department_id: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Note(Base):
    """办理进展: a progress note, public to the enterprise or internal to staff."""

    __tablename__ = "notes"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    demand_id: Mapped[str] = mapped_column(ForeignKey("demands.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id"))
    department_id: Mapped[str | None] = mapped_column(String(40))
    visibility: Mapped[str] = mapped_column(String(10))  # public | internal
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    author_role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Extension(Base):
    """延期: a department asks for more time; a coordinator decides."""

    __tablename__ = "extensions"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), index=True)
    workdays: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # pending | approved | rejected
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    new_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Rating(Base):
    """评价: efficiency, attitude and result quality, 1-5 each; one per completion round."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("demand_id", "round", name="uq_rating_round"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    demand_id: Mapped[str] = mapped_column(ForeignKey("demands.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    efficiency: Mapped[int] = mapped_column(Integer)
    attitude: Mapped[int] = mapped_column(Integer)
    quality: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    satisfied: Mapped[bool] = mapped_column(Boolean)
    rated_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class LedgerEntry(Base):
    """台账: an append-only record of every transition of a demand or one of its tasks."""

    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    demand_id: Mapped[str] = mapped_column(ForeignKey("demands.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    department_id: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    #: intake's line: the channel the demand came in by (信息收集渠道)
    channel: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class HandlingTime(Base):
    """办理时限 in working days by category and difficulty; admins edit it."""

    __tablename__ = "handling_times"

    category: Mapped[str] = mapped_column(String(50), primary_key=True)  # "*" = any category
    difficulty: Mapped[str] = mapped_column(String(10), primary_key=True)
    workdays: Mapped[int] = mapped_column(Integer)


class SlaSetting(Base):
    """Admin-editable SLA settings (acceptance window, escalation steps, reminders, rating)."""

    __tablename__ = "sla_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class CalendarYear(Base):
    """One year of the State Council holiday notice (放假安排, 调休), loaded by an operator.

    A row replaces ``chinese_calendar``'s data for its whole year. ``revision`` grows with every
    load (taken under the calendar lock), so ``count(*), max(revision)`` tells every replica
    cheaply whether its cached working-day calendar is stale.
    """

    __tablename__ = "calendar_years"
    __table_args__ = (
        CheckConstraint("year BETWEEN 1 AND 9999", name="ck_calendar_years_year"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[date]] = mapped_column(ARRAY(Date))
    makeup_workdays: Mapped[list[date]] = mapped_column(ARRAY(Date))
    source: Mapped[str] = mapped_column(Text)
    loaded_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    revision: Mapped[int] = mapped_column(BigInteger)


class AppraisalSetting(Base):
    """考评设置: score weights, difficulty points and award criteria (admins edit them)."""

    __tablename__ = "appraisal_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


#: the additive figures of a closed demand in :class:`AppraisalRollup`, each a count (or a
#: sum of rating scores) over the demand, its live tasks or their ledger lines
ROLLUP_FIGURES = (
    "demands", "triage_due", "triage_on_time", "closed", "resolved", "judged", "unrated",
    "completed_once", "reopened", "ratings", "satisfied", "efficiency", "attitude", "quality",
    "tasks", "accepted", "accepted_on_time", "handling_due", "handling_on_time",
    "tasks_completed_once", "tasks_reopened", "returned", "timed_out",
    "pointed", "pointed_easy", "pointed_normal", "pointed_hard",
)


class AppraisalRollup(Base):
    """考评 figures of the **closed** demands, by local month of receipt and subject: a
    closed demand never changes again, so its figures are added once, when it closes
    (:mod:`services.ticketing.appraisal.rollup`). ``grid_id`` is kept for grid workers only
    (their ``grid_ids``), else ''. ``pointed_*``: the items a subject's 难度分 counts (its
    triaged demands, or a department's or liaison's accepted tasks) by difficulty; their
    categories are in :class:`AppraisalRollupCategory`."""

    __tablename__ = "appraisal_rollup"

    subject: Mapped[str] = mapped_column(String(20), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    grid_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    department_id: Mapped[str | None] = mapped_column(String(40))  # max of the tasks'


for _figure in ROLLUP_FIGURES:
    setattr(AppraisalRollup, _figure, mapped_column(
        _figure, BigInteger, nullable=False, server_default=text("0")))


class AppraisalRollupCategory(Base):
    """The pointed items of :class:`AppraisalRollup` by category (read only when categories
    carry extra points)."""

    __tablename__ = "appraisal_rollup_categories"

    subject: Mapped[str] = mapped_column(String(20), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(50), primary_key=True)
    pointed: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class AppraisalRollupDemand(Base):
    """The demands whose figures are in :class:`AppraisalRollup`: each is added once, however
    often its closure is recorded."""

    __tablename__ = "appraisal_rollup_demands"

    demand_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)


class AppraisalVeto(Base):
    """一票否决: the integrity check (廉洁自律考核) failed; the subject's yearly score is 0.

    One row per subject and year; lifting it keeps the row (who, when, why)."""

    __tablename__ = "appraisal_vetoes"
    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="ck_appraisal_vetoes_year"),
    )

    subject: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    active: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lift_reason: Mapped[str | None] = mapped_column(Text)


class Export(Base):
    """导出: a ledger export built page by page, its progress readable while it runs, its file
    kept for its owner (:mod:`services.ticketing.api.exports`)."""

    __tablename__ = "exports"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    view: Mapped[str] = mapped_column(String(20))
    query: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10))  # pending | running | done | failed
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    #: rows of the list written to its sheet; ``rows_done``: rows whose steps are written too
    rows_listed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[bytes | None] = mapped_column(BYTEA)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)


class OverviewSnapshot(Base):
    """An answer kept as computed (named for its first use, 领导总览): the exact answer of
    ``GET /api/v1/overview`` for one scope (:func:`services.ticketing.snapshots.scope_key`),
    or a province's appraisal of a kind of subject (``appraisal:<kind>:<settings version>``),
    and a period; read while younger than the freshness bound, refreshed off the request path
    (:mod:`services.ticketing.snapshots`)."""

    __tablename__ = "overview_snapshots"

    scope_key: Mapped[str] = mapped_column(Text, primary_key=True)
    from_: Mapped[date] = mapped_column("from", Date, primary_key=True)
    to: Mapped[date] = mapped_column(Date, primary_key=True)
    answer: Mapped[dict] = mapped_column(JSONB)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
