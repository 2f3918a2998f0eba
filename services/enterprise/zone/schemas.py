"""The zone resources' contract (区域资源): what callers send and get. The gateway imports it
for validation and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates_schema

from common.errors import InvalidValue
from common.fields import (
    Day,
    Id,
    JsonDecimal,
    JsonNumber,
    LocalDateTime,
    Pattern,
    SearchText,
    Text,
    WholeNumber,
    refuse,
)
from services.enterprise.schemas import (
    GEOMETRY_DOC,
    PHONE,
    SCALES,
    VERSION_NOTE,
    CreditCode,
    IndustryCode,
    PageQuery,
    page_schema,
)
from services.enterprise.zone import periods
from services.enterprise.zone.vocabulary import (
    CARRIER_KINDS,
    CARRIER_SORTS,
    CHAIN_STAGES,
    DIMENSIONS,
    FIGURE_SORTS,
    FIGURE_STATUSES,
    GRANTABLE_ROLES,
    GRANULARITIES,
    HOST_KINDS,
    INDICATORS,
    INSTITUTE_LEVELS,
    MATCHED_BY,
    MILESTONES,
    PERIOD_KINDS,
    PROFILE_SIDES,
    PROJECT_SORTS,
    STAGES,
    TENANT_SOURCES,
)

AREA = validate.Range(0, 10**9)
MONEY = validate.Range(0, 10**12)
INDUSTRY_PREFIX = Pattern(r"^[A-Ta-t]([0-9]{2,4})?$")


def _lon(**kwargs: Any) -> JsonNumber:
    return JsonNumber(validate=validate.Range(-180, 180), allow_none=True, **kwargs)


def _lat(**kwargs: Any) -> JsonNumber:
    return JsonNumber(validate=validate.Range(-90, 90), allow_none=True, **kwargs)


def _tags(**kwargs: Any) -> fields.List:
    return fields.List(Text(validate=validate.Length(1, 40)), validate=validate.Length(0, 30),
                       **kwargs)


def _codes(**kwargs: Any) -> fields.List:
    return fields.List(IndustryCode(), validate=validate.Length(0, 30), **kwargs)


class PeriodField(fields.String):
    """A reporting period: ``2025-06`` (month), ``2025-Q2`` (quarter) or ``2025`` (year)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": periods.PERIOD_PATTERN,
                              **(kwargs.get("metadata") or {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> periods.Period:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return periods.parse(text)
        except InvalidValue as exc:
            raise refuse(exc.code, exc.message, **exc.params) from exc


class NamedCodeSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


# --- carriers (载体) ---------------------------------------------------------------------------

class CarrierCreateSchema(Schema):
    """A carrier; an incubator may link its incubator grid (its address and location then
    default to the grid's)."""

    name = Text(required=True, validate=validate.Length(1, 200))
    kind = fields.String(required=True, validate=validate.OneOf(CARRIER_KINDS))
    operator = Text(validate=validate.Length(0, 200), allow_none=True, load_default=None,
                    metadata={"description": "运营主体"})
    address = Text(validate=validate.Length(0, 300), allow_none=True, load_default=None)
    geometry = fields.Dict(allow_none=True, load_default=None, metadata=GEOMETRY_DOC)
    lon = _lon(load_default=None)
    lat = _lat(load_default=None)
    floor_area = JsonDecimal(places=2, validate=AREA, allow_none=True, load_default=None,
                             metadata={"description": "建筑面积, m²"})
    leasable_area = JsonDecimal(places=2, validate=AREA, allow_none=True, load_default=None,
                                metadata={"description": "可租面积, m²; not above floor_area"})
    grid_id = Text(validate=validate.Length(1, 20), allow_none=True, load_default=None,
                   metadata={"description": "its incubator grid (incubators only)"})
    leasing_contact = Text(validate=validate.Length(0, 100), allow_none=True,
                           load_default=None, metadata={"description": "招商联系人 (public)"})
    leasing_phone = Text(validate=PHONE, allow_none=True, load_default=None)
    opened_on = Day(allow_none=True, load_default=None)
    note = Text(validate=validate.Length(0, 2000), allow_none=True, load_default=None)


class CarrierUpdateSchema(Schema):
    name = Text(validate=validate.Length(1, 200))
    kind = fields.String(validate=validate.OneOf(CARRIER_KINDS))
    operator = Text(validate=validate.Length(0, 200), allow_none=True)
    address = Text(validate=validate.Length(0, 300), allow_none=True)
    geometry = fields.Dict(allow_none=True, metadata=GEOMETRY_DOC)
    lon = _lon()
    lat = _lat()
    floor_area = JsonDecimal(places=2, validate=AREA, allow_none=True)
    leasable_area = JsonDecimal(places=2, validate=AREA, allow_none=True)
    grid_id = Text(validate=validate.Length(1, 20), allow_none=True)
    leasing_contact = Text(validate=validate.Length(0, 100), allow_none=True)
    leasing_phone = Text(validate=PHONE, allow_none=True)
    opened_on = Day(allow_none=True)
    note = Text(validate=validate.Length(0, 2000), allow_none=True)
    version = WholeNumber(validate=validate.Range(1))


class CarrierSchema(Schema):
    """A carrier; enterprise users get the public fields only (招商信息): id, name, kind,
    address, location, leasable and vacant area, vacancy rate, leasing contact, opening day."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(CARRIER_KINDS))
    operator = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    geometry = fields.Dict(allow_none=True)
    lon = fields.Float(allow_none=True)
    lat = fields.Float(allow_none=True)
    floor_area = fields.Float(allow_none=True)
    leasable_area = fields.Float(allow_none=True)
    grid_id = fields.String(allow_none=True)
    grid_name = fields.String(allow_none=True)
    leasing_contact = fields.String(allow_none=True)
    leasing_phone = fields.String(allow_none=True)
    opened_on = fields.Date(allow_none=True)
    note = fields.String(allow_none=True)
    tenants = fields.Integer(metadata={"description": "in-scope enterprises located in it"})
    tenants_without_area = fields.Integer()
    occupied_area = fields.Float(metadata={"description": "m² of the tenants' tenancies"})
    vacant_area = fields.Float(allow_none=True, metadata={"description": "leasable - occupied"})
    occupancy_rate = fields.Float(allow_none=True)
    vacancy_rate = fields.Float(allow_none=True)
    version = fields.Integer(metadata={"description": VERSION_NOTE})
    created_at = LocalDateTime()
    updated_at = LocalDateTime()


CarrierPageSchema = page_schema(CarrierSchema, "CarrierPage")


class CarrierQuerySchema(PageQuery):
    kind = fields.String(validate=validate.OneOf(CARRIER_KINDS))
    q = SearchText(length=(1, 100), metadata={"description": "name contains"})
    grid_id = SearchText(length=(1, 20))
    operator = SearchText(length=(1, 100), metadata={
        "description": "运营主体 contains (staff; not public, so enterprise users' is ignored)"})
    min_vacant_area = fields.Integer(validate=validate.Range(0, 10**9), metadata={
        "description": "m²: carriers with at least this much vacant area"})
    has_vacancy = fields.Boolean()
    sort = fields.String(load_default="name", validate=validate.OneOf(CARRIER_SORTS))


class TenantSchema(Schema):
    enterprise_id = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    industry_code = fields.String(required=True)
    industry_name = fields.String(required=True)
    scale = fields.String(required=True, validate=validate.OneOf(SCALES))
    grid_id = fields.String(allow_none=True)
    grid_name = fields.String(allow_none=True)
    area = fields.Float(allow_none=True, metadata={"description": "m²; null: not recorded"})
    moved_in_on = fields.Date(allow_none=True)
    source = fields.String(required=True, validate=validate.OneOf(TENANT_SOURCES), metadata={
        "description": "incubator: its incubator is the carrier's grid; tenancy: recorded"})


class TenantPageSchema(Schema):
    carrier_id = fields.String(required=True)
    carrier_name = fields.String(required=True)
    items = fields.List(fields.Nested(TenantSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class TenancyCreateSchema(Schema):
    """入驻: record (or correct) an enterprise's open tenancy of the carrier."""

    enterprise_id = Id(required=True)
    area = JsonDecimal(places=2, validate=validate.Range(0, 10**8), allow_none=True,
                       load_default=None, metadata={"description": "m²"})
    moved_in_on = Day(allow_none=True, load_default=None,
                      metadata={"description": "default today; not in the future"})


class TenancyEndSchema(Schema):
    moved_out_on = Day(allow_none=True, load_default=None,
                       metadata={"description": "迁出 day: default today"})


class TenancySchema(Schema):
    carrier_id = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    enterprise_name = fields.String(allow_none=True)
    area = fields.Float(allow_none=True)
    moved_in_on = fields.Date(required=True)
    moved_out_on = fields.Date(allow_none=True)
    recorded_by = fields.String(required=True)
    recorded_at = LocalDateTime(required=True)


# --- projects (在建项目) -----------------------------------------------------------------------

class MilestoneSetSchema(Schema):
    """Plan or record a milestone: only the fields sent change (null clears)."""

    planned_on = Day(allow_none=True)
    done_on = Day(allow_none=True, metadata={"description": "not in the future; earlier "
                                             "milestones done first"})
    note = Text(validate=validate.Length(0, 500), allow_none=True)
    version = WholeNumber(validate=validate.Range(1), metadata={
        "description": "the project's version last read (412 when stale), like If-Match"})


class MilestoneInitSchema(MilestoneSetSchema):
    milestone = fields.String(required=True, validate=validate.OneOf(MILESTONES))

    class Meta:
        exclude = ("version",)


def _no_repeats(data: dict[str, Any], **_: Any) -> None:
    names = [m["milestone"] for m in data.get("milestones") or []]
    if len(names) != len(set(names)):
        raise refuse("zone.milestone_repeated", "a milestone appears twice",
                     field_name="milestones")


class ProjectCreateSchema(Schema):
    """A project: the investor is a registered enterprise (``investor_enterprise_id``) or a
    name with an optional credit code (linked when that enterprise registers)."""

    name = Text(required=True, validate=validate.Length(1, 200))
    investor_enterprise_id = Id(allow_none=True, load_default=None)
    investor_name = Text(validate=validate.Length(1, 200), allow_none=True, load_default=None)
    investor_credit_code = CreditCode(allow_none=True, load_default=None)
    site_address = Text(required=True, validate=validate.Length(1, 300))
    lon = _lon(load_default=None)
    lat = _lat(load_default=None)
    industry_code = IndustryCode(allow_none=True, load_default=None)
    planned_investment = JsonDecimal(places=2, required=True, validate=MONEY,
                                     metadata={"description": "计划投资, 万元"})
    completed_investment = JsonDecimal(places=2, validate=MONEY,
                                       metadata={"description": "已完成投资, 万元"})
    department_id = Text(validate=validate.Length(1, 40), metadata={
        "description": "responsible department (default 建设部, construction)"})
    note = Text(validate=validate.Length(0, 2000), allow_none=True, load_default=None)
    milestones = fields.List(fields.Nested(MilestoneInitSchema), validate=validate.Length(0, 6))

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        _no_repeats(data)
        if (data.get("lon") is None) != (data.get("lat") is None):
            raise refuse("zone.lon_lat_incomplete", "give both lon and lat, or neither",
                         field_name="lat")


class ProjectUpdateSchema(Schema):
    name = Text(validate=validate.Length(1, 200))
    investor_enterprise_id = Id(allow_none=True)
    investor_name = Text(validate=validate.Length(1, 200))
    investor_credit_code = CreditCode(allow_none=True)
    site_address = Text(validate=validate.Length(1, 300))
    lon = _lon()
    lat = _lat()
    industry_code = IndustryCode(allow_none=True)
    planned_investment = JsonDecimal(places=2, validate=MONEY)
    completed_investment = JsonDecimal(places=2, validate=MONEY)
    department_id = Text(validate=validate.Length(1, 40))
    note = Text(validate=validate.Length(0, 2000), allow_none=True)
    version = WholeNumber(validate=validate.Range(1))

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("lon" in data) != ("lat" in data):
            raise refuse("zone.lon_lat_incomplete", "give both lon and lat, or neither",
                         field_name="lat")


class InvestorSchema(Schema):
    enterprise_id = fields.String(allow_none=True)
    name = fields.String(required=True)
    credit_code = fields.String(allow_none=True)
    registered = fields.Boolean(required=True)
    in_scope = fields.Boolean(allow_none=True)
    grid_id = fields.String(allow_none=True)


class MilestoneSchema(Schema):
    milestone = fields.String(required=True, validate=validate.OneOf(MILESTONES))
    planned_on = fields.Date(allow_none=True)
    done_on = fields.Date(allow_none=True)
    delayed = fields.Boolean(required=True, metadata={
        "description": "planned day passed (Asia/Shanghai), not done"})
    days_late = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)


class ProjectSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    investor = fields.Nested(InvestorSchema, required=True)
    site_address = fields.String(required=True)
    lon = fields.Float(allow_none=True)
    lat = fields.Float(allow_none=True)
    industry_code = fields.String(allow_none=True)
    industry_name = fields.String(allow_none=True)
    planned_investment = fields.Float(required=True)
    completed_investment = fields.Float(required=True)
    investment_progress = fields.Float(allow_none=True)
    department_id = fields.String(required=True)
    department_name = fields.String(allow_none=True)
    milestones = fields.List(fields.Nested(MilestoneSchema), required=True)
    stage = fields.String(required=True, validate=validate.OneOf(STAGES),
                          metadata={"description": "the last milestone done"})
    next_milestone = fields.String(allow_none=True, validate=validate.OneOf(MILESTONES))
    delayed = fields.Boolean(required=True)
    scope_entered_at = LocalDateTime(allow_none=True, metadata={
        "description": "when recording production brought the investor into scope"})
    note = fields.String(allow_none=True)
    version = fields.Integer(required=True, metadata={"description": VERSION_NOTE})
    created_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True)


ProjectPageSchema = page_schema(ProjectSchema, "ProjectPage")


class ProjectQuerySchema(PageQuery):
    q = SearchText(length=(1, 100), metadata={"description": "name or investor contains"})
    department_id = SearchText(length=(1, 40))
    stage = fields.String(validate=validate.OneOf(STAGES))
    delayed = fields.Boolean()
    investor_enterprise_id = Id()
    sort = fields.String(load_default="name", validate=validate.OneOf(PROJECT_SORTS))


class ProjectSweepSchema(Schema):
    today = fields.Date(required=True)
    flagged = fields.Integer(required=True, metadata={"description": "delays newly told"})


# --- research institutes (科研机构) ------------------------------------------------------------

class InstituteCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(1, 200))
    level = fields.String(required=True, validate=validate.OneOf(INSTITUTE_LEVELS))
    industry_codes = _codes(load_default=list, metadata={"description": "fields, GB/T 4754"})
    tags = _tags(load_default=list)
    host_kind = fields.String(required=True, validate=validate.OneOf(HOST_KINDS))
    host_enterprise_id = Id(allow_none=True, load_default=None,
                            metadata={"description": "when hosted by an enterprise"})
    host_name = Text(validate=validate.Length(1, 200), allow_none=True, load_default=None,
                     metadata={"description": "the university or body hosting it"})
    platforms = fields.List(Text(validate=validate.Length(1, 200)), load_default=list,
                            validate=validate.Length(0, 30),
                            metadata={"description": "平台和实验室"})
    address = Text(validate=validate.Length(0, 300), allow_none=True, load_default=None)
    lon = _lon(load_default=None)
    lat = _lat(load_default=None)
    recognized_on = Day(allow_none=True, load_default=None)
    note = Text(validate=validate.Length(0, 2000), allow_none=True, load_default=None)
    partner_enterprise_ids = fields.List(Id(), load_default=list,
                                         validate=validate.Length(0, 500),
                                         metadata={"description": "enterprises working with it"})


class InstituteUpdateSchema(Schema):
    name = Text(validate=validate.Length(1, 200))
    level = fields.String(validate=validate.OneOf(INSTITUTE_LEVELS))
    industry_codes = _codes()
    tags = _tags()
    host_kind = fields.String(validate=validate.OneOf(HOST_KINDS))
    host_enterprise_id = Id(allow_none=True)
    host_name = Text(validate=validate.Length(1, 200), allow_none=True)
    platforms = fields.List(Text(validate=validate.Length(1, 200)),
                            validate=validate.Length(0, 30))
    address = Text(validate=validate.Length(0, 300), allow_none=True)
    lon = _lon()
    lat = _lat()
    recognized_on = Day(allow_none=True)
    note = Text(validate=validate.Length(0, 2000), allow_none=True)
    partner_enterprise_ids = fields.List(Id(), validate=validate.Length(0, 500))
    version = WholeNumber(validate=validate.Range(1))


class PartnerSchema(Schema):
    enterprise_id = fields.String(required=True)
    name = fields.String(required=True)
    grid_id = fields.String(allow_none=True)


class InstituteSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(INSTITUTE_LEVELS))
    fields_ = fields.List(fields.Nested(NamedCodeSchema), data_key="fields", required=True)
    industry_codes = fields.List(fields.String(), required=True)
    tags = fields.List(fields.String(), required=True)
    host_kind = fields.String(required=True, validate=validate.OneOf(HOST_KINDS))
    host_enterprise_id = fields.String(allow_none=True)
    host_name = fields.String(allow_none=True)
    platforms = fields.List(fields.String(), required=True)
    address = fields.String(allow_none=True)
    lon = fields.Float(allow_none=True)
    lat = fields.Float(allow_none=True)
    recognized_on = fields.Date(allow_none=True)
    note = fields.String(allow_none=True)
    partners = fields.List(fields.Nested(PartnerSchema), required=True)
    version = fields.Integer(required=True, metadata={"description": VERSION_NOTE})
    created_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True)


InstitutePageSchema = page_schema(InstituteSchema, "InstitutePage")


class InstituteQuerySchema(PageQuery):
    q = SearchText(length=(1, 100), metadata={"description": "name or host contains"})
    level = fields.String(validate=validate.OneOf(INSTITUTE_LEVELS))
    industry = Text(validate=INDUSTRY_PREFIX, metadata={
        "description": "a field code prefix: C39 finds C39 and C3971"})
    tag = SearchText(length=(1, 40))
    enterprise_id = Id(metadata={"description": "institutes this enterprise works with"})


# --- leading industries (主导产业) and chains ---------------------------------------------------

class IndustryCreateSchema(Schema):
    """An enterprise falls into it when its code starts with one of ``industry_codes`` or it
    carries one of ``tags``."""

    id = Text(required=True, validate=Pattern(r"^[a-z][a-z0-9_]{1,39}$"),
              metadata={"description": "a short name for programs, e.g. integrated_circuits"})
    name = Text(required=True, validate=validate.Length(1, 100))
    description = Text(validate=validate.Length(0, 2000), allow_none=True, load_default=None)
    industry_codes = _codes(load_default=list)
    tags = _tags(load_default=list)
    position = WholeNumber(validate=validate.Range(0, 1000), load_default=0,
                           metadata={"description": "order in lists"})


class IndustryUpdateSchema(Schema):
    name = Text(validate=validate.Length(1, 100))
    description = Text(validate=validate.Length(0, 2000), allow_none=True)
    industry_codes = _codes()
    tags = _tags()
    position = WholeNumber(validate=validate.Range(0, 1000))
    version = WholeNumber(validate=validate.Range(1))


class IndustrySchema(Schema):
    """A leading industry; enterprise users get the list fields only (no counts, no
    version)."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    industry_codes = fields.List(fields.String(), required=True)
    fields_ = fields.List(fields.Nested(NamedCodeSchema), data_key="fields", required=True)
    tags = fields.List(fields.String(), required=True)
    position = fields.Integer(required=True)
    enterprises = fields.Integer(allow_none=True, metadata={"description": "in-scope members"})
    version = fields.Integer(metadata={"description": VERSION_NOTE})
    created_at = LocalDateTime()
    updated_at = LocalDateTime()


class IndustryListSchema(Schema):
    items = fields.List(fields.Nested(IndustrySchema), required=True)
    total = fields.Integer(required=True)


class IndustryMemberSchema(Schema):
    enterprise_id = fields.String(required=True)
    name = fields.String(required=True)
    industry_code = fields.String(required=True)
    industry_name = fields.String(required=True)
    scale = fields.String(required=True, validate=validate.OneOf(SCALES))
    grid_id = fields.String(allow_none=True)
    grid_name = fields.String(allow_none=True)
    matched_by = fields.String(required=True, validate=validate.OneOf(MATCHED_BY))
    matched_tags = fields.List(fields.String(), required=True)


class IndustryMemberPageSchema(Schema):
    industry_id = fields.String(required=True)
    industry_name = fields.String(required=True)
    items = fields.List(fields.Nested(IndustryMemberSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class ChainLinkInSchema(Schema):
    stage = fields.String(required=True, validate=validate.OneOf(CHAIN_STAGES))
    name = Text(required=True, validate=validate.Length(1, 100))
    industry_codes = _codes(load_default=list)
    keywords = _tags(load_default=list, metadata={
        "description": "a provider carries one as a tag or names one in a strength"})
    description = Text(validate=validate.Length(0, 1000), allow_none=True, load_default=None)


class ChainSetSchema(Schema):
    """The whole chain of an industry, replacing the one before."""

    links = fields.List(fields.Nested(ChainLinkInSchema), required=True,
                        validate=validate.Length(0, 100))
    version = WholeNumber(validate=validate.Range(1), metadata={
        "description": "the industry's version last read (412 when stale), like If-Match"})


class ProviderSchema(Schema):
    enterprise_id = fields.String(required=True)
    name = fields.String(required=True)


class ChainLinkSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    stage = fields.String(required=True, validate=validate.OneOf(CHAIN_STAGES))
    industry_codes = fields.List(fields.String(), required=True)
    keywords = fields.List(fields.String(), required=True)
    description = fields.String(allow_none=True)
    present = fields.Boolean(required=True, metadata={"description": "an in-scope enterprise "
                                                      "provides it"})
    providers = fields.Integer(required=True)
    sample_providers = fields.List(fields.Nested(ProviderSchema), required=True)
    mentioned_by = fields.Integer(required=True, metadata={
        "description": "members whose profile names it upstream or downstream"})


class ChainStageSchema(Schema):
    stage = fields.String(required=True, validate=validate.OneOf(CHAIN_STAGES))
    links = fields.List(fields.Nested(ChainLinkSchema), required=True)


class ChainGapSchema(Schema):
    link_id = fields.Integer(required=True)
    name = fields.String(required=True)
    stage = fields.String(required=True, validate=validate.OneOf(CHAIN_STAGES))
    mentioned_by = fields.Integer(required=True)


class ProfileEntrySchema(Schema):
    term = fields.String(required=True)
    side = fields.String(required=True, validate=validate.OneOf(PROFILE_SIDES))
    mentioned_by = fields.Integer(required=True)
    providers = fields.Integer(required=True, metadata={
        "description": "enterprises of the zone carrying it as a tag or in a strength"})


class ChainMapSchema(Schema):
    """产业链图谱: the links by stage, which the zone has, the gaps (补链), and the profiles'
    upstream/downstream entries no link covers."""

    industry_id = fields.String(required=True)
    industry_name = fields.String(required=True)
    members = fields.Integer(required=True)
    links = fields.Integer(required=True)
    present = fields.Integer(required=True)
    stages = fields.List(fields.Nested(ChainStageSchema), required=True)
    gaps = fields.List(fields.Nested(ChainGapSchema), required=True)
    profile_entries = fields.List(fields.Nested(ProfileEntrySchema), required=True)
    version = fields.Integer(required=True, metadata={"description": "the industry's"})


# --- economic figures (经济运行) ---------------------------------------------------------------

class FigureSchema(Schema):
    """One indicator of a group or an enterprise for a period and a year earlier."""

    value = fields.Float(allow_none=True, required=True, metadata={
        "description": "null unless reported (and released): never 0 for a gap"})
    reporting = fields.Integer(required=True, metadata={"description": "enterprises that "
                                                        "reported it"})
    status = fields.String(required=True, validate=validate.OneOf(FIGURE_STATUSES))
    previous = fields.Float(allow_none=True, required=True)
    previous_reporting = fields.Integer(required=True)
    previous_status = fields.String(required=True, validate=validate.OneOf(FIGURE_STATUSES))
    yoy = fields.Float(allow_none=True, required=True, metadata={
        "description": "同比: (value - previous) / previous"})


FiguresSchema = Schema.from_dict(
    {name: fields.Nested(FigureSchema, required=True) for name in INDICATORS},
    name="Figures")


class IndicatorSchema(Schema):
    code = fields.String(required=True, validate=validate.OneOf(INDICATORS))
    unit = fields.String(required=True)


class GroupFiguresSchema(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    figures = fields.Nested(FiguresSchema, required=True)


class EconomySummaryQuerySchema(Schema):
    by = fields.String(load_default="zone", validate=validate.OneOf(DIMENSIONS))
    period = PeriodField(required=True)


class EconomySummarySchema(Schema):
    by = fields.String(required=True, validate=validate.OneOf(DIMENSIONS))
    period = fields.String(required=True)
    granularity = fields.String(required=True, validate=validate.OneOf(GRANULARITIES))
    previous_period = fields.String(required=True)
    restricted = fields.Boolean(required=True, metadata={
        "description": "figures of fewer than min_group enterprises are withheld"})
    granted = fields.Boolean(required=True, metadata={
        "description": "the caller reads per-enterprise figures (within its scope): "
        "`/api/v1/zone/economy/enterprises` answers it"})
    min_group = fields.Integer(required=True)
    indicators = fields.List(fields.Nested(IndicatorSchema), required=True)
    rows = fields.List(fields.Nested(GroupFiguresSchema), required=True)
    total = fields.Nested(GroupFiguresSchema, required=True)


class SeriesQuerySchema(Schema):
    """Periods of one kind, at most 36; without `to`: twelve from `from`; without `from`:
    twelve up to `to`; without either: the last twelve months."""

    from_ = PeriodField(data_key="from")
    to = PeriodField(metadata={
        "description": f"same kind as from, at most {periods.MAX_SERIES} periods"})


class EconomySeriesQuerySchema(SeriesQuerySchema):
    by = fields.String(load_default="zone", validate=validate.OneOf(DIMENSIONS))
    key = SearchText(length=(1, 60), metadata={"description": "the group (grid id, division "
                                               "such as C39, industry id, carrier id)"})


class PeriodFiguresSchema(Schema):
    period = fields.String(required=True)
    figures = fields.Nested(FiguresSchema, required=True)


class EconomySeriesSchema(Schema):
    by = fields.String(required=True, validate=validate.OneOf(DIMENSIONS))
    key = fields.String(required=True)
    label = fields.String(required=True)
    granularity = fields.String(required=True, validate=validate.OneOf(GRANULARITIES))
    from_ = fields.String(required=True, data_key="from")
    to = fields.String(required=True)
    restricted = fields.Boolean(required=True)
    min_group = fields.Integer(required=True)
    indicators = fields.List(fields.Nested(IndicatorSchema), required=True)
    items = fields.List(fields.Nested(PeriodFiguresSchema), required=True)


class EnterpriseFiguresQuerySchema(PageQuery):
    period = PeriodField(required=True)
    q = SearchText(length=(1, 100), metadata={"description": "name contains"})
    grid_id = SearchText(length=(1, 20))
    industry = Text(validate=INDUSTRY_PREFIX)
    leading_industry_id = SearchText(length=(1, 40))
    carrier_id = Id()
    reported = fields.Boolean(metadata={"description": "true: reported the period; false: "
                                        "in scope and not reported"})
    sort = fields.String(load_default="name", validate=validate.OneOf(FIGURE_SORTS))


class EnterpriseFiguresSchema(Schema):
    enterprise_id = fields.String(required=True)
    name = fields.String(required=True)
    credit_code = fields.String(required=True)
    grid_id = fields.String(allow_none=True)
    grid_name = fields.String(allow_none=True)
    industry_code = fields.String(required=True)
    industry_name = fields.String(required=True)
    figures = fields.Nested(FiguresSchema, required=True)


class EnterpriseFiguresPageSchema(Schema):
    period = fields.String(required=True)
    previous_period = fields.String(required=True)
    indicators = fields.List(fields.Nested(IndicatorSchema), required=True)
    items = fields.List(fields.Nested(EnterpriseFiguresSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class EnterpriseSeriesSchema(Schema):
    enterprise_id = fields.String(required=True)
    name = fields.String(required=True)
    granularity = fields.String(required=True, validate=validate.OneOf(GRANULARITIES))
    from_ = fields.String(required=True, data_key="from")
    to = fields.String(required=True)
    indicators = fields.List(fields.Nested(IndicatorSchema), required=True)
    items = fields.List(fields.Nested(PeriodFiguresSchema), required=True)


class FigureAccessSchema(Schema):
    """Who sees per-enterprise tax, revenue and the other figures (按权限): these roles, and
    the staff of these departments. Default 经济发展部, 财政金融部 and leaders."""

    departments = fields.List(Text(validate=validate.Length(1, 40)), required=True,
                              validate=validate.Length(0, 50))
    roles = fields.List(fields.String(validate=validate.OneOf(GRANTABLE_ROLES)), required=True,
                        validate=validate.Length(0, len(GRANTABLE_ROLES)))
    version = WholeNumber(validate=validate.Range(1), metadata={"description": VERSION_NOTE})


class ReportedPeriodSchema(Schema):
    period = fields.String(required=True)
    granularity = fields.String(required=True, validate=validate.OneOf(PERIOD_KINDS))
    enterprises = fields.Integer(required=True)


class ReportedPeriodsSchema(Schema):
    items = fields.List(fields.Nested(ReportedPeriodSchema), required=True)


# --- the module's overview ----------------------------------------------------------------------

class CarrierTotalsSchema(Schema):
    total = fields.Integer(required=True)
    by_kind = fields.Dict(keys=fields.String(validate=validate.OneOf(CARRIER_KINDS)),
                          values=fields.Integer(), required=True)
    leasable_area = fields.Float(required=True)
    occupied_area = fields.Float(required=True)
    vacant_area = fields.Float(required=True)
    tenants = fields.Integer(required=True)


class ProjectTotalsSchema(Schema):
    total = fields.Integer(required=True)
    delayed = fields.Integer(required=True)
    by_stage = fields.Dict(keys=fields.String(validate=validate.OneOf(STAGES)),
                           values=fields.Integer(), required=True)


class InstituteTotalsSchema(Schema):
    total = fields.Integer(required=True)
    by_level = fields.Dict(keys=fields.String(validate=validate.OneOf(INSTITUTE_LEVELS)),
                           values=fields.Integer(), required=True)


class ZoneOverviewSchema(Schema):
    """区域资源 at a glance, for the module's first page."""

    carriers = fields.Nested(CarrierTotalsSchema, required=True)
    projects = fields.Nested(ProjectTotalsSchema, required=True)
    institutes = fields.Nested(InstituteTotalsSchema, required=True)
    leading_industries = fields.Integer(required=True)
    latest_period = fields.String(allow_none=True, required=True, metadata={
        "description": "the newest month or quarter with figures"})
