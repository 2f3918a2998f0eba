"""Ticketing's contract for the appraisal (考评), the leaders' overview (总览), the yearly awards
(评优) and the service figures by month (营商环境) (``api/appraisal.py``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import Schema, fields, validate, validates_schema

from common.calendar import MAX_RANGE_DAYS
from common.fields import (
    Day,
    JsonBoolean,
    JsonNumber,
    LocalDateTime,
    Text,
    WholeNumber,
    refuse,
)
from services.ticketing.schemas.base import SETTINGS_NOTE

# --- appraisal (考评), the leaders' overview (总览) and the yearly awards (评优) ------------------

#: who is appraised: 网格员, 网格, 联络员, 责任部门
APPRAISAL_SUBJECTS = ("grid_workers", "grids", "liaisons", "departments")
#: years the appraisal, vetoes and awards accept
APPRAISAL_YEARS = validate.Range(2000, 2100)
_RATE = {"description": "a share from 0 to 1 (4 decimals); null when nothing was due"}


def _rate(description: str) -> fields.Float:
    return fields.Float(allow_none=True, required=True,
                        metadata={"description": f"{description}; {_RATE['description']}"})


def _count(description: str) -> fields.Integer:
    return fields.Integer(required=True, metadata={"description": description})


class AppraisalPeriodQuerySchema(Schema):
    """A period of receipt dates (收到日期, +08:00), both days included."""

    from_ = Day(required=True, data_key="from",
                metadata={"description": "first day (YYYY-MM-DD), years 2000-2100"})
    to = Day(required=True, metadata={
        "description": f"last day (YYYY-MM-DD), years 2000-2100: not before `from`, at most "
                       f"{MAX_RANGE_DAYS} days after it (422 otherwise)"})

    @validates_schema
    def _check_period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start is None or end is None:
            return
        if end < start:
            raise refuse("field.before_start", "before {field} ({day})", field="from",
                         day=start.isoformat(), field_name="to")
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise refuse("field.range_too_long", "the period may span at most {max} days",
                         max=MAX_RANGE_DAYS, field_name="to")


class OverviewQuerySchema(AppraisalPeriodQuerySchema):
    """The overview's period, and 刷新."""

    refresh = fields.Boolean(load_default=False, metadata={
        "description": "recompute now unless the kept answer is younger than 30 s (without "
                       "it: kept answers up to 5 minutes old are served)"})


class AppraisalQuerySchema(AppraisalPeriodQuerySchema):
    """The appraisal's period, and 刷新."""

    refresh = fields.Boolean(load_default=False, metadata={
        "description": "recompute now unless the kept answer is younger than 30 s (without "
                       "it: an appraisal that took half a second or more to compute is kept "
                       "and served up to 5 minutes old; `as_of` says when it was computed)"})


class AppraisalRowSchema(Schema):
    """One subject's figures for a period (definitions in docs/domain.md, 考评)."""

    subject_id = fields.String(required=True, metadata={
        "description": "the account id (grid workers, liaisons), grid id or department id"})
    name = fields.String(allow_none=True, metadata={
        "description": "the person's, grid's or department's name from the registry (null "
        "when the registry does not know the id)"})
    department_id = fields.String(allow_none=True, metadata={"description": "liaisons"})
    grid_ids = fields.List(fields.String(), required=True, metadata={
        "description": "grid workers: the grids of the demands they recorded"})
    handled = _count("the quantity scored: demands recorded (grid workers), received (grids), "
                     "tasks accepted (departments, liaisons)")
    demands = _count("demands counted")
    tasks = _count("tasks counted")
    closed = _count("demands closed (销号)")
    triage_due = _count("demands whose triage was due (triaged, or untriaged past 分理时限)")
    triage_on_time = _count("triaged by 10:00 of the next working day")
    triage_on_time_rate = _rate("分理及时率")
    acceptance_due = _count("assignments whose acceptance was due")
    accepted_on_time = _count("accepted by the acceptance deadline")
    returned = _count("returned by the liaison (退回)")
    timed_out = _count("not accepted in time (受理超时)")
    acceptance_on_time_rate = _rate("受理及时率: answered (accepted or returned) in time")
    response_rate = _rate("响应率: accepted in time")
    handling_due = _count("accepted tasks completed, or past their handling deadline")
    handling_on_time = _count("completed by the handling deadline, never breached")
    handling_on_time_rate = _rate("办理及时率")
    judged = _count("closed with the enterprise's verdict: 自动销号 or 内部销号")
    resolved = _count("closed by a satisfied rating (自动销号)")
    resolution_rate = _rate("解决率")
    ratings = _count("ratings (every round)")
    satisfied = _count("ratings with no dimension below 3 (满意 or 基本满意)")
    satisfaction_rate = _rate("满意率")
    avg_efficiency = fields.Float(allow_none=True, required=True,
                                  metadata={"description": "办理效率, 1-5"})
    avg_attitude = fields.Float(allow_none=True, required=True,
                                metadata={"description": "服务态度, 1-5"})
    avg_quality = fields.Float(allow_none=True, required=True,
                               metadata={"description": "办理结果质量, 1-5"})
    unrated = _count("closed without a rating")
    unrated_share = _rate("closed unrated / closed")
    completed_once = _count("demands (tasks, for departments and liaisons) completed at least "
                            "once")
    reopened = _count("of those, reopened after a dissatisfied rating (重新办理)")
    reopen_rate = _rate("重新办理率")


class AppraisalSchema(Schema):
    subject = fields.String(required=True, validate=validate.OneOf(APPRAISAL_SUBJECTS))
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    as_of = LocalDateTime(required=True, metadata={
        "description": "when the figures were computed (数据更新于): open work past its "
                       "deadline is judged late at this moment"})
    items = fields.List(fields.Nested(AppraisalRowSchema), required=True)


class AppraisalYearQuerySchema(Schema):
    year = fields.Integer(required=True, validate=APPRAISAL_YEARS)
    subject = fields.String(required=True, validate=validate.OneOf(APPRAISAL_SUBJECTS))


def _weight(description: str) -> JsonNumber:
    return JsonNumber(required=True, validate=validate.Range(0, 100),
                      metadata={"description": description})


class RatioWeightsSchema(Schema):
    """Weights of which only the ratios matter: each from 0 to 100, not all 0."""

    @validates_schema
    def _not_all_zero(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if len(data) == len(self.fields) and not any(data.values()):
            raise refuse("appraisal.weights_all_zero", "at least one weight must be above 0",
                         field_name=next(iter(self.fields)))


class ScoreWeightsSchema(RatioWeightsSchema):
    """年度考核得分 weights."""

    quantity = _weight("服务数量")
    quality = _weight("服务质量: 满意率")
    difficulty = _weight("办理难度")


class AwardWeightsSchema(RatioWeightsSchema):
    """评优 weights."""

    service = _weight("the grid's yearly appraisal score")
    output_growth = _weight("growth of output value (产值)")
    tax_growth = _weight("growth of tax (税收)")


class AwardCriteriaSchema(Schema):
    count = WholeNumber(required=True, validate=validate.Range(1, 100),
                           metadata={"description": "how many grids are awarded (top N)"})
    min_service_score = JsonNumber(required=True, validate=validate.Range(0, 100),
                                     metadata={"description": "a grid below it is not awarded"})
    weights = fields.Nested(AwardWeightsSchema, required=True)


class DifficultyPointsSchema(Schema):
    """Points of a demand or task by its triage difficulty (分理难度): all three."""

    easy = JsonNumber(required=True, validate=validate.Range(0, 100))
    normal = JsonNumber(required=True, validate=validate.Range(0, 100))
    hard = JsonNumber(required=True, validate=validate.Range(0, 100))


class AppraisalSettingsSchema(Schema):
    """考评设置 (admin). A PUT replaces them all; they apply to every score computed after."""

    weights = fields.Nested(ScoreWeightsSchema, required=True)
    difficulty_points = fields.Nested(
        DifficultyPointsSchema, required=True,
        metadata={"description": "points of a demand or task by its triage difficulty "
                  "(easy, normal, hard: all three)"})
    category_points = fields.Dict(
        keys=Text(validate=validate.Length(1, 50)),
        values=JsonNumber(validate=validate.Range(0, 100)), load_default=dict,
        validate=validate.Length(max=200),
        metadata={"description": "extra points by category (诉求类别), added to the "
                  "difficulty's"})
    awards = fields.Nested(AwardCriteriaSchema, required=True)
    version = WholeNumber(validate=validate.Range(1), metadata={"description": SETTINGS_NOTE})


class YearlyRowSchema(Schema):
    """年度考核得分 of one subject."""

    subject_id = fields.String(required=True)
    name = fields.String(allow_none=True, metadata={
        "description": "the person's, grid's or department's name from the registry"})
    department_id = fields.String(allow_none=True)
    grid_ids = fields.List(fields.String(), required=True)
    handled = fields.Integer(required=True)
    satisfaction_rate = fields.Float(allow_none=True, required=True)
    avg_difficulty = fields.Float(allow_none=True, required=True,
                                  metadata={"description": "mean points of what was handled"})
    quantity_score = fields.Float(required=True, metadata={"description": "0-100"})
    quality_score = fields.Float(allow_none=True, required=True,
                                 metadata={"description": "0-100; null without ratings (its "
                                           "weight is then left out)"})
    difficulty_score = fields.Float(required=True, metadata={"description": "0-100"})
    score = fields.Float(required=True, metadata={"description": "0-100, 2 decimals; 0 if "
                                                  "vetoed"})
    vetoed = fields.Boolean(required=True, metadata={"description": "一票否决"})
    veto_reason = fields.String(allow_none=True)
    rank = fields.Integer(required=True, metadata={"description": "1 = best; ties share"})


class YearlySchema(Schema):
    subject = fields.String(required=True, validate=validate.OneOf(APPRAISAL_SUBJECTS))
    year = fields.Integer(required=True)
    weights = fields.Nested(ScoreWeightsSchema, required=True)
    as_of = LocalDateTime(required=True, metadata={
        "description": "when the year's figures were computed (数据更新于)"})
    items = fields.List(fields.Nested(YearlyRowSchema), required=True)


class VetoSetSchema(Schema):
    """Set or lift the 一票否决 of a subject for a year (廉洁自律考核)."""

    subject = fields.String(required=True, validate=validate.OneOf(APPRAISAL_SUBJECTS))
    subject_id = Text(required=True, validate=validate.Length(1, 64))
    year = WholeNumber(required=True, validate=APPRAISAL_YEARS)
    vetoed = JsonBoolean(required=True, metadata={"description": "false lifts it"})
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class VetoSchema(Schema):
    subject = fields.String(required=True)
    subject_id = fields.String(required=True)
    year = fields.Integer(required=True)
    active = fields.Boolean(required=True)
    reason = fields.String(required=True)
    recorded_by = fields.String(required=True)
    recorded_at = LocalDateTime(required=True)
    lifted_by = fields.String(allow_none=True)
    lifted_at = LocalDateTime(allow_none=True)
    lift_reason = fields.String(allow_none=True)


class VetoListSchema(Schema):
    items = fields.List(fields.Nested(VetoSchema), required=True)


class VetoQuerySchema(Schema):
    year = fields.Integer(validate=APPRAISAL_YEARS)


class OverviewTotalsSchema(Schema):
    received = _count("demands received in the period")
    closed = _count("demands closed in the period (whenever received)")
    open = _count("demands received in the period and not closed")
    overdue = _count("demands received in the period with a task late: completed after its "
                     "handling deadline, open past it, or breached")
    overdue_open = _count("of those, with a task open past its handling deadline now")
    triage_late = _count("demands received in the period triaged late or not yet triaged past "
                         "their 分理时限")


class OverviewCategorySchema(Schema):
    category = fields.String(allow_none=True, metadata={"description": "null: not triaged"})
    received = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class OverviewDepartmentSchema(Schema):
    department_id = fields.String(required=True)
    tasks = fields.Integer(required=True)
    completed = fields.Integer(required=True)
    open = fields.Integer(required=True)
    overdue = fields.Integer(required=True, metadata={"description": "late tasks"})
    overdue_open = fields.Integer(required=True, metadata={"description": "open past due now"})


class OverviewMonthSchema(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM"})
    received = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    overdue = fields.Integer(required=True, metadata={
        "description": "demands received that month that are overdue"})


class OverviewGridSchema(Schema):
    grid_id = fields.String(required=True)
    demands = fields.Integer(required=True)
    overdue = fields.Integer(required=True, metadata={"description": "late tasks"})
    overdue_open = fields.Integer(required=True, metadata={"description": "open past due now"})


class RepeatedEnterpriseSchema(Schema):
    enterprise_id = fields.String(required=True)
    demands = fields.Integer(required=True)
    categories = fields.List(fields.String(), required=True)
    max_same_category = fields.Integer(required=True, metadata={
        "description": "the most demands of one category (the same problem again)"})


class OverviewStatusSchema(Schema):
    status = fields.String(required=True, metadata={"x-dictionary": "demand_status"})
    demands = _count("demands received in the period now in this state")


class OverviewGridRowSchema(Schema):
    grid_id = fields.String(required=True)
    demands = _count("demands received in the period in this grid")
    overdue = _count("of those, with a task late")


class OverviewRatesSchema(Schema):
    """Service rates of the demands received in the period (0 to 1, null when nothing was
    due; definitions as the appraisal's)."""

    triage_due = _count("demands whose 分理时限 came into play (triaged, or past it)")
    triage_on_time_rate = fields.Float(allow_none=True, required=True,
                                       metadata={"description": "分理及时率"})
    handling_due = _count("tasks whose handling deadline came into play")
    handling_on_time_rate = fields.Float(allow_none=True, required=True,
                                         metadata={"description": "办理及时率"})
    ratings = _count("rating rounds")
    satisfaction_rate = fields.Float(allow_none=True, required=True,
                                     metadata={"description": "满意率: no dimension below 3"})
    escalations = _count("督办升级 of their tasks (every level and cause)")


class OverviewSchema(Schema):
    """领导总览 of a period (received from ``from`` to ``to``)."""

    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    as_of = LocalDateTime(required=True, metadata={
        "description": "when these figures were computed (数据更新于): the answer is kept and "
                       "served while younger than 5 minutes, refreshed in the background"})
    totals = fields.Nested(OverviewTotalsSchema, required=True)
    by_status = fields.List(fields.Nested(OverviewStatusSchema), required=True)
    by_grid = fields.List(fields.Nested(OverviewGridRowSchema), required=True, metadata={
        "description": "the 30 grids with the most demands received in the period"})
    rates = fields.Nested(OverviewRatesSchema, required=True)
    by_category = fields.List(fields.Nested(OverviewCategorySchema), required=True)
    by_department = fields.List(fields.Nested(OverviewDepartmentSchema), required=True)
    trend = fields.List(fields.Nested(OverviewMonthSchema), required=True)
    top_overdue_grids = fields.List(fields.Nested(OverviewGridSchema), required=True)
    repeated_enterprises = fields.List(fields.Nested(RepeatedEnterpriseSchema), required=True)


class AwardsQuerySchema(Schema):
    year = fields.Integer(required=True, validate=APPRAISAL_YEARS)


class AwardRowSchema(Schema):
    """One grid in the yearly award ranking (年终优秀奖励)."""

    grid_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    department_id = fields.String(allow_none=True, metadata={"description": "owner"})
    service_score = fields.Float(required=True, metadata={"description": "yearly score"})
    vetoed = fields.Boolean(required=True)
    output_value = fields.Float(required=True, allow_none=True, metadata={
        "description": "万元, the year; null: no figures for the year"})
    output_value_previous = fields.Float(required=True, allow_none=True,
                                         metadata={"description": "year - 1; null: no figures"})
    output_growth = fields.Float(allow_none=True, required=True, metadata={
        "description": "null when either year has no figures or year - 1 is 0 (see the note)"})
    output_growth_note = fields.String(allow_none=True, required=True, metadata={
        "x-dictionary": "growth_note", "description": "why output_growth is null"})
    tax = fields.Float(required=True, allow_none=True)
    tax_previous = fields.Float(required=True, allow_none=True)
    tax_growth = fields.Float(allow_none=True, required=True)
    tax_growth_note = fields.String(allow_none=True, required=True, metadata={
        "x-dictionary": "growth_note", "description": "why tax_growth is null"})
    output_growth_score = fields.Float(required=True)
    tax_growth_score = fields.Float(required=True)
    award_score = fields.Float(required=True)
    rank = fields.Integer(required=True)
    eligible = fields.Boolean(required=True, metadata={
        "description": "not vetoed and service score at least min_service_score"})
    awarded = fields.Boolean(required=True)


class AwardsSchema(Schema):
    year = fields.Integer(required=True)
    criteria = fields.Nested(AwardCriteriaSchema, required=True)
    items = fields.List(fields.Nested(AwardRowSchema), required=True)


# --- 营商环境: the platform's service figures by month (zone resources) ------------------------

MONTH_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"
BUSINESS_ENVIRONMENT_MONTHS = 24


class Month(fields.String):
    """A calendar month ``YYYY-MM`` of the years 2000-2100, loaded as its first day."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": MONTH_PATTERN, **(kwargs.get("metadata") or {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(MONTH_PATTERN, text, re.ASCII):
            raise refuse("field.not_month", "not a month of the years 2000-2100 (YYYY-MM)")
        return date(int(text[:4]), int(text[5:7]), 1)


class BusinessEnvironmentQuerySchema(Schema):
    """Months of receipt (收到月份, Asia/Shanghai), both included."""

    from_ = Month(required=True, data_key="from", metadata={"description": "first month"})
    to = Month(required=True, metadata={
        "description": f"last month: not before `from`, at most {BUSINESS_ENVIRONMENT_MONTHS} "
                       "months in all (422 otherwise)"})

    @validates_schema
    def _check_months(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start is None or end is None:
            return
        if end < start:
            raise refuse("zone.months_reversed", "before from ({month})",
                         month=start.isoformat()[:7], field_name="to")
        count = (end.year - start.year) * 12 + end.month - start.month + 1
        if count > BUSINESS_ENVIRONMENT_MONTHS:
            raise refuse("zone.months_too_many", "at most {max} months",
                         max=BUSINESS_ENVIRONMENT_MONTHS, field_name="to")


class ServiceFiguresSchema(Schema):
    """The appraisal's figures for the demands received in a month (definitions: 考评)."""

    demands = _count("demands received")
    tasks = _count("their live tasks")
    acceptance_due = _count("assignments whose acceptance was due")
    accepted_on_time = _count("accepted by the acceptance deadline")
    response_rate = _rate("响应率: accepted in time")
    judged = _count("closed with the enterprise's verdict: 自动销号 or 内部销号")
    resolved = _count("closed by a satisfied rating (自动销号)")
    resolution_rate = _rate("解决率")
    ratings = _count("ratings (every round)")
    satisfied = _count("ratings with no dimension below 3")
    satisfaction_rate = _rate("满意率")
    completed_tasks = _count("tasks completed (for the handling time)")
    avg_handling_workdays = fields.Float(allow_none=True, required=True, metadata={
        "description": "平均办理用时: working days after acceptance up to completion (same day "
                       "0); null without completed tasks"})
    escalations = _count("督办升级 of their tasks (every level and cause)")


class DepartmentServiceFiguresSchema(ServiceFiguresSchema):
    department_id = fields.String(required=True)
    department_name = fields.String(allow_none=True, required=True)


class BusinessEnvironmentMonthSchema(Schema):
    month = fields.String(required=True)
    zone = fields.Nested(ServiceFiguresSchema, required=True)
    departments = fields.List(fields.Nested(DepartmentServiceFiguresSchema), required=True,
                              metadata={"description": "leaders, coordinators, admins: all; "
                                        "department heads and liaisons: their own; others: "
                                        "none"})


class BusinessEnvironmentSchema(Schema):
    from_ = fields.String(required=True, data_key="from")
    to = fields.String(required=True)
    as_of = LocalDateTime(required=True)
    items = fields.List(fields.Nested(BusinessEnvironmentMonthSchema), required=True)
