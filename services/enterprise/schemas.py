"""The enterprise registry's contract: what callers send (validated here) and what they get.

The gateway imports this module for request validation and the OpenAPI document.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

from common.auth import Role
from common.fields import (
    Id,
    JsonBoolean,
    LocalDateTime,
    Pattern,
    SearchText,
    Text,
    WholeNumber,
    normalized,
    refuse,
)
from common.i18n import N_
from common.pagination import PageQuery, page_schema  # noqa: F401 -- re-exported
from services.enterprise import credit_code, industry

SCALES = ("micro", "small", "medium", "large")  # 微型 小型 中型 大型
GRID_KINDS = ("incubator", "geographic")
GRID_SOURCES = ("incubator", "location", "unassigned")
INDICATORS = ("output_value", "revenue", "tax", "employees", "rd_spend")
#: where a profile value came from (企业画像来源)
SOURCES = ("grid_worker", "self_report", "joint_review", "registration", "third_party",
           "project_application", "import")
SCOPE_REASONS_IN = ("started_operating", "moved_in", "completion_accepted", "incubator_opened",
                    "restored")
SCOPE_REASONS_OUT = ("moved_out", "deregistered", "not_operating", "no_revenue", "no_tax")
OBLIGATION_PARTIES = ("committee", "enterprise")
STAFF_ROLES = tuple(r.value for r in Role if r not in (Role.SERVICE,))


class CreditCode(fields.String):
    """统一社会信用代码 (GB 32100-2015), check digit verified."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return credit_code.validate(raw)
        except credit_code.InvalidCreditCode as exc:
            raise ValidationError([exc.item()]) from exc


class IndustryCode(fields.String):
    """GB/T 4754-2017 code such as C39 or C3911."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        raw = normalized(super()._deserialize(value, attr, data, **kwargs)).upper()
        try:
            return industry.parse(raw).code
        except industry.InvalidIndustryCode as exc:
            raise ValidationError([exc.item()]) from exc


PHONE = Pattern(r"^\+?[0-9][0-9\- ]{5,19}$", code="field.not_phone",
                error=N_("not a phone number"))


class ContactSchema(Schema):
    name = Text(required=True, validate=validate.Length(1, 50))
    title = Text(validate=validate.Length(0, 50), load_default="")
    phone = Text(validate=PHONE, allow_none=True, load_default=None)
    email = fields.Email(allow_none=True, load_default=None)


class ContactOutSchema(Schema):
    """A contact as answered: the phone masked (138****5678) for roles that may not see it."""

    name = fields.String(required=True)
    title = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


#: optimistic concurrency (If-Match): what ``version`` means on a resource and on a write
VERSION_NOTE = "1 when created, +1 with every change (the ETag; send it as If-Match)"
EXPECTED_NOTE = "the version last read: a stale one is refused (412); like If-Match"
SETTINGS_NOTE = ("in an answer: 1 until first changed, +1 with every change (the ETag); in a "
                 "change: the version last read, a stale one is refused (412), like If-Match")


# --- departments and categories ------------------------------------------------------------

class PersonRefSchema(Schema):
    id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class DepartmentSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"x-dictionary": "department_kind",
                                                  "description": "management 管委部门 | "
                                                  "stationed 派驻机构"})
    head_name = fields.String(allow_none=True)
    head_title = fields.String(allow_none=True)
    head = fields.Nested(PersonRefSchema, allow_none=True)
    liaison = fields.Nested(PersonRefSchema, allow_none=True, metadata={"description": "联络员"})
    leader_in_charge = fields.Nested(PersonRefSchema, allow_none=True,
                                     metadata={"description": "分管领导"})
    categories = fields.List(fields.String(), required=True)
    version = fields.Integer(required=True, metadata={"description": VERSION_NOTE})


class DepartmentUpdateSchema(Schema):
    liaison_account_id = Id(allow_none=True)
    head_account_id = Id(allow_none=True)
    leader_account_id = Id(allow_none=True)


class CategorySchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    department_id = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": VERSION_NOTE})


class CategoryUpdateSchema(Schema):
    department_id = Text(required=True, validate=validate.Length(1, 40))
    name = Text(validate=validate.Length(1, 50))


class CategoryCreateSchema(CategoryUpdateSchema):
    code = Text(required=True, validate=Pattern(r"^[a-z][a-z0-9_]{1,39}$"))
    name = Text(required=True, validate=validate.Length(1, 50))


class LeadingGroupMemberSchema(Schema):
    name = fields.String(required=True)
    group_role = fields.String(required=True, metadata={"description": "组长 | 副组长 | 成员"})
    title = fields.String(required=True)
    department_id = fields.String(allow_none=True)
    is_office_director = fields.Boolean(required=True)


class LeadingGroupSchema(Schema):
    members = fields.List(fields.Nested(LeadingGroupMemberSchema), required=True)
    office_department_id = fields.String(required=True)


# --- accounts --------------------------------------------------------------------------------

USERNAME = Pattern(r"^[a-z0-9][a-z0-9._-]{2,63}$", flags=re.IGNORECASE,
                   code="account.username_form",
                   error=N_("3-64 letters, digits, dots, dashes or underscores"))


class LoginSchema(Schema):
    username = Text(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 200))

    @post_load
    def lower(self, data: dict, **_: Any) -> dict:
        data["username"] = data["username"].lower()
        return data


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)


class PasswordChangeSchema(Schema):
    """修改密码: the caller's own password, old and new."""

    old_password = fields.String(required=True, validate=validate.Length(1, 200))
    new_password = fields.String(required=True, validate=validate.Length(10, 200))


class AccountCreateSchema(Schema):
    username = Text(required=True, validate=USERNAME)
    password = fields.String(required=True, validate=validate.Length(10, 200))
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    name = Text(required=True, validate=validate.Length(1, 50))
    title = Text(validate=validate.Length(0, 100), load_default=None)
    phone = Text(validate=PHONE, allow_none=True, load_default=None)
    email = fields.Email(allow_none=True, load_default=None)
    enterprise_id = Id(allow_none=True, load_default=None)
    department_id = fields.String(allow_none=True, load_default=None)

    @post_load
    def lower(self, data: dict, **_: Any) -> dict:
        data["username"] = data["username"].lower()
        return data


class AccountUpdateSchema(Schema):
    disabled = JsonBoolean()
    password = fields.String(validate=validate.Length(10, 200))
    name = Text(validate=validate.Length(1, 50))
    title = Text(validate=validate.Length(0, 100), allow_none=True)
    phone = Text(validate=PHONE, allow_none=True)
    email = fields.Email(allow_none=True)
    version = WholeNumber(validate=validate.Range(1), metadata={"description": EXPECTED_NOTE})


class AccountSchema(Schema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    role = fields.String(required=True, metadata={"x-dictionary": "role"})
    name = fields.String(required=True)
    title = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    enterprise_id = fields.String(allow_none=True)
    department_id = fields.String(allow_none=True)
    grid_ids = fields.List(fields.String(), required=True)
    disabled = fields.Boolean(required=True)
    created_at = LocalDateTime(required=True)
    version = fields.Integer(required=True, metadata={"description": VERSION_NOTE})


class AccountQuerySchema(PageQuery):
    role = fields.String(validate=validate.OneOf(STAFF_ROLES))
    department_id = fields.String()
    enterprise_id = Id()
    disabled = fields.Boolean()


AccountPageSchema = page_schema(AccountSchema, "AccountPage")


# --- grids -----------------------------------------------------------------------------------

#: what a boundary (or a zone carrier's geometry) may hold: every list of a request has a
#: documented maximum (issue 22, finding 1; services/enterprise/geo.MAX_POSITIONS)
GEOMETRY_DOC = {"description": "GeoJSON Polygon or MultiPolygon (WGS 84, [lon, lat]) of at "
                               "most 10,000 positions (a carrier's may also be a Point)"}

class GridSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(GRID_KINDS))
    owner_department_id = fields.String(required=True)
    boundary = fields.Dict(allow_none=True, metadata={"description": "GeoJSON Polygon"})
    address = fields.String(allow_none=True)
    lon = fields.Float(allow_none=True)
    lat = fields.Float(allow_none=True)
    leader = fields.Nested(PersonRefSchema, allow_none=True, metadata={"description": "网格长"})
    workers = fields.List(fields.Nested(PersonRefSchema), required=True,
                          metadata={"description": "网格员"})
    enterprise_count = fields.Integer(required=True)
    version = fields.Integer(required=True, metadata={
        "description": VERSION_NOTE + "; staff changes count, enterprise_count does not"})


class GridCreateSchema(Schema):
    id = Text(required=True, validate=Pattern(r"^[A-Z0-9_-]{2,20}$"))
    name = Text(required=True, validate=validate.Length(1, 100))
    kind = fields.String(required=True, validate=validate.OneOf(GRID_KINDS))
    owner_department_id = fields.String()
    boundary = fields.Dict(allow_none=True, load_default=None, metadata=GEOMETRY_DOC)
    address = Text(validate=validate.Length(0, 200), allow_none=True, load_default=None)
    lon = fields.Float(validate=validate.Range(-180, 180), allow_none=True, load_default=None)
    lat = fields.Float(validate=validate.Range(-90, 90), allow_none=True, load_default=None)


class GridUpdateSchema(Schema):
    name = Text(validate=validate.Length(1, 100))
    boundary = fields.Dict(allow_none=True, metadata=GEOMETRY_DOC)
    address = Text(validate=validate.Length(0, 200), allow_none=True)
    lon = fields.Float(validate=validate.Range(-180, 180), allow_none=True)
    lat = fields.Float(validate=validate.Range(-90, 90), allow_none=True)


class GridStaffSchema(Schema):
    leader_account_id = Id(allow_none=True, required=True)
    worker_account_ids = fields.List(Id(), required=True, validate=validate.Length(2, 3),
                                     metadata={"description": "2-3 grid workers"})


class GridQuerySchema(PageQuery):
    kind = fields.String(validate=validate.OneOf(GRID_KINDS))
    per_page = fields.Integer(load_default=100, validate=validate.Range(1, 200))


GridPageSchema = page_schema(GridSchema, "GridPage")


class CoverageSchema(Schema):
    """全覆盖、无遗漏: what keeps the zone from being fully covered; empty lists = covered."""

    unassigned_enterprises = fields.List(fields.Dict(), required=True)
    grids_without_leader = fields.List(fields.String(), required=True)
    grids_short_of_workers = fields.List(fields.Dict(), required=True)
    overlapping_grids = fields.List(fields.List(fields.String()), required=True)
    covered = fields.Boolean(required=True)


# --- enterprises -----------------------------------------------------------------------------

class EnterpriseCreateSchema(Schema):
    """An enterprise entering the registry; scope rules (operating, revenue, tax) checked."""

    credit_code = CreditCode(required=True, metadata={"description": "统一社会信用代码"})
    name = Text(required=True, validate=validate.Length(2, 200))
    address = Text(required=True, validate=validate.Length(2, 300))
    lon = fields.Float(validate=validate.Range(-180, 180), allow_none=True, load_default=None)
    lat = fields.Float(validate=validate.Range(-90, 90), allow_none=True, load_default=None)
    industry_code = IndustryCode(required=True, metadata={"description": "GB/T 4754-2017"})
    scale = fields.String(required=True, validate=validate.OneOf(SCALES))
    incubator_id = fields.String(allow_none=True, load_default=None)
    operating = JsonBoolean(load_default=True)
    has_revenue = JsonBoolean(load_default=True)
    pays_tax = JsonBoolean(load_default=True)
    contacts = fields.List(fields.Nested(ContactSchema), load_default=list,
                           validate=validate.Length(0, 10))
    tags = fields.List(Text(validate=validate.Length(1, 40)), load_default=list,
                       validate=validate.Length(0, 30))
    strengths = fields.List(Text(validate=validate.Length(1, 200)), load_default=list,
                            validate=validate.Length(0, 30))
    upstream = fields.List(Text(validate=validate.Length(1, 200)), load_default=list,
                           validate=validate.Length(0, 30))
    downstream = fields.List(Text(validate=validate.Length(1, 200)), load_default=list,
                             validate=validate.Length(0, 30))


class EnterpriseUpdateSchema(Schema):
    """Staff edits; every field optional. ``version`` guards against lost updates."""

    name = Text(validate=validate.Length(2, 200))
    address = Text(validate=validate.Length(2, 300))
    lon = fields.Float(validate=validate.Range(-180, 180), allow_none=True)
    lat = fields.Float(validate=validate.Range(-90, 90), allow_none=True)
    industry_code = IndustryCode()
    scale = fields.String(validate=validate.OneOf(SCALES))
    incubator_id = fields.String(allow_none=True)
    contacts = fields.List(fields.Nested(ContactSchema), validate=validate.Length(0, 10))
    tags = fields.List(Text(validate=validate.Length(1, 40)), validate=validate.Length(0, 30))
    strengths = fields.List(Text(validate=validate.Length(1, 200)),
                            validate=validate.Length(0, 30))
    upstream = fields.List(Text(validate=validate.Length(1, 200)),
                           validate=validate.Length(0, 30))
    downstream = fields.List(Text(validate=validate.Length(1, 200)),
                             validate=validate.Length(0, 30))
    version = WholeNumber(validate=validate.Range(1))


#: what an enterprise user may change about its own record (自主填报)
SELF_REPORT_FIELDS = ("contacts", "strengths", "upstream", "downstream", "version")


#: what a reader without the grant of the per-enterprise figures is told of them
WITHHELD_NOTE = ("the indicators withheld from this caller (revenue and tax: they are read by "
                 "the roles and departments granted the per-enterprise figures, "
                 "`/api/v1/zone/economy/access`, and by the enterprise itself); codes of "
                 "`profile_indicator`")


class IndicatorsSchema(Schema):
    """The latest year with figures and each indicator's latest value of that year (万元;
    employees in persons); revenue and tax null for a reader without the grant."""

    year = fields.Integer(required=True)
    output_value = fields.Float(allow_none=True)
    revenue = fields.Float(allow_none=True)
    tax = fields.Float(allow_none=True)
    employees = fields.Float(allow_none=True)
    rd_spend = fields.Float(allow_none=True)
    withheld = fields.List(fields.String(metadata={"x-dictionary": "profile_indicator"}),
                           metadata={"description": WITHHELD_NOTE})


class EnterpriseSchema(Schema):
    id = fields.String(required=True)
    credit_code = fields.String(required=True)
    name = fields.String(required=True)
    address = fields.String(required=True)
    lon = fields.Float(allow_none=True)
    lat = fields.Float(allow_none=True)
    industry_code = fields.String(required=True)
    industry_name = fields.String(required=True)
    scale = fields.String(required=True)
    incubator_id = fields.String(allow_none=True)
    grid_id = fields.String(allow_none=True)
    grid_source = fields.String(required=True, validate=validate.OneOf(GRID_SOURCES))
    in_scope = fields.Boolean(required=True)
    operating = fields.Boolean(required=True)
    has_revenue = fields.Boolean(required=True)
    pays_tax = fields.Boolean(required=True)
    contacts = fields.List(fields.Nested(ContactOutSchema), required=True,
                           metadata={"description": "phone numbers masked for roles that may "
                                     "not see them"})
    tags = fields.List(fields.String(), required=True)
    strengths = fields.List(fields.String(), required=True, metadata={"description": "优势资源"})
    upstream = fields.List(fields.String(), required=True)
    downstream = fields.List(fields.String(), required=True)
    latest_indicators = fields.Nested(IndicatorsSchema, allow_none=True)
    version = fields.Integer(required=True)
    created_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True)


class EnterpriseQuerySchema(PageQuery):
    q = Text(validate=validate.Length(1, 100), metadata={
        "description": "Keywords (关键词): a part of the name, the start of the credit code, "
        "or words of the name, tags, strengths (优势资源) and products (upstream, downstream "
        "entries), Chinese-segmented (激光 finds 激光加工)", "example": "激光"})
    grid_id = fields.String()
    industry = Text(validate=Pattern(r"^[A-Ta-t]([0-9]{2,4})?$"),
                    metadata={"description": "section (C) or division (C39) prefix"})
    scale = fields.String(validate=validate.OneOf(SCALES))
    tag = Text(validate=validate.Length(1, 40))
    in_scope = fields.Boolean()
    grid_source = fields.String(validate=validate.OneOf(GRID_SOURCES))
    min_output = fields.Float(metadata={"description": "万元, latest year"})
    max_output = fields.Float()
    min_tax = fields.Float()
    max_tax = fields.Float()
    sort = fields.String(validate=validate.OneOf(
        ("name", "-name", "output_value", "-output_value", "tax", "-tax", "created_at",
         "-created_at", "relevance")), metadata={
        "description": "name by default; relevance (the best match of q first) by default "
        "with q"})


EnterprisePageSchema = page_schema(EnterpriseSchema, "EnterprisePage")


class EnterpriseExportQuerySchema(EnterpriseQuerySchema):
    """The listing filters without paging and the profile-value filters."""

    class Meta:
        exclude = ("page", "per_page", "sort", "min_output", "max_output", "min_tax", "max_tax")


class ScopeChangeCreateSchema(Schema):
    in_scope = JsonBoolean(required=True)
    reason = fields.String(required=True,
                           validate=validate.OneOf(SCOPE_REASONS_IN + SCOPE_REASONS_OUT))
    effective_on = fields.Date(required=True)
    note = Text(validate=validate.Length(0, 500), load_default=None)


class ScopeChangeSchema(Schema):
    in_scope = fields.Boolean(required=True)
    reason = fields.String(required=True, metadata={"x-dictionary": "scope_reason"})
    effective_on = fields.Date(required=True)
    note = fields.String(allow_none=True)
    recorded_by = fields.String(required=True)
    recorded_at = LocalDateTime(required=True)


class ProfileValueCreateSchema(Schema):
    year = WholeNumber(required=True, validate=validate.Range(2000, 2100))
    indicator = fields.String(required=True, validate=validate.OneOf(INDICATORS))
    value = fields.Decimal(required=True, places=2, as_string=False,
                           validate=validate.Range(0, 10**15))
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))


class ProfileValueSchema(Schema):
    year = fields.Integer(required=True)
    indicator = fields.String(required=True, metadata={"x-dictionary": "profile_indicator"})
    value = fields.Float(required=True)
    source = fields.String(required=True, metadata={"x-dictionary": "profile_source"})
    entered_by = fields.String(required=True)
    entered_at = LocalDateTime(required=True)


class ProfileSchema(Schema):
    """企业画像: latest value per year and indicator, with the full history."""

    enterprise_id = fields.String(required=True)
    latest = fields.List(fields.Nested(ProfileValueSchema), required=True)
    history = fields.List(fields.Nested(ProfileValueSchema), required=True)
    withheld = fields.List(fields.String(metadata={"x-dictionary": "profile_indicator"}),
                           required=True,
                           metadata={"description": WITHHELD_NOTE})
    tags = fields.List(fields.String(), required=True)
    strengths = fields.List(fields.String(), required=True)
    upstream = fields.List(fields.String(), required=True)
    downstream = fields.List(fields.String(), required=True)


class SummaryQuerySchema(Schema):
    by = fields.String(load_default="grid", validate=validate.OneOf(
        ("grid", "industry_section", "industry_division", "scale", "output_band", "tax_band")))
    year = fields.Integer(validate=validate.Range(2000, 2100))
    in_scope = fields.Boolean(load_default=True)


class SummaryRowSchema(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    enterprises = fields.Integer(required=True)
    output_value = fields.Float(required=True)
    revenue = fields.Float(required=True, allow_none=True, metadata={
        "description": "null: withheld from this caller (see `restricted`)"})
    tax = fields.Float(required=True, allow_none=True, metadata={
        "description": "null: withheld from this caller (see `restricted`)"})
    employees = fields.Float(required=True)


class SummarySchema(Schema):
    by = fields.String(required=True)
    year = fields.Integer(allow_none=True)
    restricted = fields.Boolean(required=True, metadata={"description": (
        "true unless the caller is granted the per-enterprise figures and reads the whole "
        "registry: a tax or revenue sum that fewer than 5 enterprises stand for, or that "
        "subtracting the other sums of any dimension would narrow to fewer, is null")})
    rows = fields.List(fields.Nested(SummaryRowSchema), required=True)
    total = fields.Nested(SummaryRowSchema, required=True)


# --- contracts and obligations (协议合同) -----------------------------------------------------

class ObligationCreateSchema(Schema):
    party = fields.String(required=True, validate=validate.OneOf(OBLIGATION_PARTIES))
    description = Text(required=True, validate=validate.Length(1, 1000))
    due_on = fields.Date(required=True)
    department_id = fields.String(metadata={"description": "defaults to the contract's"})


class ObligationSchema(Schema):
    id = fields.String(required=True)
    contract_id = fields.String(required=True)
    party = fields.String(required=True)
    description = fields.String(required=True)
    due_on = fields.Date(required=True)
    department_id = fields.String(required=True)
    fulfilled_at = LocalDateTime(allow_none=True)
    remind_on = fields.Date(allow_none=True)
    reminded_at = LocalDateTime(allow_none=True)
    overdue_at = LocalDateTime(allow_none=True)
    state = fields.String(required=True, validate=validate.OneOf(
        ("open", "due_soon", "overdue", "fulfilled")))


class ContractCreateSchema(Schema):
    enterprise_id = Id(required=True)
    title = Text(required=True, validate=validate.Length(1, 200))
    signed_on = fields.Date(required=True)
    department_id = fields.String(required=True)
    note = Text(validate=validate.Length(0, 2000), load_default=None)
    obligations = fields.List(fields.Nested(ObligationCreateSchema), load_default=list,
                              validate=validate.Length(0, 100))


class ContractSchema(Schema):
    id = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    title = fields.String(required=True)
    signed_on = fields.Date(required=True)
    department_id = fields.String(required=True)
    note = fields.String(allow_none=True)
    obligations = fields.List(fields.Nested(ObligationSchema), required=True)
    created_by = fields.String(required=True)
    created_at = LocalDateTime(required=True)
    version = fields.Integer(required=True)


class ContractQuerySchema(PageQuery):
    enterprise_id = Id()
    department_id = fields.String()


ContractPageSchema = page_schema(ContractSchema, "ContractPage")


class ObligationQuerySchema(PageQuery):
    party = fields.String(validate=validate.OneOf(OBLIGATION_PARTIES))
    department_id = fields.String()
    state = fields.String(validate=validate.OneOf(("open", "due_soon", "overdue", "fulfilled")))
    due_before = fields.Date()


ObligationPageSchema = page_schema(ObligationSchema, "ObligationPage")


class ObligationSettingsSchema(Schema):
    reminder_workdays = WholeNumber(required=True, validate=validate.Range(0, 60),
                                       metadata={"description": "working days before due"})
    version = WholeNumber(validate=validate.Range(1), metadata={"description": SETTINGS_NOTE})


class ObligationSweepQuerySchema(Schema):
    today = fields.Date(metadata={"description": "sweep as of this date (default: today in "
                                  "Asia/Shanghai; never later)"})


class ObligationSweepSchema(Schema):
    today = fields.Date(required=True)
    reminded = fields.Integer(required=True, metadata={"description": "obligation_due raised"})
    overdue = fields.Integer(required=True,
                             metadata={"description": "obligation_overdue raised"})


# --- visits (走访) ----------------------------------------------------------------------------

class VisitCreateSchema(Schema):
    enterprise_id = Id(required=True)
    visited_on = fields.Date(required=True)
    topics = fields.List(Text(validate=validate.Length(1, 100)), load_default=list,
                         validate=validate.Length(0, 20))
    demands_raised = Text(validate=validate.Length(0, 2000), load_default=None)
    note = Text(validate=validate.Length(0, 2000), load_default=None)


class VisitSchema(Schema):
    id = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    grid_id = fields.String(allow_none=True)
    visited_on = fields.Date(required=True)
    visitor_account_id = fields.String(required=True)
    topics = fields.List(fields.String(), required=True)
    demands_raised = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = LocalDateTime(required=True)


class VisitQuerySchema(PageQuery):
    enterprise_id = Id()
    grid_id = fields.String()


VisitPageSchema = page_schema(VisitSchema, "VisitPage")


class NotVisitedQuerySchema(PageQuery):
    days = fields.Integer(load_default=30, validate=validate.Range(1, 3650))
    grid_id = fields.String()


class NotVisitedSchema(Schema):
    enterprise_id = fields.String(required=True)
    name = fields.String(required=True)
    grid_id = fields.String(allow_none=True)
    last_visited_on = fields.Date(allow_none=True)


NotVisitedPageSchema = page_schema(NotVisitedSchema, "NotVisitedPage")


# --- bulk import and export -------------------------------------------------------------------

class ImportQuerySchema(Schema):
    dry_run = fields.Boolean(load_default=False)
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")))


class RowErrorSchema(Schema):
    row = fields.Integer(required=True, metadata={"description": "1-based, header is row 1"})
    field = fields.String(required=True)
    code = fields.String(required=True, metadata={
        "description": "why, for programs: stable (enterprise.credit_code_check_digit)"})
    reason = fields.String(required=True, metadata={
        "description": "why, for people: in the request's language"})


class ImportResultSchema(Schema):
    dry_run = fields.Boolean(required=True)
    rows = fields.Integer(required=True)
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    errors = fields.List(fields.Nested(RowErrorSchema), required=True)


# --- audiences (目标企业) of policies, notices and meetings --------------------------------------

def _audience_industry_pattern() -> str:
    """What :func:`industry.parse` accepts: the section letter (either case) with one of its own
    divisions (大类), then up to two more digits (中类, 小类): C39, c391, C3911, not A39."""
    by_section: dict[str, list[str]] = {}
    for division in industry.DIVISIONS.values():
        by_section.setdefault(division.section, []).append(division.code)
    sections = "|".join(f"[{letter}{letter.lower()}](?:{'|'.join(codes)})"
                        for letter, codes in sorted(by_section.items()))
    return f"^(?:{sections})[0-9]{{0,2}}$"


AUDIENCE_INDUSTRY_PATTERN = _audience_industry_pattern()
_AUDIENCE_INDUSTRY = re.compile(AUDIENCE_INDUSTRY_PATTERN, re.ASCII)


class AudienceIndustryCode(IndustryCode):
    """A GB/T 4754 code an audience names as a prefix (C39, C391, C3911); the OpenAPI document
    carries the exact pattern (each division with its own section letter)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": AUDIENCE_INDUSTRY_PATTERN,
                              **(kwargs.get("metadata") or {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs)
        if not _AUDIENCE_INDUSTRY.fullmatch(code):  # ASCII digits only
            raise refuse("enterprise.industry_code_form", "industry code {code} must be a "
                         "section letter A-T and 2 to 4 digits, e.g. C39 or C3911",
                         code=repr(code))
        return code


class AudienceSchema(Schema):
    """Who a policy, notice or meeting is for: AND across criteria, OR within one; empty means
    every in-scope enterprise. Resolved against the registry (``services.enterprise.audience``)."""

    grid_ids = fields.List(SearchText(length=(1, 20)), validate=validate.Length(0, 100),
                           metadata={"description": "网格"})
    industry_codes = fields.List(AudienceIndustryCode(), validate=validate.Length(0, 50),
                                 metadata={"description": "GB/T 4754 prefixes: C39, C391, C3911"})
    scales = fields.List(fields.String(validate=validate.OneOf(SCALES)),
                         validate=validate.Length(0, 4))
    incubator_ids = fields.List(SearchText(length=(1, 20)),
                                validate=validate.Length(0, 100),
                                metadata={"description": "孵化器"})
    tags = fields.List(SearchText(length=(1, 40)), validate=validate.Length(0, 30),
                       metadata={"description": "any of these tags (e.g. 专精特新, 初创期)"})
    listed = JsonBoolean(allow_none=True, metadata={"description": "上市企业 or not"})
    strengths = fields.List(SearchText(length=(1, 50)), validate=validate.Length(0, 20),
                            metadata={"description": "keywords in the enterprise's strengths"})
    enterprise_ids = fields.List(Id(), validate=validate.Length(0, 2000))

    @post_load
    def _ids_as_text(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "enterprise_ids" in data:
            data["enterprise_ids"] = [i.lower() for i in data["enterprise_ids"]]
        return data


class AudienceResultSchema(Schema):
    enterprise_ids = fields.List(fields.String(), required=True)
    count = fields.Integer(required=True)


# --- audit log (操作日志) of privileged writes ------------------------------------------------

AUDITED_ROLES = (Role.ADMIN.value, Role.COORDINATOR.value)


class AuditRecordSchema(Schema):
    """What the gateway reports after a privileged write succeeded. The actor comes from the
    caller's token, never from here."""

    call_id = fields.String(required=True, validate=validate.Length(1, 200))
    method = fields.String(required=True, validate=validate.OneOf(
        ("POST", "PUT", "PATCH", "DELETE")))
    route = fields.String(required=True, validate=validate.Length(1, 200))
    path = fields.String(required=True, validate=validate.Length(1, 500))
    action = fields.String(required=True, validate=validate.Length(1, 200))
    status = fields.Integer(required=True, validate=validate.Range(100, 599))
    subject_ids = fields.Dict(keys=fields.String(validate=validate.Length(1, 50)),
                              values=fields.String(validate=validate.Length(0, 200)),
                              load_default=dict)
    fields_changed = fields.List(fields.String(validate=validate.Length(1, 100)),
                                 load_default=list, validate=validate.Length(0, 100))


class AuditEntrySchema(Schema):
    id = fields.Integer(required=True)
    at = LocalDateTime(required=True)
    actor_id = fields.String(required=True)
    actor_role = fields.String(required=True)
    call_id = fields.String(required=True)
    method = fields.String(required=True)
    route = fields.String(required=True)
    path = fields.String(required=True)
    action = fields.String(required=True)
    status = fields.Integer(required=True)
    subject_ids = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    fields_changed = fields.List(fields.String(), required=True)


class AuditQuerySchema(Schema):
    actor_id = fields.String(validate=validate.Length(1, 64))
    route = fields.String(validate=validate.Length(1, 200))
    since = LocalDateTime(metadata={"description": "ISO time with offset"})
    until = LocalDateTime()
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


AuditPageSchema = page_schema(AuditEntrySchema, "AuditPage")


# --- meetings (政企座谈) -------------------------------------------------------------------------

MEETING_STATES = ("planned", "invited", "held", "cancelled")
MEETING_RESPONSES = ("registered", "declined")  # 报名 / 不参加
#: a month or a quarter of the yearly report: ok, missed (ended without), open (not ended yet)
MEETING_PERIOD_STATUSES = ("ok", "missed", "open")


class MeetingCreateSchema(Schema):
    """政企座谈 planned by a department: theme, time, place, organiser and the audience (目标企业)
    invited when invitations are sent."""

    theme = Text(required=True, validate=validate.Length(1, 200), metadata={"description": "主题"})
    description = Text(validate=validate.Length(0, 2000), allow_none=True, load_default=None)
    topics = fields.List(Text(validate=validate.Length(1, 50)), load_default=list,
                         validate=validate.Length(0, 10),
                         metadata={"description": "keywords; a held meeting follows its "
                                   "quarter's theme (季季有主题) when that theme occurs in its "
                                   "theme or in one of these"})
    starts_at = LocalDateTime(required=True, metadata={"description": "in the future; ISO "
                                                       "8601 with offset"})
    ends_at = LocalDateTime(allow_none=True, load_default=None)
    place = Text(required=True, validate=validate.Length(1, 200), metadata={"description": "地点"})
    organiser_department_id = Text(required=True, validate=validate.Length(1, 40),
                                   metadata={"description": "主办部门"})
    organiser_contact = Text(validate=validate.Length(0, 100), allow_none=True,
                             load_default=None, metadata={"description": "联系人"})
    capacity = WholeNumber(validate=validate.Range(1, 10_000), allow_none=True,
                           load_default=None,
                           metadata={"description": "most enterprises that may register"})
    audience = fields.Nested(AudienceSchema, load_default=dict,
                             metadata={"description": "who is invited; resolved against the "
                                       "registry when invitations are sent"})


class MeetingUpdateSchema(Schema):
    """Changes while planned; once invited only description and organiser_contact.
    ``version`` (or If-Match) guards against lost updates."""

    theme = Text(validate=validate.Length(1, 200))
    description = Text(validate=validate.Length(0, 2000), allow_none=True)
    topics = fields.List(Text(validate=validate.Length(1, 50)), validate=validate.Length(0, 10))
    starts_at = LocalDateTime()
    ends_at = LocalDateTime(allow_none=True)
    place = Text(validate=validate.Length(1, 200))
    organiser_department_id = Text(validate=validate.Length(1, 40))
    organiser_contact = Text(validate=validate.Length(0, 100), allow_none=True)
    capacity = WholeNumber(validate=validate.Range(1, 10_000), allow_none=True)
    audience = fields.Nested(AudienceSchema)
    version = WholeNumber(validate=validate.Range(1))


class MeetingCountsSchema(Schema):
    invited = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    declined = fields.Integer(required=True)
    attended = fields.Integer(required=True)
    feedback = fields.Integer(required=True)
    average_rating = fields.Float(allow_none=True)


class MeetingFeedbackSchema(Schema):
    meeting_id = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    rating = fields.Integer(required=True)
    comment = fields.String(allow_none=True)
    submitted_at = LocalDateTime(required=True)


class MeetingMyInvitationSchema(Schema):
    """What an invited enterprise sees of its own invitation."""

    invited_at = LocalDateTime(required=True)
    response = fields.String(allow_none=True, validate=validate.OneOf(MEETING_RESPONSES),
                             metadata={"description": "null: not answered yet"})
    attendees = fields.List(fields.Nested(ContactSchema), required=True)
    attended = fields.Boolean(allow_none=True, metadata={"description": "null: not recorded"})
    feedback = fields.Nested(MeetingFeedbackSchema, allow_none=True)


class MeetingSchema(Schema):
    id = fields.String(required=True)
    theme = fields.String(required=True)
    description = fields.String(allow_none=True)
    topics = fields.List(fields.String(), required=True)
    starts_at = LocalDateTime(required=True)
    ends_at = LocalDateTime(allow_none=True)
    place = fields.String(required=True)
    organiser_department_id = fields.String(required=True)
    organiser_contact = fields.String(allow_none=True)
    capacity = fields.Integer(allow_none=True)
    audience = fields.Dict(allow_none=True, metadata={"description": "null for enterprises"})
    state = fields.String(required=True, validate=validate.OneOf(MEETING_STATES))
    quarter_theme = fields.String(allow_none=True, metadata={"description": "the theme of the "
                                                              "meeting's quarter"})
    on_quarter_theme = fields.Boolean(allow_none=True, metadata={
        "description": "null when the quarter has no theme"})
    invited_at = LocalDateTime(allow_none=True)
    held_at = LocalDateTime(allow_none=True)
    minutes = fields.String(allow_none=True, metadata={"description": "会议纪要"})
    cancelled_at = LocalDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    counts = fields.Nested(MeetingCountsSchema, allow_none=True,
                           metadata={"description": "staff only"})
    my_invitation = fields.Nested(MeetingMyInvitationSchema, allow_none=True,
                                  metadata={"description": "enterprises only"})
    created_by = fields.String(required=True)
    created_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True)
    version = fields.Integer(required=True)


class MeetingQuerySchema(PageQuery):
    year = fields.Integer(validate=validate.Range(2000, 2100),
                          metadata={"description": "starting in this year (Asia/Shanghai)"})
    state = fields.String(validate=validate.OneOf(MEETING_STATES))
    department_id = SearchText(length=(1, 40))


MeetingPageSchema = page_schema(MeetingSchema, "MeetingPage")


class MeetingInvitationSchema(Schema):
    enterprise_id = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    grid_id = fields.String(allow_none=True, metadata={"description": "when invited"})
    invited_at = LocalDateTime(required=True)
    response = fields.String(allow_none=True)
    attendees = fields.List(fields.Nested(ContactSchema), required=True)
    responded_at = LocalDateTime(allow_none=True)
    attended = fields.Boolean(allow_none=True)
    rating = fields.Integer(allow_none=True)
    comment = fields.String(allow_none=True)


class MeetingInvitationQuerySchema(PageQuery):
    response = fields.String(validate=validate.OneOf((*MEETING_RESPONSES, "none")))
    attended = fields.Boolean()
    per_page = fields.Integer(load_default=100, validate=validate.Range(1, 500))


MeetingInvitationPageSchema = page_schema(MeetingInvitationSchema, "MeetingInvitationPage")


class MeetingRegistrationCreateSchema(Schema):
    """报名 (or decline) before the meeting starts; may be changed until then."""

    response = fields.String(load_default="registered",
                             validate=validate.OneOf(MEETING_RESPONSES))
    attendees = fields.List(fields.Nested(ContactSchema), load_default=list,
                            validate=validate.Length(0, 10),
                            metadata={"description": "who will come"})
    note = Text(validate=validate.Length(0, 500), allow_none=True, load_default=None)


class MeetingRegistrationSchema(Schema):
    meeting_id = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    response = fields.String(required=True, validate=validate.OneOf(MEETING_RESPONSES))
    attendees = fields.List(fields.Nested(ContactSchema), required=True)
    note = fields.String(allow_none=True)
    responded_at = LocalDateTime(required=True)


class MeetingAttendanceCreateSchema(Schema):
    """签到: the invited enterprises that attended (every other invitee: absent)."""

    attended = fields.List(Id(), required=True, validate=validate.Length(0, 5000),
                           metadata={"description": "enterprise ids"})
    minutes = Text(validate=validate.Length(0, 5000), allow_none=True,
                   metadata={"description": "会议纪要"})

    @post_load
    def _ids_as_text(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["attended"] = [i.lower() for i in data["attended"]]
        return data


class MeetingFeedbackCreateSchema(Schema):
    rating = WholeNumber(required=True, validate=validate.Range(1, 5),
                         metadata={"description": "1 (poor) to 5 (excellent)"})
    comment = Text(validate=validate.Length(0, 2000), allow_none=True, load_default=None)


class MeetingCancelSchema(Schema):
    reason = Text(required=True, validate=validate.Length(1, 500))


class MeetingThemeSetSchema(Schema):
    """季季有主题: the theme of one quarter; setting it again replaces it."""

    year = WholeNumber(required=True, validate=validate.Range(2000, 2100))
    quarter = WholeNumber(required=True, validate=validate.Range(1, 4))
    theme = Text(required=True, validate=validate.Length(1, 100))


class MeetingThemeSchema(Schema):
    year = fields.Integer(required=True)
    quarter = fields.Integer(required=True)
    theme = fields.String(required=True)
    set_by = fields.String(required=True)
    set_at = LocalDateTime(required=True)


class MeetingThemeQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(2000, 2100),
                          metadata={"description": "default: this year (Asia/Shanghai)"})


class MeetingThemeListSchema(Schema):
    year = fields.Integer(required=True)
    items = fields.List(fields.Nested(MeetingThemeSchema), required=True)


class MeetingSettingsSchema(Schema):
    yearly_minimum = WholeNumber(required=True, validate=validate.Range(1, 366),
                                 metadata={"description": "meetings a year (全年不少于12次)"})
    version = WholeNumber(validate=validate.Range(1), metadata={"description": SETTINGS_NOTE})


class MeetingReportQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(2000, 2100),
                          metadata={"description": "default: this year (Asia/Shanghai)"})
    department_id = SearchText(length=(1, 40),
                         metadata={"description": "only this organiser's meetings"})


class MeetingReportMonthSchema(Schema):
    month = fields.Integer(required=True)
    held = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(MEETING_PERIOD_STATUSES))


class MeetingReportQuarterSchema(Schema):
    quarter = fields.Integer(required=True)
    theme = fields.String(allow_none=True)
    held = fields.Integer(required=True)
    on_theme = fields.Integer(required=True, metadata={"description": "held meetings that "
                                                        "follow the theme"})
    status = fields.String(required=True, validate=validate.OneOf(MEETING_PERIOD_STATUSES))


class MeetingReportRowSchema(Schema):
    id = fields.String(required=True)
    theme = fields.String(required=True)
    starts_at = LocalDateTime(required=True)
    organiser_department_id = fields.String(required=True)
    quarter = fields.Integer(required=True)
    on_quarter_theme = fields.Boolean(allow_none=True)
    invited = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    attended = fields.Integer(required=True)
    feedback = fields.Integer(required=True)
    average_rating = fields.Float(allow_none=True)


class MeetingReportSchema(Schema):
    """The year against the plan: 全年不少于12次, 月月有活动, 季季有主题."""

    year = fields.Integer(required=True)
    department_id = fields.String(allow_none=True)
    as_of = fields.Date(required=True)
    minimum = fields.Integer(required=True)
    held = fields.Integer(required=True)
    meets_minimum = fields.Boolean(required=True)
    shortfall = fields.Integer(required=True)
    upcoming = fields.Integer(required=True, metadata={"description": "planned or invited"})
    cancelled = fields.Integer(required=True)
    months = fields.List(fields.Nested(MeetingReportMonthSchema), required=True)
    months_without_meeting = fields.List(fields.Integer(), required=True)
    quarters = fields.List(fields.Nested(MeetingReportQuarterSchema), required=True)
    quarters_off_theme = fields.List(fields.Integer(), required=True)
    invited = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    attended = fields.Integer(required=True)
    attendance_rate = fields.Float(allow_none=True, metadata={"description": "attended / "
                                                              "invited"})
    show_up_rate = fields.Float(allow_none=True, metadata={"description": "registered that "
                                                           "attended / registered"})
    feedback = fields.Integer(required=True)
    average_rating = fields.Float(allow_none=True)
    meetings = fields.List(fields.Nested(MeetingReportRowSchema), required=True)


# --- grid service contacts (网格化服务联系方式) ---------------------------------------------


class GridContactSchema(Schema):
    name = fields.String(required=True)
    duty = fields.String(required=True, metadata={"x-dictionary": "grid_duty"})
    phone = fields.String(allow_none=True, metadata={"description": "work phone"})


class GridCardSchema(Schema):
    """A grid with its service contacts: for its enterprises every leader and worker with
    their work phones; in the public list only those who agreed to publish theirs."""

    grid_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"x-dictionary": "grid_kind"})
    department_name = fields.String(allow_none=True, metadata={"description": "the owner"})
    address = fields.String(allow_none=True)
    leader = fields.Nested(GridContactSchema, allow_none=True, metadata={"description": "网格长"})
    workers = fields.List(fields.Nested(GridContactSchema), required=True,
                          metadata={"description": "网格员"})


class GridCardListSchema(Schema):
    items = fields.List(fields.Nested(GridCardSchema), required=True)
    total = fields.Integer(required=True)


class GridContactQuerySchema(Schema):
    q = Text(validate=validate.Length(1, 50), metadata={
        "description": "words of the grid's name or address"})
    kind = fields.String(validate=validate.OneOf(GRID_KINDS))


class ContactPublicationSchema(Schema):
    publish_contact = JsonBoolean(required=True, metadata={
        "description": "publish my name and work phone in the public grid service contacts"})
    phone = fields.String(allow_none=True, dump_only=True, metadata={
        "description": "the work phone that is published"})


class ProfileSourcePrecedenceSchema(Schema):
    """The profile sources, first wins (企业画像的数据来源优先级): every source once."""

    order = fields.List(fields.String(validate=validate.OneOf(SOURCES)), required=True,
                        validate=validate.Length(len(SOURCES), len(SOURCES)),
                        metadata={"description": "profile_source codes, highest precedence "
                                                 "first; within a source the newer value wins",
                                  "example": ["registration", "third_party", "joint_review",
                                              "project_application", "grid_worker",
                                              "self_report", "import"]})
    version = fields.Integer(dump_only=True)
