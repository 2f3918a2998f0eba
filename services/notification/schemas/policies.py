"""Notification's contract for policies (``api/policies.py``): create, publish, withdraw, reach,
receipts, audience preview.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates_schema

from common.fields import (
    Day,
    LocalDateTime,
    Pattern,
    SearchText,
    Text,
    WebUrl,
    WholeNumber,
    refuse,
)
from common.i18n import N_
from common.pagination import PageQuery, page_query, page_schema

# --------------------------------------------------------------------------- policies (政策发布)

#: policy (政策) or notice (通知); the states of one
POLICY_KINDS = ("policy", "notice")
POLICY_STATUSES = ("draft", "published", "withdrawn")
#: the criteria of an audience (目标企业), as the registry's ``AudienceSchema`` names them; the
#: registry validates and resolves them (``enterprise.resolve_audience``)
AUDIENCE_CRITERIA = ("grid_ids", "industry_codes", "scales", "incubator_ids", "tags", "listed",
                     "strengths", "enterprise_ids")
MEDIA_TYPE = Pattern(r"^[A-Za-z0-9][\w.+-]{0,63}/[A-Za-z0-9][\w.+-]{0,99}$",
                     code="field.not_media_type",
                     error=N_("not a media type such as application/pdf"))


class PolicyAttachmentSchema(Schema):
    """附件: metadata only (the file lives at ``url``)."""

    name = Text(required=True, validate=validate.Length(1, 200))
    url = WebUrl(required=True, validate=validate.Length(1, 1000))
    size = WholeNumber(required=True, validate=validate.Range(0, 2**40),
                       metadata={"description": "bytes"})
    media_type = fields.String(required=True, validate=MEDIA_TYPE)


def _check_validity(data: dict[str, Any]) -> None:
    start, end = data.get("valid_from"), data.get("valid_until")
    if start is not None and end is not None and end < start:
        raise refuse("field.before_start", "must not be before valid_from",
                     field_name="valid_until")


class PolicyCreateSchema(Schema):
    """A new policy (政策) or notice (通知), saved as a draft."""

    kind = fields.String(required=True, validate=validate.OneOf(POLICY_KINDS),
                         metadata={"description": "policy 政策 | notice 通知"})
    title = Text(required=True, validate=validate.Length(1, 150))
    body = fields.String(required=True, validate=validate.Length(1, 50_000))
    attachments = fields.List(fields.Nested(PolicyAttachmentSchema), load_default=list,
                              validate=validate.Length(0, 20))
    valid_from = Day(allow_none=True, load_default=None)
    valid_until = Day(allow_none=True, load_default=None, metadata={
        "description": "not before valid_from (422 otherwise)"})
    department_id = Text(validate=validate.Length(1, 40), metadata={
        "description": "发布部门: department staff publish for their own department; "
                       "coordinators default to theirs, admins must name one"})
    audience = fields.Dict(
        keys=fields.String(validate=validate.OneOf(AUDIENCE_CRITERIA)),
        load_default=dict,
        metadata={"description": "目标企业: AND across criteria, OR within one; empty means "
                                 "every in-scope enterprise"})

    @validates_schema
    def validity(self, data: dict[str, Any], **_: Any) -> None:
        _check_validity(data)


class PolicyUpdateSchema(Schema):
    """Changes to a draft; ``version`` (or If-Match) refuses a stale write (412)."""

    kind = fields.String(validate=validate.OneOf(POLICY_KINDS))
    title = Text(validate=validate.Length(1, 150))
    body = fields.String(validate=validate.Length(1, 50_000))
    attachments = fields.List(fields.Nested(PolicyAttachmentSchema),
                              validate=validate.Length(0, 20))
    valid_from = Day(allow_none=True)
    valid_until = Day(allow_none=True)
    department_id = Text(validate=validate.Length(1, 40))
    audience = fields.Dict(keys=fields.String(validate=validate.OneOf(AUDIENCE_CRITERIA)))
    version = WholeNumber(validate=validate.Range(1, 10**9))

    @validates_schema
    def validity(self, data: dict[str, Any], **_: Any) -> None:
        _check_validity(data)


class PolicyWithdrawSchema(Schema):
    reason = Text(required=True, validate=validate.Length(1, 500), metadata={
        "description": "撤回原因, told to the enterprises that received the policy"})


class PolicySchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    attachments = fields.List(fields.Nested(PolicyAttachmentSchema), required=True)
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    department_id = fields.String(required=True)
    department_name = fields.String(required=True)
    audience = fields.Dict(required=True)
    status = fields.String(required=True, validate=validate.OneOf(POLICY_STATUSES))
    version = fields.Integer(required=True)
    recipient_count = fields.Integer(allow_none=True, metadata={
        "description": "enterprises the audience named when it was published"})
    created_by = fields.String(required=True)
    created_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True)
    published_at = LocalDateTime(allow_none=True)
    withdrawn_at = LocalDateTime(allow_none=True)
    withdraw_reason = fields.String(allow_none=True)
    read_at = LocalDateTime(allow_none=True, metadata={
        "description": "enterprise callers: when their enterprise first read it"})


class PolicySummarySchema(Schema):
    """A policy in a list: no body, its first characters instead."""

    id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    excerpt = fields.String(required=True)
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    department_id = fields.String(required=True)
    department_name = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    recipient_count = fields.Integer(allow_none=True)
    attachment_count = fields.Integer(required=True)
    published_at = LocalDateTime(allow_none=True)
    updated_at = LocalDateTime(required=True)
    read_at = LocalDateTime(allow_none=True)


PolicyPageSchema = page_schema(PolicySummarySchema, "PolicyPage")


class PolicyQuerySchema(PageQuery):
    q = SearchText(length=(1, 100), metadata={"description": "words in the title or the body"})
    kind = fields.String(validate=validate.OneOf(POLICY_KINDS))
    status = fields.String(validate=validate.OneOf(POLICY_STATUSES),
                           metadata={"description": "staff only; enterprises see published"})
    department_id = SearchText(length=(1, 40))
    valid_now = fields.Boolean(metadata={"description": "in force today (Asia/Shanghai)"})
    unread = fields.Boolean(metadata={"description": "enterprises: not read yet"})


class ReachGroupSchema(Schema):
    key = fields.String(required=True, allow_none=True,
                        metadata={"description": "the grid id or the industry division (C39)"})
    targeted = fields.Integer(required=True)
    read = fields.Integer(required=True)


class ChannelReachSchema(Schema):
    channel = fields.String(required=True, metadata={"x-dictionary": "delivery_channel"})
    state = fields.String(required=True, metadata={"x-dictionary": "delivery_state"})
    count = fields.Integer(required=True)


class PolicyReachSchema(Schema):
    """触达统计 of one policy."""

    policy_id = fields.String(required=True)
    status = fields.String(required=True)
    targeted = fields.Integer(required=True, metadata={
        "description": "enterprises in the audience at publish time"})
    delivered = fields.Integer(required=True, metadata={"description": "inbox messages"})
    read = fields.Integer(required=True, metadata={"description": "enterprises that read it"})
    read_rate = fields.Float(required=True, metadata={"description": "read / targeted, 0-1"})
    channels = fields.List(fields.Nested(ChannelReachSchema), required=True, metadata={
        "description": "email and WeCom deliveries by state"})
    by_grid = fields.List(fields.Nested(ReachGroupSchema), required=True)
    by_industry = fields.List(fields.Nested(ReachGroupSchema), required=True, metadata={
        "description": "by GB/T 4754 division (门类 letter + 大类 digits)"})


class PolicyReceiptSchema(Schema):
    """已读回执 of one enterprise in the audience (read_at null: not read yet)."""

    enterprise_id = fields.String(required=True)
    enterprise_name = fields.String(allow_none=True)
    grid_id = fields.String(allow_none=True)
    industry_code = fields.String(allow_none=True)
    read_at = LocalDateTime(allow_none=True)
    read_by = fields.String(allow_none=True)


PolicyReceiptPageSchema = page_schema(PolicyReceiptSchema, "PolicyReceiptPage")


class PolicyReceiptQuerySchema(page_query(per_page=50)):
    read = fields.Boolean(metadata={"description": "true: read only; false: not read yet"})
    grid_id = SearchText(length=(1, 20))


class AudienceGroupSchema(Schema):
    key = fields.String(required=True, allow_none=True)
    count = fields.Integer(required=True)


class AudiencePreviewSchema(Schema):
    """How many in-scope enterprises an audience names now, by grid and industry division."""

    count = fields.Integer(required=True)
    by_grid = fields.List(fields.Nested(AudienceGroupSchema), required=True)
    by_industry = fields.List(fields.Nested(AudienceGroupSchema), required=True)
