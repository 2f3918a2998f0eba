"""Notification's tables, all in the ``notification`` schema."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.events import processed_events_table
from common.outbox import outbox_table
from services.notification.schemas import CHANNELS, DELIVERY_STATES

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


# channels besides the in-app inbox (which stays the message of record): CHANNELS; delivery
# states: queued (never tried), failed (tried, retried later), sent, dead (given up)
__all__ = ["CHANNELS", "DELIVERY_STATES"]


class ChannelPreference(Base):
    """A recipient's wish to also get its messages on a channel, at an address."""

    __tablename__ = "channel_preferences"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'wecom')", name="ck_preference_channel"),
    )

    recipient: Mapped[str] = mapped_column(String(80), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    address: Mapped[str] = mapped_column(String(500))  # email address or webhook URL
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Delivery(Base):
    """One inbox message on one channel: queued when the message is created, sent by the
    delivery sweep, retried with backoff, dead after too many attempts."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # one delivery per message and channel, however often the event is delivered
        UniqueConstraint("message_id", "channel", name="uq_delivery_message_channel"),
        CheckConstraint("state IN ('queued', 'failed', 'sent', 'dead')",
                        name="ck_delivery_state"),
        Index("ix_deliveries_due", "next_attempt_at",
              postgresql_where=text("state IN ('queued', 'failed')")),
        Index("ix_deliveries_state", "state"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    message_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey("inbox_messages.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(10), server_default=text("'queued'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Policy(Base):
    """政策/通知: a policy or notice a department writes for a target audience (目标企业).

    draft → published (the audience resolved and snapshot in ``policy_recipients``, one inbox
    message per enterprise) → withdrawn (撤回). ``version`` grows with every change."""

    __tablename__ = "policies"
    __table_args__ = (
        CheckConstraint("kind IN ('policy', 'notice')", name="ck_policy_kind"),
        CheckConstraint("status IN ('draft', 'published', 'withdrawn')",
                        name="ck_policy_status"),
        CheckConstraint("valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from",
                        name="ck_policy_validity"),
        Index("ix_policies_status_published", "status", "published_at"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    department_id: Mapped[str] = mapped_column(String(40), index=True)
    department_name: Mapped[str] = mapped_column(String(100))
    audience: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(10), server_default=text("'draft'"))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    recipient_count: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)


class PolicyRecipient(Base):
    """The audience of a published policy as resolved at publish time (发布时的目标企业快照):
    one row per enterprise, with the grid and industry it had then (for reach statistics)."""

    __tablename__ = "policy_recipients"

    policy_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey("policies.id", ondelete="CASCADE"), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True,
                                               index=True)
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    grid_id: Mapped[str | None] = mapped_column(String(20))
    industry_code: Mapped[str | None] = mapped_column(String(6))


class PolicyRead(Base):
    """已读回执: the first time one of an enterprise's users opened a policy (or its message)."""

    __tablename__ = "policy_reads"
    __table_args__ = (
        ForeignKeyConstraint(
            ["policy_id", "enterprise_id"],
            ["policy_recipients.policy_id", "policy_recipients.enterprise_id"],
            ondelete="CASCADE", name="fk_policy_read_recipient"),
    )

    policy_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    first_read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())
    read_by: Mapped[str] = mapped_column(String(64))


outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
