"""The zone resources' tables (区域资源), in the registry's ``enterprise`` schema.

They share :data:`services.enterprise.models.metadata` (imported at the end of that module), so
the registry's migrations and the model check see them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.enterprise.models import Base, now_column
from services.enterprise.zone.vocabulary import (
    CARRIER_KINDS,
    CHAIN_STAGES,
    HOST_KINDS,
    INSTITUTE_LEVELS,
    MILESTONES,
    PERIOD_KINDS,
)


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


class Carrier(Base):
    """载体: an incubator (its incubator grid linked), an industrial park or a building.

    Areas in m²; ``geometry`` is a GeoJSON Point or Polygon, ``lon``/``lat`` a point for maps
    (the point itself, or a point inside the polygon)."""

    __tablename__ = "zone_carriers"
    __table_args__ = (_one_of("kind", CARRIER_KINDS, "ck_zone_carriers_kind"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    operator: Mapped[str | None] = mapped_column(String(200))  # 运营主体
    address: Mapped[str | None] = mapped_column(String(300))
    geometry: Mapped[dict | None] = mapped_column(JSONB)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    floor_area: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 建筑面积
    leasable_area: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 可租面积
    grid_id: Mapped[str | None] = mapped_column(ForeignKey("grids.id"), unique=True)
    leasing_contact: Mapped[str | None] = mapped_column(String(100))  # 招商联系人 (public)
    leasing_phone: Mapped[str | None] = mapped_column(String(30))
    opened_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    version: Mapped[int] = mapped_column(Integer, default=1)


class Tenancy(Base):
    """入驻: an enterprise occupying ``area`` m² of a carrier from ``moved_in_on`` until
    ``moved_out_on`` (open: still there). One open tenancy per carrier and enterprise."""

    __tablename__ = "zone_tenancies"
    __table_args__ = (
        Index("uq_zone_tenancies_open", "carrier_id", "enterprise_id", unique=True,
              postgresql_where=text("moved_out_on IS NULL")),
        Index("ix_zone_tenancies_enterprise", "enterprise_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    carrier_id: Mapped[str] = mapped_column(ForeignKey("zone_carriers.id"))
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"))
    area: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    moved_in_on: Mapped[date] = mapped_column(Date)
    moved_out_on: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = now_column()


class Project(Base):
    """在建项目: a construction project, its investor (a registered enterprise, or a name and
    credit code until it registers), site, investment (万元) and responsible department."""

    __tablename__ = "zone_projects"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    investor_enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"),
                                                               index=True)
    investor_name: Mapped[str] = mapped_column(String(200))
    investor_credit_code: Mapped[str | None] = mapped_column(String(18))
    site_address: Mapped[str] = mapped_column(String(300))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    industry_code: Mapped[str | None] = mapped_column(String(6))
    planned_investment: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    completed_investment: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    #: when recording production brought the investor into scope (纳入服务范围)
    scope_entered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    version: Mapped[int] = mapped_column(Integer, default=1)


class ProjectMilestone(Base):
    """节点: land, permits, start, topping-out, completion acceptance (竣工备案), production
    (投产), each with its planned and actual day. ``delay_notified_for``: the planned day the
    responsible department was told is missed (told again when the plan moves and is missed
    again)."""

    __tablename__ = "zone_project_milestones"
    __table_args__ = (
        _one_of("milestone", MILESTONES, "ck_zone_project_milestones_milestone"),
        Index("ix_zone_milestones_open", "planned_on",
              postgresql_where=text("done_on IS NULL AND planned_on IS NOT NULL")),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("zone_projects.id"), primary_key=True)
    milestone: Mapped[str] = mapped_column(String(30), primary_key=True)
    planned_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    delay_notified_for: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Institute(Base):
    """科研机构: level, fields (GB/T 4754 codes and tags), host, platforms and labs."""

    __tablename__ = "zone_institutes"
    __table_args__ = (
        _one_of("level", INSTITUTE_LEVELS, "ck_zone_institutes_level"),
        _one_of("host_kind", HOST_KINDS, "ck_zone_institutes_host_kind"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    level: Mapped[str] = mapped_column(String(20), index=True)
    industry_codes: Mapped[list[str]] = mapped_column(ARRAY(String(6)), default=list)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    host_kind: Mapped[str] = mapped_column(String(20))
    host_enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"))
    host_name: Mapped[str | None] = mapped_column(String(200))
    platforms: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list)
    address: Mapped[str | None] = mapped_column(String(300))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    recognized_on: Mapped[date | None] = mapped_column(Date)  # 认定日期
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    version: Mapped[int] = mapped_column(Integer, default=1)


class InstitutePartner(Base):
    """产学研合作: an enterprise that works with an institute."""

    __tablename__ = "zone_institute_partners"

    institute_id: Mapped[str] = mapped_column(ForeignKey("zone_institutes.id"),
                                              primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), primary_key=True,
                                               index=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = now_column()


class LeadingIndustry(Base):
    """主导产业: enterprises fall into it when their industry code starts with one of
    ``industry_codes`` or they carry one of ``tags``."""

    __tablename__ = "zone_leading_industries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    industry_codes: Mapped[list[str]] = mapped_column(ARRAY(String(6)), default=list)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    version: Mapped[int] = mapped_column(Integer, default=1)


class ChainLink(Base):
    """产业链环节: one link of a leading industry's chain map; an in-scope enterprise provides
    it when its industry code starts with one of ``industry_codes`` or one of ``keywords`` is
    among its tags or inside one of its strengths (优势资源)."""

    __tablename__ = "zone_chain_links"
    __table_args__ = (
        _one_of("stage", CHAIN_STAGES, "ck_zone_chain_links_stage"),
        Index("uq_zone_chain_links_name", "industry_id", "name", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    industry_id: Mapped[str] = mapped_column(ForeignKey("zone_leading_industries.id",
                                                        ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    industry_codes: Mapped[list[str]] = mapped_column(ARRAY(String(6)), default=list)
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class IndicatorValue(Base):
    """经济运行指标: one enterprise's figures for one month or quarter, as reported (当期, not
    cumulative). Money in 万元; ``employees`` the headcount at the period's end. A figure left
    empty is not reported (never zero)."""

    __tablename__ = "zone_indicator_values"
    __table_args__ = (
        _one_of("period_kind", PERIOD_KINDS, "ck_zone_indicator_values_period_kind"),
        CheckConstraint("(period_kind = 'month' AND period BETWEEN 1 AND 12) OR "
                        "(period_kind = 'quarter' AND period BETWEEN 1 AND 4)",
                        name="ck_zone_indicator_values_period"),
        Index("ix_zone_indicator_values_period", "year", "period_kind", "period"),
    )

    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    period_kind: Mapped[str] = mapped_column(String(7), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    output_value: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    revenue: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    tax: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    employees: Mapped[int | None] = mapped_column(Integer)
    rd_spend: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    source: Mapped[str] = mapped_column(String(30))
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = now_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
