"""The registry's contract for departments, categories, grids and enterprises (``api/registry.py``):
profiles, scope changes, coverage and the summary.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from common.fields import (
    Id,
    JsonBoolean,
    LocalDateTime,
    Pattern,
    SearchText,
    Text,
    WholeNumber,
)
from common.pagination import PageQuery, page_schema  # noqa: F401 -- re-exported
from services.enterprise import credit_code
from services.enterprise.schemas.base import (
    GRID_KINDS,
    SCALES,
    SOURCES,
    VERSION_NOTE,
    ContactSchema,
    IndustryCode,
)

GRID_SOURCES = ("incubator", "location", "unassigned")
INDICATORS = ("output_value", "revenue", "tax", "employees", "rd_spend")


SCOPE_REASONS_IN = ("started_operating", "moved_in", "completion_accepted", "incubator_opened",
                    "restored")
SCOPE_REASONS_OUT = ("moved_out", "deregistered", "not_operating", "no_revenue", "no_tax")


class CreditCode(fields.String):
    """统一社会信用代码 (GB 32100-2015), check digit verified."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return credit_code.validate(raw)
        except credit_code.InvalidCreditCode as exc:
            raise ValidationError([exc.item()]) from exc


class ContactOutSchema(Schema):
    """A contact as answered: the phone masked (138****5678) for roles that may not see it."""

    name = fields.String(required=True)
    title = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


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
    q = SearchText(length=(1, 100), metadata={
        "description": "a part of the grid's name, or its code (GEO07, INC24)"})
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
