"""Ticketing's tables, all in the ``ticketing`` schema."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


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
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revision: Mapped[int] = mapped_column(BigInteger)


outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
