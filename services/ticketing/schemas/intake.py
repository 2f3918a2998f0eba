"""Ticketing's contract for intake (``api/intake.py``): submitting a demand, the demand, its lists
and search filters.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates_schema

from common.fields import (
    Id,
    LocalDateTime,
    Pattern,
    SearchText,
    Text,
    WholeNumber,
    refuse,
)
from common.pagination import page_schema, total_capped
from services.ticketing.schemas.base import (
    CLOSURES,
    DEMAND_STATES,
    PendingDeadlineSchema,
    _name,
)

#: 1+N intake channels (信息收集渠道)
CHANNELS = ("grid_worker", "service_window", "app", "wechat", "website", "hotline", "enterprise")
URGENCIES = ("normal", "urgent")


class AttachmentSchema(Schema):
    """Metadata of a file kept elsewhere (the platform stores no file bodies)."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    content_type = fields.String(required=True, validate=validate.Length(1, 100))
    size = WholeNumber(required=True, validate=validate.Range(0, 50 * 1024 * 1024))
    url = fields.Url(required=True, schemes={"https", "http"})


class DemandCreateSchema(Schema):
    """A demand (诉求) as recorded at intake."""

    enterprise_id = Id(
        metadata={"description": "Defaults to the caller's own enterprise for enterprise users"},
    )
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    category = Text(validate=validate.Length(1, 50), allow_none=True)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(required=True, validate=validate.Length(1, 5000))
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    attachments = fields.List(
        fields.Nested(AttachmentSchema), load_default=list, validate=validate.Length(0, 20)
    )


class DemandSchema(Schema):
    id = fields.String(required=True)
    number = fields.String(
        required=True, metadata={"description": "诉求编号, e.g. SQ20261126-00001"}
    )
    enterprise_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    category = fields.String(allow_none=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True)
    status = fields.String(required=True, validate=validate.OneOf(DEMAND_STATES))
    received_at = LocalDateTime(required=True)
    triage_due_at = LocalDateTime(required=True, metadata={"description": "分理时限"})
    triage_due_provisional = fields.Boolean(required=True)
    recorded_by = fields.String(required=True)
    recorded_role = fields.String(required=True)
    version = fields.Integer(required=True)
    grid_id = fields.String(allow_none=True)
    difficulty = fields.String(allow_none=True)
    proposed_opinion = fields.String(allow_none=True, metadata={"description": "拟办意见"})
    triaged_at = LocalDateTime(allow_none=True)
    closure = fields.String(allow_none=True, validate=validate.OneOf(CLOSURES),
                            metadata={"description": "rated 自动销号 | internal 内部销号 | "
                                      "unrated"})
    closed_at = LocalDateTime(allow_none=True)
    enterprise_name = _name("the enterprise's name")
    grid_name = _name("the grid's name")
    recorded_by_name = _name("who recorded it (staff readers only)")
    triaged_by_name = _name("who triaged it (staff readers only)")
    deadlines = fields.List(fields.Nested(PendingDeadlineSchema), metadata={
        "description": "the demand's pending deadlines (分理, rating reminder, closure without "
                       "rating), each with its provisional flag; single reads only"})


DemandPageSchema = page_schema(DemandSchema, "DemandPage", total_capped=total_capped())


#: orders of the demand list: newest first, the triage deadline first (the triage queue), or
#: the best match of ``q`` first
DEMAND_SORTS = ("-received_at", "triage_due_at", "relevance")


#: a demand number, whole or its start (SQ20261126-00001, SQ20261126)
NUMBER_PATTERN = r"^[A-Za-z0-9-]{1,20}$"


def _no_range_before(data: dict[str, Any]) -> None:
    start, end = data.get("received_from"), data.get("received_to")
    if start is not None and end is not None and end < start:
        raise refuse("field.before_start", "before {field} ({day})",
                     field="received_from", day=start.isoformat(), field_name="received_to")


class SearchFilterSchema(Schema):
    """The search box and the filters every list of demands has (诉求, 问题清单, 任务清单,
    落实清单)."""

    q = SearchText(length=(1, 100), metadata={
        "description": "Keywords (关键词): Chinese-segmented full text over the title, the "
        "description, the departments' results and the public notes; every word must be "
        "there (激光切割 finds 激光精密切割). A demand number finds that demand.",
        "example": "激光切割"})
    number = Text(validate=Pattern(NUMBER_PATTERN),
                  metadata={"description": "诉求编号, whole or its start (SQ20261126)",
                            "example": "SQ20261126-00001"})
    enterprise = SearchText(length=(1, 100), metadata={
        "description": "The enterprise: a part of its name, the start of its credit code "
        "(统一社会信用代码), or its id"})
    received_from = fields.Date(metadata={"description": "收到日期 from (inclusive, +08:00)"})
    received_to = fields.Date(metadata={"description": "收到日期 to (inclusive, +08:00)"})
    category = fields.String(validate=validate.Length(1, 50))
    department_id = fields.String(validate=validate.Length(1, 40),
                                  metadata={"description": "a department with a task of it"})
    grid_id = fields.String(validate=validate.Length(1, 40),
                            metadata={"description": "the demand's grid (网格)"})
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    overdue = fields.Boolean(metadata={
        "description": "超时: a task open past its handling deadline or completed after it "
        "(the task list: that task), or the triage late"})
    escalated = fields.Boolean(metadata={
        "description": "督办: a task escalated (the task list: that task)"})

    @validates_schema
    def _check_range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _no_range_before(data)


class DemandListQuerySchema(SearchFilterSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 200))
    enterprise_id = Id()
    status = fields.String(validate=validate.OneOf(DEMAND_STATES))
    sort = fields.String(validate=validate.OneOf(DEMAND_SORTS),
                         metadata={"description": "-received_at (newest first; the default "
                                   "without q), triage_due_at (the 10:00 triage deadline "
                                   "first) or relevance (the default with q)"})
