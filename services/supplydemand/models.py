"""Supplydemand's tables, all in the ``supplydemand`` schema.

- ``enterprises``: this service's copy of what matching needs from the registry (企业信息),
  kept current by the registry's events and refreshed on every publication;
- ``listings``: supply (供) and demand (求) listings with their segmented words and a
  ``tsvector`` over them; partial GIN indexes hold only published listings, one per side;
- ``matches``: pairs that scored above the notification threshold (once per pair);
- ``moderations``: hide and restore actions of platform staff, with their reasons;
- ``dockings`` and ``docking_events``: one-to-one docking requests (对接) and their history.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.events import processed_events_table
from common.outbox import outbox_table

SCHEMA = "supplydemand"
metadata = MetaData(schema=SCHEMA)


class Base(DeclarativeBase):
    metadata = metadata


outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)


class Enterprise(Base):
    """The registry's enterprise as far as the board needs it (never its contacts)."""

    __tablename__ = "enterprises"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    grid_id: Mapped[str | None] = mapped_column(String(50))
    industry_code: Mapped[str | None] = mapped_column(String(10))
    in_scope: Mapped[bool] = mapped_column(nullable=False)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                server_default=func.now())


class Listing(Base):
    """供求信息: what an enterprise offers (supply) or needs (demand)."""

    __tablename__ = "listings"
    __table_args__ = (
        Index("ix_listings_live_supply_search", "search", postgresql_using="gin",
              postgresql_where=text("status = 'published' AND side = 'supply'")),
        Index("ix_listings_live_demand_search", "search", postgresql_using="gin",
              postgresql_where=text("status = 'published' AND side = 'demand'")),
        Index("ix_listings_live_division", "side", "industry_division", "published_at",
              postgresql_where=text("status = 'published'")),
        Index("ix_listings_live_recent", "side", "published_at",
              postgresql_where=text("status = 'published'")),
        Index("ix_listings_published_until", "valid_until",
              postgresql_where=text("status = 'published'")),
        Index("ix_listings_enterprise", "enterprise_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    side: Mapped[str] = mapped_column(String(10), nullable=False)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    category: Mapped[str] = mapped_column(String(30), nullable=False)
    industry_code: Mapped[str | None] = mapped_column(String(10))
    industry_division: Mapped[str | None] = mapped_column(String(3))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    unit: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(50))
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    status_before_hidden: Mapped[str | None] = mapped_column(String(12))
    title_words: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    words: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    search: Mapped[str] = mapped_column(TSVECTOR, nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_role: Mapped[str] = mapped_column(String(30), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class MatchPair(Base):
    """A demand and a supply listing that scored above the threshold; notified once."""

    __tablename__ = "matches"

    demand_listing_id: Mapped[str] = mapped_column(ForeignKey("listings.id"), primary_key=True)
    supply_listing_id: Mapped[str] = mapped_column(ForeignKey("listings.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    explanation: Mapped[list] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())


class Moderation(Base):
    """A hide or restore by platform staff, with the reason."""

    __tablename__ = "moderations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    listing_id: Mapped[str] = mapped_column(ForeignKey("listings.id"), nullable=False,
                                            index=True)
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    actor_id: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(30), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                         server_default=func.now())


class Docking(Base):
    """对接: enterprise A (requester) asks to connect with B (owner) about B's listing."""

    __tablename__ = "dockings"
    __table_args__ = (
        Index("uq_dockings_open_request", "listing_id", "requester_enterprise_id",
              unique=True, postgresql_where=text("status = 'requested'")),
        Index("ix_dockings_requester", "requester_enterprise_id", "created_at"),
        Index("ix_dockings_owner", "owner_enterprise_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    listing_id: Mapped[str] = mapped_column(ForeignKey("listings.id"), nullable=False)
    listing_title: Mapped[str] = mapped_column(String(100), nullable=False)
    requester_enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"),
                                                         nullable=False)
    owner_enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"),
                                                     nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    reply: Mapped[str | None] = mapped_column(Text)
    requester_contacts: Mapped[list | None] = mapped_column(JSONB)
    owner_contacts: Mapped[list | None] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class DockingEvent(Base):
    """One step of a docking's history: requested, accepted, declined."""

    __tablename__ = "docking_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    docking_id: Mapped[str] = mapped_column(ForeignKey("dockings.id"), nullable=False,
                                            index=True)
    action: Mapped[str] = mapped_column(String(12), nullable=False)
    actor_id: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(30), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                         server_default=func.now())
