"""字典: every enumeration of the platform with its labels for people.

Codes are for programs (``received``, ``grid_worker``); people read labels (待分理, 网格员).
Each dictionary lists its codes in their natural order with an English label; the English label
is a message id in the context of the dictionary's name (``NC_("demand_status", "Received")``),
so the Chinese comes from the same gettext catalog as every other text (common/i18n.py).

``GET /api/v1/dictionaries`` serves all of them (with the registry's departments and
categories), the OpenAPI document names the dictionary of every enum (``x-dictionary``), and
services render codes inside texts as labels (``principal.role_label`` as an error's
parameter, :func:`label_of` in a notification or an export).

A new enumeration in a contract gets its dictionary here, named after what it enumerates;
``tests/unit/test_dictionaries.py`` fails for an enum of the OpenAPI document whose codes no
dictionary lists exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from common.i18n import EN, LANGUAGES, NC_, translate


@dataclass(frozen=True)
class Dictionary:
    name: str
    #: (code, English label) in the order people expect them
    terms: tuple[tuple[str, str], ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.terms)

    def english(self, code: str) -> str | None:
        return next((label for known, label in self.terms if known == code), None)


def _dictionaries(*items: Dictionary) -> dict[str, Dictionary]:
    found: dict[str, Dictionary] = {}
    for item in items:
        assert item.name not in found, f"two dictionaries named {item.name}"
        found[item.name] = item
    return found


DEMAND_STATUS = (
    ("received", NC_("demand_status", "Received")),
    ("triaged", NC_("demand_status", "Triaged")),
    ("in_progress", NC_("demand_status", "In progress")),
    ("awaiting_rating", NC_("demand_status", "Awaiting rating")),
    ("closed", NC_("demand_status", "Closed")),
)
TASK_STATUS = (
    ("assigned", NC_("task_status", "Awaiting acceptance")),
    ("coordination", NC_("task_status", "Awaiting coordination")),
    ("accepted", NC_("task_status", "Being handled")),
    ("completed", NC_("task_status", "Completed")),
    ("cancelled", NC_("task_status", "Cancelled")),
)
ROLES = (
    ("enterprise", NC_("role", "Enterprise user")),
    ("grid_worker", NC_("role", "Grid worker")),
    ("grid_leader", NC_("role", "Grid leader")),
    ("liaison", NC_("role", "Liaison")),
    ("department_head", NC_("role", "Department head")),
    ("coordinator", NC_("role", "Coordinator")),
    ("leader", NC_("role", "Leader")),
    ("admin", NC_("role", "Administrator")),
)
PROJECT_MILESTONES = (
    ("land", NC_("project_milestone", "Land")),
    ("permits", NC_("project_milestone", "Planning and construction permits")),
    ("construction_start", NC_("project_milestone", "Construction start")),
    ("topping_out", NC_("project_milestone", "Topping-out")),
    ("completion_acceptance", NC_("project_milestone", "Completion acceptance")),
    ("production", NC_("project_milestone", "Start of production")),
)
CHAIN_SIDES = (
    ("upstream", NC_("chain_stage", "Upstream")),
    ("downstream", NC_("chain_stage", "Downstream")),
)
REPORTING_PERIODS = (
    ("month", NC_("period_granularity", "Month")),
    ("quarter", NC_("period_granularity", "Quarter")),
)
MEETING_RESPONSE = (
    ("registered", NC_("meeting_response", "Registered")),
    ("declined", NC_("meeting_response", "Declined")),
)

DICTIONARIES: dict[str, Dictionary] = _dictionaries(
    # --- demands and tasks (ticketing) ---------------------------------------------------------
    Dictionary("demand_status", DEMAND_STATUS),
    Dictionary("task_status", TASK_STATUS),
    # the ledger's status filter takes a demand's or a task's status
    Dictionary("ledger_status", DEMAND_STATUS + TASK_STATUS),
    Dictionary("demand_sort", (
        ("-received_at", NC_("demand_sort", "Received, newest first")),
        ("triage_due_at", NC_("demand_sort", "Triage deadline, soonest first")),
        ("relevance", NC_("demand_sort", "Best match first")),
    )),
    Dictionary("export_status", (
        ("pending", NC_("export_status", "Waiting")),
        ("running", NC_("export_status", "Being built")),
        ("done", NC_("export_status", "Ready")),
        ("failed", NC_("export_status", "Failed")),
    )),
    Dictionary("ledger_sort", (
        ("relevance", NC_("ledger_sort", "Best match first")),
        ("date", NC_("ledger_sort", "By date")),
    )),
    Dictionary("closure", (
        ("rated", NC_("closure", "Closed automatically on rating")),
        ("internal", NC_("closure", "Closed internally")),
        ("unrated", NC_("closure", "Closed without rating")),
    )),
    Dictionary("channel", (
        ("grid_worker", NC_("channel", "Grid worker")),
        ("service_window", NC_("channel", "Service window")),
        ("app", NC_("channel", "Mobile app")),
        ("wechat", NC_("channel", "WeChat")),
        ("website", NC_("channel", "Website")),
        ("hotline", NC_("channel", "Hotline")),
        ("enterprise", NC_("channel", "Enterprise (self-reported)")),
    )),
    Dictionary("urgency", (
        ("normal", NC_("urgency", "Normal")),
        ("urgent", NC_("urgency", "Urgent")),
    )),
    Dictionary("difficulty", (
        ("easy", NC_("difficulty", "Easy")),
        ("normal", NC_("difficulty", "Normal")),
        ("hard", NC_("difficulty", "Hard")),
    )),
    Dictionary("note_visibility", (
        ("public", NC_("note_visibility", "Public")),
        ("internal", NC_("note_visibility", "Internal")),
    )),
    Dictionary("dissatisfied_action", (
        ("reopen", NC_("dissatisfied_action", "Handle again")),
        ("agree_report", NC_("dissatisfied_action", "Agree to the written report")),
        ("return_report", NC_("dissatisfied_action", "Return the written report")),
        ("close_internally", NC_("dissatisfied_action", "Close internally")),
    )),
    Dictionary("report_status", (
        ("filed", NC_("report_status", "Filed, awaiting the coordinators")),
        ("agreed", NC_("report_status", "Agreed")),
        ("returned", NC_("report_status", "Returned")),
    )),
    # what a task's people do to it (workflow.TaskAction): verbs, as a refusal names them
    Dictionary("task_action", (
        ("accept", NC_("task_action", "accept")),
        ("return", NC_("task_action", "return")),
        ("time_out", NC_("task_action", "time out")),
        ("reassign", NC_("task_action", "reassign")),
        ("complete", NC_("task_action", "complete")),
        ("reopen", NC_("task_action", "reopen")),
        ("cancel", NC_("task_action", "cancel")),
    )),
    Dictionary("extension_status", (
        ("pending", NC_("extension_status", "Pending")),
        ("approved", NC_("extension_status", "Approved")),
        ("rejected", NC_("extension_status", "Rejected")),
    )),
    Dictionary("deadline_kind", (
        ("triage", NC_("deadline_kind", "Triage deadline")),
        ("acceptance", NC_("deadline_kind", "Acceptance deadline")),
        ("handling", NC_("deadline_kind", "Handling deadline")),
        ("escalation", NC_("deadline_kind", "Escalation")),
        ("reminder", NC_("deadline_kind", "Deadline reminder")),
        ("rating_reminder", NC_("deadline_kind", "Rating reminder")),
        ("close_unrated", NC_("deadline_kind", "Closure without rating")),
    )),
    Dictionary("escalation_level", (
        ("0", NC_("escalation_level", "Not escalated")),
        ("1", NC_("escalation_level", "Department head")),
        ("2", NC_("escalation_level", "Leader in charge")),
        ("3", NC_("escalation_level", "Leading group")),
    )),
    Dictionary("escalation_cause", (
        ("overdue", NC_("escalation_cause", "Overdue")),
        ("reopened", NC_("escalation_cause", "Handled again after dissatisfaction")),
    )),
    Dictionary("ledger_action", (
        ("received", NC_("ledger_action", "Received")),
        ("triage", NC_("ledger_action", "Triaged")),
        ("assign", NC_("ledger_action", "Assigned")),
        ("accept", NC_("ledger_action", "Accepted")),
        ("return", NC_("ledger_action", "Returned")),
        ("time_out", NC_("ledger_action", "Not accepted in time")),
        ("reassign", NC_("ledger_action", "Reassigned")),
        ("complete", NC_("ledger_action", "Completed")),
        ("reopen", NC_("ledger_action", "Reopened")),
        ("cancel", NC_("ledger_action", "Cancelled")),
        ("demand_state", NC_("ledger_action", "Status changed")),
        ("extension_requested", NC_("ledger_action", "Extension requested")),
        ("extension_approved", NC_("ledger_action", "Extension approved")),
        ("extension_rejected", NC_("ledger_action", "Extension rejected")),
        ("escalate", NC_("ledger_action", "Escalated")),
        ("deadline_replanned", NC_("ledger_action", "Deadline re-planned (working calendar)")),
        ("report_filed", NC_("ledger_action", "Written report filed")),
        ("report_agreed", NC_("ledger_action", "Written report agreed")),
        ("report_returned", NC_("ledger_action", "Written report returned")),
        ("triage_overdue", NC_("ledger_action", "Triage overdue")),
        ("handling_overdue", NC_("ledger_action", "Handling overdue")),
        ("escalate_head", NC_("ledger_action", "Escalated to the department head")),
        ("escalate_leader", NC_("ledger_action", "Escalated to the leader in charge")),
        ("escalate_group", NC_("ledger_action", "Escalated to the leading group office")),
        ("remind_rating", NC_("ledger_action", "Reminded to rate")),
        ("rate", NC_("ledger_action", "Rated")),
        ("close", NC_("ledger_action", "Closed")),
        ("note", NC_("ledger_action", "Note")),
    )),
    Dictionary("supervision_state", (
        ("overdue", NC_("supervision_state", "Overdue")),
        ("due_soon", NC_("supervision_state", "Due within a working day")),
        ("escalated", NC_("supervision_state", "Escalated")),
    )),
    Dictionary("supervision_stage", (
        ("triage", NC_("supervision_stage", "Awaiting triage")),
        ("acceptance", NC_("supervision_stage", "Awaiting acceptance")),
        ("handling", NC_("supervision_stage", "In handling")),
    )),
    Dictionary("ledger_view", (
        ("problems", NC_("ledger_view", "Problem list")),
        ("tasks", NC_("ledger_view", "Task list")),
        ("done", NC_("ledger_view", "Done list")),
    )),
    Dictionary("appraisal_subject", (
        ("grid_workers", NC_("appraisal_subject", "Grid workers")),
        ("grids", NC_("appraisal_subject", "Grids")),
        ("liaisons", NC_("appraisal_subject", "Liaisons")),
        ("departments", NC_("appraisal_subject", "Departments")),
    )),
    Dictionary("growth_note", (
        ("no_data", NC_("growth_note", "No figures for the year")),
        ("no_data_previous", NC_("growth_note", "No figures for the year before")),
        ("no_base", NC_("growth_note", "No base: the year before is zero")),
    )),
    Dictionary("calendar_origin", (
        ("chinesecalendar", NC_("calendar_origin", "Built-in holiday schedule")),
        ("loaded", NC_("calendar_origin", "Loaded by an operator")),
        ("missing", NC_("calendar_origin", "Missing")),
    )),
    # --- people, departments, grids and enterprises (enterprise) --------------------------------
    Dictionary("role", ROLES),
    # who did a step: a role, or the platform itself (a deadline, the sweep)
    Dictionary("actor_role", (
        *ROLES, ("service", NC_("actor_role", "Platform")))),
    Dictionary("department_kind", (
        ("management", NC_("department_kind", "Committee department")),
        ("stationed", NC_("department_kind", "Stationed agency")),
    )),
    Dictionary("grid_kind", (
        ("incubator", NC_("grid_kind", "Incubator grid")),
        ("geographic", NC_("grid_kind", "Geographic grid")),
    )),
    Dictionary("grid_duty", (
        ("leader", NC_("grid_duty", "Grid leader")),
        ("worker", NC_("grid_duty", "Grid worker")),
    )),
    Dictionary("grid_source", (
        ("incubator", NC_("grid_source", "Incubator tenant")),
        ("location", NC_("grid_source", "By location")),
        ("unassigned", NC_("grid_source", "Not in a grid")),
    )),
    Dictionary("scale", (
        ("micro", NC_("scale", "Micro")),
        ("small", NC_("scale", "Small")),
        ("medium", NC_("scale", "Medium")),
        ("large", NC_("scale", "Large")),
    )),
    Dictionary("enterprise_sort", (
        ("name", NC_("enterprise_sort", "Name, A to Z")),
        ("-name", NC_("enterprise_sort", "Name, Z to A")),
        ("output_value", NC_("enterprise_sort", "Output value, lowest first")),
        ("-output_value", NC_("enterprise_sort", "Output value, highest first")),
        ("tax", NC_("enterprise_sort", "Tax, lowest first")),
        ("-tax", NC_("enterprise_sort", "Tax, highest first")),
        ("created_at", NC_("enterprise_sort", "Registered, oldest first")),
        ("-created_at", NC_("enterprise_sort", "Registered, newest first")),
        ("relevance", NC_("enterprise_sort", "Best match first")),
    )),
    Dictionary("scope_reason", (
        ("started_operating", NC_("scope_reason", "Started operating")),
        ("moved_in", NC_("scope_reason", "Moved in")),
        ("completion_accepted", NC_("scope_reason", "Completion accepted")),
        ("incubator_opened", NC_("scope_reason", "Incubator opened")),
        ("restored", NC_("scope_reason", "Restored")),
        ("moved_out", NC_("scope_reason", "Moved out")),
        ("deregistered", NC_("scope_reason", "Deregistered")),
        ("not_operating", NC_("scope_reason", "Not operating")),
        ("no_revenue", NC_("scope_reason", "No revenue")),
        ("no_tax", NC_("scope_reason", "Pays no tax")),
    )),
    Dictionary("profile_indicator", (
        ("output_value", NC_("profile_indicator", "Output value")),
        ("revenue", NC_("profile_indicator", "Revenue")),
        ("tax", NC_("profile_indicator", "Tax paid")),
        ("employees", NC_("profile_indicator", "Employees")),
        ("rd_spend", NC_("profile_indicator", "R&D spending")),
    )),
    Dictionary("profile_source", (
        ("grid_worker", NC_("profile_source", "Grid worker")),
        ("self_report", NC_("profile_source", "Self-reported")),
        ("joint_review", NC_("profile_source", "Joint admission review")),
        ("registration", NC_("profile_source", "Business registration")),
        ("third_party", NC_("profile_source", "Third party")),
        ("project_application", NC_("profile_source", "Project application")),
        ("import", NC_("profile_source", "Import")),
    )),
    Dictionary("summary_dimension", (
        ("grid", NC_("summary_dimension", "Grid")),
        ("industry_section", NC_("summary_dimension", "Industry section")),
        ("industry_division", NC_("summary_dimension", "Industry division")),
        ("scale", NC_("summary_dimension", "Scale")),
        ("output_band", NC_("summary_dimension", "Output value band")),
        ("tax_band", NC_("summary_dimension", "Tax band")),
    )),
    Dictionary("obligation_party", (
        ("committee", NC_("obligation_party", "Management committee")),
        ("enterprise", NC_("obligation_party", "Enterprise")),
    )),
    Dictionary("obligation_state", (
        ("open", NC_("obligation_state", "Open")),
        ("due_soon", NC_("obligation_state", "Due soon")),
        ("overdue", NC_("obligation_state", "Overdue")),
        ("fulfilled", NC_("obligation_state", "Fulfilled")),
    )),
    Dictionary("import_format", (
        ("xlsx", NC_("import_format", "Excel workbook (XLSX)")),
        ("csv", NC_("import_format", "CSV text")),
    )),
    Dictionary("meeting_state", (
        ("planned", NC_("meeting_state", "Planned")),
        ("invited", NC_("meeting_state", "Invitations sent")),
        ("held", NC_("meeting_state", "Held")),
        ("cancelled", NC_("meeting_state", "Cancelled")),
    )),
    Dictionary("meeting_response", MEETING_RESPONSE),
    # the invitations filter also finds those not answered yet
    Dictionary("meeting_response_filter", (
        *MEETING_RESPONSE, ("none", NC_("meeting_response", "No answer yet")))),
    Dictionary("meeting_period_status", (
        ("ok", NC_("meeting_period_status", "Met")),
        ("missed", NC_("meeting_period_status", "Missed")),
        ("open", NC_("meeting_period_status", "In progress")),
    )),
    # --- zone resources (区域资源, enterprise: services/enterprise/zone/vocabulary.py) -----------
    Dictionary("carrier_kind", (
        ("incubator", NC_("carrier_kind", "Incubator")),
        ("industrial_park", NC_("carrier_kind", "Industrial park")),
        ("office_building", NC_("carrier_kind", "Office building")),
        ("factory_building", NC_("carrier_kind", "Factory building")),
    )),
    Dictionary("carrier_sort", (
        ("name", NC_("carrier_sort", "Name")),
        ("kind", NC_("carrier_sort", "Kind")),
        ("vacancy_rate", NC_("carrier_sort", "Vacancy rate, lowest first")),
        ("-vacancy_rate", NC_("carrier_sort", "Vacancy rate, highest first")),
    )),
    Dictionary("tenant_source", (
        ("incubator", NC_("tenant_source", "Tenant of the incubator")),
        ("tenancy", NC_("tenant_source", "Recorded tenancy")),
    )),
    Dictionary("project_milestone", PROJECT_MILESTONES),
    Dictionary("project_stage", (
        ("not_started", NC_("project_stage", "Not started")), *PROJECT_MILESTONES)),
    Dictionary("project_sort", (
        ("name", NC_("project_sort", "Name")),
        ("-planned_investment", NC_("project_sort", "Planned investment, largest first")),
        ("-created_at", NC_("project_sort", "Created, newest first")),
    )),
    Dictionary("institute_level", (
        ("national", NC_("institute_level", "National")),
        ("provincial", NC_("institute_level", "Provincial")),
        ("municipal", NC_("institute_level", "Municipal")),
    )),
    Dictionary("institute_host_kind", (
        ("enterprise", NC_("institute_host_kind", "Enterprise")),
        ("university", NC_("institute_host_kind", "University")),
        ("research_institute", NC_("institute_host_kind", "Research institute")),
        ("other", NC_("institute_host_kind", "Other")),
    )),
    Dictionary("industry_match", (
        ("industry_code", NC_("industry_match", "By industry code")),
        ("tag", NC_("industry_match", "By tag")),
    )),
    Dictionary("chain_stage", (*CHAIN_SIDES[:1], ("midstream", NC_("chain_stage", "Midstream")),
                               *CHAIN_SIDES[1:])),
    # an enterprise profile's upstream or downstream entry
    Dictionary("profile_side", CHAIN_SIDES),
    Dictionary("economic_dimension", (
        ("zone", NC_("economic_dimension", "Whole zone")),
        ("grid", NC_("economic_dimension", "Grid")),
        ("industry_division", NC_("economic_dimension", "Industry division")),
        ("leading_industry", NC_("economic_dimension", "Leading industry")),
        ("carrier", NC_("economic_dimension", "Carrier")),
    )),
    Dictionary("figure_status", (
        ("reported", NC_("figure_status", "Reported")),
        ("not_reported", NC_("figure_status", "Not reported")),
        ("suppressed", NC_("figure_status", "Withheld")),
    )),
    Dictionary("period_granularity", (*REPORTING_PERIODS,
                                      ("year", NC_("period_granularity", "Year")))),
    # the periods the statistics office reports
    Dictionary("reporting_period", REPORTING_PERIODS),
    Dictionary("enterprise_figure_sort", (
        ("name", NC_("enterprise_figure_sort", "Name")),
        ("-output_value", NC_("enterprise_figure_sort", "Output value, highest first")),
        ("-revenue", NC_("enterprise_figure_sort", "Revenue, highest first")),
        ("-tax", NC_("enterprise_figure_sort", "Tax, highest first")),
        ("-employees", NC_("enterprise_figure_sort", "Employees, most first")),
        ("-rd_spend", NC_("enterprise_figure_sort", "R&D spending, highest first")),
        ("output_value", NC_("enterprise_figure_sort", "Output value, lowest first")),
        ("revenue", NC_("enterprise_figure_sort", "Revenue, lowest first")),
        ("tax", NC_("enterprise_figure_sort", "Tax, lowest first")),
        ("employees", NC_("enterprise_figure_sort", "Employees, fewest first")),
        ("rd_spend", NC_("enterprise_figure_sort", "R&D spending, lowest first")),
    )),
    # the roles the per-enterprise figures may be granted to (every role of the staff)
    Dictionary("staff_role", tuple(term for term in ROLES if term[0] != "enterprise")),
    # --- notifications and policies (notification) ---------------------------------------------
    Dictionary("delivery_channel", (
        ("email", NC_("delivery_channel", "Email")),
        ("wecom", NC_("delivery_channel", "WeCom")),
    )),
    Dictionary("delivery_state", (
        ("queued", NC_("delivery_state", "Queued")),
        ("failed", NC_("delivery_state", "Failed, to be retried")),
        ("sent", NC_("delivery_state", "Sent")),
        ("dead", NC_("delivery_state", "Given up")),
    )),
    Dictionary("policy_kind", (
        ("policy", NC_("policy_kind", "Policy")),
        ("notice", NC_("policy_kind", "Notice")),
    )),
    Dictionary("policy_status", (
        ("draft", NC_("policy_status", "Draft")),
        ("published", NC_("policy_status", "Published")),
        ("withdrawn", NC_("policy_status", "Withdrawn")),
    )),
    Dictionary("audience_criterion", (
        ("grid_ids", NC_("audience_criterion", "Grids")),
        ("industry_codes", NC_("audience_criterion", "Industries")),
        ("scales", NC_("audience_criterion", "Scales")),
        ("incubator_ids", NC_("audience_criterion", "Incubators")),
        ("tags", NC_("audience_criterion", "Tags")),
        ("listed", NC_("audience_criterion", "Listed companies")),
        ("strengths", NC_("audience_criterion", "Strengths")),
        ("enterprise_ids", NC_("audience_criterion", "Named enterprises")),
    )),
    # --- the supply/demand board (supplydemand) ------------------------------------------------
    Dictionary("listing_side", (
        ("supply", NC_("listing_side", "Supply")),
        ("demand", NC_("listing_side", "Demand")),
    )),
    Dictionary("listing_category", (
        ("processing", NC_("listing_category", "Processing and manufacturing")),
        ("materials", NC_("listing_category", "Materials and parts")),
        ("equipment", NC_("listing_category", "Equipment and instruments")),
        ("products", NC_("listing_category", "Products")),
        ("technology", NC_("listing_category", "Technology, R&D and patents")),
        ("software", NC_("listing_category", "Software and IT")),
        ("talent", NC_("listing_category", "Talent and staffing")),
        ("finance", NC_("listing_category", "Finance and funding")),
        ("market", NC_("listing_category", "Markets and sales channels")),
        ("logistics", NC_("listing_category", "Logistics and warehousing")),
        ("space", NC_("listing_category", "Premises and plants")),
        ("services", NC_("listing_category", "Professional services")),
        ("other", NC_("listing_category", "Other")),
    )),
    Dictionary("listing_status", (
        ("published", NC_("listing_status", "Published")),
        ("closed", NC_("listing_status", "Closed")),
        ("hidden", NC_("listing_status", "Hidden")),
        ("expired", NC_("listing_status", "Expired")),
    )),
    Dictionary("docking_status", (
        ("requested", NC_("docking_status", "Requested")),
        ("accepted", NC_("docking_status", "Accepted")),
        ("declined", NC_("docking_status", "Declined")),
    )),
    Dictionary("docking_direction", (
        ("sent", NC_("docking_direction", "Sent")),
        ("received", NC_("docking_direction", "Received")),
    )),
    # --- the platform itself -------------------------------------------------------------------
    Dictionary("weekday", (
        ("monday", NC_("weekday", "Monday")),
        ("tuesday", NC_("weekday", "Tuesday")),
        ("wednesday", NC_("weekday", "Wednesday")),
        ("thursday", NC_("weekday", "Thursday")),
        ("friday", NC_("weekday", "Friday")),
        ("saturday", NC_("weekday", "Saturday")),
        ("sunday", NC_("weekday", "Sunday")),
    )),
    # what a stale write names (412, common/concurrency.stale)
    Dictionary("record", (
        ("account", NC_("record", "account")),
        ("enterprise", NC_("record", "enterprise")),
        ("contract", NC_("record", "contract")),
        ("obligation", NC_("record", "obligation")),
        ("department", NC_("record", "department")),
        ("category", NC_("record", "demand category")),
        ("grid", NC_("record", "grid")),
        ("meeting", NC_("record", "meeting")),
        ("visit", NC_("record", "visit")),
        ("demand", NC_("record", "demand")),
        ("task", NC_("record", "task")),
        ("appraisal_settings", NC_("record", "appraisal settings")),
        ("sla_settings", NC_("record", "deadline settings")),
        ("obligation_settings", NC_("record", "obligation reminder settings")),
        ("meeting_settings", NC_("record", "meeting settings")),
        ("policy", NC_("record", "policy")),
        ("listing", NC_("record", "listing")),
        ("docking", NC_("record", "docking request")),
        ("carrier", NC_("record", "carrier")),
        ("project", NC_("record", "project under construction")),
        ("institute", NC_("record", "research institute")),
        ("leading_industry", NC_("record", "leading industry")),
        ("figure_access", NC_("record", "grant of the per-enterprise figures")),
    )),
    Dictionary("service", (
        ("enterprise", NC_("service", "Enterprise registry service")),
        ("ticketing", NC_("service", "Demand handling service")),
        ("notification", NC_("service", "Notification service")),
        ("supplydemand", NC_("service", "Supply and demand board service")),
    )),
)


def dictionary_of(codes: Iterable[Any]) -> str | None:
    """The dictionary whose codes are exactly ``codes`` (an enum's values; None, which a
    nullable enum lists, is not a code), or None."""
    wanted = {str(code) for code in codes if code is not None}
    return next((d.name for d in DICTIONARIES.values() if set(d.codes) == wanted), None)


def label_of(dictionary: str, code: Any, language: str) -> str:
    """The label of ``code`` in ``dictionary`` for a reader of ``language``; an unknown code
    as it is (never an error: a text must not fail for want of a label)."""
    if code is None:
        return ""
    return _label_of(dictionary, str(code), language)


@functools.lru_cache(maxsize=8192)
def _label_of(dictionary: str, code: str, language: str) -> str:
    """:func:`label_of`, kept: the dictionaries and the catalogs (:func:`common.i18n.catalog`)
    do not change while a process runs, and an export of 10,000 demands asks for half a
    million labels (1.8 s of its 11 s, looked up each time)."""
    found = DICTIONARIES.get(dictionary)
    english = found.english(code) if found else None
    if found is None or english is None:
        return code
    return translate(english, language)  # in the label's context (NC_)


def labels_of(dictionary: str, code: str) -> dict[str, str]:
    """``{"zh-CN": "待分理", "en": "Received"}``."""
    return {language: label_of(dictionary, code, language) for language in LANGUAGES}


def entries(dictionary: str, language: str) -> list[dict[str, Any]]:
    """A dictionary as ``GET /api/v1/dictionaries`` lists it."""
    return [{"code": code, "label": label_of(dictionary, code, language),
             "labels": labels_of(dictionary, code)}
            for code in DICTIONARIES[dictionary].codes]


def humanized(code: str) -> str:
    """An English label made from a code (``fire_rescue`` → ``Fire rescue``): the registry keeps
    the Chinese names of departments and categories only."""
    text = code.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:] if text else code


def named(items: Iterable[tuple[str, str]], language: str) -> list[dict[str, Any]]:
    """Records named in Chinese by the registry (departments, categories), as dictionary
    entries: ``label`` is the name, English reads the code made readable."""
    out = []
    for code, name in items:
        labels = {language_: name for language_ in LANGUAGES}
        labels[EN] = humanized(code)
        out.append({"code": code, "label": labels[language] if language in labels else name,
                    "labels": labels})
    return out
