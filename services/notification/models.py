"""Notification's tables, all in the ``notification`` schema."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, MetaData, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.events import processed_events_table
from common.outbox import outbox_table

SCHEMA = "notification"
metadata = MetaData(schema=SCHEMA)


class Base(DeclarativeBase):
    metadata = metadata


class InboxMessage(Base):
    """站内消息: one message in one recipient's in-app inbox."""

    __tablename__ = "inbox_messages"
    __table_args__ = (
        # one message per event and recipient, however often the event is delivered
        UniqueConstraint("event_id", "recipient", name="uq_inbox_event_recipient"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    event_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
