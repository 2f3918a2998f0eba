"""The board's contract for listings (``api/listings.py``): posting, moderation, search, matches and
the board's figures.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, fields, validate, validates_schema

from common.fields import (
    Day,
    JsonDecimal,
    LocalDateTime,
    SearchText,
    Text,
    WholeNumber,
    normalized,
    refuse,
)
from common.pagination import page_schema
from services.supplydemand.schemas.base import FreeText, PageQuery, Uuid

SIDES = ("supply", "demand")  # 供 / 求
#: 供求类别: what is offered or needed
CATEGORIES = (
    "processing",  # 加工制造 (machining, processing capacity)
    "materials",  # 原材料、零部件
    "equipment",  # 设备、仪器
    "products",  # 产品 (finished goods)
    "technology",  # 技术、研发、专利
    "software",  # 软件、信息化
    "talent",  # 人才、用工
    "finance",  # 资金、融资
    "market",  # 市场、渠道、销售
    "logistics",  # 物流、仓储
    "space",  # 场地、厂房
    "services",  # 专业服务 (testing, certification, design, legal...)
    "other",  # 其他
)
LISTING_STATES = ("published", "closed", "hidden", "expired")


#: the longest a listing may stay valid (有效期)
MAX_VALIDITY_DAYS = 366
_INDUSTRY = re.compile(r"^[A-T][0-9]{2}([0-9]{1,2})?$")


INDUSTRY_PATTERN = r"^[A-Ta-t][0-9]{2}([0-9]{1,2})?$"


class IndustryCode(fields.String):
    """GB/T 4754-2017 code as the platform writes it: section letter and division (C33), or
    a finer code (C331, C3311)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": INDUSTRY_PATTERN, **(kwargs.get("metadata") or {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        raw = normalized(super()._deserialize(value, attr, data, **kwargs)).upper()
        if not _INDUSTRY.match(raw):
            raise refuse("enterprise.industry_code_form",
                         "not a GB/T 4754 industry code such as C33 or C3311")
        return raw


# --------------------------------------------------------------------------- listings


class _ListingFields(Schema):
    title = FreeText(validate=validate.Length(2, 100), metadata={"description": "标题"})
    description = FreeText(validate=validate.Length(0, 2000),
                           metadata={"description": "详细说明"})
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    industry_code = IndustryCode(allow_none=True, metadata={
        "description": "GB/T 4754; defaults to the enterprise's"})
    quantity = JsonDecimal(allow_none=True, as_string=False, places=3,
                              validate=validate.Range(0, 10**12, min_inclusive=False),
                              metadata={"description": "数量, where it applies"})
    unit = Text(allow_none=True, validate=validate.Length(1, 20), metadata={
        "description": "单位 (件, 吨, 小时...); required with a quantity"})
    region = Text(allow_none=True, validate=validate.Length(0, 50), metadata={
        "description": "地区 where the offer or need applies; empty or 全国 for anywhere"})
    valid_from = Day(metadata={"description": "有效期 start; default today"})
    valid_until = Day(metadata={"description": "有效期 end (inclusive), at most a year after "
                                "valid_from (422 otherwise)"})

    @validates_schema
    def _check(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("quantity") is not None and not data.get("unit"):
            raise refuse("listing.unit_required", "required with a quantity", field_name="unit")
        start, end = data.get("valid_from"), data.get("valid_until")
        if start is not None and end is not None:
            if end < start:
                raise refuse("field.before_start", "before {field} ({day})", field="valid_from",
                             day=start.isoformat(), field_name="valid_until")
            if (end - start).days > MAX_VALIDITY_DAYS:
                raise refuse("listing.validity_too_long", "at most {max} days after valid_from",
                             max=MAX_VALIDITY_DAYS, field_name="valid_until")


class ListingCreateSchema(_ListingFields):
    """A listing to publish (点对面发布). An enterprise publishes its own; grid staff name the
    enterprise (one of their grids')."""

    side = fields.String(required=True, validate=validate.OneOf(SIDES),
                         metadata={"description": "supply 供 (an offer) or demand 求 (a need)"})
    enterprise_id = Uuid(metadata={"description": "required for grid staff publishing on "
                                   "behalf of an enterprise of their grid"})
    title = FreeText(required=True, validate=validate.Length(2, 100),
                 metadata={"description": "标题 (Chinese), e.g. 需要激光切割加工"})
    description = FreeText(load_default="", validate=validate.Length(0, 2000))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    valid_until = Day(required=True, metadata={
        "description": "有效期 end (inclusive), at most a year after valid_from"})


class ListingUpdateSchema(_ListingFields):
    """Fields to change; ``version`` (or If-Match) refuses a stale write (412)."""

    version = WholeNumber(validate=validate.Range(0, 2**31 - 1))


class ModerationSchema(Schema):
    reason = FreeText(required=True, validate=validate.Length(2, 500),
                  metadata={"description": "why it is hidden or restored (shown to the owner)"})


class ListingSchema(Schema):
    id = fields.String(required=True)
    side = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    category = fields.String(required=True)
    industry_code = fields.String(allow_none=True)
    quantity = fields.Float(allow_none=True)
    unit = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(LISTING_STATES))
    live = fields.Boolean(required=True, metadata={
        "description": "shown on the board and in matches: published, within its validity, "
        "and its enterprise in scope"})
    hidden_reason = fields.String(allow_none=True)
    published_at = LocalDateTime(required=True)
    created_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True)
    version = fields.Integer(required=True)


ListingPageSchema = page_schema(ListingSchema, "ListingPage")


class ListingQuerySchema(PageQuery):
    side = fields.String(validate=validate.OneOf(SIDES))
    status = fields.String(validate=validate.OneOf(LISTING_STATES))
    enterprise_id = Uuid()
    category = fields.String(validate=validate.OneOf(CATEGORIES))


class SearchQuerySchema(Schema):
    q = SearchText(length=(1, 100), metadata={"description": "words to look for"})
    side = fields.String(validate=validate.OneOf(SIDES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    industry_code = IndustryCode()
    region = SearchText(length=(1, 50))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100))
    per_page = fields.Integer(load_default=10, validate=validate.Range(1, 50))


class MatchQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100))
    per_page = fields.Integer(load_default=10, validate=validate.Range(1, 50))


class FactorSchema(Schema):
    factor = fields.String(required=True, metadata={
        "description": "text, industry, category, region or freshness"})
    value = fields.Float(required=True, metadata={"description": "0-1"})
    weight = fields.Float(required=True)
    points = fields.Float(required=True, metadata={"description": "value x weight"})
    reason = fields.String(required=True)


class MatchedListingSchema(Schema):
    id = fields.String(required=True)
    side = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    title = fields.String(required=True)
    category = fields.String(required=True)
    industry_code = fields.String(allow_none=True)
    quantity = fields.Float(allow_none=True)
    unit = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    valid_until = fields.Date(required=True)
    published_at = LocalDateTime(required=True)


class MatchSchema(Schema):
    listing = fields.Nested(MatchedListingSchema, required=True)
    score = fields.Float(required=True, metadata={"description": "0-1"})
    shared_words = fields.List(fields.String(), required=True)
    explanation = fields.List(fields.Nested(FactorSchema), required=True)


MatchPageSchema = page_schema(MatchSchema, "MatchPage")


class CountSchema(Schema):
    side = fields.String()
    status = fields.String(required=True)
    count = fields.Integer(required=True)


class BoardStatsSchema(Schema):
    listings = fields.List(fields.Nested(CountSchema), required=True,
                           metadata={"description": "by side and status"})
    matches = fields.Integer(required=True, metadata={"description": "pairs notified"})
    dockings = fields.List(fields.Nested(CountSchema), required=True,
                           metadata={"description": "by outcome (status)"})
