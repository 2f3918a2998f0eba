"""The zone resources' enumerations (codes for programs; people read their labels from the
dictionaries). No database here: the contract (:mod:`.schemas`) and the gateway import it."""

from __future__ import annotations

from common.auth import Role
from common.i18n import N_

CARRIER_KINDS = ("incubator", "industrial_park", "office_building", "factory_building")
#: tenants come from an incubator's grid (incubator) or a recorded tenancy (tenancy)
TENANT_SOURCES = ("incubator", "tenancy")
MILESTONES = ("land", "permits", "construction_start", "topping_out", "completion_acceptance",
              "production")
#: a project's stage: the last milestone done
STAGES = ("not_started", *MILESTONES)
INSTITUTE_LEVELS = ("national", "provincial", "municipal")
HOST_KINDS = ("enterprise", "university", "research_institute", "other")
CHAIN_STAGES = ("upstream", "midstream", "downstream")
#: how an enterprise falls into a leading industry
MATCHED_BY = ("industry_code", "tag")
PROFILE_SIDES = ("upstream", "downstream")

PERIOD_KINDS = ("month", "quarter")
GRANULARITIES = ("month", "quarter", "year")
INDICATORS = ("output_value", "revenue", "tax", "employees", "rd_spend")
#: indicators that are a state at the period's end, not a flow over it
STOCKS = frozenset({"employees"})
#: the unit of each indicator: message ids (万元 / 10,000 yuan, 人 / persons)
UNITS = {"output_value": N_("10,000 yuan"), "revenue": N_("10,000 yuan"),
         "tax": N_("10,000 yuan"), "employees": N_("persons"), "rd_spend": N_("10,000 yuan")}
DIMENSIONS = ("zone", "grid", "industry_division", "leading_industry", "carrier")
#: dimensions whose groups split the enterprises (each in exactly one group)
PARTITIONS = ("grid", "industry_division")
#: dimensions whose groups may overlap (an enterprise in several, or in none)
OVERLAPPING = ("leading_industry", "carrier")
FIGURE_STATUSES = ("reported", "not_reported", "suppressed")
#: the orders lists take (``sort``)
CARRIER_SORTS = ("name", "kind", "vacancy_rate", "-vacancy_rate")
PROJECT_SORTS = ("name", "-planned_investment", "-created_at")
FIGURE_SORTS = ("name", *[f"-{n}" for n in INDICATORS], *INDICATORS)

#: the fewest enterprises a released aggregate may stand for (按权限: "at least 5")
MIN_GROUP = 5
#: roles the admin may grant the per-enterprise figures (never enterprise users or services)
GRANTABLE_ROLES = tuple(r.value for r in Role if r not in (Role.ENTERPRISE, Role.SERVICE))
